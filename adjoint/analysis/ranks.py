"""Rank analysis: which values are scalars (rank 0) or arrays of a known rank.

Assumes an ``ir.Function`` and the ranks of its parameters (from the arguments of a call:
0 for a number, ``ndim`` for an array; None where unknown). Promises, for each SSA name
whose rank follows from those and the rules' ``rank`` (``broadcast``, ``scalar``,
``index``, ``shape``, ``like``, ``product``), that rank; names absent from the result may have any rank. Merges keep a
rank only when both sides agree; loops are iterated to a fixed point.

The reverse sweep uses it to write what a person would: ``s_bar = s_1_bar`` instead of
``s_bar = unbroadcast(s_1_bar, s)`` when both are scalars, so the adjoint no longer
reads ``s`` and a loop need not tape it.
"""
from __future__ import annotations

from typing import Mapping

from ..ir.nodes import Assign, Const, For, Function, If, Index, Slice, Stmt, Tup, Value, Var, While, walk
from ..rules import RULES

Ranks = dict[str, int]
_MAX_PASSES = 8


def _meet(a, b):
    return a if a == b else None


def _rank_of(value, known: Mapping[str, int | None]) -> int | None:
    if isinstance(value, Var):
        return known.get(value.name)
    if isinstance(value, Const):
        return 0 if isinstance(value.value, (bool, int, float)) else None
    return None


def index_rank(x: Value, index, known: Mapping[str, int | None]) -> int | None:
    """The rank of ``x[index]``, if the ranks ``known`` tell it: an int index takes an axis
    away, a slice keeps it, ``None`` adds one."""
    rank = _rank_of(x, known)
    if rank is None:
        return None
    for item in index.items if isinstance(index, (Index, Tup)) else (index,):
        if isinstance(item, Slice):
            continue
        if isinstance(item, Const) and item.value is None:
            rank += 1
        elif _rank_of(item, known) == 0:
            rank -= 1
        else:
            return None
    return rank if rank >= 0 else None


class Dataflow:
    """A fact per SSA name, forward through a body: ``assign`` gives a statement's target
    its fact, ``of`` reads a value's; merges keep a fact only when both sides agree, loops
    iterate to a fixed point (``analysis/kinds.py`` uses it too). A ``for`` loop's index
    gets ``index_fact``."""

    index_fact: object = None

    def __init__(self, known: Mapping[str, object] | None = None) -> None:
        self.known: dict[str, object] = dict(known or {})

    def of(self, value) -> object:
        raise NotImplementedError

    def assign(self, stmt: Assign) -> None:
        raise NotImplementedError

    def block(self, stmts: tuple[Stmt, ...]) -> None:
        for stmt in stmts:
            if isinstance(stmt, Assign):
                self.assign(stmt)
            elif isinstance(stmt, If):
                self.block(stmt.then)
                self.block(stmt.orelse)
                for phi in stmt.phis:
                    self.known[phi.var.name] = _meet(self.of(phi.first), self.of(phi.second))
            elif isinstance(stmt, (For, While)):
                self.loop(stmt)

    def loop(self, stmt: For | While) -> None:
        if isinstance(stmt, For):
            self.known[stmt.index.name] = self.index_fact
        for phi in stmt.carried:
            self.known[phi.var.name] = self.of(phi.first)
        for _ in range(_MAX_PASSES):
            self.block(getattr(stmt, "cond", ()))
            self.block(stmt.body)
            changed = False
            for phi in stmt.carried:
                fact = _meet(self.of(phi.first), self.of(phi.second))
                if fact != self.known[phi.var.name]:
                    self.known[phi.var.name] = fact
                    changed = True
            if not changed:
                return
        for phi in stmt.carried:  # no fixed point found: know nothing of the carried values
            self.known[phi.var.name] = None
        self.block(getattr(stmt, "cond", ()))
        self.block(stmt.body)


class _Ranks(Dataflow):
    index_fact = 0  # a loop index is a number

    def __init__(self) -> None:
        super().__init__()
        self.shapes: set[str] = set()  # values that are an array's shape (tuples of ints)

    def of(self, value) -> int | None:
        return _rank_of(value, self.known)

    def assign(self, stmt: Assign) -> None:
        rule = RULES[stmt.op.prim]
        args = stmt.op.args
        rank: int | None = None
        if rule.rank == "scalar":
            rank = 0
        elif rule.rank == "broadcast":
            ranks = [self.of(a) for a in args]
            rank = max(ranks) if ranks and all(r is not None for r in ranks) else None
        elif rule.rank == "index":
            rank = index_rank(args[0], args[1], self.known)
            if isinstance(args[0], Var) and args[0].name in self.shapes and isinstance(args[1], Index) \
                    and len(args[1].items) == 1 and self.of(args[1].items[0]) == 0:
                rank = 0  # n, d = x.shape: one length each (a slice of a shape is a tuple)
        elif rule.rank == "like":
            rank = self.of(args[0])
        elif rule.rank == "matrix":
            rank = 2
        elif rule.rank == "product":  # x @ y of vectors and matrices: 1 + 1 - 2 = 0, ...
            left, right = self.of(args[0]), self.of(args[1])
            rank = left + right - 2 if left in (1, 2) and right in (1, 2) else None
        elif rule.rank == "reduced":
            rank = self.of(args[0])
            rank = rank - 1 if rank else None
        elif rule.rank == "shape":
            shape = args[0]
            rank = len(shape.items) if isinstance(shape, Tup) else (1 if self.of(shape) == 0 else None)
        self.known[stmt.target.name] = rank
        if stmt.op.prim == "shape":
            self.shapes.add(stmt.target.name)


def ranks(fn: Function, params: Mapping[str, int | None]) -> Ranks:
    """The known ranks of ``fn``'s values, given its parameters' (by SSA name)."""
    analysis = _Ranks()
    analysis.known.update(params)
    analysis.block(fn.body)
    return {name: rank for name, rank in analysis.known.items() if rank is not None}


def check_indices(fn: Function, known: Mapping[str, int]) -> None:
    """Every index item is an int (an element of an integer array included), not an array:
    with these arguments' ranks, ``x[idx[j]]`` on a 2-D ``idx`` would index with a row."""
    for stmt in walk(fn.body):
        if not (isinstance(stmt, Assign) and stmt.op.prim in ("getitem", "setitem", "save")):
            continue
        for item in stmt.op.args[1].items if isinstance(stmt.op.args[1], Index) else ():
            rank = known.get(item.name, 0) if isinstance(item, Var) else 0
            if rank:
                loc = stmt.loc
                raise TypeError(
                    f"{loc.filename}:{loc.line}: {loc.text.strip()}: an index is an array of "
                    f"rank {rank} with these arguments, not an int: read one element of an integer "
                    f"array per index (one int per axis, e.g. idx[j, 0] for a 2-D idx)")
