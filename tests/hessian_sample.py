"""Functions whose Hessians tests/test_hessian.py knows in closed form."""
import math

import numpy as np


def quadratic_form(x, A):
    return x @ A @ x


def rosenbrock(x):
    a = x[1:] - x[:-1] * x[:-1]
    b = 1.0 - x[:-1]
    return np.sum(100.0 * a * a + b * b)


def scalar(x, y):
    return x * x * y + math.sin(x * y)


def loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + math.sin(x * i) * x
    return s


def carried_array(x, n):
    h = x
    for i in range(n):
        h = np.tanh(h) * 0.9
    return np.sum(h * h)


def product_then_element(x, i):
    """y's cotangent is first made by arithmetic (y_bar = x * g), then y[i] adds into it."""
    y = x * 2.0
    z = y[i]
    return np.sum(y * x) + z * z


def element_write_then_product(x):
    """y_1's cotangent is made by arithmetic; the write's adjoint zeroes its element 0."""
    y = x.copy()
    y[0] = x[1] * 3.0
    return np.sum(y * x)


def element_write_then_sum(x):
    """y's cotangent is fill_like(...) of the sum's; the write's adjoint zeroes its element 0."""
    y = x * 1.0
    y[0] = x[1] * x[2]
    return np.sum(y) * x[0]


def sum_then_element(x, i):
    """y's cotangent is fill_like(...) of the sum's, then y[i] adds into it."""
    y = x * 2.0
    z = y[i]
    return np.sum(y) * x[0] + z * z


def two_products_then_element(x, i):
    y = np.sin(x)
    z = y[i]
    return np.sum(y * x) + np.sum(y * y * 0.5) + z * z


def sines_in_a_loop(x, r):
    s = 0.0
    for i in range(3):
        y = x - r * (i + 1.0)
        s = s + np.sum(np.sin(y))  # an array of libm results: a gradient would tape it
    return s


def branch(x):
    if np.sum(x) > 0:
        return np.sum(np.exp(x) * x)
    return np.sum(np.abs(x) ** 3)


def branch_of_numbers(a, b):
    if a > b:
        c = math.sin(a * b) * a
    else:
        c = a * a * b * b
    return c * a
