"""analysis/kinds.py: a differentiated number written into an array of integers is an
error (NumPy truncates it: no derivative), never a gradient as if it were stored."""
from __future__ import annotations

import math

import numpy as np
import pytest

import adjoint


def into_int_copy(x, k):
    y = k.copy()
    y[0] = x[0] * 0.5
    return np.sum(y * x)


def into_full_of_an_int(x):
    y = np.full(x.shape[0], 0)
    y[1] = x[1] * 2.0
    return np.sum(y * x)


def into_ints_in_a_loop(x, k):
    y = k * 2
    for i in range(x.shape[0]):
        y[i] = x[i] * 0.5
    return np.sum(y * x)


def into_zeros_of_an_int_dtype(x):
    y = np.zeros(x.shape[0], dtype=int)
    y[0] = x[0] * 0.5
    return np.sum(y * x)


def into_an_arange(x):
    y = np.arange(x.shape[0])
    y[2] = np.sin(x[2])
    return np.sum(y * x)


def into_a_where_of_ints(x, k):
    y = np.where(k > 1, k, 0)
    y[0] = x[0] * 0.5
    return np.sum(y * x)


def into_floats_of_a_dtype(x):
    y = np.zeros(x.shape[0], dtype=np.float64)
    y[0] = x[0] * 0.5
    return np.sum(y * x)


def into_a_quotient_of_ints(x, k):
    y = k / 2
    y[0] = x[0] * 0.5
    return np.sum(y * x)


def into_a_full_of_a_negative_power(x, n):
    y = np.full(x.shape[0], n ** -1)  # a Python int to a negative power: 0.5, a float
    y[0] = x[0] * 0.5
    return np.sum(y * x)


def into_a_full_of_a_floor(x):
    y = np.full(x.shape[0], math.floor(x[2] * 10.0))  # math.floor gives a Python int
    y[0] = x[0] * 0.5
    return np.sum(y * x)


def into_floats_made_of_ints(x, k):
    y = k.astype(np.float64)
    y[0] = x[0] * 0.5
    return np.sum(y * x)


def full_like_of_ints(x, k):
    y = np.full_like(k, x[0] * 0.5)  # holds int(x[0] * 0.5): no derivative
    return np.sum(y * x)


def full_of_an_int_dtype(x):
    y = np.full(x.shape[0], x[1], dtype=np.int64)
    return np.sum(y * x)


def full_like_of_ints_as_floats(x, k):
    y = np.full_like(k, x[0] * 0.5, dtype=np.float64)
    return np.sum(y * x)


def ints_into_ints(x, k):
    y = k.copy()
    y[0] = k[1] * 3
    return np.sum(y * x)


X, K = np.array([0.3, -0.5, 0.7]), np.array([1, 2, 3])


@pytest.mark.parametrize("fn, args, line", [
    (into_int_copy, (X, K), "y[0] = x[0] * 0.5"),
    (into_full_of_an_int, (X,), "y[1] = x[1] * 2.0"),
    (into_ints_in_a_loop, (X, K), "y[i] = x[i] * 0.5"),
    (into_zeros_of_an_int_dtype, (X,), "y[0] = x[0] * 0.5"),
    (into_an_arange, (X,), "y[2] = np.sin(x[2])"),
    (into_a_where_of_ints, (X, K), "y[0] = x[0] * 0.5"),
    (into_a_full_of_a_floor, (X,), "y[0] = x[0] * 0.5"),
    # filled with a differentiated number: the adjoint gave it the sum of the cotangents
    (full_like_of_ints, (X, K), "y = np.full_like(k, x[0] * 0.5)"),
    (full_of_an_int_dtype, (X,), "y = np.full(x.shape[0], x[1], dtype=np.int64)")])
def test_a_differentiated_number_written_into_integers_is_an_error(fn, args, line):
    with pytest.raises(adjoint.NonDifferentiableError, match="array of integers") as refused:
        adjoint.grad(fn, wrt=0, jit=False)(*args)
    assert line in str(refused.value)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("fn, args", [
    (into_floats_made_of_ints, (X, K)),
    (into_floats_of_a_dtype, (X,)),
    (into_a_quotient_of_ints, (X, K)),
    (ints_into_ints, (X, K)),
    (full_like_of_ints_as_floats, (X, K)),
    (full_like_of_ints, (X, K.astype(np.float64))),
    (into_int_copy, (X, K.astype(np.float64)))])  # the same function, given floats
def test_writes_that_keep_their_value_are_differentiated(fn, args, jit):
    assert adjoint.check_grad(fn, *args, wrt=(0,), jit=jit) < 1e-6


def test_a_python_int_to_a_negative_power_is_not_an_int():
    """n ** -1 of an int n is 0.5 in Python: np.full of it holds floats, and the write is
    differentiated (it was refused as a write into integers). Python only: Numba computes
    an int to a negative int power as an int (0)."""
    assert adjoint.check_grad(into_a_full_of_a_negative_power, X, 2, wrt=(0,), jit=False) < 1e-6
