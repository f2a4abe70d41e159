"""Cleanup: drop forward statements whose values neither the result nor the adjoint reads.

Every primitive is pure, so removing an unread definition never changes a result.
"""
from __future__ import annotations

import ast
from typing import Iterable

from ..ir.nodes import Assign, Stmt, Return, op_vars, value_vars


def names_in(expressions: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for expr in expressions:
        out |= {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}
    return out


def live_forward(body: tuple[Stmt, ...], extra_uses: set[str]) -> tuple[Stmt, ...]:
    """The statements of ``body`` needed for its return value and for ``extra_uses``."""
    needed = set(extra_uses)
    kept: list[Stmt] = []
    for stmt in reversed(body):
        if isinstance(stmt, Return):
            needed |= {v.name for v in value_vars(stmt.value)}
            kept.append(stmt)
        elif isinstance(stmt, Assign) and stmt.target.name in needed:
            needed |= {v.name for v in op_vars(stmt.op)}
            kept.append(stmt)
    return tuple(reversed(kept))
