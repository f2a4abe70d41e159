"""The IR verifier: run after lowering in tests and under ``ADJOINT_DEBUG=1``.

Checks the SSA promises: each name defined once, every use after its
definition, every primitive in the rule table with the right arity, and one
``Return`` at the end.
"""
from __future__ import annotations

from ..rules import RULES
from .nodes import Assign, For, Function, If, Return, While, op_vars, value_vars


class IRError(AssertionError):
    pass


def verify(fn: Function) -> None:
    defined = set(fn.param_names)
    if len(defined) != len(fn.params):
        raise IRError("duplicate parameter names")
    if not fn.body or not isinstance(fn.body[-1], Return):
        raise IRError(f"{fn.name}: the body must end with a Return")
    _block(fn.body, defined)


def _use(names, defined: set[str], line: int) -> None:
    for var in names:
        if var.name not in defined:
            raise IRError(f"line {line}: {var.name} used before its definition")


def _define(name: str, defined: set[str], line: int) -> None:
    if name in defined:
        raise IRError(f"line {line}: {name} defined twice")
    defined.add(name)


def _block(stmts, defined: set[str]) -> None:
    for stmt in stmts:
        line = stmt.loc.line
        if isinstance(stmt, Assign):
            rule = RULES.get(stmt.op.prim)
            if rule is None:
                raise IRError(f"line {line}: unknown primitive {stmt.op.prim!r}")
            if len(rule.params) != len(stmt.op.args):
                raise IRError(f"line {line}: {rule.name} takes {len(rule.params)} arguments")
            _use(op_vars(stmt.op), defined, line)
            _define(stmt.target.name, defined, line)
        elif isinstance(stmt, Return):
            _use(value_vars(stmt.value), defined, line)
        elif isinstance(stmt, If):
            _use(value_vars(stmt.cond), defined, line)
            then, orelse = set(defined), set(defined)
            _block(stmt.then, then)
            _block(stmt.orelse, orelse)
            for phi in stmt.phis:
                _use(value_vars(phi.first), then, line)
                _use(value_vars(phi.second), orelse, line)
            defined |= (then & orelse)
            for phi in stmt.phis:
                _define(phi.var.name, defined, line)
        elif isinstance(stmt, (For, While)):
            if isinstance(stmt, For):
                _use(value_vars(stmt.start) + value_vars(stmt.stop) + value_vars(stmt.step), defined, line)
            inner = set(defined)
            for phi in stmt.carried:
                _use(value_vars(phi.first), defined, line)
                _define(phi.var.name, inner, line)
            if isinstance(stmt, For):
                _define(stmt.index.name, inner, line)
            else:
                _block(stmt.cond, inner)
            _block(stmt.body, inner)
            for phi in stmt.carried:
                _use(value_vars(phi.second), inner, line)
            defined |= inner
        else:
            raise IRError(f"unexpected statement {type(stmt).__name__}")
