"""@adjoint.custom_vjp: the rule is used instead of the body, checked, and errors name it."""
from __future__ import annotations

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference

from . import custom_sample as S

JIT = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])


@JIT
@pytest.mark.parametrize("x", [0.7, np.array([-1.0, 0.2, 2.0]), np.array([[0.5, -0.3], [1.5, 0.0]])],
                         ids=["scalar", "vector", "matrix"])
def test_custom_rule_gives_the_gradient(x, jit):
    g = adjoint.grad(S.loss_softplus, jit=jit)(x)
    np.testing.assert_allclose(g, finite_difference(S.loss_softplus, [x], 0), rtol=1e-6)


@JIT
def test_the_rule_is_used_instead_of_the_body(jit):
    """The rule returns twice the true cotangent: the gradient doubles, so the rule ran."""
    assert adjoint.grad(S.loss_doubled, jit=jit)(1.5) == pytest.approx(2.0 * 3.0)


@JIT
def test_rule_with_several_inputs_and_fan_out(jit):
    x, y = 0.3, -1.2
    gx, gy = adjoint.grad(S.loss_product, wrt=(0, 1), jit=jit)(x, y)
    assert gx == pytest.approx(finite_difference(S.loss_product, [x, y], 0), rel=1e-6)
    assert gy == pytest.approx(finite_difference(S.loss_product, [x, y], 1), rel=1e-6)


@JIT
def test_custom_rules_inside_loops_and_branches(jit):
    x = np.array([0.1, -0.4])
    g = adjoint.grad(S.loss_in_loop, jit=jit)(x, 5)
    np.testing.assert_allclose(g, finite_difference(S.loss_in_loop, [x, 5], 0), rtol=1e-6)


def test_the_generated_code_calls_the_rule():
    source = adjoint.grad(S.loss_softplus).source
    assert 'softplus = custom_function("tests.custom_sample.softplus", "primal")' in source
    assert "cotangent(softplus_vjp(x, t1, t1_bar), x, 'softplus')" in source.replace('"', "'")


def test_a_decorated_function_still_computes_its_value():
    assert S.softplus(0.0) == pytest.approx(np.log(2.0))


@JIT
def test_a_cotangent_of_the_wrong_shape_names_the_rule(jit):
    with pytest.raises(ValueError, match="custom rule of wrong_shape .*shape"):
        adjoint.grad(S.loss_wrong_shape, jit=jit)(np.ones(3))


@JIT
def test_a_wrong_count_at_run_time_names_the_rule(jit):
    with pytest.raises(ValueError, match="custom rule of wrong_count_at_run_time returned 3 cotangents"):
        adjoint.grad(S.loss_wrong_count, jit=jit)(1.0, 2.0)


def test_a_wrong_count_in_the_source_is_refused_at_defvjp():
    f = adjoint.custom_vjp(S.scaled_product.fn)
    with pytest.raises(TypeError, match="returns 2 cotangents .* has 3 inputs"):
        @f.defvjp
        def rule(a, b, c, out, g):
            return g, g


def test_a_rule_with_the_wrong_parameters_is_refused():
    f = adjoint.custom_vjp(S.softplus.fn)
    with pytest.raises(TypeError, match=r"must take 3 plain parameters \(x, out, g\); it takes 2"):
        f.defvjp(lambda x, g: g)


def test_a_custom_function_without_a_rule_is_an_error_at_the_call():
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="no_rule is a custom_vjp function without a rule") as info:
        adjoint.grad(S.loss_no_rule).source
    assert info.value.text.strip().startswith("return no_rule(x)")


@JIT
def test_custom_functions_of_the_same_name_keep_their_own_rules(jit):
    """Both are make_scaled.<locals>.scaled: the generated code bound each by that name, so
    the gradient through by_three ran by_four's rule (defined last)."""
    assert adjoint.grad(S.loss_by_three, jit=jit)(1.0) == 3.0
    assert adjoint.grad(S.loss_by_four, jit=jit)(1.0) == 4.0


@JIT
def test_a_rule_defined_again_is_used_by_gradients_built_before(jit):
    """@f.defvjp run again (a notebook cell run again): a gradient built before went on
    calling the old rule, bound by the module it had imported."""
    grad = adjoint.grad(S.loss_redefined, jit=jit)
    assert grad(1.0) == 3.0
    assert grad.wait()(1.0) == 3.0  # a call like an earlier one, once compiled, skips the checks
    old = S.redefined.rule_fn
    try:
        @S.redefined.defvjp
        def rule(x, out, g):
            return 5.0 * g

        assert grad(1.0) == 6.0
    finally:
        S.redefined.defvjp(old)
    assert grad(1.0) == 3.0


def test_a_custom_function_returning_a_tuple_is_refused():
    """Its cotangent would be a tuple, which the generated adjoint took for an array: a
    TypeError ('float' object is not subscriptable) from a generated line, when run."""
    def pair(x):
        return x * 2.0, np.sin(x)
    with pytest.raises(TypeError, match=r"custom_vjp function .*pair returns a tuple \(line 2 of its source\)"):
        adjoint.custom_vjp(pair)


def test_taking_a_custom_result_apart_is_refused_at_the_line():
    with pytest.raises(adjoint.UnsupportedSyntaxError, match=r"pair_in_a_name\(x\) gives one value") as refused:
        adjoint.grad(S.unpacks_a_custom_result, jit=False)(np.ones(3))
    assert refused.value.text.strip() == "a, b = pair_in_a_name(x)"
