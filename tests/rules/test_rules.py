"""Every rule of the table against central differences, generated from the table.

Each rule's spellings are sampled over scalars, 1-D, 2-D and broadcast shapes
in float64 and float32. Under ``jit=False`` each spelling is its own test;
under Numba the spellings are compiled in chunks (one compile per chunk and
dtype) to keep the suite fast.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference
from adjoint.rules import RULES

from . import generate

SINGLES = generate.programs()
CHUNKS = generate.chunks(12)
TOL = {np.float64: (1e-5, 1e-7), np.float32: (3e-3, 3e-3)}


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rule_programs")
    return (generate.load(SINGLES, directory, "adjoint_rule_programs"),
            generate.load(CHUNKS, directory, "adjoint_rule_chunks"))


def test_every_rule_has_a_test_domain():
    missing = [name for name, rule in RULES.items()
               if not rule.examples and rule.custom is None and not rule.internal]
    assert not missing, f"rules without examples (a test domain): {missing}"


def _float_positions(prog: generate.Program) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(prog.args) if not a.is_const)


def _check(fn, prog: generate.Program, dtype, jit: bool) -> None:
    args = generate.sample_args(prog, dtype)
    wrt = _float_positions(prog)
    grads = adjoint.grad(fn, wrt=wrt, jit=jit)(*args)
    rtol, atol = TOL[dtype]
    # finite differences in float64, at the float32 inputs upcast
    wide = [np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else
            (float(a) if isinstance(a, (float, np.floating)) else a) for a in args]
    for pos, g in zip(wrt, grads):
        expected = finite_difference(fn, wide, pos)
        assert np.shape(g) == np.shape(args[pos]), prog.labels[pos]
        if isinstance(args[pos], np.ndarray):
            assert g.dtype == args[pos].dtype, f"{prog.labels[pos]}: gradient dtype {g.dtype}"
        else:  # a number, np.float32 too, runs as a Python float (docs/subset.md, Notes)
            assert type(g) is float, f"{prog.labels[pos]}: gradient type {type(g).__name__}"
        np.testing.assert_allclose(np.asarray(g, dtype=np.float64), expected, rtol=rtol, atol=atol,
                                   err_msg=f"{prog.labels[pos]} (jit={jit}, {dtype.__name__})")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("prog", SINGLES, ids=[p.name for p in SINGLES])
def test_rule_python(modules, prog, dtype):
    _check(getattr(modules[0], prog.name), prog, dtype, jit=False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("prog", CHUNKS, ids=[p.name for p in CHUNKS])
def test_rules_numba(modules, prog, dtype):
    _check(getattr(modules[1], prog.name), prog, dtype, jit=True)


def _math_pow(x, y):
    return math.pow(x, y)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_math_pow_of_a_negative_base_has_a_nan_exponent_derivative(jit):
    """math.pow(-2.0, 3.0) is -8: d/dx is 12, d/dy (out * log(x)) is nan, as in JAX and in
    compiled code; the plain-Python adjoint raised ValueError (math.log of a negative)."""
    with np.errstate(invalid="ignore"):
        gx, gy = adjoint.grad(_math_pow, wrt=(0, 1), jit=jit, background=False)(-2.0, 3.0)
    assert gx == 12.0 and math.isnan(gy)


def _root_of_where(x, w):
    return np.sum(np.sqrt(np.where(x >= 0.0, x, w)))


def _where_of_numbers(x, w):
    return np.where(x > 0.0, x * w, w * w)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_where_sends_an_infinite_cotangent_only_to_the_side_taken(jit):
    """sqrt at 0 has an infinite derivative: where's adjoint multiplied it by (c == 0) for
    the other side, inf * 0 = nan, so w got nan where JAX gives 0.5 / sqrt(w)."""
    x, w = np.array([0.0, 1.0, -1.0]), 2.0
    with np.errstate(divide="ignore"):
        gx, gw = adjoint.grad(_root_of_where, wrt=(0, 1), jit=jit, background=False)(x, w)
    np.testing.assert_array_equal(gx, [np.inf, 0.5, 0.0])
    assert gw == pytest.approx(0.5 / math.sqrt(2.0), rel=1e-15)
    g = adjoint.grad(_where_of_numbers, wrt=(0, 1), jit=jit, background=False)
    assert g(0.5, 2.0) == (2.0, 0.5) and g(-0.5, 2.0) == (0.0, 4.0)


def _dot_of_a_number(a, y):
    return np.sum(np.dot(a, y) ** 2) + np.sum(np.dot(y, a)) * 0.5


def _outer_of_a_matrix(a, b):
    return np.sum(np.outer(a, b) ** 2)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_dot_of_a_number_is_a_product(jit):
    """np.dot(2.0, y) is 2.0 * y in NumPy; its gradient raised "matmul gradient: unsupported
    operand ranks (0, 1)" (and compiled code had no np.dot of a float)."""
    y = np.array([0.0, 1.0, 2.0])
    value, (ga, gy) = adjoint.value_and_grad(_dot_of_a_number, wrt=(0, 1), jit=jit, background=False)(2.0, y)
    assert value == pytest.approx(_dot_of_a_number(2.0, y))
    assert ga == pytest.approx(2 * 2.0 * np.sum(y * y) + 0.5 * np.sum(y))
    np.testing.assert_allclose(gy, 2 * 2.0 ** 2 * y + 0.5 * 2.0)


def test_outer_of_a_matrix_is_refused_at_its_line():
    """NumPy flattens a 2-D argument of np.outer; the gradient failed in a matmul (plain) or
    did not compile. Refused, with what to write."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match=r"np\.outer\(\) takes 1-D arrays.*ravel") as info:
        adjoint.grad(_outer_of_a_matrix, jit=False)(np.ones((2, 2)), np.arange(3.0))
    assert info.value.lineno == _outer_of_a_matrix.__code__.co_firstlineno + 1
