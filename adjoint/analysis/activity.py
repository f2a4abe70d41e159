"""Activity analysis: which SSA values need a cotangent.

A value is *active* when it depends on a ``wrt`` argument through
differentiable inputs (it varies) and the result depends on it (it is
useful). Only active values get a cotangent. Merges (``Phi``) vary when either
side does and make both sides useful; loops are iterated to a fixed point. A
value that varies and flows into an input whose derivative is not implemented
(``Rule.refuses``) and is useful is an error here, never a silent zero.
"""
from __future__ import annotations

from ..errors import NonDifferentiableError
from ..ir.nodes import Assign, For, Function, If, Return, Stmt, While, value_vars
from ..rules import RULES


def _names(value) -> set[str]:
    return {v.name for v in value_vars(value)}


def _varied(stmts: tuple[Stmt, ...], varied: set[str], passive: frozenset[str]) -> None:
    for stmt in stmts:
        if isinstance(stmt, Assign):
            rule = RULES[stmt.op.prim]
            if stmt.target.name not in passive and any(
                    p in rule.vjp and _names(a) & varied for p, a in zip(rule.params, stmt.op.args)):
                varied.add(stmt.target.name)
        elif isinstance(stmt, If):
            _varied(stmt.then, varied, passive)
            _varied(stmt.orelse, varied, passive)
            varied |= {p.var.name for p in stmt.phis
                       if (_names(p.first) | _names(p.second)) & varied} - passive
        elif isinstance(stmt, (For, While)):
            while True:
                before = len(varied)
                varied |= {p.var.name for p in stmt.carried
                           if (_names(p.first) | _names(p.second)) & varied} - passive
                _varied(stmt.body, varied, passive)
                if len(varied) == before:
                    break


def _useful(stmts: tuple[Stmt, ...], useful: set[str], varied: set[str]) -> None:
    for stmt in reversed(stmts):
        if isinstance(stmt, Return):
            useful |= _names(stmt.value)
        elif isinstance(stmt, Assign):
            if stmt.target.name in useful:
                _assign_useful(stmt, useful, varied)
        elif isinstance(stmt, If):
            for phi in stmt.phis:
                if phi.var.name in useful:
                    useful |= _names(phi.first) | _names(phi.second)
            _useful(stmt.then, useful, varied)
            _useful(stmt.orelse, useful, varied)
        elif isinstance(stmt, (For, While)):
            while True:
                before = len(useful)
                for phi in stmt.carried:
                    if phi.var.name in useful:
                        useful |= _names(phi.first) | _names(phi.second)
                _useful(stmt.body, useful, varied)
                if len(useful) == before:
                    break


def _assign_useful(stmt: Assign, useful: set[str], varied: set[str]) -> None:
    rule = RULES[stmt.op.prim]
    for param, arg in zip(rule.params, stmt.op.args):
        names = _names(arg)
        if param in rule.refuses and names & varied:
            raise NonDifferentiableError(
                f"{stmt.loc.filename}:{stmt.loc.line}: the result depends on a differentiated value "
                f"through argument {param!r} of {rule.name}, which has no derivative there; "
                f"compute that argument from non-differentiated inputs, or use adjoint.custom_vjp "
                f"(line: {stmt.loc.text.strip()})")
        if param in rule.vjp:
            useful |= names


def active_values(fn: Function, wrt: tuple[str, ...]) -> frozenset[str]:
    varied = set(wrt)
    _varied(fn.body, varied, fn.passive)
    useful: set[str] = set()
    _useful(fn.body, useful, varied)
    return frozenset(varied & useful)
