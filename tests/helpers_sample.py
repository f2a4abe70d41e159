"""Helper functions called from differentiated functions (the inlining tests)."""
import numpy as np

from . import helpers_other


def softplus(x):
    return np.log1p(np.exp(x))


def affine(x, w, b=0.5):
    return x * w + b


def moments(x):
    m = np.mean(x)
    d = x - m
    return m, np.mean(d * d)


def nested(x, w):
    y = affine(softplus(x), w)
    return helpers_other.scale(y, 2.0)


def loss_with_helpers(x, w):
    m, v = moments(softplus(x) * w)
    a = nested(x, w)
    b = affine(x, w, b=-1.0)
    return np.sum(a * b) + m * v + np.sum(affine(w, w))


def uses_helper_twice(x):
    return softplus(x) * softplus(2.0 * x)


def countdown(x):
    return countdown(x - 1.0)


def recursive(x):
    return countdown(x)


def mutual_a(x):
    return mutual_b(x)


def mutual_b(x):
    return mutual_a(x)


def calls_mutual(x):
    return mutual_a(x)


def writes_argument(x):
    x += 1.0
    return x


def calls_writer(x):
    y = x * 2.0
    z = writes_argument(y)
    return np.sum(z * y)
