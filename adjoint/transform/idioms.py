"""Idioms: a chain of primitives that one rule of the table computes better.

The logistic sigmoid, as users write it, ``1.0 / (1.0 + np.exp(-z))``, lowers to four
primitives: ``neg``, ``exp``, ``add`` and ``truediv``. Their chained adjoint is
``g * s / t * e`` (``e = exp(-z)``, ``t = 1 + e``, ``s = 1 / t``). Where ``exp(-z)``
overflows (z below about -709 in float64, -88 in float32) that is ``0 / inf * inf``: nan,
where the derivative is 0. It also costs two divisions per element, and a loop's reverse
sweep tapes ``exp(-z)`` to recompute ``s`` from it.

The rule ``logistic`` (``rules/elementwise.py``) has the same forward code and the adjoint
``g * out * (1.0 - out)``: no nan, no division, and a loop tapes the sigmoid itself. This
pass makes the chain that rule where it is one expression: the three intermediates are
compiler temporaries (``t3``, never a name the user wrote, whose line the generated code
would lose), each read once, by the next link, in the same block. ``1`` or ``1.0`` on
either side of the ``+``; ``np.exp`` or ``math.exp`` (rule ``math.logistic``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from ..codegen.fold import TEMPORARY
from ..ir.nodes import Assign, Const, For, Function, If, Op, Stmt, Var, While, statement_reads, walk

# the exp rule of a chain -> the rule of the whole chain
LOGISTIC = {"exp": "logistic", "math.exp": "math.logistic"}


def _one(value: object) -> bool:
    return isinstance(value, Const) and type(value.value) in (int, float) and value.value == 1


def _link(value: object, defs: dict[str, Assign], reads: Counter, prims: tuple[str, ...]) -> Assign | None:
    """The statement of this block defining ``value``, if it is a temporary read once and
    an application of one of ``prims``."""
    if not isinstance(value, Var) or reads[value.name] != 1 or not TEMPORARY.fullmatch(value.name):
        return None
    stmt = defs.get(value.name)
    return stmt if stmt is not None and stmt.op.prim in prims else None


def _logistic(stmt: Assign, defs: dict[str, Assign], reads: Counter) -> tuple[Assign, list[Assign]] | None:
    """``stmt`` as one application of the logistic rule, and the links it replaces; None
    if ``stmt`` does not end such a chain."""
    op = stmt.op
    if op.prim != "truediv" or not _one(op.args[0]):
        return None
    total = _link(op.args[1], defs, reads, ("add",))
    if total is None:
        return None
    x, y = total.op.args
    exp = _link(y if _one(x) else x if _one(y) else None, defs, reads, tuple(LOGISTIC))
    neg = exp and _link(exp.op.args[0], defs, reads, ("neg",))
    if neg is None:
        return None
    return replace(stmt, op=Op(LOGISTIC[exp.op.prim], neg.op.args)), [neg, exp, total]


def _block(stmts: tuple[Stmt, ...], reads: Counter) -> tuple[Stmt, ...]:
    defs = {s.target.name: s for s in stmts if isinstance(s, Assign)}
    rewritten: dict[int, Stmt] = {}
    dropped: set[int] = set()
    for stmt in stmts:
        if isinstance(stmt, Assign) and (found := _logistic(stmt, defs, reads)) is not None:
            rewritten[id(stmt)], links = found
            dropped |= {id(link) for link in links}
    out = []
    for stmt in stmts:
        if id(stmt) in dropped:
            continue
        stmt = rewritten.get(id(stmt), stmt)
        if isinstance(stmt, If):
            stmt = replace(stmt, then=_block(stmt.then, reads), orelse=_block(stmt.orelse, reads))
        elif isinstance(stmt, For):
            stmt = replace(stmt, body=_block(stmt.body, reads))
        elif isinstance(stmt, While):
            stmt = replace(stmt, cond=_block(stmt.cond, reads), body=_block(stmt.body, reads))
        out.append(stmt)
    return tuple(out)


def rewrite_idioms(fn: Function) -> Function:
    """``fn`` with each logistic chain made one ``logistic`` application."""
    reads = Counter(v.name for stmt in walk(fn.body) for v in statement_reads(stmt))
    body = _block(fn.body, reads)
    return fn if body == fn.body else replace(fn, body=body)
