"""Cleanup: drop forward statements whose values neither the result nor the adjoint reads.

Every primitive is pure, so removing an unread definition never changes a
result. Regions are kept when a merge they produce, or a value the adjoint
reads inside them, is needed.
"""
from __future__ import annotations

import ast
from dataclasses import replace
from typing import Iterable

from ..ir.nodes import Assign, For, If, Return, Stmt, While, value_vars


def call_name(node: ast.AST) -> str:
    """The name a call calls (``unbroadcast``, ``np.exp``), or "" for anything else."""
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name):
            return f.id
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            return f"{f.value.id}.{f.attr}"
    return ""


def names_in(expressions: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for expr in expressions:
        out |= {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}
    return out


def _names(value) -> set[str]:
    return {v.name for v in value_vars(value)}


def _forward_reads(stmt: Assign) -> set[str]:
    """What a statement reads in the forward sweep: an element write ``x[index] = value``
    does not read the value it overwrites (the last argument; only undoing it does)."""
    args = stmt.op.args[:3] if stmt.op.prim == "setitem" else stmt.op.args
    return {v.name for arg in args for v in value_vars(arg)}


def _live(stmts: tuple[Stmt, ...], needed: set[str]) -> tuple[Stmt, ...]:
    kept: list[Stmt] = []
    for stmt in reversed(stmts):
        if isinstance(stmt, Return):
            needed |= _names(stmt.value)
            kept.append(stmt)
        elif isinstance(stmt, Assign):
            if stmt.target.name in needed:
                needed |= _forward_reads(stmt)
                kept.append(stmt)
        elif isinstance(stmt, If):
            phis = tuple(p for p in stmt.phis if p.var.name in needed)
            then_needed = needed | set().union(*(_names(p.first) for p in phis))
            else_needed = needed | set().union(*(_names(p.second) for p in phis))
            then = _live(stmt.then, then_needed)
            orelse = _live(stmt.orelse, else_needed)
            if phis or then or orelse:
                needed |= then_needed | else_needed | _names(stmt.cond)
                kept.append(replace(stmt, then=then, orelse=orelse, phis=phis))
        elif isinstance(stmt, (For, While)):
            kept_loop = _live_for(stmt, needed)
            if kept_loop is not None:
                kept.append(kept_loop)
    return tuple(reversed(kept))


def _live_for(stmt: For | While, needed: set[str]) -> For | While | None:
    inner = set(needed)
    cond: tuple[Stmt, ...] = ()
    if isinstance(stmt, While):  # the test decides how often the body runs
        inner |= _names(stmt.test)
        cond = _live(stmt.cond, inner)
    while True:
        phis = tuple(p for p in stmt.carried if p.var.name in inner)
        inner |= set().union(*(_names(p.second) for p in phis))
        size = len(inner)
        body = _live(stmt.body, inner)
        if len(inner) == size and all(p.var.name not in inner for p in stmt.carried if p not in phis):
            break
    if isinstance(stmt, While):
        if not any(p.var.name in needed for p in phis):
            return None  # nothing after the loop reads what it computes
        needed |= inner | set().union(*(_names(p.first) for p in phis))
        return replace(stmt, cond=cond, body=body, carried=phis)
    if not phis and not body:
        return None
    needed |= inner | set().union(*(_names(p.first) for p in phis))
    needed |= _names(stmt.start) | _names(stmt.stop) | _names(stmt.step)
    return replace(stmt, body=body, carried=phis)


def live_forward(body: tuple[Stmt, ...], extra_uses: set[str]) -> tuple[Stmt, ...]:
    """The statements of ``body`` needed for its return value and for ``extra_uses``."""
    return _live(body, set(extra_uses))


def loop_work(body: tuple[Stmt, ...], in_loop: bool = False) -> int:
    """How many statements run inside loops: what a sweep repeats."""
    total = 0
    for stmt in body:
        if isinstance(stmt, Assign):
            total += in_loop
        elif isinstance(stmt, If):
            total += loop_work(stmt.then, in_loop) + loop_work(stmt.orelse, in_loop)
        elif isinstance(stmt, (For, While)):
            total += loop_work(getattr(stmt, "cond", ()), True) + loop_work(stmt.body, True)
    return total
