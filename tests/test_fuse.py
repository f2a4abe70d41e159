"""Fused loops (codegen/fuse.py): the module Numba compiles for float64 arrays computes
what the generated module computes.

Most checks run both modules as plain Python (the fused one's helpers have NumPy twins),
which is cheap; a few compile, sharing one function per check.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adjoint
from adjoint.check import finite_difference
from adjoint.codegen.fuse import fuse_module
from adjoint.transform.cleanup import call_name
from adjoint.gradbench.evals.lstm import TINY_INPUT, lstm_objective, prepare
from adjoint.runtime.helpers import apart, loop_length

from . import test_random_programs as random_programs
from .test_random_programs import load_source


def _built(g: adjoint.api.GradFunction, args: tuple) -> Any:
    return g._build(adjoint.api._ranks(list(args)))


def _both(g, args: tuple, seed: Any = 1.0) -> tuple[Any, Any]:
    """The vjp of the generated module and of the fused one, run as plain Python."""
    built = _built(g, args)
    fused = built.fused()
    assert fused is not None, "nothing fused"
    name = built.generated.vjp_name
    return getattr(built.module, name)(*args, seed), getattr(fused[0], name)(*args, seed)


def _assert_same(a: Any, b: Any) -> None:
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-15)


def _function(source: str, name: str) -> ast.FunctionDef:
    return next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == name)


def _guards(node: ast.AST) -> int:
    return sum(isinstance(n, ast.If) and "loop_length" in ast.unparse(n.test) for n in ast.walk(node))


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


# -- the helpers ---------------------------------------------------------------------

def test_loop_length_and_apart_as_numpy():
    x = np.arange(6.0)
    assert loop_length(x) == 6 and loop_length(x[::2]) == 3
    assert loop_length(np.zeros((2, 3))) == -1 and loop_length(x.astype(np.float32)) == -1 and loop_length(2.0) == -1
    assert apart(x[:3], x[3:]) and apart(x, x) and apart(x[:0], x)
    assert not apart(x[1:], x[:-1]) and not apart(x[::-1], x) and not apart(x[::2], x[1::2])
    m = np.zeros((3, 4))
    assert apart(m[0], m[1]) and not apart(m[0, 1:], m[0, :-1]) and not apart(m[:, 0], m[0, :3])


def test_loop_length_and_apart_compiled():
    import numba

    @numba.njit
    def probe(x, m):
        return (loop_length(x), loop_length(x[::2]), loop_length(m), loop_length(2.0),
                apart(x[:3], x[3:]), apart(x, x), apart(x[1:], x[:-1]), apart(x[::-1], x),
                apart(m[0], m[1]), apart(m[0, 1:], m[0, :-1]))

    assert probe(np.arange(6.0), np.zeros((3, 4))) == (6, 3, -1, -1, True, True, False, False, True, False)


# -- what fuses ----------------------------------------------------------------------

LSTM_ARGS = prepare(TINY_INPUT)
lstm_grad = adjoint.grad(lstm_objective, wrt=(0, 1))


def test_an_lstm_cell_and_its_adjoint_become_one_loop_each():
    """The forward of a layer (four gates, the new cell and hidden state and their writes
    into the state) is one loop, and so is its whole adjoint, writes into the weights'
    cotangent rows included (the benchmark lstm: 4.3x the hand-written adjoint before)."""
    built = _built(lstm_grad, LSTM_ARGS)
    source = built.fused_source
    grad = _function(source, built.generated.grad_name or built.generated.vjp_name)
    layer_loops = [n for n in ast.walk(grad) if isinstance(n, ast.For) and ast.unparse(n.target) == "i"]
    forward, reverse = layer_loops
    assert _guards(forward) == 1 and _guards(reverse) == 1
    tests = [ast.unparse(n.test) for loop in (forward, reverse) for n in ast.walk(loop) if isinstance(n, ast.If)]
    # the writes into the state's rows and into the weights' cotangent rows are in the loops
    # (the reverse pops the layer's input from a tape: its arrays are those the forward made),
    # and no run-time test of their overlap: rows 2i and 2i + 1, parts [:b], [b:2b], ...
    # of a row, proved apart (codegen/disjoint.py)
    assert "state_3_part_1" in tests[0] and "main_params_bar_part_7" in tests[1]
    assert not any("apart(" in test for test in tests)
    assert "loop_length" not in lstm_grad.source_for(*LSTM_ARGS)  # what users read stays as it was


def test_fused_lstm_computes_the_same():
    _assert_same(*_both(lstm_grad, LSTM_ARGS))


def _program(tmp_path: Path, source: str):
    return load_source(source, tmp_path)


def test_a_write_into_a_view_another_operand_shifts_is_not_fused_at_run_time(tmp_path):
    """y_bar[1:] and y_bar[:-1] are one array at two offsets: a loop writing one element of
    one and reading the other would read what it just wrote. apart() sends it to the
    statements as they were."""
    f = _program(tmp_path, """
def f(x):
    y = x * 2.0
    z = np.sin(y[1:]) * np.cos(y[:-1]) + y[1:] * y[:-1]
    return np.sum(z * z)
""")
    g = adjoint.grad(f, jit=False)
    x = np.linspace(-1.0, 1.0, 7)
    _assert_same(*_both(g, (x,)))
    np.testing.assert_allclose(g(x), finite_difference(f, [x], 0), rtol=1e-6)


def test_arrays_of_other_lengths_run_the_statements(tmp_path):
    """w of length 1 broadcast against x: loop_length differs, the statements run."""
    f = _program(tmp_path, """
def f(x, w):
    a = np.tanh(x * w)
    b = a * a + x
    c = np.exp(-b) * w
    return np.sum(c * a)
""")
    g = adjoint.grad(f, wrt=(0, 1), jit=False)
    for args in [(np.linspace(-1, 1, 5), np.array([0.7])), (np.linspace(-1, 1, 5), np.linspace(0, 1, 5))]:
        _assert_same(*_both(g, args))


def test_a_run_of_aliases_only_is_left_as_it_is(tmp_path):
    """np.sum(a + b + c): the adjoint's a_bar, b_bar and c_bar are each t_bar itself, a run
    of three statements with no element to compute. It became a loop with an empty body:
    an IndentationError from the fuse stage, for jit=False too."""
    f = _program(tmp_path, """
def f(a, b, c):
    t = a + b + c
    return np.sum(t)
""")
    g = adjoint.grad(f, wrt=(0, 1, 2), jit=False)
    args = tuple(np.linspace(-1.0, 1.0, 5) * k for k in (1.0, 2.0, 3.0))
    for got in g(*args):
        np.testing.assert_array_equal(got, np.ones(5))


def test_an_alias_through_unbroadcast_is_bound_to_the_stand_in(tmp_path):
    """t1 = a + b read by t1 * C (C 2-D): a deferred sum leaves t1_bar 2-D, and a_bar =
    unbroadcast(t1_bar, a) is a 1-D array. Bound to t1_bar itself after the loop, a_bar
    was 2-D in the loop's branch and 1-D in the statements' (Numba: "Cannot unify
    array(float64, 1d, C) and array(float64, 2d, C) for 'a_bar.2'"); elements(t1_bar) is
    t1_bar where the loop runs, and a 1-D float64 array to Numba's typing."""
    f = _program(tmp_path, """
def f(a, b, c, C):
    u = np.sin(c) * c
    t1 = a + b
    t2 = t1 * C
    return np.sum(u * u) + np.sum(t2)
""")
    g = adjoint.grad(f, wrt=(0, 1, 2, 3), jit=False)
    x = np.linspace(-1.0, 1.0, 5)
    args = (x, x + 0.5, x - 0.25, np.outer(np.arange(1.0, 4.0), x))
    built = _built(g, args)
    vjp = _function(built.fused_source, built.generated.vjp_name)
    guard = next(n for n in ast.walk(vjp) if isinstance(n, ast.If) and "a_bar = unbroadcast(t1_bar, a)"
                 in [ast.unparse(s) for s in n.orelse])
    bound = {}  # name: what it is bound to after the loop
    for s in guard.body:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Tuple):
            bound.update(zip(map(ast.unparse, s.targets[0].elts), map(ast.unparse, s.value.elts)))
        elif isinstance(s, ast.Assign):
            bound[ast.unparse(s.targets[0])] = ast.unparse(s.value)
    assert bound.get("a_bar") == "elements(t1_bar)", ast.unparse(guard)
    _assert_same(*_both(g, args))


def test_an_int_number_argument_makes_no_float(tmp_path):
    """mask * m with m an int: an int array, as are w + 1 and v * 3. Taken for floats (every
    argument was), they fused, and Numba could not merge the loop's float64 u with the
    statements' int64 one ("Cannot unify array(float64, 1d, C) and array(int64, 1d, C)")."""
    f = _program(tmp_path, """
def f(x, m):
    mask = x > 0.0
    w = mask * m
    v = w + 1
    u = v * 3
    return np.sum(x * u)
""")
    g = adjoint.grad(f, jit=False)
    built = _built(g, (np.linspace(-1.0, 1.0, 5), 2))
    fused = {ast.unparse(s.targets[0]) for n in ast.walk(ast.parse(built.fused_source or ""))
             if isinstance(n, ast.If) and "loop_length" in ast.unparse(n.test) for s in n.orelse
             if isinstance(s, ast.Assign)}
    assert not fused & {"w", "v", "u"}, fused


def test_unbroadcast_of_a_view_is_the_view():
    """unbroadcast(y[i], x) of the same shape is the row y[i] itself: t += ... writes into
    y, and u reads it so. Fused as a copy (t_k = y_e[k]), u read y as it was. The generated
    code spells such a read unbroadcast(copy_of(y_bar[i]), v); the stage runs it right
    whichever way it is written."""
    source = """
def h(x, e, i):
    y = np.zeros((2, 4)) + 1.0
    t = unbroadcast(y[i], x)
    t += e * 2.0
    u = y[i] * 3.0 + t
    v = u * t
    return v
"""
    ranks = {"x": 1, "e": 1, "i": 0, "y": 2, "t": 1, "u": 1, "v": 1}
    fused = fuse_module(source, ranks, {})
    run = {}
    exec(compile("import numpy as np\nfrom adjoint.runtime.helpers import unbroadcast\n" + source, "<h>", "exec"),
         run)
    x, e = np.linspace(0.0, 1.0, 4), np.ones(4)
    want = run["h"](x, e, 1)
    if fused is not None:
        exec(compile(fused, "<fused>", "exec"), run)
    np.testing.assert_array_equal(run["h"](x, e, 1), want)


def test_what_a_tape_keeps_is_one_allocation_and_what_dies_sooner_another():
    """A loop's outputs are rows of one array per lifetime: a and b go onto the tape (b
    through the name the next iteration pushes), c dies within the iteration. What the
    tape keeps is cut from a buffer the iterations share (tape_rows: one of room 8 for the
    first, one of room 16 for the next two). The values are those of the statements, and
    the tape's arrays are the rows as they were filled."""
    source = """
def h(x, y):
    tape = []
    p = x
    for i in range(3):
        a = x * y + p
        b = np.exp(a)
        c = b * a
        tape.append((a, p))
        d = c * 2.0
        p = b
    return tape, d
"""
    ranks = {"x": 1, "y": 1, "p": 1, "a": 1, "b": 1, "c": 1, "d": 1}
    fused = fuse_module(source, ranks, {})
    loop = _function(fused, "h").body[-2]
    allocations = [ast.unparse(n) for n in ast.walk(loop) if isinstance(n, ast.Assign)
                   and "np.empty" in ast.unparse(n.value)]
    assert allocations == ["c_out = np.empty(n)"], allocations
    assert "rows, tape_arena, tape_arena_used = tape_rows(tape_arena, tape_arena_used, 2, n)" in fused
    assert "tape_arena, tape_arena_used = (np.empty(0), 0)" in fused
    run: dict = {}
    exec(compile("import numpy as np\n" + source, "<h>", "exec"), run)
    x, y = np.linspace(-1.0, 1.0, 4), np.linspace(0.5, 0.2, 4)
    want = run["h"](x, y)
    exec(compile(fused, "<fused>", "exec"), run)
    got = run["h"](x, y)
    _assert_same(want[1], got[1])
    for (a, p), (a2, p2) in zip(want[0], got[0]):
        _assert_same(a, a2)
        _assert_same(p, p2)
    owners = [_owner(a2) for a2, _ in got[0]]
    assert [o.size for o in owners] == [8, 16, 16] and owners[1] is owners[2]


def _owner(a: np.ndarray) -> np.ndarray:
    while a.base is not None:
        a = a.base
    return a


def test_a_row_sum_of_arithmetic_on_matrices_sums_each_element_as_it_is_made():
    """reduce_sum(E, 1) of arithmetic on matrices of one shape and numbers: loops over the
    rows and their elements, E never made; the statement where the shapes differ. The same
    additions in the same order: the same sums."""
    source = """
def h(x, y, s):
    r = reduce_sum(np.sin(x * s) - y ** 2, 1)
    e = reduce_sum(np.exp(x), 1)  # (NumPy's SIMD loop for exp, codegen/numba_calls.py: kept)
    q = reduce_sum(x ** 2, -1)
    return r, q, e
"""
    ranks = {"x": 2, "y": 2, "s": 0, "r": 1, "q": 1, "e": 1}
    fused = fuse_module(source, ranks, {})
    assert fused is not None and "reduce_sum(x ** 2" not in fused and "e = reduce_sum(np.exp(x), 1)" in fused
    (guard,) = [n for n in ast.walk(_function(fused, "h")) if isinstance(n, ast.If)]
    assert ast.unparse(guard.test) == "y.shape == x.shape"
    run: dict = {}
    exec(compile("import numpy as np\nfrom adjoint.runtime.helpers import reduce_sum\n" + source, "<h>", "exec"), run)
    want = run["h"]
    exec(compile(fused, "<fused>", "exec"), run)
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    for y in (np.cos(x), np.linspace(0.0, 1.0, 4).reshape(1, 4), np.ones((3, 1))):  # (then broadcast)
        for a, b in zip(want(x, y, 0.3), run["h"](x, y, 0.3)):
            np.testing.assert_array_equal(a, b)
    empty = np.empty((2, 0))
    for a, b in zip(want(empty, empty, 0.3), run["h"](empty, empty, 0.3)):
        np.testing.assert_array_equal(a, b)


def test_arithmetic_on_matrices_and_vectors_along_their_rows_makes_each_element_once():
    """x - v (v along a row), a cotangent repeated along either axis (expand_view) and
    numbers: two loops writing each element once, behind tests of the vectors' lengths;
    the statement where they broadcast. Arithmetic on one matrix and numbers: two loops
    with no test (unchecked, they beat Numba's loop for the statement: 7.6 against 12.8 us
    for h_bar * (1.0 - h * h), 256 x 128)."""
    source = """
def h(x, v, g, k, s):
    c = x - v
    d = 2.0 * expand_view(g, x, 1) * x
    e = x * s + expand_view(k, x, 0)
    f = x * x + 1.0
    return c, d, e, f
"""
    ranks = {"x": 2, "v": 1, "g": 1, "k": 1, "s": 0, "c": 2, "d": 2, "e": 2, "f": 2}
    fused = fuse_module(source, ranks, {})
    tests = [ast.unparse(n.test) for n in ast.walk(_function(fused, "h")) if isinstance(n, ast.If)]
    assert tests == ["v.shape[0] == cols", "g.shape[0] == rows_1", "k.shape[0] == cols_2"], tests
    assert "set_item(f_out, (i_3, j_3), item(x, (i_3, j_3)) * item(x, (i_3, j_3)) + 1.0)" in fused
    run: dict = {}
    exec(compile("import numpy as np\nfrom adjoint.runtime.helpers import expand_view\n" + source, "<h>", "exec"), run)
    want = run["h"]
    exec(compile(fused, "<fused>", "exec"), run)
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    for v, g, k in [(np.cos(np.arange(4.0)), np.arange(3.0), np.arange(4.0) - 1.0),
                    (np.array([0.5]), np.arange(3.0), np.arange(4.0))]:  # (v broadcast: the statement)
        for a, b in zip(want(x, v, g, k, 0.3), run["h"](x, v, g, k, 0.3)):
            np.testing.assert_array_equal(a, b)


def test_a_sum_of_a_run_s_array_is_added_up_as_the_loop_makes_it():
    """s = np.sum(e) of an array of the run: an accumulator, from 0.0, element by element in
    order (as Numba's np.sum adds), and s after the loop; a statement of the run after it
    that reads s ends the run (s is whole only after the loop). np.zeros(n), whose elements
    the user writes, is a float array (the default dtype): its square fuses."""
    source = """
def h(x, y, n):
    z = np.zeros(n)
    z[0] = 1.5
    t = x * y
    s = 2.0 + np.sum(t) * np.sum(x)
    u = t * x
    v = u + z * z
    w = v * s
    r = np.sum(w)
    return s, u, v, w, r
"""
    ranks = {"x": 1, "y": 1, "z": 1, "t": 1, "s": 0, "u": 1, "v": 1, "w": 1, "n": 0, "r": 0}
    fused = fuse_module(source, ranks, {})
    assert "t_sum += t_k" in fused and "x_sum += " in fused and "s = 2.0 + t_sum * x_sum" in fused
    loops = [ast.unparse(n) for n in ast.walk(_function(fused, "h")) if isinstance(n, ast.For)]
    # w reads s, whole after the first loop: a second run, summing w into r
    assert len(loops) == 2 and "w_k" not in loops[0] and "w_sum += w_k" in loops[1]
    assert "item(z_e, k)" in loops[0]
    run: dict = {}
    exec(compile("import numpy as np\n" + source, "<h>", "exec"), run)
    want = run["h"]
    exec(compile(fused, "<fused>", "exec"), run)
    x, y = np.linspace(-1.0, 1.0, 7), np.linspace(0.5, 2.0, 7)
    for a, b in zip(want(x, y, 7), run["h"](x, y, 7)):
        np.testing.assert_allclose(b, a, rtol=1e-14)


SUMS = """
def f(x, y):
    t = np.tanh(x * y)
    s = np.sum(t * t)
    return s * np.sum(x) + np.sum(t * y)
"""


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_sums_in_a_run_keep_their_gradient(jit, tmp_path):
    f = load_source(SUMS, tmp_path)
    x, y = np.linspace(-1.0, 1.0, 6), np.linspace(0.5, 1.5, 6)
    g = adjoint.grad(f, wrt=(0, 1), jit=jit, background=False)
    assert "_sum += " in _built(g, (x, y)).fused_source
    adjoint.check_grad(f, x, y, wrt=(0, 1), jit=jit)
    value, _ = adjoint.value_and_grad(f, wrt=(0, 1), jit=jit)(x, y)
    assert value == pytest.approx(f(x, y), rel=1e-13)


def centered_rows(x, mu, w):
    total = 0.0
    for j in range(mu.shape[0]):
        total = total + np.sum(np.sum((x - mu[j]) * w, axis=1) ** 2)
    return total


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_rows_minus_a_vector_keep_their_gradient(jit):
    rng = np.random.default_rng(6)
    args = (rng.normal(size=(5, 3)), rng.normal(size=(2, 3)), rng.normal(size=3))
    fused = _built(adjoint.grad(centered_rows, wrt=(0, 1, 2), jit=jit), args).fused_source
    assert "x - t" in fused and "item(x, (i" in fused  # (as loops, and as the statement behind them)
    adjoint.check_grad(centered_rows, *args, wrt=(0, 1, 2), jit=jit)


def squared_norms(x, W, b):
    z = x @ W + b
    return np.sum(np.sqrt(np.sum(z ** 2, axis=1) + 1.0))


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_a_row_sum_of_squares_keeps_its_gradient(jit):
    rng = np.random.default_rng(5)
    args = (rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4))
    g = adjoint.grad(squared_norms, wrt=(0, 1, 2), jit=jit, background=False)
    fused = _built(g, args).fused_source
    assert "reduce_sum(z ** 2" not in fused and "reduce_sum(z ** 2, 1)" in _built(g, args).generated.source
    adjoint.check_grad(squared_norms, *args, wrt=(0, 1, 2), jit=jit)


def test_int_arithmetic_views_numbers_from_ufuncs_and_exact_cotangent_numbers_do_not_break_a_run():
    """``y[t + 1]`` is a view (no element read), ``c = np.log(s)`` a number from numbers:
    both move before the run; ``s_bar``, a cotangent every definition of which is a
    number, is a number in the loop. The lstm adjoint's loss terms of a step fused so."""
    source = """
def h(x, y, s, s_bar):
    for t in range(3):
        a = x * y[t]
        v = y[t + 1]
        c = np.log(s)
        b = a - c * v
        b_bar = fill_like(s_bar, b) * v
        x_bar = b_bar * y[t]
    return a, b, x_bar
"""
    ranks = {"x": 1, "y": 2, "s": 0, "t": 0, "a": 1, "v": 1, "c": 0, "b": 1, "x_bar": 1, "b_bar": 1}
    fused = fuse_module(source, ranks, {"s_bar": "s", "b_bar": "b", "x_bar": "x"})
    loop = _function(fused, "h").body[0]
    assert _guards(loop) == 1, fused
    guard = next(n for n in ast.walk(loop) if isinstance(n, ast.If))
    assert [ast.unparse(s) for s in loop.body[:2]] == ["v = y[t + 1]", "c = np.log(s)"], fused
    assert len(guard.orelse) == 4
    run: dict = {}
    exec(compile("import numpy as np\nfrom adjoint.runtime.helpers import fill_like\n" + source, "<h>", "exec"), run)
    x, y = np.linspace(-1.0, 1.0, 4), np.linspace(0.5, 2.0, 20).reshape(5, 4)
    want = run["h"](x, y, 1.5, 0.25)
    exec(compile(fused, "<fused>", "exec"), run)
    _assert_same(run["h"](x, y, 1.5, 0.25), want)


def test_an_lstm_step_s_loss_terms_fuse():
    built = _built(lstm_grad, LSTM_ARGS)
    grad = _function(built.fused_source, built.generated.grad_name or built.generated.vjp_name)
    fused_away = {ast.unparse(s).split(" = ")[0] for n in ast.walk(grad) if isinstance(n, ast.If)
                  and "loop_length" in ast.unparse(n.test) for s in n.orelse if isinstance(s, ast.Assign)}
    assert {"ynorm", "ynorm_bar", "ypred_bar"} <= fused_away, fused_away


# -- compiled ------------------------------------------------------------------------

TYPES = """
def f(x, y, z, W, s, n):
    a = np.sin(x) * s
    b = a * y + y - z
    c = b * W
    m = x > 0.1
    t = m * n
    v = (t + n) * n
    return np.sum(np.tanh(c)) + np.sum(np.cos(x) * v)
"""


def test_statements_of_other_types_than_the_loop_s_are_left_as_they_are(tmp_path):
    """Numba types both branches, so a name bound after a fused loop must be a 1-D float64
    array in the statements too. Not so (a CompileError before): m * n for an int n (an
    argument that is a number may be an int or a bool), and the cotangents of a deferred
    sum (transform/sums.py: b_bar = c_bar * W is 2-D for a 1-D b, and so is a_bar =
    b_bar * y, read after the run by s_bar's sum)."""
    f = _program(tmp_path, TYPES)
    g = adjoint.grad(f, wrt=(0, 1, 2, 3, 4), background=False)
    x, y, z = np.linspace(-0.95, 1.05, 5), np.linspace(0.5, 1.5, 5), np.linspace(0.2, 0.9, 5)
    args = [x, y, z, np.linspace(0.1, 2.0, 15).reshape(3, 5), 0.7, 2]
    got = g(*args)
    assert g._build().fused() is not None
    for i in range(5):
        np.testing.assert_allclose(got[i], finite_difference(f, args, i), rtol=1e-6, atol=1e-9)


COMPILED = """
def f(x, w, n):
    h = x.copy()
    for i in range(n):
        a = np.tanh(h * w)
        b = np.exp(-a * a)
        h = b * h + a * w
    return np.sum(h * h)
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    f = load_source(COMPILED, tmp_path_factory.mktemp("fuse"))
    return f, adjoint.grad(f, wrt=(0, 1))


def test_compiled_fused_gradient(compiled):
    f, g = compiled
    x, w = np.linspace(-1.0, 1.0, 6), np.linspace(0.5, 1.5, 6)
    got = g(x, w, 4)
    assert g._build().fused() is not None
    for i in (0, 1):
        np.testing.assert_allclose(got[i], finite_difference(f, [x, w, 4], i), rtol=1e-6)
    # a broadcast w (its own length): the compiled test sends it to the statements
    w1 = np.array([0.8])
    got = g(x, w1, 3)
    for i in (0, 1):
        np.testing.assert_allclose(got[i], finite_difference(f, [x, w1, 3], i), rtol=1e-6)


def test_float32_arguments_compile_the_generated_module(compiled):
    """A fused loop makes float64 arrays; float32 statements make float32 ones, and Numba
    could not merge the two: float32 arguments compile the generated module."""
    f, g = compiled
    x, w = np.linspace(-1.0, 1.0, 6, dtype=np.float32), np.linspace(0.5, 1.5, 6, dtype=np.float32)
    got = g(x, w, 3)
    assert got[0].dtype == np.float32
    want = finite_difference(f, [x.astype(np.float64), w.astype(np.float64), 3], 0)
    np.testing.assert_allclose(got[0], want, rtol=1e-3, atol=1e-4)


# -- random programs -----------------------------------------------------------------

FUSED = {"programs": 0}


@settings(deadline=None, max_examples=120, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(case=random_programs.cases())
def test_random_programs_fused_compute_the_same(case, tmp_path_factory):
    """Random straight-line programs (tests/test_random_programs.py: broadcasting, views,
    in-place updates, reassignment): the fused module's vjp, run as Python, gives what the
    generated module's gives, wherever anything fuses."""
    prog, values = case
    f = random_programs.load(prog, tmp_path_factory.getbasetemp())
    args = tuple(values[p] for p in prog.params)
    try:
        g = adjoint.grad(f, wrt=tuple(prog.params.index(p) for p in prog.float_params), jit=False)
        built = _built(g, args)
    except (adjoint.UnsupportedSyntaxError, adjoint.NonDifferentiableError):
        return  # refused (tests/test_random_programs.py checks what is)
    if built.fused() is None:
        return
    FUSED["programs"] += 1
    name = built.generated.vjp_name
    with np.errstate(all="ignore"):
        want = getattr(built.module, name)(*args, 1.0)
        got = getattr(built.fused()[0], name)(*args, 1.0)
    _assert_same(want, got)


def test_random_programs_fuse(tmp_path_factory):
    """The test above compares something: most of its programs fuse (it once compared
    nothing, an error swallowed)."""
    if FUSED["programs"] == 0:  # (run alone)
        test_random_programs_fused_compute_the_same(tmp_path_factory=tmp_path_factory)
    assert FUSED["programs"] >= 30, FUSED


def test_a_number_argument_may_be_an_int(tmp_path):
    """n * mask is an int array when n is an int: a fused loop would make it a float64 one
    (only array arguments are known to be float64 when the fused module runs)."""
    f = _program(tmp_path, """
def f(x, n):
    m = x > 0.5
    a = m * n
    b = a + a * n
    c = b * a - n
    return np.sum(x * c + np.tanh(x) * np.sin(x) * np.exp(x))
""")
    g = adjoint.grad(f, jit=False)
    x = np.linspace(0.0, 1.0, 5)
    built = _built(g, (x, 3))
    assert built.fused_source is not None and "a_k" not in built.fused_source
    _assert_same(*_both(g, (x, 3)))


def test_an_error_in_fused_code_names_the_users_line(tmp_path):
    """The fused module's lines are not the generated module's: an error of the compiled
    code is located by running the generated module (it lost the note naming the line)."""
    f = _program(tmp_path, """
def f(W, x, i):
    a = np.sin(W[i]) * x
    b = a * a + x
    c = np.exp(-b) * W[i]
    return np.sum(c)
""")
    g = adjoint.grad(f, wrt=(0, 1))
    W, x = np.linspace(0.0, 1.0, 15).reshape(3, 5), np.linspace(-1.0, 1.0, 5)
    g(W, x, 1)
    assert g._build().fused() is not None
    with pytest.raises(IndexError) as info:
        g(W, x, 7)
    assert any(", line 5: a = np.sin(W[i]) * x" in note for note in info.value.__notes__), info.value.__notes__


def rows_minus_each(x, mu):
    d = np.empty((x.shape[0], mu.shape[0]))
    for j in range(mu.shape[0]):
        centered = x - mu[j]
        d[:, j] = np.sum(centered ** 2, axis=1)
    return np.sum(np.log(np.sum(np.exp(-d), axis=1)))


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_rows_minus_a_row_of_a_matrix(jit):
    """x - mu[j] in a taped loop (gmm's centered): the row is made once, before the loops,
    and read along each row; where mu's rows have one element, the statement broadcasts."""
    rng = np.random.default_rng(8)
    g = adjoint.grad(rows_minus_each, wrt=(0, 1), jit=jit)
    for x, mu in [(rng.normal(size=(5, 3)), rng.normal(size=(2, 3))), (rng.normal(size=(4, 3)), rng.normal(size=(3, 1)))]:
        fused = _built(g, (x, mu)).fused_source
        assert "mu_row = unowned(mu[j])" in fused and "item(mu_row, j" in fused  # (codegen/borrow.py)
        got = g(x, mu)
        for i, arg in enumerate((x, mu)):
            np.testing.assert_allclose(got[i], finite_difference(rows_minus_each, [x, mu], i), rtol=1e-6, atol=1e-9)


def test_fused_loops_index_only_through_item_and_set_item():
    """Every element a fused loop reads or writes is at an index its test proved in range,
    read by item and written by set_item (compiled without the bounds check); a subscript
    left in a loop would be an index the fuse stage did not check."""
    g = adjoint.grad(lstm_objective, wrt=(0, 1))
    args = prepare(TINY_INPUT)
    tree = ast.parse(_built(g, args).fused_source)
    innermost = [node for node in ast.walk(tree) if isinstance(node, ast.For)
                 and not any(isinstance(n, ast.For) for n in ast.walk(node) if n is not node)]
    loops = [loop for loop in innermost if any(isinstance(n, ast.Call) and getattr(n.func, "id", "") in
                                               ("item", "set_item") for n in ast.walk(loop))]
    assert len(loops) >= 4
    for loop in loops:
        assert not any(isinstance(n, ast.Subscript) for n in ast.walk(loop)), ast.unparse(loop)


def test_an_element_a_loop_only_reads_is_read_once():
    """An array a fused loop never writes, sharing no memory with one it writes, is read
    once per element, before the writes (the compiler cannot tell it apart from the arrays
    written in between and would read it again after each: lstm's taped gates, three reads
    each). An array the loop writes is read where the statements read it."""
    g = adjoint.grad(lstm_objective, wrt=(0, 1))
    tree = ast.parse(_built(g, prepare(TINY_INPUT)).fused_source)
    loops = [node for node in ast.walk(tree) if isinstance(node, ast.For) and any(
        isinstance(n, ast.Call) and getattr(n.func, "id", "") == "set_item" for n in ast.walk(node))]
    hoisted = written_reads = 0
    for loop in loops:
        calls = [n for n in ast.walk(loop) if isinstance(n, ast.Call)]
        written = {ast.unparse(c.args[0]) for c in calls if getattr(c.func, "id", "") == "set_item"}
        reads = [ast.unparse(c.args[0]) for c in calls if getattr(c.func, "id", "") == "item"]
        for array in set(reads) - written:
            assert reads.count(array) == 1, (array, ast.unparse(loop))
        first = [s for s in loop.body if isinstance(s, ast.Assign) and call_name(s.value) == "item"]
        hoisted += len(first)
        written_reads += sum(reads.count(array) for array in written)
    assert hoisted >= 8 and written_reads >= 4


def test_a_loop_keeps_alive_each_array_whose_memory_nothing_else_holds():
    """A fused loop reads and writes its arrays through pointer(a), which holds no
    reference: Numba may free an array once pointer(a) is its last use. An array that
    only the function's variables hold (lstm: the cotangent of the layer's input, which
    the loop's own result replaces; the tape's gates, the state's rows) is named in a
    keep_alive(...) after the loop. Views of the arguments (main_params[t6][:b]) and of
    the returned cotangents made once at the top (main_params_bar[t8, t27:]) are not:
    kept alive, they cost the lstm gradient the 5% the pointers gain."""
    g = adjoint.grad(lstm_objective, wrt=(0, 1))
    tree = ast.parse(_built(g, prepare(TINY_INPUT)).fused_source)
    grad = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.endswith("_grad"))
    pointers, kept = set(), set()
    for block in (n.body for n in ast.walk(grad) if isinstance(n, ast.If)):
        read = {ast.unparse(s.value.args[0]) for s in block if isinstance(s, ast.Assign)
                and call_name(s.value) == "pointer"}
        alive = {ast.unparse(a) for s in block if isinstance(s, ast.Expr)
                 and call_name(s.value) == "keep_alive" for a in s.value.args}
        loops = [i for i, s in enumerate(block) if isinstance(s, ast.For)]
        if read:
            assert alive <= read, ast.unparse(block)
            keeps = [i for i, s in enumerate(block) if isinstance(s, ast.Expr) and call_name(s.value) == "keep_alive"]
            assert keeps == [loops[0] + 1], ast.unparse(block)  # right after the loop
        pointers |= read
        kept |= alive
    assert {"layer_input_1_bar", "forget", "t41", "before_bar_part", "state_2_bar_part"} <= kept
    assert {"t7_part", "main_params_bar_part", "main_params_bar_part_7"} <= pointers - kept
    assert not any(name.startswith(("main_params_bar_part", "t7_part", "t9_part")) for name in kept)
    _assert_same(*_both(g, prepare(TINY_INPUT)))


def test_column_sums_of_a_matrix_statement_are_added_as_its_elements_are_made():
    """m = E broadcasting a vector, then reduce_sum(m, 0) in the statements after it (gmm's
    mu cotangent): the loops add each element into its column's sum as they make it, the
    call reads those sums. Not after a statement that may write into m's array: m += 1.0,
    or a write through a name that may share it (w = n[:, 0]; w[:] = 5.0)."""
    source = """
def h(x, v, q):
    m = x * v
    a = reduce_sum(m, 0) * 2.0
    q += reduce_sum(m, -2)
    b = reduce_sum(m, 1)
    m += 1.0
    c = reduce_sum(m, 0)
    n = x - v
    w = n[:, 0]
    w[:] = 5.0
    d = reduce_sum(n, 0)
    return a, b, c, d, q
"""
    ranks = {"x": 2, "v": 1, "q": 1, "m": 2, "n": 2, "a": 1, "b": 1, "c": 1, "d": 1, "w": 1}
    fused = fuse_module(source, ranks, {})
    assert fused is not None
    assert "a = m_colsum * 2.0" in fused and "q += m_colsum" in fused and "b = reduce_sum(m, 1)" in fused
    assert "c = reduce_sum(m, 0)" in fused and "d = reduce_sum(n, 0)" in fused and "n_colsum" not in fused
    run: dict = {}
    exec(compile("import numpy as np\nfrom adjoint.runtime.helpers import reduce_sum\n" + source, "<h>", "exec"), run)
    want = run["h"]
    exec(compile(fused, "<fused>", "exec"), run)
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    for v in (np.cos(np.arange(4.0)), np.array([0.5])):  # (a one-element v: the statement)
        for a, b in zip(want(x, v, np.ones(4)), run["h"](x, v, np.ones(4))):
            np.testing.assert_array_equal(a, b)
    empty = np.empty((0, 4))
    for a, b in zip(want(empty, np.ones(4), np.ones(4)), run["h"](empty, np.ones(4), np.ones(4))):
        np.testing.assert_array_equal(a, b)


def projected_rows(x, mu, Q):
    d = np.empty((x.shape[0], mu.shape[0]))
    for j in range(mu.shape[0]):
        d[:, j] = np.sum(((x - mu[j]) @ Q) ** 2, axis=1)
    return np.sum(np.log(np.sum(np.exp(-d), axis=1)))


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_column_sums_keep_the_gradient(jit):
    """gmm's shape: mu[j]'s cotangent is the column sums of the projected rows' cotangent."""
    rng = np.random.default_rng(9)
    args = (rng.normal(size=(6, 3)), rng.normal(size=(2, 3)), rng.normal(size=(3, 3)))
    g = adjoint.grad(projected_rows, wrt=(1, 2), jit=jit)
    assert "_colsum = np.zeros(" in _built(g, args).fused_source
    got = g(*args)
    for i, index in enumerate((1, 2)):
        np.testing.assert_allclose(got[i], finite_difference(projected_rows, list(args), index), rtol=1e-6, atol=1e-9)
