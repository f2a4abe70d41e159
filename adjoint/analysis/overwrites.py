"""Overwrite analysis: element reads of a written array that no later write changes.

Assumes an ``ir.Function`` and the ranks of its values (``analysis.ranks``). Promises the
names of ``getitem`` results whose element, once read, is never written again: after the
forward sweep the array still holds that value, so an adjoint that does not undo the
writes may read it again from the array instead of taping it.

The proof is deliberately narrow (anything it cannot show is left to the tape):

- the read is a number, in a ``for`` loop with a literal step ``s`` that is inside no other
  loop, of an array the loop carries and updates in place (any of its versions);
- every write into that array (all its versions; no view of it anywhere) is either part of
  a statement before the loop (which, being in no other loop, runs entirely first), or in
  the loop, where some axis tells the written element from the read one:
  - the read is at ``i + c`` and the write at ``i + d`` on that axis, with ``c - d`` of the
    opposite sign to ``s``: a later iteration ``i + k*s`` writes ``i + k*s + d``, never
    ``i + c`` (``writes``'s ``y[i] = a * y[i - 1] + ...``: the element ``i - 1`` was
    written by an earlier iteration, later ones write further on); or ``c == d`` and the
    write comes first in the iteration (``y[i] = ...``, then ``y[i]`` read);
  - or both are different literal indices (``m[i, 0]`` and ``m[j, 1]``);
- no index involved may be negative, as ``y[i - 1]`` at ``i = 0`` is the last element:
  literal indices are at least 0, and ``i + c`` is when the range has a literal start
  (upwards) or stop (downwards).
"""
from __future__ import annotations

from ..ir.nodes import (Assign, Const, For, Function, If, Index, Stmt, Tup, Value, Var, While, array_versions,
                        int_literal, walk)
from ..frontend.control import VIEWS
from .groups import array_groups


def final_reads(fn: Function, ranks: dict[str, int]) -> frozenset[str]:
    """The ``getitem`` targets whose element holds the same value when the function returns."""
    groups = array_groups(fn.body)
    writes: list[tuple[Assign, tuple[Stmt, ...]]] = []  # each write and the loops around it
    reads: list[tuple[Assign, tuple[Stmt, ...]]] = []
    viewed: set[str] = set()
    order: dict[int, int] = {}  # id of a top-level statement -> its position
    for position, stmt in enumerate(fn.body):
        order[id(stmt)] = position
    for stmt, loops, top in _walk(fn.body, (), None):
        if isinstance(stmt, Assign):
            prim, args = stmt.op.prim, stmt.op.args
            if prim == "setitem" and isinstance(args[0], Var):
                writes.append((stmt, loops, top))
            elif prim == "getitem" and isinstance(args[0], Var) and ranks.get(stmt.target.name) == 0:
                reads.append((stmt, loops, top))
            elif prim in VIEWS and isinstance(args[0], Var):
                viewed.add(args[0].name)
    viewed_groups = {groups.find(name) for name in viewed}
    out = set()
    for read, loops, top in reads:
        array = read.op.args[0].name
        group = groups.find(array)
        if len(loops) != 1 or group in viewed_groups:
            continue
        loop = loops[0]
        if not (isinstance(loop, For) and isinstance(loop.step, Const) and isinstance(loop.step.value, int)
                and loop.step.value != 0 and _carried_in_place(loop, array)):
            continue
        offsets = _Offsets(loop)
        if all(_never_after(write, wloops, wtop, read, loop, top, offsets, order)
               for write, wloops, wtop in writes if groups.find(write.op.args[0].name) == group):
            out.add(read.target.name)
    return frozenset(out)


def _never_after(write: Assign, wloops: tuple[Stmt, ...], wtop: Stmt, read: Assign, loop: For, top: Stmt,
                 offsets: "_Offsets", order: dict[int, int]) -> bool:
    """Whether ``write`` never changes the element ``read`` reads once it has read it."""
    if not wloops or wloops[0] is not loop:  # outside the read's loop: fine if it runs before it
        return order[id(wtop)] < order[id(top)]
    step = loop.step.value
    earlier = offsets.position[id(write)] < offsets.position[id(read)]  # in the same iteration
    for r, w in zip(_items(read.op.args[1]), _items(write.op.args[1])):
        # a negative index counts from the end: y[i - 1] at i = 0 is y[n - 1]
        if int_literal(r) is not None and int_literal(w) is not None and int_literal(r) >= 0 and int_literal(w) >= 0 \
                and int_literal(r) != int_literal(w):
            return True  # another row, column...
        c, d = offsets.of(r), offsets.of(w)
        if c is None or d is None or offsets.least is None or offsets.least + min(c, d) < 0:
            continue
        if (c - d) * step < 0 or c == d and earlier:
            return True  # a later iteration i' = i + k*step writes i' + d, never i + c
    return False


def _carried_in_place(loop: For, array: str) -> bool:
    for phi in loop.carried:
        versions, in_place = array_versions(phi, loop.body)
        if in_place and array in versions:
            return True
    return False


def _items(index: Value) -> tuple[Value, ...]:
    """The index's items, one per axis of the array: ``None`` (np.newaxis) takes no axis,
    so ``y[None, 0]`` is row 0 of a 2-D ``y``, as is ``y[0]``."""
    items = index.items if isinstance(index, (Index, Tup)) else (index,)
    return tuple(item for item in items if not (isinstance(item, Const) and item.value is None))


class _Offsets:
    """``c`` for an index that is the loop's own index plus a literal int: ``i``, ``i + 2``,
    ``i - 1``, ``1 + i`` (defined in the loop body, so read in the same iteration)."""

    def __init__(self, loop: For) -> None:
        self.index = loop.index.name
        # the least value of the index, where literal bounds tell it
        bound = int_literal(loop.start) if loop.step.value > 0 else int_literal(loop.stop)
        self.least = None if bound is None else bound if loop.step.value > 0 else bound + 1
        self.defs = {s.target.name: s for s in walk(loop.body) if isinstance(s, Assign)}
        # id of each statement in the body -> the position of the body statement it is part of
        self.position = {id(s): k for k, top in enumerate(loop.body) for s in walk((top,))}

    def of(self, item) -> int | None:
        if not isinstance(item, Var):
            return None
        if item.name == self.index:
            return 0
        stmt = self.defs.get(item.name)
        if stmt is None or stmt.op.prim not in ("add", "sub"):
            return None
        a, b = stmt.op.args
        if isinstance(a, Var) and a.name == self.index and int_literal(b) is not None:
            return int_literal(b) if stmt.op.prim == "add" else -int_literal(b)
        if stmt.op.prim == "add" and isinstance(b, Var) and b.name == self.index and int_literal(a) is not None:
            return int_literal(a)
        return None


def _walk(stmts: tuple[Stmt, ...], loops: tuple[Stmt, ...], top: Stmt | None):
    """Every statement with the loops around it (outermost first) and the top-level
    statement it is part of."""
    for stmt in stmts:
        here = stmt if top is None else top
        yield stmt, loops, here
        if isinstance(stmt, If):
            yield from _walk(stmt.then, loops, here)
            yield from _walk(stmt.orelse, loops, here)
        elif isinstance(stmt, (For, While)):
            yield from _walk(getattr(stmt, "cond", ()) + stmt.body, loops + (stmt,), here)

