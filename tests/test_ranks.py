"""analysis/ranks.py: which values are numbers, from the ranks of the call's arguments."""
from __future__ import annotations

import numpy as np

import adjoint
from adjoint.analysis.ranks import ranks
from adjoint.pipeline import lower_function


def lengths(x, w):
    n, d = x.shape
    last = x.shape[n - n - 1]
    rest = x.shape[1:]
    z = np.zeros(rest)
    return np.sum(x * w) * n / (d + last) + np.sum(z)


def test_an_element_of_a_shape_is_a_number_and_a_slice_of_it_is_not():
    ir = lower_function(lengths, {})
    known = ranks(ir, {"x": 2, "w": 1})
    assert known["n"] == known["d"] == known["last"] == 0
    assert known.get("rest") is None and known.get("z") is None  # a tuple, and zeros of it


def test_a_sum_times_a_length_needs_no_unbroadcast():
    """n and d are numbers, so the value is a number and its cotangent reads like the math."""
    x, w = np.linspace(0.1, 0.9, 6).reshape(2, 3), np.array([0.5, -1.0, 2.0])
    g = adjoint.grad(lengths, wrt=(0, 1), jit=False)
    source = g.source_for(x, w)
    assert "unbroadcast(lengths_bar" not in source, source
    assert adjoint.check_grad(lengths, x, w, wrt=(0, 1), jit=False) < 1e-6


def dot_of_a_reduction(X, v, W):
    h = np.min(v, axis=0)                  # a number: v is 1-D
    rows = np.max(W, axis=1)               # a vector: W is 2-D
    return np.sum(np.dot(X, h)) + np.sum(np.dot(X, rows[:3]))


def test_a_reduction_along_an_axis_has_one_axis_fewer():
    """np.dot of a number multiplies (NumPy): the rank of np.min(v, axis=0) must be known to
    take it as one (it once failed in the dot's adjoint, matmul_grad_a of ranks (2, 0))."""
    known = ranks(lower_function(dot_of_a_reduction, {}), {"X": 2, "v": 1, "W": 2})
    assert known["h"] == 0 and known["rows"] == 1
    X = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    v, W = np.array([0.3, -0.2, 0.7]), np.linspace(0.1, 1.2, 12).reshape(3, 4)
    for jit in (False, True):
        gX, gv, gW = adjoint.grad(dot_of_a_reduction, wrt=(0, 1, 2), jit=jit, background=False)(X, v, W)
        np.testing.assert_allclose(gv, [0.0, X.sum(), 0.0], rtol=1e-13)
        np.testing.assert_allclose(gX, np.full((2, 3), -0.2) + W.max(axis=1)[:3], rtol=1e-13)
        np.testing.assert_allclose(gW[:, :3], 0.0)
        np.testing.assert_allclose(gW[:, 3], X.sum(axis=0), rtol=1e-13)


def products(v, M, s):
    inner = v @ v          # 1 + 1 - 2: a number
    row = M @ v            # a vector
    col = np.dot(v, M)     # a vector
    square = M @ M.T       # a matrix
    scaled = np.dot(M, s)  # a matrix times a number: NumPy multiplies; not known here
    return inner + np.sum(row) + np.sum(col) + np.sum(square) + np.sum(scaled)


def test_a_product_of_vectors_and_matrices_has_the_rank_numpy_gives():
    known = ranks(lower_function(products, {}), {"v": 1, "M": 2, "s": 0})
    assert (known["inner"], known["row"], known["col"], known["square"]) == (0, 1, 1, 2)
    assert known.get("scaled") is None
    v, M = np.array([0.5, -1.0, 2.0]), np.linspace(-1.0, 1.0, 9).reshape(3, 3)
    for jit in (False, True):
        assert adjoint.check_grad(products, v, M, 0.7, wrt=(0, 1, 2), jit=jit) < 1e-6
