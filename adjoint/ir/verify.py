"""The IR verifier: run after lowering in tests and under ``ADJOINT_DEBUG=1``.

Checks the SSA promises: each name defined once, every use after its
definition, every primitive in the rule table with the right arity, and one
``Return`` at the end.
"""
from __future__ import annotations

from ..rules import RULES
from .nodes import Assign, Function, Return, op_vars, value_vars


class IRError(AssertionError):
    pass


def verify(fn: Function) -> None:
    defined = set(fn.param_names)
    if len(defined) != len(fn.params):
        raise IRError("duplicate parameter names")
    if not fn.body or not isinstance(fn.body[-1], Return):
        raise IRError(f"{fn.name}: the body must end with a Return")
    for stmt in fn.body:
        if isinstance(stmt, Assign):
            rule = RULES.get(stmt.op.prim)
            if rule is None:
                raise IRError(f"line {stmt.loc.line}: unknown primitive {stmt.op.prim!r}")
            if len(rule.params) != len(stmt.op.args):
                raise IRError(f"line {stmt.loc.line}: {rule.name} takes {len(rule.params)} arguments")
            used = op_vars(stmt.op)
            if stmt.target.name in defined:
                raise IRError(f"line {stmt.loc.line}: {stmt.target.name} defined twice")
        elif isinstance(stmt, Return):
            used = value_vars(stmt.value)
        else:
            raise IRError(f"unexpected statement {type(stmt).__name__}")
        for var in used:
            if var.name not in defined:
                raise IRError(f"line {stmt.loc.line}: {var.name} used before its definition")
        if isinstance(stmt, Assign):
            defined.add(stmt.target.name)
