"""Forward mode in loop bodies of numbers that run a loop (transform/tangent.py): gradients
against finite differences, plain Python and compiled, and which loops take it."""
from __future__ import annotations

import re

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference

from . import tangent_programs as T

RNG = np.random.default_rng(23)
A = np.array([0.4, 1.7, -0.8, 2.5, 0.05])

# name: (function, arguments, wrt, whether a loop body takes forward mode)
CASES = {
    "newton_roots": (T.newton_roots, [3.0 * RNG.normal(size=6), 1.5], (0,), True),
    "newton_roots_wrt_c_too": (T.newton_roots, [3.0 * RNG.normal(size=6), 1.5], (0, 1), True),
    "newton_roots_wrt_c_alone": (T.newton_roots, [3.0 * RNG.normal(size=6), 1.5], (1,), True),
    "newton_roots_empty": (T.newton_roots, [np.zeros(0), 1.5], (0, 1), True),
    "two_carried": (T.two_carried, [RNG.uniform(-1.0, 1.0, 5), 4], (0,), True),
    "two_carried_no_inner_iteration": (T.two_carried, [RNG.uniform(-1.0, 1.0, 5), 0], (0,), True),
    "newton_with_break": (T.newton_with_break, [np.abs(A) + 0.3, 0.7], (0, 1), True),
    "every_rule_kind": (T.every_rule_kind, [RNG.uniform(0.2, 1.2, 4), RNG.uniform(-1.0, 1.0, 4)], (0, 1), True),
    "region_inside_an_array_loop": (T.region_inside_an_array_loop,
                                    [RNG.uniform(-0.5, 0.5, 4), 0.8, 3], (0, 1), True),
    "three_inputs_reach_the_inner_loop": (T.three_inputs_reach_the_inner_loop,
                                          [RNG.uniform(-1.0, 1.0, 4), 0.6, 0.3, 0.2], (0, 1, 2, 3), False),
    "two_of_three_inputs_differentiated": (T.three_inputs_reach_the_inner_loop,
                                           [RNG.uniform(-1.0, 1.0, 4), 0.6, 0.3, 0.2], (0, 2), True),
    "read_in_the_inner_loop": (T.read_in_the_inner_loop, [RNG.uniform(-1.0, 1.0, 4), 3], (0,), False),
    "write_in_the_body": (T.write_in_the_body, [RNG.uniform(-1.0, 1.0, 4)], (0,), False),
    "nothing_differentiated_flows_through": (T.nothing_differentiated_flows_through,
                                             [RNG.uniform(-1.0, 1.0, 3), 0.5], (0,), False),
    "newton_roots_squared": (T.newton_roots_squared, [3.0 * RNG.normal(size=5), 1.5], (0, 1), True),
    "decaying_sum": (T.decaying_sum, [RNG.uniform(-1.0, 1.0, 5), 0.7], (0, 1), True),
    "branchy_reduction": (T.branchy_reduction, [np.array([0.5, -0.7, 1.2, -0.1, 0.9]), 0.8], (0, 1), False),
    "sqrt_from_zero": (T.sqrt_from_zero, [np.array([0.5, 1.2, 0.8])], (0,), False),
    "linear_inner_loop": (T.linear_inner_loop, [np.array([0.3, -0.5, 0.8]), 0.7], (0, 1), True),
}
# the programs whose last loop adds each iteration's cotangents as it ends (transform/eager.py)
EAGER = {"newton_roots", "newton_roots_wrt_c_too", "newton_roots_wrt_c_alone", "newton_roots_empty",
         "every_rule_kind", "two_of_three_inputs_differentiated", "branchy_reduction"}

# a tangent of the generated code: ``dz_db = 1.0 / t3``
TANGENT = re.compile(r"^\s+d[a-z]\w*_d[a-z]\w* = ", re.M)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # sqrt_from_zero's sqrt'(0)
@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_finite_differences(name, jit):
    fn, args, wrt, _ = CASES[name]
    value, grads = adjoint.value_and_grad(fn, wrt=wrt, jit=jit)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-13, abs=1e-13)
    for pos, g in zip(wrt, grads):
        np.testing.assert_allclose(g, finite_difference(fn, list(args), pos), rtol=1e-6, atol=1e-8,
                                   err_msg=f"{name}: wrt {pos}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_which_loops_take_forward_mode(name):
    fn, args, wrt, forward_mode = CASES[name]
    source = adjoint.grad(fn, wrt=wrt, jit=False).source_for(*args)
    assert bool(TANGENT.search(source)) == forward_mode, source
    assert ("# adjoint of this iteration" in source) == (name in EAGER), source
    assert ("# adjoint: cotangents in reverse order" in source) == (name not in EAGER), source


def test_the_inner_loop_is_not_taped_or_replayed():
    """newton_roots' gradient is the hand-written one: the body carries dz/db[k] through the
    Newton steps, and each iteration adds its cotangent as it ends (transform/eager.py):
    nothing taped, no loop backwards; the forward function has no tangents."""
    g = adjoint.grad(T.newton_roots, wrt=0, jit=False)
    b = np.array([0.5, -1.0, 2.0])
    source = g.source_for(b, 1.5)
    for name in ("newton_roots_vjp", "newton_roots_grad"):
        lines = [line.strip() for line in source.split(f"def {name}")[1].split("\ndef ")[0].splitlines()]
        assert not any(".append(" in line or "range(t1 - 1, -1, -1)" in line for line in lines), lines
        start = lines.index("# adjoint of this iteration")
        assert re.fullmatch(r"(t\d+)_bar = s_bar \* dz_1_db", lines[start + 2]), lines
        assert lines[start + 4] == f"b_bar[k] += {lines[start + 2].split(' = ')[0]}", lines
        assert "dz_db = 1.0 / t3" in lines and "while t9:" in lines
    forward = source[source.index("def newton_roots("):source.index("def newton_roots_vjp")]
    assert not TANGENT.search(forward)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_float32_arguments(jit):
    b = (3.0 * RNG.normal(size=5)).astype(np.float32)
    g = adjoint.grad(T.two_carried, wrt=0, jit=jit)(b, 3)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, finite_difference(T.two_carried, [b, 3], 0), rtol=2e-5, atol=1e-6)


def test_the_hessian_through_a_newton_solve():
    """newton_roots' gradient tapes nothing (tangents, and its adjoint in the loop): it is
    ordinary code that adjoint.hessian differentiates again, against finite differences of
    the gradient."""
    b = np.array([0.5, -1.0, 2.0])
    h = adjoint.hessian(T.newton_roots, jit=False)(b, 1.5)
    grad = adjoint.grad(T.newton_roots, jit=False)
    fd = np.array([finite_difference(lambda v: grad(v, 1.5)[i], [b], 0) for i in range(3)])
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("wrt", [0, 1])
def test_the_hessian_is_made_in_reverse_mode_where_forward_mode_would_tape(wrt):
    """linear_inner_loop's gradient tapes the tangents' derivatives in forward mode and
    nothing in reverse mode: hessian differentiates the reverse-mode gradient (it refused
    with forward mode on: helper-42's fuzz)."""
    args = (np.array([0.3, -0.5, 0.8]), 0.7)
    h = adjoint.hessian(T.linear_inner_loop, wrt=wrt, jit=False)(*args)
    grad = adjoint.grad(T.linear_inner_loop, wrt=wrt, jit=False)
    x = args[wrt]
    if wrt == 0:
        fd = np.array([finite_difference(lambda v: grad(v, 0.7)[i], [x], 0) for i in range(3)])
    else:
        fd = finite_difference(lambda v: grad(args[0], v), [x], 0)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)
