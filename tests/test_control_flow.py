"""Branches and loops against finite differences, as plain Python and under Numba."""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference

from . import control_programs as C
from . import tangent_programs as T

RNG = np.random.default_rng(5)
CASES = {
    "branch_then": (C.branches, [0.8, 0.3], (0, 1)),
    "branch_elif": (C.branches, [-0.5, 0.3], (0, 1)),
    "branch_else": (C.branches, [0.2, 0.9], (0, 1)),
    "branch_or": (C.branches, [-1.5, 0.9], (0, 1)),
    "loop_sin": (C.loop_sin, [0.7, 40], (0,)),
    "loop_zero_iterations": (C.loop_sin, [0.7, 0], (0,)),
    "loop_one_iteration": (C.loop_sin, [0.7, 1], (0,)),
    "bounds_up": (C.bounds, [0.3, 2, 11, 3], (0,)),
    "bounds_down": (C.bounds, [0.3, 9, -2, -2], (0,)),
    "bounds_empty": (C.bounds, [0.3, 5, 5, 1], (0,)),
    "steps_up": (C.literal_steps, [0.3, 2, 9], (0,)),
    "steps_down": (C.literal_steps, [0.3, 9, 2], (0,)),
    "steps_negative_bounds": (C.literal_steps, [0.3, -4, -1], (0,)),
    "nested": (C.nested, [RNG.uniform(0.1, 0.9, 5), 5], (0,)),
    "swap": (C.swap, [0.3, 0.7, 5], (0, 1)),
    "array_carry": (C.array_carry, [np.linspace(-1.0, 1.0, 4), 6], (0,)),
    "euler": (C.euler, [np.array([1.5, 0.7]), 0.3, 200], (0, 1)),
    "helpers_in_loop": (C.helpers_in_loop, [0.4, 7], (0,)),
    "unused_branch_then": (C.unused_branch_value, [0.4, 1.5], (0, 1)),
    "unused_branch_else": (C.unused_branch_value, [0.4, -1.5], (0, 1)),
    "while_halve": (C.halve, [2.5], (0,)),
    "while_zero_iterations": (C.halve, [0.2], (0,)),
    "while_newton": (C.newton_sqrt, [2.0], (0,)),
    "while_in_for": (C.cube_roots, [np.array([0.5, 2.0, 8.0]), 3], (0,)),
    "write_recurrence": (C.recurrence, [np.linspace(0.1, 0.9, 5), 0.7], (0, 1)),
    "write_overwrite": (C.overwrite_many_times, [np.linspace(-1.0, 1.0, 4)], (0,)),
    "write_slices": (C.slice_writes, [np.array([0.1, 0.5, 0.9]), np.array([1.0, -1.0, 2.0])], (0, 1)),
    "write_branch_then": (C.write_in_branch, [0.7, 1.0], (0,)),
    "write_branch_else": (C.write_in_branch, [0.7, -1.0], (0,)),
    "write_read_before_after": (C.read_before_and_after_write, [np.array([1.0, 2.0, 3.0])], (0,)),
    "write_matrix": (C.matrix_writes, [np.array([0.3, -0.8])], (0,)),
    "final_backward": (C.backward_recurrence, [np.linspace(0.1, 0.9, 5), 0.7], (0, 1)),
    "final_strided_rows": (C.strided_rows, [np.linspace(0.2, 0.8, 6), 0.6], (0, 1)),
    "final_not_reads_ahead": (C.reads_ahead, [np.linspace(0.1, 0.9, 5), 0.7], (0, 1)),
    "final_not_written_after": (C.written_after_the_loop, [np.linspace(0.1, 0.9, 5), 0.7], (0, 1)),
    "final_not_repeated": (C.recurrence_repeated, [np.linspace(0.1, 0.9, 5), 0.7], (0, 1)),
    "final_not_negative_column": (C.negative_column, [np.linspace(0.1, 0.9, 5), 0.7], (0, 1)),
    "final_not_wraps_around": (C.wraps_around, [np.linspace(0.1, 0.9, 5), 0.7], (0, 1)),
    "copy_recurrence": (C.copy_recurrence, [np.linspace(0.1, 0.9, 5), 0.7], (0, 1)),
    "update_from_carried": (C.trajectory_loss, [0.7, 6], (0,)),
    "update_from_carried_zero_trips": (C.trajectory_loss, [0.7, 0], (0,)),
    "update_nested": (C.nested_trajectories, [0.7, 4], (0,)),
    "final_not_newaxis_row": (C.newaxis_row_write, [np.linspace(0.1, 0.9, 12).reshape(4, 3), 0.7], (0, 1)),
    "swap_in_a_branch": (C.swap_in_a_branch, [np.linspace(0.1, 0.9, 4), 1.0], (0, 1)),
    "swap_in_a_loop": (C.swap_in_a_loop, [np.linspace(0.1, 0.9, 4), 0.7], (0, 1)),
    "zeros_of_a_1d_shape": (C.zeros_of_a_1d_shape, [np.linspace(0.1, 0.9, 5), 0.7], (0, 1)),
    "copy_rebound": (C.copy_rebound, [1.1, np.array([2.0, 1.0]), 3], (0, 1)),
    "read_then_write": (C.read_then_write, [0.3, 6], (0,)),
    "zeros_like_carried": (C.zeros_like_carried, [np.array([0.5, -1.0]), 3], (0,)),
    "two_rows": (C.two_rows, [0.3, 5], (0,)),
    "break": (C.loop_break, [0.7, 10], (0,)),
    "break_never_taken": (C.loop_break, [0.01, 10], (0,)),
    "continue": (C.loop_continue, [0.7, 9], (0,)),
    "early_return_first": (C.early_return, [1.5], (0,)),
    "early_return_second": (C.early_return, [-0.5], (0,)),
    "early_return_fall_through": (C.early_return, [0.5], (0,)),
    "return_in_loop_taken": (C.return_in_loop, [1.2, 10], (0,)),
    "return_in_loop_not_taken": (C.return_in_loop, [0.1, 3], (0,)),
    "while_true_break": (C.newton_break, [2.0], (0,)),
    "nested_jumps_return": (C.nested_jumps, [2.0, 8], (0,)),
    "nested_jumps_no_return": (C.nested_jumps, [0.3, 8], (0,)),
    "return_in_while": (C.return_in_while, [np.array([0.6, 0.7, 0.1])], (0,)),
    "return_in_while_not_taken": (C.return_in_while, [np.array([0.1, 0.2, 0.3])], (0,)),
    "sin_then_write": (C.sin_then_write, [np.array([0.3, -0.5, 0.7, 1.1])], (0,)),
    "equal_computation_elsewhere": (C.equal_computation_elsewhere, [np.array([0.3, -0.5, 0.7, 1.1])], (0,)),
    "computed_then_written_in_loop": (C.computed_then_written_in_loop,
                                      [np.array([0.3, -0.5, 0.7, 1.1]), np.array([0.2, 0.4, -0.6, 0.8])], (0, 1)),
    "computed_in_each_iteration": (C.computed_in_each_iteration, [np.array([0.3, -0.5, 0.7])], (0,)),
    "written_after_a_helper": (C.written_after_a_helper, [np.array([0.3, -0.5, 0.7, 1.1])], (0,)),
    "written_after_a_unary_plus": (C.written_after_a_unary_plus, [np.array([0.3, -0.5, 0.7, 1.1])], (0,)),
    "written_after_a_transpose": (C.written_after_a_transpose, [np.array([[0.3, -0.5], [0.7, 1.1]])], (0,)),
    "int_to_a_negative_power": (C.series_of_inverse_squares, [0.5, 6], (0,)),
    "int_to_a_run_time_power": (C.int_to_a_run_time_power, [0.5, 4, 3], (0,)),
    "written_with_a_number_a_loop_set": (C.written_with_a_number_a_loop_set, [0.3, np.array([0.1, 0.2, 0.3])],
                                         (0, 1)),
    "incremented_in_a_loop": (C.incremented_in_a_loop, [0.41, 3], (0,)),
    "log_sum_exp_from_minus_inf": (C.log_sum_exp_from_minus_inf, [np.array([0.3, -0.5, 0.7])], (0,)),
    "running_max_from_minus_inf": (C.running_max_from_minus_inf, [np.array([0.3, -0.5, 0.7])], (0,)),
    "clipped_by_infinite_defaults": (C.clipped_by_infinite_defaults, [np.array([0.3, -0.5, 0.7])], (0,)),
    "stacked_state": (C.stacked_state, [np.array([0.3, -0.5, 0.7]),
                                        np.array([[0.1, 0.2, -0.3], [0.5, -0.4, 0.6], [0.9, 0.1, -0.2],
                                                  [0.3, -0.7, 0.8]]), 3], (0, 1)),
    "two_written_rows": (C.two_written_rows, [np.array([0.3, -0.5, 0.7]), 2], (0,)),
    "rnn_rows": (C.rnn_rows, [np.array([0.3, -0.5, 0.7]), np.array([0.9, -0.4, 0.2]), 3], (0, 1)),
    "branch_writes_in_loop": (C.branch_writes_in_loop, [np.array([0.6, -0.2, 0.55, 0.9, -0.4])], (0,)),
    "break_after_writes": (C.break_after_writes, [np.array([0.3, -0.5, 0.7, 0.45]), 3], (0,)),
    "unary_plus_of_a_written_array": (C.unary_plus_of_a_written_array, [np.array([0.3, -0.5, 0.7, 0.2])], (0,)),
    "unary_plus_in_a_loop": (C.unary_plus_in_a_loop, [np.array([0.3, -0.5, 0.7, 0.2]), 6], (0,)),
}


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_finite_differences(name, jit):
    fn, args, wrt = CASES[name]
    value, grads = adjoint.value_and_grad(fn, wrt=wrt, jit=jit)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-13, abs=1e-13)
    for pos, g in zip(wrt, grads):
        np.testing.assert_allclose(g, finite_difference(fn, list(args), pos), rtol=2e-6, atol=1e-8,
                                   err_msg=f"{name}: wrt {pos}")
    if not jit:  # grad runs <name>_grad where the module has one: the same cotangents
        alone = adjoint.grad(fn, wrt=wrt, jit=False)(*args)
        for g, h in zip(grads, alone):
            np.testing.assert_allclose(h, g, rtol=1e-13, atol=1e-15, err_msg=f"{name}: grad alone")


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_an_int_to_a_negative_run_time_power_is_an_error(jit):
    """2 ** (m - k) with m - k < 0: Numba's compiled ** gives 0 (a wrong value and gradient)
    where Python gives a float; both modes raise NumPy's error instead."""
    g = adjoint.grad(C.int_to_a_run_time_power, jit=jit)
    assert g(0.5, 4, 3) == pytest.approx(sum(k * 0.5 ** (k - 1) * 2 ** (3 - k) for k in range(4)))
    with pytest.raises(ValueError, match="negative int power"):
        g(0.5, 6, 3)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_a_float32_loop_reverse_compiles(jit):
    """A float32 loop whose forward compiles: its cotangent started float32 (fill_like of a
    float32 array) and turned float64 in the body (1.0 - h * h under Numba), a CompileError
    ("Cannot unify array(float32) and array(float64)"). Cotangents start as float64."""
    x = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    g = adjoint.grad(C.float32_carried_cotangent, jit=jit, background=False)(x, 4)
    assert g.dtype == np.float32
    wide = adjoint.grad(C.float32_carried_cotangent, jit=False)(x.astype(np.float64), 4)
    np.testing.assert_allclose(g, wide, rtol=1e-5, atol=1e-6)


def test_a_branch_in_a_loop_adds_into_the_loops_cotangent_in_place():
    """w_bar[i] += ... under an if inside a loop: w_bar is made before the loop, so the branch
    adds into it in place; it copied the whole w_bar at each iteration (O(n) per step)."""
    g = adjoint.grad(C.branch_reads_an_argument, wrt=(0, 1), jit=False)
    x, w = np.array([0.5, -1.0, 2.0, -0.3]), np.array([1.5, 2.0, -1.0, 0.7])
    gx, gw = g(x, w)
    np.testing.assert_allclose(gx, np.where(x > 0, w, -1.0))
    np.testing.assert_allclose(gw, np.where(x > 0, x, 0.0))
    reverse = g.source_for(x, w).split("def branch_reads_an_argument_grad")[1].split("cotangents in reverse")[1]
    assert ".copy()" not in reverse and "copy_of" not in reverse, reverse


@pytest.mark.parametrize("name", ["stacked_state", "two_written_rows", "rnn_rows"])
def test_an_inner_loop_carrying_several_arrays_writes_in_place(name):
    """stacked_state's inner loop writes rows of state while it also carries inp; two_written_rows
    writes elements of two arrays; rnn_rows writes y while it carries h and inp. An array the
    loop writes into was owned only when no other array was carried with it, so each reverse
    iteration copied its whole cotangent (O(size of the array) per element written)."""
    fn, args, wrt = CASES[name]
    source = adjoint.grad(fn, wrt=wrt, jit=False).source_for(*args)
    reverse = source.split("cotangents in reverse")[-1]
    loops = re.split(r"\n *for \w+ in range\(", reverse)[1:]
    assert loops and not any(re.search(r"\w+_bar\.copy\(\)|copy_of\(\w+_bar\)", body) for body in loops), reverse


@pytest.mark.parametrize("fn, args", [
    (C.branch_writes_in_loop, [np.array([0.6, -0.2, 0.55, 0.9, -0.4])]),
    (C.break_after_writes, [np.array([0.3, -0.5, 0.7, 0.45]), 3]),
])
def test_a_branch_in_a_loop_writes_into_the_loops_cotangent_in_place(fn, args):
    """y[j] = ... under an if (or before a break) in a loop: each branch zeroes y_bar[j] in the
    cotangent the loop hands it. The reverse made a zero y_bar before the if, a copy of the
    merge's cotangent in the branch and their sum, at every iteration: O(n) per step where
    the forward writes one element."""
    reverse = adjoint.grad(fn, jit=False).source_for(*args).split("cotangents in reverse")[-1]
    loops = re.split(r"\n *for j in range\(", reverse)[1:]  # the reverse loops, not the comments
    assert loops and all(".copy()" not in body and "copy_of" not in body and "zero_like" not in body
                         for body in loops), reverse


def test_grad_skips_what_only_the_value_needs():
    """For floats, loop_sin's value is the whole forward loop, which the cotangents do not
    need: adjoint.grad runs loop_sin_grad, which has no forward loop at all."""
    g = adjoint.grad(C.loop_sin)
    source = g.source_for(0.4, 30)
    grad_alone = source.split("def loop_sin_grad(")[1]
    loops = [line.strip() for line in grad_alone.splitlines() if line.strip().startswith("for ")]
    assert loops == ["for i in range(n - 1, -1, -1):"]
    assert g(0.4, 30) == pytest.approx(adjoint.value_and_grad(C.loop_sin)(0.4, 30)[1], rel=1e-13)
    assert ((0, 0), "loop_sin_grad", True) in g._functions


def test_a_million_iterations():
    x, n = 0.3, 1_000_000
    g = adjoint.grad(C.long_loop)(x, n)
    i = np.arange(n)
    expected = np.sum(np.sin(x * i) + x * i * np.cos(x * i))
    assert g == pytest.approx(expected, rel=1e-9)


def test_trip_count_may_change_between_calls():
    g = adjoint.grad(C.loop_sin)
    for n in (3, 0, 17, 1, 5):
        assert g(0.4, n) == pytest.approx(finite_difference(C.loop_sin, [0.4, n], 0), rel=1e-6)


def test_loops_stay_loops_in_the_generated_code():
    source = adjoint.grad(C.nested).source
    adjoint_part = source.split("# adjoint")[1]
    assert "if t4:" in adjoint_part
    vjp = source.split("def nested_vjp")[1]
    loops = [line.strip() for line in vjp.splitlines() if line.strip().startswith("for ")]
    assert loops == ["for i in range(n):", "for j in range(i, n):",
                     "for i in range(n - 1, -1, -1):", "for j in range(n - 1, i - 1, -1):"]


def test_the_tape_holds_only_what_cannot_be_recomputed():
    """loop_sin: the index runs backwards and x * i, sin(x * i) are recomputed from x and i;
    only the carried s (read for its shape) is taped, on a list made for the loop's n
    iterations at its entry."""
    source = adjoint.grad(C.loop_sin).source
    stacks = sorted(line.strip() for line in source.splitlines() if "_stack = " in line)
    assert stacks == ["s_stack = new_tape(n)"]


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_an_array_of_libm_results_is_taped_a_number_of_them_recomputed(jit, monkeypatch):
    monkeypatch.setenv("ADJOINT_EAGER", "0")  # (the last loop's adjoint would run in it: no tape)
    args = (np.linspace(0.1, 0.9, 4), 0.7)
    assert adjoint.check_grad(C.exp_in_a_loop, *args, wrt=(0, 1), jit=jit) < 1e-6
    lines = _vjp_lines(adjoint.grad(C.exp_in_a_loop, wrt=(0, 1)).source_for(*args), "exp_in_a_loop")
    reverse = lines[lines.index("# adjoint: cotangents in reverse order"):]
    assert any(re.match(r"e(, \w+)* = tape_\d+\[", line) for line in reverse)  # e is popped
    assert [line for line in reverse if "np.exp(" in line and not line.startswith("#")] == ["m = np.exp(a * i)"]
    # before a call the rank of e is not known: computed again, like a number
    generic = _vjp_lines(adjoint.grad(C.exp_in_a_loop, wrt=(0, 1)).source, "exp_in_a_loop")
    assert "e = np.exp(x * a)" in generic[generic.index("# adjoint: cotangents in reverse order"):]


@pytest.mark.parametrize("fn, taped", [
    (C.recurrence, False), (C.backward_recurrence, False), (C.strided_rows, False),
    (C.reads_ahead, True), (C.written_after_the_loop, True), (C.recurrence_repeated, True),
    (C.negative_column, True), (C.wraps_around, True)])
def test_an_element_no_later_write_changes_is_read_again_not_taped(fn, taped):
    """y[i] = a * y[i - 1] + ...: the adjoint reads y[i - 1] from y as the forward left it.
    An element a later iteration or a later statement overwrites is taped."""
    args = (np.linspace(0.1, 0.9, 6), 0.7)
    lines = _vjp_lines(adjoint.grad(fn, wrt=(0, 1)).source_for(*args), fn.__name__)
    assert any(".append(" in line for line in lines) == taped, "\n".join(lines)

def test_an_element_read_is_a_number_once_the_arguments_tell_the_rank():
    """element_kept_then_overwritten reads r = y[0] of y = x.copy(), writes into y[0], then
    reads r: with a 1-D x (a call) r is a number and is accepted; before a call r may be a
    row, which the write would change, and its read is refused saying so; with a 2-D x it
    is a row, refused. copy_recurrence's rows y[i - 1] are apart from the row y[i] it
    writes (i >= 1), whatever the rank."""
    fn = C.element_kept_then_overwritten
    x = np.array([0.3, -0.7, 1.1])
    assert adjoint.check_grad(fn, x, jit=False) < 1e-6
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="rank is not known here") as generic:
        adjoint.grad(fn).source
    assert generic.value.lineno == fn.__code__.co_firstlineno + 4
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="r is a view of y") as rows:
        adjoint.grad(fn, jit=False)(np.ones((3, 2)))
    assert "rank is not known" not in str(rows.value)
    assert "y[i - 1]" in adjoint.grad(C.copy_recurrence).source  # accepted before any call
    x = np.random.default_rng(1).normal(size=(4, 3)) * 0.5
    assert adjoint.check_grad(C.copy_recurrence, x, 0.7, wrt=(0, 1)) < 1e-6


def test_a_loop_update_is_the_carried_value_before_the_pop(monkeypatch):
    """trajectory_loss reads u's update u_1 in reverse: it is what u held before this
    iteration's pop (the next iteration's start, or the loop's end), so it is neither
    taped nor recomputed. In a loop inside another loop, it is recomputed (in reverse mode:
    nested_trajectories' outer loop otherwise carries tangents, transform/tangent.py)."""
    monkeypatch.setenv("ADJOINT_TANGENT", "0")
    lines = _vjp_lines(adjoint.grad(C.trajectory_loss).source_for(0.7, 6), "trajectory_loss")
    reverse = lines[lines.index("# adjoint: cotangents in reverse order"):]
    start = reverse.index("u_1 = u")
    assert reverse[start + 2] == "u = u_stack[u_top]", reverse
    assert not any(line.startswith("u_1 = u +") for line in reverse), reverse
    lines = _vjp_lines(adjoint.grad(C.nested_trajectories).source_for(0.7, 4), "nested_trajectories")
    reverse = lines[lines.index("# adjoint: cotangents in reverse order"):]
    assert "u_2 = u_1" not in reverse and any(line.startswith("u_2 = u_1 +") for line in reverse), reverse


@pytest.mark.parametrize("fn, args, why, write", [
    (C.alias_in_one_branch, (np.linspace(0.2, 0.9, 4), 1.0), "y is the same array", "w[0] = 5.0"),
    (C.alias_in_both_branches, (np.linspace(0.2, 0.9, 4), 1.0), "y is the same array", "w[0] = 5.0"),
    (C.alias_after_a_loop, (np.linspace(0.2, 0.9, 4), 1.0), "y is the same array", "w[0] = 5.0"),
    (C.alias_in_the_next_iteration, (np.linspace(0.2, 0.9, 4), 1.0), "y is the same array", "w[0] = c * 5.0"),
    (C.alias_by_a_decided_condition, (np.array([0.3, -0.5, 0.7, 0.2]),), "y is the same array",
     "z[0] = 5.0 * x[1]"),
    (C.alias_from_a_helper_by_a_decided_condition, (np.array([0.3, -0.5, 0.7, 0.2]),), "y is the same array",
     "z[0] = 5.0 * x[1]"),
    (C.alias_by_a_decided_condition_in_a_loop, (np.array([0.3, -0.5, 0.7, 0.2]), 5), "y is the same array",
     "z[(t + 2) % 4] = y[t % 4] * x[t % 4]"),
    (C.alias_by_a_decided_condition_in_a_tuple, (np.array([0.3, -0.5, 0.7, 0.2]),), "y is the same array",
     "z[0] = 5.0 * x[1] * q"),
    (C.array_in_a_tuple, (np.array([0.3, -0.5, 0.7, 0.2]),), "the tuple t holds its array", "y[0] = x[1] * 5.0"),
    (C.array_in_a_tuple_written_in_a_loop, (np.array([0.3, -0.5, 0.7, 0.2]), 5), "the tuple t holds its array",
     "y[i % 4] = x[i % 4] * 3.0"),
    (C.array_in_a_tuple_updated_in_place, (np.array([0.3, -0.5, 0.7, 0.2]),), "the tuple t holds its array",
     "y += 1.0"),
    (C.array_in_a_tuple_from_a_helper, (np.array([0.3, -0.5, 0.7, 0.2]),), "the tuple t holds its array",
     "y[0] = x[1] * x[2]"),
    (C.array_read_from_a_tuple_in_place, (np.array([0.3, -0.5, 0.7, 0.2]),), "a is the same array",
     "y[0] = x[1] * 5.0"),
    (C.written_after_max_of_arrays, (np.array([0.3, -0.5, 0.7, 0.2]),), r"t = max\(\.\.\.\) or min",
     "y[0] = x[2] * 3.0"),
    (C.written_into_min_of_arrays, (np.array([0.3, -0.5, 0.7, 0.2]),), r"t = max\(\.\.\.\) or min",
     "t[0] = x[2] * 3.0"),
    (C.max_of_arrays_updated_in_place, (np.array([0.3, -0.5, 0.7, 0.2]),), r"t = max\(\.\.\.\) or min",
     "t += x[2:3]"),
    (C.alias_by_a_conditional_expression, (np.array([0.3, -0.7, 1.2]), -1.0), "the side it chooses",
     "w[0] = 5.0"),
    (C.alias_from_a_helper_by_a_conditional_expression, (np.array([0.3, -0.7, 1.2]), -1.0),
     "the side it chooses", "w[0] = 5.0"),
    (C.alias_by_or_of_a_conditional_expression, (np.array([0.3, -0.7, 1.2]), -1.0), "the side it chooses",
     "w[0] = 5.0"),
    (C.array_taken_from_a_tuple_by_a_helper_then_written, (np.array([0.3, -0.7, 1.2]),), "z is the same array",
     "y[0] = 5.0")])
def test_a_write_another_name_or_a_row_would_see_is_refused(fn, args, why, write):
    """Each was differentiated as if the write changed nothing else (a wrong gradient): a
    rank the first iteration had, np.zeros of a shape that is not one int, a name that
    holds another's array on one path of an if or from an earlier iteration, and one that
    a condition decided before run time gives another's array (z = y if 1 > 0 else x, also
    returned by a helper), and an array a tuple holds (t = (y, 2.0), then a write into y and
    a, b = t or t[0]: the write was dropped, a wrong value), or max(y, w) of (one-element)
    arrays, which is y or w itself, or z = y if c > 0 else w of a condition known at run time
    only (then a write into w: z kept w as it was before). The error points at the write."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match=why) as refused:
        adjoint.grad(fn, jit=False)(*args)
    lines, first = inspect.getsourcelines(fn)
    written = [first + k for k, line in enumerate(lines) if line.strip() == write]
    assert refused.value.lineno == written[-1] and refused.value.text.strip() == write


@pytest.mark.parametrize("fn, args, read", [
    (C.rank_changes_in_loop, (np.linspace(0.2, 0.9, 4), np.ones((4, 4))), "s = s + np.sum(r * r)"),
    (C.zeros_of_a_shape, (np.ones((4, 3)),), "return np.sum(r * m[0])"),
    (C.zeros_of_a_shape_argument, (np.ones((4, 3)), np.array([4, 3])), "return np.sum(r * m[0])"),
    (C.view_before_a_loop, (np.linspace(0.2, 0.9, 4), np.linspace(1.0, 2.0, 4)), "return np.sum(r * w[1:])"),
    (C.view_read_in_the_next_iteration, (np.linspace(0.2, 0.9, 4),), "s = s + np.sum(v * v)"),
    (C.view_read_after_an_update_in_place, (np.linspace(0.2, 0.9, 4),), "return np.sum(v * y[1:])"),
    (C.view_read_after_a_write_in_one_branch, (np.linspace(0.2, 0.9, 4), 1.0), "return np.sum(v) + np.sum(y)"),
    (C.row_before_the_row_written_from_zero, (np.ones((3, 2)),), "s = s + np.sum(r * y[i])"),
    (C.view_rebound_on_one_path_only, (np.array([0.3, -0.7, 1.1]),),
     "s = s + np.sum(v * v)  # on the other path, v is the view of the iteration before"),
    (C.view_picked_by_max_in_a_loop, (np.array([0.3, 0.7, 1.1, 0.5]),), "return np.sum(v)"),
    (C.view_picked_in_a_branch, (np.array([0.3, 0.7, 1.1, 0.5]),), "return np.sum(v)"),
    (C.view_kept_across_an_update_in_place, (np.array([0.3, 0.7, 1.1, 0.5]),), "return np.sum(np.sin(r))"),
    (C.view_read_in_the_iteration_after_an_update_in_place, (np.array([0.3, 0.7, 1.1, 0.5]),),
     "s = s + np.sum(r * r)"),
    (C.view_of_a_buffer_the_loop_swaps, (np.array([0.3, 0.7, 1.1, 0.5]),), "return np.sum(p * p)"),
    (C.view_read_while_the_loop_swaps_buffers, (np.array([0.3, 0.7, 1.1, 0.5]),), "s = s + np.sum(p * p)")])
def test_a_view_read_after_a_write_into_its_array_is_refused_at_the_read(fn, args, read):
    """A view (a row r = y[0], a slice, .T) taken before a write into its array would show
    the write in NumPy, and the graph's value would not: reading it after the write (later
    in the code, or in the loop's next iteration) is refused at the read, which names the
    write's line. Not reading it again is fine (test_a_view_not_read_after_a_write...)."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="wrote into") as refused:
        adjoint.grad(fn, jit=False)(*args)
    lines, first = inspect.getsourcelines(fn)
    at = [first + k for k, line in enumerate(lines) if line.strip() == read]
    assert refused.value.lineno == at[-1] and refused.value.text.strip() == read


def test_a_view_a_helper_returns_after_a_write_is_refused_in_the_helper():
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="v is read here after line") as refused:
        adjoint.grad(C.view_returned_by_a_helper_after_a_write, jit=False)(np.linspace(0.2, 0.9, 4))
    assert refused.value.text.strip() == "return v" and refused.value.filename == C.__file__


@pytest.mark.parametrize("fn, args", [
    (C.rows_of_a_recurrence, (np.array([0.3, -0.7, 1.1, 0.4, 0.25]),)),
    (C.rows_of_a_recurrence_with_a_break, (np.array([0.3, -0.7, 1.1, 0.4, 0.25]),)),
    (C.view_dead_before_the_write, (np.array([0.3, -0.7, 1.1, 0.4, 0.25]),)),
    (C.view_dead_before_an_update_in_place, (np.array([0.3, -0.7, 1.1, 0.4, 0.25]),)),
    (C.views_of_a_written_matrix, (np.array([0.3, -0.7, 1.1, 0.4, 0.25]),)),
    (C.view_read_in_the_other_branch, (np.array([0.3, -0.7, 1.1, 0.4, 0.25]), 1.0)),
    (C.view_read_in_the_other_branch, (np.array([0.3, -0.7, 1.1, 0.4, 0.25]), -1.0)),
    (C.views_in_a_while_loop, (np.array([0.3, -0.7, 1.1, 0.4, 0.25]),)),
    (C.row_read_by_an_inner_loop, (np.array([0.3, -0.7, 1.1, 0.4]),)),
    (C.view_values_read_in_reverse, (np.array([0.3, -0.7, 1.1, 0.4, 0.25]),))])
@pytest.mark.parametrize("jit", [False, True])
def test_a_view_not_read_after_a_write_into_its_array_is_differentiated(fn, args, jit):
    """A view that is not read again after its array is written into (rebound in a loop,
    read in the other branch only) or a row apart from the elements written (y[i - 1] and
    y[i, j] in range(1, n)) means what NumPy's does; the reverse sweep undoes the writes
    before the view's values are read again."""
    assert adjoint.check_grad(fn, *args, jit=jit, rtol=1e-6) < 1e-6


def test_a_write_into_max_of_new_arrays_goes_into_a_copy():
    """max(a, b) of (one-element) arrays is a or b itself: written in place, the write
    changed x[0:1] * 1.0 computed again later, which the lowering reused (a wrong value and
    gradient). Numba has no max of arrays: Python only."""
    x = np.array([0.3, -0.5, 0.7, 0.2])
    fn = C.max_of_new_arrays_written
    value, (g,) = adjoint.value_and_grad(fn, wrt=(0,), jit=False)(x)
    assert value == pytest.approx(fn(x), rel=1e-13)
    np.testing.assert_allclose(g, finite_difference(fn, [x], 0), rtol=2e-6, atol=1e-8)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("c", [1.0, -1.0])
def test_a_conditional_expression_of_arrays_is_differentiated_where_nothing_writes_its_sides(c, jit):
    """z = y if c > 0 else w shares y's and w's arrays (so writes into them are refused), but
    reading it, and writing into an array of its own made from it, is differentiated."""
    x = np.array([0.3, -0.7, 1.2])
    fn = C.conditional_expression_of_arrays_then_new_writes
    value, (g,) = adjoint.value_and_grad(fn, wrt=(0,), jit=jit)(x, c)
    assert value == pytest.approx(fn(x, c), rel=1e-12)
    np.testing.assert_allclose(g, finite_difference(fn, [x, c], 0), rtol=2e-6, atol=1e-8)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("fn", [C.number_read_from_a_tuple, C.array_read_from_a_tuple_by_a_helper])
def test_an_item_read_from_a_tuple_gets_its_cotangent(fn, jit):
    """t[1] of a tuple built in the function (or given to a helper) is that item: the reverse
    of a getitem of a tuple gave the item no cotangent (a zero gradient for x[0], silently)."""
    x = np.array([0.3, -0.7, 1.2])
    value, (g,) = adjoint.value_and_grad(fn, wrt=(0,), jit=jit)(x)
    assert value == pytest.approx(fn(x), rel=1e-12)
    np.testing.assert_allclose(g, finite_difference(fn, [x], 0), rtol=2e-6, atol=1e-8)


def test_a_tuple_of_numbers_indexed_at_run_time_is_refused_and_a_shape_is_not():
    x = np.array([0.3, -0.7, 1.2])
    fn = C.tuple_of_numbers_indexed_in_a_loop
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="take it apart instead") as refused:
        adjoint.grad(fn, jit=False)(x)
    lines, first = inspect.getsourcelines(fn)
    assert refused.value.lineno == first + [line.strip() for line in lines].index("s = s + t[i] * x[2]")
    fn = C.shape_indexed_in_a_loop  # ints: no derivative, and n must be one (it was differentiated as 0)
    value, (g,) = adjoint.value_and_grad(fn, wrt=(0,), jit=False)(x, 3)
    assert value == pytest.approx(fn(x, 3)) and np.allclose(g, finite_difference(fn, [x, 3], 0))
    with pytest.raises(TypeError, match="argument 'n' .* must be an int"):
        adjoint.grad(fn, wrt=(0, 1), jit=False)(x, 3.5)


@pytest.mark.parametrize("fn", [C.view_kept_by_a_branch, C.view_kept_by_a_conditional_expression,
                                C.view_kept_from_a_helper, C.view_kept_by_an_inner_loop,
                                C.view_of_an_array_an_inner_loop_writes])
def test_a_view_kept_into_the_next_iteration_of_a_loop_writing_its_array_is_refused(fn):
    """w = y[0:2] reaching the loop's update through an if, a conditional expression, a
    helper's return in a branch or an inner loop (or a view of y where an inner loop writes
    y) was not seen: the next iteration read w after writing y, and the adjoint took w for
    what it was before the write (a wrong gradient, silently). The error points at the loop."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="w holds a view of an array this loop writes") \
            as refused:
        adjoint.grad(fn, jit=False)(np.array([0.3, -0.5, 0.7, 0.2]), 5)
    lines, first = inspect.getsourcelines(fn)
    assert refused.value.lineno == first + [line.strip() for line in lines].index("for i in range(n):")


@pytest.mark.parametrize("fn, args, why, write", [
    (C.number_write, (0.5,), "y is a number here, not an array", "y[0] = 1.0"),
    (C.computed_and_shared, (np.linspace(0.2, 0.9, 4),), "b is the same array", "a[0] = 1.0"),
    (C.helper_result_shared, (np.linspace(0.2, 0.9, 4),), "g is the same array", "h[0] = 1.0")])
def test_a_write_into_a_computed_value_is_refused_where_it_is_not_an_array_of_its_own(fn, args, why, write):
    with pytest.raises(adjoint.UnsupportedSyntaxError, match=why) as refused:
        adjoint.grad(fn, jit=False)(*args)
    lines, first = inspect.getsourcelines(fn)
    assert refused.value.lineno == first + [line.strip() for line in lines].index(write)


@pytest.mark.parametrize("fn", [C.computed_then_written_by_a_helper, C.zeros_written_by_a_helper,
                                C.zeros_written_and_returned_by_a_helper, C.rows_written_by_a_helper_in_a_loop])
def test_a_helper_writing_into_its_parameter_is_refused(fn):
    """The parameter names the caller's array (np.tanh(x), np.zeros(3) there): the write went
    into a new version of the helper's parameter, and the caller's array stayed as it was,
    where NumPy changes it (a wrong value and gradient; with the array also returned, a
    right value and a wrong gradient)."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="parameter of this helper") as refused:
        adjoint.grad(fn, jit=False)(np.linspace(0.2, 0.9, 4))
    helper = {C.computed_then_written_by_a_helper: C._first_set, C.zeros_written_by_a_helper: C._first_set,
              C.zeros_written_and_returned_by_a_helper: C._set_and_return,
              C.rows_written_by_a_helper_in_a_loop: C._set_row}[fn]
    lines, first = inspect.getsourcelines(helper)
    assert refused.value.lineno == first + 1 and refused.value.filename == C.__file__


@pytest.mark.parametrize("fn, args, why, write", [
    (C.computed_given_back_by_a_helper, (np.linspace(0.2, 0.9, 4),), "b is the same array", "a[1] = 3.0"),
    (C.zeros_given_back_by_a_helper, (np.linspace(0.2, 0.9, 4),), "a is the same array", "b[0] = x[1]"),
    (C.given_back_on_one_path, (np.linspace(0.2, 0.9, 4), 1.0), "a is the same array", "b[0] = x[1]"),
    (C.updated_in_place_after_a_helper, (np.linspace(0.2, 0.9, 4),), "b is the same array as a", "b += 1.0")])
def test_a_helper_that_returns_its_argument_shares_the_array(fn, args, why, write):
    """b = helper(a) where the helper returns its parameter (on some path) names a's array:
    each was differentiated as if the write changed only one of them (a wrong value or
    gradient)."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match=why) as refused:
        adjoint.grad(fn, jit=False)(*args)
    lines, first = inspect.getsourcelines(fn)
    assert refused.value.lineno == first + [line.strip() for line in lines].index(write)


@pytest.mark.parametrize("fn", [C.number_into_a_comparison, C.number_into_a_copied_comparison_in_a_loop])
def test_a_number_written_into_booleans_is_refused(fn):
    """The number becomes True or False in NumPy, which has no derivative: the write was
    given the cotangent of its element (a wrong gradient)."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="y holds booleans") as refused:
        adjoint.grad(fn, jit=False)(np.linspace(0.2, 0.9, 4))
    lines, first = inspect.getsourcelines(fn)
    assert "y[" in lines[refused.value.lineno - first] and "x[" in lines[refused.value.lineno - first]


def test_booleans_written_into_a_comparison():
    x = np.linspace(0.2, 0.9, 4)
    assert adjoint.check_grad(C.booleans_into_a_comparison, x, jit=False) < 1e-6


def test_a_write_into_a_computed_value_before_a_call_says_why():
    """Before a call the rank of np.sin(x) * 2.0 is not known: it could be a number."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="rank is not known here"):
        adjoint.grad(C.sin_then_write).source
    assert "y[0] = x[1] * x[1]" in adjoint.grad(C.sin_then_write).source_for(np.ones(3))


def test_newaxis_in_a_write_takes_no_axis():
    """y[None, 0] writes row 0: y[i, 1] read at i = 0 is taped, not read again."""
    args = (np.linspace(0.1, 0.9, 12).reshape(4, 3), 0.7)
    lines = _vjp_lines(adjoint.grad(C.newaxis_row_write, wrt=(0, 1)).source_for(*args), "newaxis_row_write")
    assert any(".append(" in line for line in lines), "\n".join(lines)


def _vjp_lines(source, name):
    vjp = source.split(f"def {name}_vjp")[1].split("\ndef ")[0]
    return [line.strip() for line in vjp.splitlines()]


def test_a_region_pushes_its_taped_values_together_once(monkeypatch):
    """The Newton iteration tapes its z and the step f / f'(z) (f is carried: not
    recomputable) in one list, one tuple per iteration pushed at its end; the for loop
    around it tapes the trip count alone: the inner loop pops its own z, so the outer one
    needs none. cube_roots' for loop tapes the trip count and the root together. (Reverse
    mode; in forward mode, tests/test_tangent_regions.py, the outer loop tapes dz/db alone.)"""
    monkeypatch.setenv("ADJOINT_TANGENT", "0")
    b = np.array([2.0, -0.5, 9.0])
    g = adjoint.grad(T.newton_roots)  # the benchmarks' while_newton
    lines = _vjp_lines(g.source_for(b, 1.5), "newton_roots")
    # the for loop's list is made for its trip count at its entry; the while loop's grows
    made = sorted(line for line in lines if line.endswith(" = []") or " = new_tape(" in line)
    assert made == ["n_iterations_stack = new_tape(t1)", "tape_1 = []"], made
    pushes = [line for line in lines if ".append(" in line]
    assert pushes == ["tape_1.append((t13, z_1))", "n_iterations_stack.append(n_iterations)"], pushes
    assert g(b, 1.5) == pytest.approx(finite_difference(T.newton_roots, [b, 1.5], 0), rel=1e-6)

    a = np.array([2.0, 0.5, 9.0])
    g = adjoint.grad(C.cube_roots)
    pushes = [line for line in _vjp_lines(g.source_for(a, 3), "cube_roots") if ".append(" in line]
    assert pushes == ["x_1_stack.append(x_1)", "tape_1.append((n_iterations, x_1))"], pushes
    assert g(a, 3) == pytest.approx(finite_difference(C.cube_roots, [a, 3], 0), rel=1e-6)


def view_in_one_branch(x, c):
    y = x * 2.0
    if c > 0.0:
        s = np.sum(y[1:])
    else:
        y += x * x
        s = np.sum(y)
    return s * c


def test_a_view_taken_in_one_branch_does_not_refuse_an_in_place_update_in_the_other():
    """y[1:] is only taken when c > 0, so y += ... in the else branch updates no array a
    view sees (after the if, a view from either branch counts: tests/frontend)."""
    g = adjoint.grad(view_in_one_branch, jit=False)
    x = np.array([0.5, -1.0, 2.0])
    for c in (0.7, -0.7):
        np.testing.assert_allclose(g(x, c), finite_difference(view_in_one_branch, [x, c], 0), rtol=1e-6)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_while_trip_count_differs_between_calls(jit):
    g = adjoint.grad(C.halve, jit=jit)
    for x in (0.2, 2.5, 10.0, 0.9):
        assert g(x) == pytest.approx(finite_difference(C.halve, [x], 0), rel=1e-6)


def test_bisection_converges_to_a_gradient_of_zero_through_the_loop():
    """The result of a bisection is piecewise constant in c (the loop only compares):
    adjoint differentiates the program as written, so d(lo * c)/dc = lo."""
    g = adjoint.grad(C.bisection)(2.0)
    lo = C.bisection(2.0) / 2.0
    assert g == pytest.approx(lo, rel=1e-12)


def test_writes_never_touch_the_arguments():
    x = np.linspace(-1.0, 1.0, 4)
    before = x.copy()
    adjoint.grad(C.overwrite_many_times)(x)
    np.testing.assert_array_equal(x, before)


def _doubled_from(v, k):
    for i in range(k):
        if v[i] > 0.5:
            return v * 2.0
    return v * 0.5


def calls_a_helper_returning_an_array_from_its_loop(w, n):
    a = w * 3.0
    return np.sum(_doubled_from(w, n) * a)


def test_a_return_whose_value_inlines_a_helper_lowered_twice_is_kept():
    """Not knowing w's rank (the generic .source), the helper's loop carries its result from
    0.0 to a value of unknown rank, so it is lowered twice; restoring the state for that
    once dropped the caller's return (a bare AssertionError). For a call, w * 2.0 is an
    array, which a return inside a loop may not give (its result starts as 0.0; plain
    Python ran it, compiled code was a CompileError): refused at the return, both ways."""
    fn = calls_a_helper_returning_an_array_from_its_loop
    assert "return calls_a_helper_returning_an_array_from_its_loop, " in adjoint.grad(fn).source
    w = np.array([0.1, 0.7, -0.3, 0.2, 0.9])
    for jit in (False, True):
        with pytest.raises(adjoint.UnsupportedSyntaxError, match="a return inside a loop must give a number") \
                as refused:
            adjoint.grad(fn, jit=jit)(w, 5)
        assert refused.value.text.strip() == "return v * 2.0"


@pytest.mark.parametrize("jit", [False, True])
def test_a_while_true_loop_left_only_by_return_ends_the_function(jit):
    """It was refused: 'must end with a return statement on every path'. Its test becomes
    `not returned` (not `not returned and True`)."""
    assert adjoint.grad(C.sqrt_until_return, jit=jit)(2.0) == pytest.approx(1.0 / np.sqrt(2.0), rel=1e-12)
    assert adjoint.check_grad(C.halve_until_small, np.array([0.5, 1.5]), np.array([2.0, 3.0]), wrt=(0, 1),
                              jit=jit) < 1e-6
    source = adjoint.grad(C.sqrt_until_return).source_for(2.0)
    assert "t1 = not returned\n    while t1:" in source and "True\n" not in source.split("def sqrt_until_return_vjp")[0]


@pytest.mark.parametrize("jit", [False, True])
def test_an_int_returned_from_a_loop_stays_an_int(jit):
    """It was refused as a float index: the flagged result started as 0.0."""
    x = np.array([0.2, 0.7, 0.9])
    np.testing.assert_allclose(adjoint.grad(C.indexes_by_an_int_returned_from_a_loop, jit=jit)(x),
                               [0.4, 3.4, 1.8], rtol=1e-13)


@pytest.mark.parametrize("jit", [False, True])
def test_a_tuple_returned_from_a_loop_is_refused_at_the_return(jit):
    """Plain Python raised 'float' object is not subscriptable from a generated line, and
    compiled code could not unify the result's types."""
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="must give a number, and this one gives a tuple") \
            as refused:
        adjoint.grad(C.takes_a_tuple_returned_from_a_loop, jit=jit)(np.array([0.2, 0.7, 0.9]))
    assert refused.value.text.strip() == "return v[i], i"


@pytest.mark.parametrize("jit", [False, True])
def test_computed_arrays_that_trade_names_with_written_ones(jit):
    """They were refused ('replaced by an array that was not created here'); the ping-pong
    buffers of a stencil iteration are the common case. x * 2.0 computed again after the
    loop is not the array the writes changed."""
    x = np.array([0.3, -0.7, 1.1, 0.4, 0.25])
    assert adjoint.check_grad(C.jacobi_of_computed_arrays, x, 3, jit=jit) < 1e-6
    assert adjoint.check_grad(C.swapped_computed_arrays, x, jit=jit) < 1e-6
    assert adjoint.check_grad(C.outer_buffers_swapped, x, jit=jit) < 1e-6
    before = x.copy()
    assert adjoint.check_grad(C.unary_plus_of_an_argument_written, x, jit=jit) < 1e-6
    assert np.array_equal(x, before)
    value, _ = adjoint.value_and_grad(C.swapped_computed_arrays, jit=jit)(x)
    assert value == pytest.approx(C.swapped_computed_arrays(x), rel=1e-14)


@pytest.mark.parametrize("fn", [C.double_negation_then_write, C.double_negation_written])
@pytest.mark.parametrize("jit", [False, True])
def test_a_double_negation_is_a_new_array(fn, jit):
    """codegen's cleanup wrote w = -(-y) as w = y: the later write into y changed w, and a
    write into w = -(-x) changed the argument x (wrong values and gradients)."""
    x = np.array([0.3, -0.7, 1.1, 0.5])
    before = x.copy()
    value, _ = adjoint.value_and_grad(fn, jit=jit)(x)
    assert value == pytest.approx(fn(x.copy()), rel=1e-14) and np.array_equal(x, before)
    assert adjoint.check_grad(fn, x, jit=jit) < 1e-6
