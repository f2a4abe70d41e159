"""The tape of a loop whose trip count is known at its entry is made there with room for every
iteration (``new_tape``: codegen/python.py, runtime/_numba_tape.py); other tapes grow."""
from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import types
from numba.cpython.listobj import ListInstance
from numba.extending import intrinsic

import adjoint
from adjoint.check import finite_difference
from adjoint.runtime.helpers import new_tape


@intrinsic
def _room(typingctx, tape):
    """How many entries the compiled list has room for."""
    def codegen(context, builder, sig, args):
        return ListInstance(context, builder, sig.args[0], args[0])._payload.allocated
    return types.intp(tape), codegen


@numba.njit
def _rooms(n, pushes):
    """The room of ``new_tape(n)`` before and after each of ``pushes`` pushes, and the entries."""
    tape = new_tape(n)
    rooms = np.empty(pushes + 1, np.int64)
    rooms[0] = _room(tape)
    for k in range(pushes):
        tape.append(k * 0.5)
        rooms[k + 1] = _room(tape)
    entries = np.empty(len(tape))
    for k in range(len(tape)):
        entries[k] = tape[k]
    return rooms, entries


def test_the_room_is_made_at_once_and_grows_only_after_it():
    rooms, entries = _rooms(100, 130)
    assert (rooms[:101] == 100).all()  # Numba's own list would shrink to 8 at the first push
    assert (np.diff(rooms[100:]) >= 0).all() and rooms[101] >= 101 and len(set(rooms[101:])) <= 2
    assert (entries == np.arange(130) * 0.5).all()


@pytest.mark.parametrize("n", [0, -4])
def test_no_room_for_no_iterations(n):
    rooms, entries = _rooms(n, 3)
    assert rooms[0] == 0 and (entries == [0.0, 0.5, 1.0]).all()


@numba.njit
def _widening(x):
    """A sum that starts as the int 0: its entries are floats, not truncated to ints."""
    tape = new_tape(x.shape[0])
    s = 0
    for i in range(x.shape[0]):
        tape.append(s)
        s = s + x[i]
    return tape[1], tape[2]


@numba.njit
def _arrays(n):
    """Arrays are taped by reference, and live as long as the tape."""
    tape = new_tape(n)
    for i in range(n):
        tape.append((i, np.full(3, i * 1.0)))
    total = 0.0
    for k in range(len(tape) - 1, -1, -1):
        i, a = tape[k]
        total += a.sum() * i
    return total


def test_entries_take_the_type_all_pushes_have_and_arrays_live():
    assert _widening(np.array([0.25, 0.5, 2.0])) == (0.25, 0.75)
    assert _arrays(4) == 3.0 * (0 + 1 + 4 + 9)


def test_plain_python_tape_is_a_list():
    assert new_tape(5) == [] and isinstance(new_tape(-1), list) and new_tape(2, 3) == []


@numba.njit
def _nested_room(n, m):
    tape = new_tape(n, m)
    room = _room(tape)
    tape.append(1.0)
    return room


@pytest.mark.parametrize("n, m, room", [(3, 4, 12), (5, 1, 5), (0, 7, 0), (-2, -3, 0), (4, -1, 0), (-4, 2, 0)])
def test_the_room_of_a_loop_inside_a_loop_is_every_iteration_of_both(n, m, room):
    assert _nested_room(n, m) == room


def product(x, c):
    """Each step needs the product so far: a tape of floats, started as the int 1."""
    s = 1
    for i in range(x.shape[0]):
        s = s * x[i] + c
    return s


def product_in_a_branch(x, c):
    s = 1.0
    if c > 0.0:
        for i in range(x.shape[0]):
            s = s * x[i] + c
    return s


def nested_products(x, m):
    s = 1.0
    for j in range(m):
        for i in range(j, x.shape[0]):
            s = s * x[i] + 0.1
    return s


def shared_with_an_inner_loop(x):
    """The inner loop tapes its z as each iteration finds it, the outer one z as the inner
    loop leaves it: one list, made at the outer loop's entry (not again at the inner's)."""
    s = 0.0
    for i in range(x.shape[0]):
        z = x[i]
        for j in range(3):
            z = np.cos(z) + 0.5 * z
        s = s + z * z
    return s


def nested_fixed(x, m):
    """The inner loop runs n times in every outer iteration: room for m * n."""
    n = x.shape[0]
    s = 1.0
    for j in range(m):
        for i in range(n):
            s = s * x[i] + 0.1 * j
    return s


def layers(x, w):
    """Each step runs every layer (an lstm's layers in its steps): the layers' list has
    room for all, made with the steps' own."""
    n_layers = w.shape[0]
    h = x * 1.0
    total = 0.0
    for t in range(3):
        for i in range(n_layers):
            h = np.tanh(h * w[i] + 0.1 * t)
        total = total + np.sum(h * h)
    return total


def layers_growing(x, w):
    """The inner loop's trip count changes with the outer index: its list grows."""
    h = x * 1.0
    total = 0.0
    for t in range(w.shape[0]):
        for i in range(t):
            h = np.tanh(h * w[i] + 0.1 * t)
        total = total + np.sum(h * h)
    return total


def _made(source: str) -> list[str]:
    return sorted({line.strip() for line in source.splitlines() if line.strip().endswith(" = []")
                   or " = new_tape(" in line})


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("fn, args, made", [
    (product, (np.array([0.5, 1.5, -2.0, 0.75]), 0.5), ["s_stack = new_tape(t1)"]),
    (product, (np.array([], dtype=np.float64), 0.5), ["s_stack = new_tape(t1)"]),
    (product_in_a_branch, (np.array([0.5, 1.5, -2.0]), 0.5), ["s_stack = []"]),  # made before the if
    (nested_products, (np.array([0.5, 1.5, -2.0, 1.25]), 3), ["s_1_stack = []"]),  # a total no entry knows
    (shared_with_an_inner_loop, (np.array([0.5, 1.5, -2.0]), ), ["z_1_stack = new_tape(t1)"]),
    (nested_fixed, (np.array([0.5, 1.5, -0.7]), 3), ["s_1_stack = new_tape(m, n)"]),
    (nested_fixed, (np.array([0.5, 1.5, -0.7]), -2), ["s_1_stack = new_tape(m, n)"]),
    (layers, (np.array([0.5, 1.5, -0.7]), np.array([0.3, -0.8])),
     ["h_2_stack = new_tape(3)", "tape_1 = new_tape(3, n_layers)"]),
    (layers_growing, (np.array([0.5, 1.5, -0.7]), np.array([0.3, -0.8, 0.5])),
     ["h_2_stack = new_tape(t1)", "tape_1 = []"]),
], ids=["product", "no_iterations", "in_a_branch", "nested", "shared", "nested_fixed", "nested_none",
        "layers", "layers_growing"])
def test_the_tape_of_a_loop_outside_loops_and_branches_is_made_at_its_entry(fn, args, made, jit, monkeypatch):
    monkeypatch.setenv("ADJOINT_TANGENT", "0")  # (reverse mode: shared's body would carry dz/dx[i])
    g = adjoint.grad(fn, wrt=0, jit=jit)
    assert _made(g.source_for(*args)) == made
    assert np.allclose(g(*args), finite_difference(fn, list(args), 0), rtol=1e-7, atol=1e-9)
