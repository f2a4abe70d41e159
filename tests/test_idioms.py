"""Idioms (transform/idioms.py): the logistic sigmoid as users write it becomes the rule
``logistic``, whose gradient is finite where exp(-z) overflows. The rule's derivative is
checked against finite differences over shapes and dtypes with the rest of the table
(tests/rules: its examples); here, which expressions become it and the tails."""
from __future__ import annotations

import math

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference
from adjoint.ir.nodes import Assign, walk
from adjoint.pipeline import lower_function


def _prims(fn) -> list[str]:
    return [s.op.prim for s in walk(lower_function(fn, {}).body) if isinstance(s, Assign)]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loss(x, w):
    s = sigmoid(x * w)
    return np.sum(s * s)


def loss_math(x):
    return 1 / (math.exp(-x) + 1) * x


def own_lines(x):  # the user's own statements: kept as written
    e = np.exp(-x)
    return np.sum(1.0 / (1.0 + e))


def shared_exp(x):  # exp(-x) read twice: it stays one value
    t = np.exp(-x)
    return np.sum(1.0 / (1.0 + np.exp(-x)) + t)


def not_logistic(x):
    return np.sum(2.0 / (1.0 + np.exp(-x)) + 1.0 / (1.0 + np.exp(x)) + 1.0 / (2.0 + np.exp(-x)))


def in_loop(x, w):
    h = x
    for _ in range(3):
        h = 1.0 / (1.0 + np.exp(-(h * w)))
    return np.sum(h)


def test_the_sigmoid_expression_becomes_one_rule():
    assert _prims(loss) == ["mul", "logistic", "mul_self", "sum"]
    assert _prims(loss_math) == ["math.logistic", "mul"]
    assert "logistic" in _prims(in_loop)


def test_other_expressions_stay_what_they_are():
    assert "logistic" not in _prims(own_lines)
    assert _prims(shared_exp).count("exp") == 1 and "logistic" not in _prims(shared_exp)
    assert "logistic" not in _prims(not_logistic)


def test_the_generated_code_reads_as_written():
    g = adjoint.grad(loss, jit=False)
    x = np.array([0.5, -1.0])
    g(x, np.ones(2))
    source = g.source
    assert "s = 1.0 / (1.0 + np.exp(-t1))" in source
    assert "t1_bar = s_bar * s * (1.0 - s)" in source


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_the_gradient_is_finite_where_exp_overflows(jit, dtype):
    """At z = -800 (float64) or -100 (float32) exp(-z) is inf: the operations' chain
    gives 0 * inf = nan there, the rule 0; at +800 both give 0. Where s rounds to 1 (z = 30
    in float32) s (1 - s) is 0, as jax.nn.sigmoid's derivative (compiled, Numba computes
    float32 numbers' sigmoid in float64: 2e-13 there)."""
    x = np.array([-800.0, -100.0, -30.0, 0.5, 30.0, 800.0], dtype=dtype)
    w = np.ones_like(x)
    with np.errstate(over="ignore"):
        gx, gw = adjoint.grad(loss, wrt=(0, 1), jit=jit)(x, w)
        s = (1.0 / (1.0 + np.exp(-x))).astype(np.float64)
    expected = 2.0 * s * s * (1.0 - s)
    assert gx.dtype == dtype and np.all(np.isfinite(gx)) and np.all(np.isfinite(gw))
    np.testing.assert_allclose(gx, expected, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-12 if dtype == np.float32 else 1e-30)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_a_sigmoid_in_a_loop_keeps_its_gradient(jit):
    x = np.linspace(-2.0, 2.0, 5)
    w = np.linspace(0.5, 1.5, 5)
    gx, gw = adjoint.grad(in_loop, wrt=(0, 1), jit=jit)(x, w)
    np.testing.assert_allclose(gx, finite_difference(in_loop, [x, w], 0), rtol=1e-7)
    np.testing.assert_allclose(gw, finite_difference(in_loop, [x, w], 1), rtol=1e-7)


def test_math_sigmoid_gradient_of_a_number():
    g = adjoint.grad(loss_math, jit=False)
    np.testing.assert_allclose(g(0.3), finite_difference(loss_math, [0.3], 0), rtol=1e-7)
