"""A helper in another module, to check lines and files of inlined code."""
import numpy as np


def scale(y, k):
    s = np.tanh(y) * k
    return s


def fails_to_index(x, i):
    return x[i]
