"""Whole programs against finite differences, under jit=False and jit=True (the same
generated source), plus the seed examples with their exact values."""
from __future__ import annotations

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference

from . import programs as P

RNG = np.random.default_rng(42)


def _mlp_args(dtype=np.float64):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(8, 4))
    Y = np.eye(3)[rng.integers(0, 3, 8)]
    args = [rng.normal(size=(4, 5)) * 0.5, rng.normal(size=5) * 0.1, rng.normal(size=(5, 3)) * 0.5,
            rng.normal(size=3) * 0.1, X, Y]
    return [a.astype(dtype) for a in args]


CASES = {
    "mlp": (P.mlp_loss, _mlp_args(), (0, 1, 2, 3)),
    "logistic": (P.logistic, [RNG.normal(size=4), 0.3, RNG.normal(size=(10, 4)),
                              (RNG.random(10) > 0.5).astype(float)], (0, 1)),
    "ridge": (P.ridge, [RNG.normal(size=3), RNG.normal(size=(6, 3)), RNG.normal(size=6), 0.1], (0, 3)),
    "fan_out": (P.fan_out, [RNG.uniform(0.5, 1.5, size=4), 0.3], (0, 1)),
    "shapes": (P.shapes, [RNG.normal(size=(3, 4)), RNG.normal(size=4)], (0, 1)),
    "matrix_power_from_eye": (P.matrix_power_from_eye, [RNG.normal(size=(3, 3)) * 0.5, 4, 0.3], (0, 2)),
    "eye_written": (P.eye_written, [RNG.normal(size=3)], (0,)),
}


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_program_by_random_projection(name, jit):
    fn, args, wrt = CASES[name]
    grads = adjoint.grad(fn, wrt=wrt, jit=jit)(*args)
    rng = np.random.default_rng(7)
    for pos, g in zip(wrt, grads):
        assert np.shape(g) == np.shape(args[pos])
        u = rng.normal(size=np.shape(args[pos]))
        h = 1e-6

        def along(t):
            trial = list(args)
            trial[pos] = args[pos] + t * u
            return fn(*trial)

        directional = (along(h) - along(-h)) / (2 * h)
        assert np.sum(np.asarray(g) * u) == pytest.approx(directional, rel=1e-5, abs=1e-7), (name, pos)


def test_mlp_float32_stays_float32():
    args = _mlp_args(np.float32)
    grads = adjoint.grad(P.mlp_loss, wrt=(0, 1, 2, 3))(*args)
    wide = [a.astype(np.float64) for a in args]
    for pos, g in enumerate(grads):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, finite_difference(P.mlp_loss, wide, pos), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_seed_e(jit):
    assert adjoint.grad(P.seed_e, wrt=("a", "b"), jit=jit)(2.0, 1.0) == (2.0, 5.0)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_seed_uv(jit):
    x, y = 1.5, -0.7
    v = x * y + y
    gx, gy = adjoint.grad(P.seed_uv, wrt=(0, 1), jit=jit)(x, y)
    assert gy == pytest.approx(2 * v * (1 + x), rel=1e-14)
    assert gx == pytest.approx(2 * v * y, rel=1e-14)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_seed_ab(jit):
    x, y = 0.8, 1.3
    gx, gy = adjoint.grad(P.seed_ab, wrt=("x", "y"), jit=jit)(x, y)
    assert gx == pytest.approx(2 * x * (x + y) * (2 * x + y), rel=1e-14)
    assert gy == pytest.approx(2 * x * x * (x + y), rel=1e-14)


def test_softmax_cross_entropy_is_p_minus_y():
    """The seed's identity: d CE / d logits = (softmax - onehot) / n."""
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 3))
    Y = np.eye(3)[[0, 2, 1, 2]]

    def ce(z, Y):
        z = z - np.max(z, axis=1).reshape(-1, 1)
        p = np.exp(z) / np.sum(np.exp(z), axis=1).reshape(-1, 1)
        return -np.sum(Y * np.log(p)) / z.shape[0]

    g = adjoint.grad(ce, jit=False)(z, Y)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g, (p - Y) / 4, rtol=1e-12, atol=1e-15)


def test_unused_argument_gets_zero_gradient():
    gx, gy = adjoint.grad(P.unused_argument, wrt=(0, 1))(np.ones(3), np.ones(3))
    np.testing.assert_array_equal(gx, np.zeros(3))
    np.testing.assert_allclose(gy, 2 * np.sin(1.0) * np.cos(1.0) * np.ones(3))
