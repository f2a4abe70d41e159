"""adjoint.hessian: the generated gradient, differentiated again, against closed forms and
finite differences of the gradient; and the property it rests on: generated gradients are
themselves in the supported subset."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import adjoint

from . import custom_sample as S
from . import hessian_sample as H
from .test_programs import CASES

JIT = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])


def _rosenbrock_hessian(x):
    n = x.size
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        h[i + 1, i + 1] += 200.0
        h[i, i + 1] = h[i + 1, i] = -400.0 * x[i]
    return h


def _gradient_differences(fn, args, pos, h=1e-6):
    """Central differences of adjoint's gradient: the Hessian, column by column."""
    grad = adjoint.grad(fn, wrt=pos, jit=False)
    x = np.asarray(args[pos], dtype=float)
    columns = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = h
        plus, minus = list(args), list(args)
        plus[pos] = (x.ravel() + step).reshape(x.shape) if x.ndim else float(x + h)
        minus[pos] = (x.ravel() - step).reshape(x.shape) if x.ndim else float(x - h)
        columns.append((np.asarray(grad(*plus)) - np.asarray(grad(*minus))).ravel() / (2 * h))
    return np.array(columns).T.reshape(x.shape + x.shape)


@JIT
def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose(jit):
    A = np.arange(16.0).reshape(4, 4) / 7.0
    x = np.array([0.5, -0.3, 1.2, 0.7])
    np.testing.assert_allclose(adjoint.hessian(H.quadratic_form, jit=jit)(x, A), A + A.T, rtol=1e-12)


@JIT
def test_hessian_of_rosenbrock_matches_its_closed_form(jit):
    x = np.array([0.5, -0.3, 1.2, 0.7, 1.1])
    np.testing.assert_allclose(adjoint.hessian(H.rosenbrock, jit=jit)(x), _rosenbrock_hessian(x), rtol=1e-12)


@JIT
def test_hessian_of_a_scalar_function(jit):
    x, y = 0.3, 0.7
    expected = 2.0 * y - np.sin(x * y) * y * y
    assert adjoint.hessian(H.scalar, jit=jit)(x, y) == pytest.approx(expected, rel=1e-12)
    expected_y = -np.sin(x * y) * x * x
    assert adjoint.hessian(H.scalar, wrt="y", jit=jit)(x, y) == pytest.approx(expected_y, rel=1e-12)


@JIT
def test_hessian_through_a_loop(jit):
    """loop_sin's gradient needs no tape for a float x, so it differentiates again."""
    x, n = 0.3, 50
    i = np.arange(n)
    expected = np.sum(2.0 * i * np.cos(x * i) - x * i * i * np.sin(x * i))
    assert adjoint.hessian(H.loop, jit=jit)(x, n) == pytest.approx(expected, rel=1e-10)


@JIT
@pytest.mark.parametrize("eager", ["0", "1"], ids=["reverse-sweep", "eager"])
def test_hessian_through_a_loop_of_libm_arrays(jit, eager, monkeypatch):
    """adjoint.grad tapes the loop's np.sin(y) (5a4173e); the gradient that hessian
    differentiates computes it again instead, as a tape could not be differentiated. (With
    the last loop's adjoint run in the loop, transform/eager.py, nothing is taped at all.)"""
    monkeypatch.setenv("ADJOINT_EAGER", eager)
    x, r = np.array([[0.3, -0.5, 0.2], [0.7, 1.1, -0.4]]), np.array([0.3, -0.5, 0.7])
    assert (".append(" in adjoint.grad(H.sines_in_a_loop, jit=False).source_for(x, r)) == (eager == "0")
    hess = adjoint.hessian(H.sines_in_a_loop, jit=jit)(x, r)
    np.testing.assert_allclose(hess, _gradient_differences(H.sines_in_a_loop, (x, r), 0), rtol=1e-6, atol=1e-8)


@JIT
@pytest.mark.parametrize("fn, args", [(H.branch, (np.array([0.3, -0.2, 0.5]),)),
                                      (H.branch, (np.array([-0.3, -0.4, 0.5]),)),
                                      (H.branch_of_numbers, (0.7, 0.3)),
                                      (H.branch_of_numbers, (0.2, 0.3))],
                         ids=["then", "else", "numbers-then", "numbers-else"])
def test_hessian_through_a_branch(fn, args, jit):
    """The gradient's adjoint of a branch read the values its forward branch computed
    (``if c: t3 = x ** 2`` ... ``if c: ... t3``), which the subset refuses: hessian raised
    UnsupportedSyntaxError (t3 is defined on some paths only); the branch's adjoint now
    computes them again."""
    hess = adjoint.hessian(fn, jit=jit)(*args)
    np.testing.assert_allclose(hess, _gradient_differences(fn, args, 0), rtol=1e-6, atol=1e-8)


def test_a_gradient_that_tapes_is_refused_at_the_users_line_with_an_explanation():
    """The refusal pointed at a line of the generated gradient ("a list is not supported"),
    the explanation only in a note; it now names the user's line the generated line comes
    from and says why, the generated line in a note."""
    with pytest.raises(adjoint.UnsupportedSyntaxError,
                       match="differentiates the generated gradient of carried_array again") as info:
        adjoint.hessian(H.carried_array, jit=False)(np.array([0.3, -0.2]), 3)
    assert info.value.filename == inspect.getsourcefile(H.carried_array)
    first = H.carried_array.__code__.co_firstlineno
    assert first <= info.value.lineno <= first + 4
    assert "a loop of it tapes values" in str(info.value)
    assert any("the generated code refused" in n for n in info.value.__notes__)


@JIT
@pytest.mark.parametrize("fn, args", [(H.product_then_element, (np.array([0.3, -0.5, 0.8]), 1)),
                                      (H.element_write_then_product, (np.array([0.3, -0.5, 0.8]),)),
                                      (H.two_products_then_element, (np.array([0.3, -0.5, 0.8]), 2)),
                                      (H.element_write_then_sum, (np.array([0.3, -0.5, 0.8]),)),
                                      (H.sum_then_element, (np.array([0.3, -0.5, 0.8]), 1))],
                         ids=["product_then_element", "element_write_then_product", "two_products_then_element",
                              "element_write_then_sum", "sum_then_element"])
def test_element_writes_into_a_cotangent_made_by_arithmetic_differentiate_again(fn, args, jit):
    """A cotangent first made by arithmetic (``y_bar = unbroadcast(t_bar * x, y)``) or by
    ``fill_like`` (the sum's) is added to in place, but copied before an element write
    (``y_bar[i] += z_bar``, or the zeroing of an overwritten element): the generated gradient
    stays in the subset, where elements are written only into arrays from np.zeros or a copy,
    so hessian takes it. (a6853bd wrote into fill_like's result: hessian refused both
    fill_like cases.)"""
    hess = adjoint.hessian(fn, jit=jit)(*args)
    np.testing.assert_allclose(hess, _gradient_differences(fn, args, 0), rtol=2e-5, atol=1e-6)


def test_hessian_takes_one_argument():
    with pytest.raises(TypeError, match="one argument"):
        adjoint.hessian(H.scalar, wrt=(0, 1))


# Every program of test_programs whose gradient uses no helper without a rule (np.prod's),
# and that hessian takes: matrix_power_from_eye's gradient tapes its loop's matrices, and
# eye_written's writes into a cotangent the loop carries (both refused, see above).
SECOND_ORDER = sorted((name, pos) for name, (_, _, wrt) in CASES.items() for pos in wrt[:1]
                      if name not in ("fan_out", "matrix_power_from_eye", "eye_written"))


@pytest.mark.parametrize("name, pos", SECOND_ORDER)
def test_generated_gradients_differentiate_again(name, pos):
    fn, args, _ = CASES[name]
    hess = adjoint.hessian(fn, wrt=pos, jit=False)(*args)
    np.testing.assert_allclose(hess, _gradient_differences(fn, args, pos), rtol=2e-5, atol=1e-6)


def test_a_helper_without_a_rule_is_named():
    fn, args, _ = CASES["fan_out"]
    with pytest.raises(adjoint.NonDifferentiableError, match="prod_grad has no derivative rule"):
        adjoint.hessian(fn, jit=False)(*args)


def test_a_helper_without_a_rule_is_located_at_the_user_line():
    """The NonDifferentiableError of a gradient that calls a helper without a rule (np.prod's
    prod_grad) names the user's file and line, as the refusals do, not the generated file."""
    fn, args, _ = CASES["fan_out"]
    with pytest.raises(adjoint.NonDifferentiableError) as info:
        adjoint.hessian(fn, jit=False)(*args)
    lines, first = inspect.getsourcelines(fn)
    line = first + next(k for k, text in enumerate(lines) if "np.prod" in text)
    assert str(info.value).startswith(f"{inspect.getsourcefile(fn)}:{line}: adjoint.hessian differentiates")
    assert "_gradient_" not in str(info.value)
    assert any("prod_grad(" in note for note in info.value.__notes__)


def _softplus_loss(x):
    return np.sum(S.softplus(x) * x)


def test_a_gradient_calling_a_custom_rule_is_refused_naming_the_rule():
    """It said 'cotangent() with a string argument is not supported'."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match=r"it calls a custom_vjp rule \(.*softplus_vjp\(") as info:
        adjoint.hessian(_softplus_loss, jit=False)(np.ones(3))
    assert "string argument" not in str(info.value)
    assert info.value.lineno == _softplus_loss.__code__.co_firstlineno + 1
