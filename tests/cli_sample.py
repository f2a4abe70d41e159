"""A sample module for the command-line tests."""
import numpy as np

import adjoint


def loss(w, x):
    h = np.tanh(x * w)
    y = h * h + h
    return np.sum(y * x)


@adjoint.grad(wrt=("x",))
def decorated(w, x):
    return np.sum(np.sin(w * x))


def picks(x, i):
    y = np.sin(x)
    z = y[i] * 2.0
    return z


def outside(x):
    y = x * 2.0
    y[0] = 1.0
    return np.sum(y)


print("importing cli_sample has no effect worth testing, but it must not break the CLI")
