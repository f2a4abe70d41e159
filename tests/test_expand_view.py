"""transform/sums.py, _expanded_in_place: a reduction's cotangent along an axis,
``N = expand_axis(g, x, axis)`` (g repeated along the axis: a copy of x's size), read once
by arithmetic that also reads x, is not made; the arithmetic reads ``expand_view(g, x,
axis)``, g with a length-1 axis, and broadcasts it. Gradients against finite differences
(compiled and not, float64 and float32), the generated text, a returned gradient that must
stay a whole array, and second derivatives through the new helper."""
from __future__ import annotations

import re

import numpy as np
import pytest

import adjoint
from adjoint.runtime import helpers as H


def row_norms(x, w):
    return np.sum(np.sqrt(np.sum((x * w) ** 2, axis=1) + 1.0))


def column_means(x):
    return np.sum(np.mean(np.tanh(x) ** 2, axis=0) ** 2)


def last_axis(x):  # a negative axis, a 3-D x
    return np.sum(np.sum(x ** 2, axis=-1) ** 2)


def logsumexp_rows(x):  # gmm's likelihood
    top = np.max(x, axis=1)
    return np.sum(top + np.log(np.sum(np.exp(x - top.reshape((-1, 1))), axis=1)))


def vector_axis_0(x):  # a number g: expand_view gives the number itself
    return np.sin(np.sum(x ** 2, axis=0))


def rows_in_a_loop(x, mu):
    total = 0.0
    for j in range(mu.shape[0]):
        total = total + np.sum(np.sum((x - mu[j]) ** 2, axis=1) * 0.5)
    return total


def row_sums(x):  # the cotangent of x is expand_axis's copy itself: returned, never a view
    return np.sum(np.sum(x, axis=1) ** 2)


RNG = np.random.default_rng(11)
CASES = {
    "row_norms": (row_norms, (RNG.normal(size=(4, 3)), RNG.normal(size=3)), (0, 1)),
    "column_means": (column_means, (RNG.normal(size=(5, 2)),), 0),
    "last_axis": (last_axis, (RNG.normal(size=(2, 3, 4)),), 0),
    "logsumexp_rows": (logsumexp_rows, (RNG.normal(size=(4, 5)),), 0),
    "vector_axis_0": (vector_axis_0, (RNG.normal(size=4),), 0),
    "rows_in_a_loop": (rows_in_a_loop, (RNG.normal(size=(4, 3)), RNG.normal(size=(2, 3))), (0, 1)),
    "row_sums": (row_sums, (RNG.normal(size=(3, 4)),), 0),
}


def _reverse_of(fn, wrt, args) -> str:
    source = adjoint.grad(fn, wrt=wrt).source_for(*args)
    start = source.index("# adjoint: cotangents in reverse order")
    end = source.find("\ndef ", start)
    return source[start:end if end >= 0 else None]


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name, jit):
    fn, args, wrt = CASES[name]
    adjoint.check_grad(fn, *args, wrt=wrt, jit=jit)


@pytest.mark.parametrize("name", ["row_norms", "logsumexp_rows", "rows_in_a_loop"])
def test_float32_agrees_with_float64(name):
    fn, args, wrt = CASES[name]
    want = adjoint.grad(fn, wrt=wrt, jit=False)(*args)
    low = tuple(a.astype(np.float32) for a in args)
    for jit in (False, True):
        got = adjoint.grad(fn, wrt=wrt, jit=jit, background=False)(*low)
        for g, w in zip(got if isinstance(wrt, tuple) else (got,), want if isinstance(wrt, tuple) else (want,)):
            assert g.dtype == np.float32 and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name", ["row_norms", "column_means", "last_axis", "logsumexp_rows", "rows_in_a_loop"])
def test_no_repeated_copy_is_made(name, monkeypatch):
    monkeypatch.setenv("ADJOINT_EAGER", "0")  # (a loop's reverse in a reverse sweep: transform/eager.py)
    fn, args, wrt = CASES[name]
    reverse = _reverse_of(fn, wrt, args)
    assert "expand_view(" in reverse, reverse
    assert not re.search(r"^ *\w+ = expand_axis\(", reverse, re.M), reverse


def test_the_view_is_read_inside_the_arithmetic():
    reverse = _reverse_of(row_norms, (0, 1), CASES["row_norms"][1])
    # (t2 = t1 ** 2: the arithmetic reads t1, which has t2's shape)
    assert re.search(r"^ *t1_bar = 2\.0 \* expand_view\(.+, t2, 1\) \* t1$", reverse, re.M), reverse


def test_a_returned_cotangent_is_a_whole_array():
    x = CASES["row_sums"][1][0]
    assert "expand_view(" not in _reverse_of(row_sums, 0, (x,))
    for jit in (False, True):
        g = adjoint.grad(row_sums, jit=jit, background=False)(x)
        assert g.shape == x.shape and g.flags.writeable and 0 not in g.strides
        g[0, 0] = 7.0  # its own numbers: writing one changes no other
        assert (g[0, 1:] != 7.0).all()


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_second_derivatives_through_the_view(jit):
    x, w = CASES["row_norms"][1]
    hess = adjoint.hessian(row_norms, wrt=0, jit=jit)(x, w)
    grad = adjoint.grad(row_norms, wrt=0, jit=False)
    eps, numeric = 1e-6, np.empty(x.shape + x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        numeric[(...,) + index] = (grad(x + step, w) - grad(x - step, w)) / (2 * eps)
    np.testing.assert_allclose(hess, numeric, rtol=1e-5, atol=1e-6)


def test_expand_view_checks_shapes_as_expand_axis_does():
    x = np.zeros((2, 3))
    assert H.expand_view(np.ones(2), x, 1).shape == (2, 1)
    assert H.expand_view(np.ones(3), x, -2).shape == (1, 3)
    assert H.expand_view(2.5, np.zeros(3), 0) == 2.5
    for g, like, axis in [(np.ones(3), x, 1), (2.5, x, 0), (np.ones(2), x, 2)]:
        with pytest.raises(ValueError):
            H.expand_view(g, like, axis)
