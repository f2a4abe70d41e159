"""Tape reads and views of arguments borrowed in the modules Numba compiles
(codegen/borrow.py): which lines change and that every line stays where it was; that
``tape_peek`` and ``unowned`` give arrays with no owner, that ``owned`` copies exactly those,
and that gradients whose reverse sweep reads arrays back are those of the plain module."""
from __future__ import annotations

import ast
import sys

import numba
import numpy as np

import adjoint
from adjoint.codegen.borrow import borrow_tapes
from adjoint.runtime.helpers import new_tape, owned, tape_peek, unowned

SOURCE = '''"""doc"""
import numpy as np
from adjoint.runtime.helpers import new_tape

def f(x):
    return np.sum(x)

def f_vjp(x, s_bar):
    tape = []
    tape_1 = new_tape(3)
    for i in range(3):
        tape.append(x)
        tape_1.append((x, i))
    tape_top = len(tape)
    tape_1_top = len(tape_1)
    for i in range(2, -1, -1):
        tape_top -= 1
        y = tape[tape_top]
        tape_1_top -= 1
        z, j = tape_1[tape_1_top]
    return y, (z * s_bar,)

def g(x):
    tape = []
    if x[0] > 0.0:
        return x
    tape_top = 0
    y = tape[tape_top]
    return y
'''


def test_reads_become_tape_peek_and_the_return_keeps_the_tapes_every_line_in_place():
    borrowed = borrow_tapes(SOURCE, {})
    before, after = SOURCE.split("\n"), borrowed.split("\n")
    assert len(before) == len(after)
    changed = {i: line.strip() for i, (old, line) in enumerate(zip(before, after)) if old != line}
    assert changed == {
        1: "import numpy as np; from adjoint.runtime.helpers import keep_alive, owned, tape_peek, unowned",
        17: "y = tape_peek(tape, tape_top)",
        19: "z, j = tape_peek(tape_1, tape_1_top)",
        20: "keep_alive(tape, tape_1); return (owned(y), (owned(z * s_bar),))",
    }
    ast.parse(borrowed)


def test_nothing_to_borrow_is_none():
    """No tape read back (``f``), or a function with another return than its last statement
    (``g``): left alone, and a module with nothing borrowed is None."""
    assert borrow_tapes(SOURCE.split("def f_vjp")[0] + "def g" + SOURCE.split("def g")[1], {}) is None


VIEWS = '''import numpy as np

def h(x, y, i, idx):
    a = x[1:]
    b = x[i, 2 * i:]
    c = x[idx]
    d = x[i + 0.5]
    e = y[0]
    y = y * 2.0
    s = x[i, i]
    return a + b + c + d + e + y + s
'''


def test_views_of_arguments_are_unowned_and_nothing_else():
    """Views of an argument the function never rebinds, by ints and slices: ``a`` and ``b``;
    not ``c`` (an array of indices: a copy), ``d`` (not an int), ``e`` (y is rebound) nor
    ``s`` (a number)."""
    ranks = {"x": 2, "y": 1, "i": 0, "idx": 1, "a": 2, "b": 1, "c": 2, "d": 1, "e": 0, "s": 0}
    lines = borrow_tapes(VIEWS, ranks).split("\n")
    assert lines[0] == "import numpy as np; from adjoint.runtime.helpers import keep_alive, owned, tape_peek, unowned"
    assert [line.strip() for line in lines[3:11]] == [
        "a = unowned(x[1:])", "b = unowned(x[i, 2 * i:])", "c = x[idx]", "d = x[i + 0.5]", "e = y[0]",
        "y = y * 2.0", "s = x[i, i]", "return owned(a + b + c + d + e + y + s)"]


@numba.njit
def _peeked(x):
    tape, growing = new_tape(2), []
    for k in range(2):
        tape.append((x * (k + 2.0), k + 1.5))
        growing.append(x * (k + 4.0))
    a, s = tape_peek(tape, 1)
    view = a[1:]
    return owned(a), owned(view), owned(x), owned(s), owned(tape_peek(growing, 0)), owned(unowned(x[1:]))


def test_owned_copies_what_has_no_owner_and_nothing_else():
    x = np.linspace(0.0, 1.0, 5)
    a, view, same, s, fresh, tail = _peeked(x)
    np.testing.assert_array_equal(a, x * 3.0)
    np.testing.assert_array_equal(view, x[1:] * 3.0)
    assert same is x and s == 2.5
    np.testing.assert_array_equal(fresh, x * 4.0)  # (read from a list made as [])
    np.testing.assert_array_equal(tail, x[1:])  # (a view of the argument, unowned: copied)
    assert not np.may_share_memory(tail, x)
    # the copies own their memory (Numba's: the array's base), and outlive the tape
    assert a.base is not None and view.base is not None and fresh.base is not None
    assert not np.may_share_memory(a, view)
    a_again = _peeked(x)[0]
    np.testing.assert_array_equal(a, a_again)


def restored(x):
    y = np.exp(x)
    s = 0.0
    for i in range(3):
        y = np.sin(y) * x + y
        s = s + np.sum(y * x)
    return s + np.sum(y)


def test_gradients_that_read_arrays_back_are_those_of_the_plain_module():
    """The reverse sweep reads y and sin(y) back for each iteration; the plain module (no
    borrowing) and the compiled one agree, in float64 (fused module) and float32."""
    grad = adjoint.grad(restored, background=False)
    plain = adjoint.grad(restored, jit=False)
    for dtype in (np.float64, np.float32):
        x = np.linspace(-0.5, 0.7, 6).astype(dtype)
        got, want = grad(x), plain(x)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=1e-12 if dtype == np.float64 else 1e-5)
    built = grad._build((1,))
    assert "tape_peek(tape_1, tape_1_top)" in built.fused_source
    assert "tape_peek(tape_1, tape_1_top)" in built.compiled_source
    assert "tape_peek" not in grad.source  # (what users read keeps tape[top])


def test_a_borrowed_gradient_frees_what_it_allocates_and_counts_its_arguments_as_before():
    """Over 20 calls, the compiled gradient (its tape reads and argument views borrowed) frees
    every block it allocates (Numba's allocation statistics), and each argument has the
    references it had before the calls."""
    from numba.core.runtime import _nrt_python, rtsys

    grad = adjoint.grad(restored, background=False)
    x = np.linspace(-0.5, 0.7, 6)
    grad(x)
    before = sys.getrefcount(x)
    enabled = _nrt_python.memsys_stats_enabled()
    _nrt_python.memsys_enable_stats()
    try:
        start = rtsys.get_allocation_stats()
        for _ in range(20):
            grad(x)
        end = rtsys.get_allocation_stats()
    finally:
        if not enabled:
            _nrt_python.memsys_disable_stats()
    assert end.mi_alloc - start.mi_alloc >= 20  # (each call allocates)
    assert end.mi_alloc - start.mi_alloc == end.mi_free - start.mi_free
    assert sys.getrefcount(x) == before
