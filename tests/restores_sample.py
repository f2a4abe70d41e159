"""Programs for tests/test_restores.py (a real file: adjoint reads the source)."""
import math

import numpy as np


def recurrence(x, a):
    n = x.shape[0]
    y = np.zeros(n)
    y[0] = x[0]
    for i in range(1, n):
        y[i] = a * y[i - 1] + math.sin(x[i])
    return np.sum(y * y)


def whole_array_read_in_loop(x, w):
    y = np.zeros(3)
    s = 0.0
    for i in range(3):
        y[i] = x[i] * 2.0
        s = s + np.sum(y * w)  # w's cotangent reads y as it was at iteration i
    return s


def overwritten_in_loop(x):
    y = np.zeros(3)
    s = 0.0
    for i in range(x.shape[0]):
        y[i % 3] = np.sin(x[i]) * y[(i + 1) % 3] + x[i]
        s = s + y[i % 3] * y[i % 3]
    return s
