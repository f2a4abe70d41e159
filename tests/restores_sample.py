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


def made_in_each_iteration(x, w):
    y = np.zeros(3)
    s = 0.0
    for j in range(3):
        q = np.zeros(3)  # a new array in each iteration: each iteration's adjoint reads its own
        for i in range(3):
            q[i] = x[i] * (j + 1.0)
        y[j] = x[j] * 2.0  # one array for all iterations
        s = s + np.sum(q * w) * np.sum(y * w)
    return s


def allocated_in_loop_written_in_inner_loop(x, w):
    s = 0.0
    for j in range(2):
        q = x * 0.5  # cheap to compute again, but the inner loop's adjoint reads it as written
        for i in range(2):
            q[i] = w[i] * (j + 1.0)
            s = s + np.sum(q * q)
    return s


def slice_read_then_written_in_loop(w):
    a = w * 1.0
    for c in range(2):
        a[0:3] = a[0:3] * (a[0:3] + 1.0)  # a[0:3] is a view: the writes below change it
        for i in range(3):
            a[i] = 0.5 * np.sum(a)
    return np.sum(a * a)
