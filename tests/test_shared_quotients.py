"""The cotangents of ``x / y`` divide once (transform/reverse.py, ``_shared_quotients``):
``t = g / y``, then ``x_bar = t`` and ``y_bar = -t * out``, where each divided by y."""
from __future__ import annotations

import re

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference


def ratios(x, y):
    u = x / y
    v = (x * 2.0) / y
    return np.sum(u * v + x / (y * y))


def self_ratio(x):
    return np.sum(x / x + x * x / x)


def _reverse(g, *args) -> str:
    source = g.source_for(*args)
    start = source.index("# adjoint: cotangents in reverse order")
    return "\n".join(line for line in source[start:].splitlines() if not line.lstrip().startswith("#"))


def test_each_quotient_of_the_reverse_divides_once():
    g = adjoint.grad(ratios, wrt=(0, 1), jit=False)
    reverse = _reverse(g, np.ones(3), np.ones(3))
    # three statements divide (u, v and x / (y * y)): a division each, by y or y * y
    assert len(re.findall(r" / ", reverse)) == 3, reverse
    assert re.search(r"^ *(t\d+) = v_bar / y$", reverse, re.M)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("shapes", [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 1))],
                         ids=["numbers", "vectors", "broadcast_y", "broadcast_both"])
def test_the_gradient_of_quotients(jit, shapes):
    rng = np.random.default_rng(3)
    x, y = (rng.uniform(0.5, 2.0, s) if s else float(rng.uniform(0.5, 2.0)) for s in shapes)
    gx, gy = adjoint.grad(ratios, wrt=(0, 1), jit=jit)(x, y)
    np.testing.assert_allclose(gx, finite_difference(ratios, [x, y], 0), rtol=1e-7)
    np.testing.assert_allclose(gy, finite_difference(ratios, [x, y], 1), rtol=1e-7)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_a_quotient_of_one_array_by_itself(jit):
    """x / x: both cotangents go to x, the first as the shared quotient's array itself,
    which the second then adds into."""
    x = np.linspace(0.5, 2.0, 4)
    np.testing.assert_allclose(adjoint.grad(self_ratio, jit=jit)(x), finite_difference(self_ratio, [x], 0),
                               rtol=1e-7, atol=1e-9)
