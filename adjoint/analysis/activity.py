"""Activity analysis: which SSA values need a cotangent.

A value is *active* when it depends on a ``wrt`` argument through
differentiable inputs (it varies) and the result depends on it (it is
useful). Only active values get a cotangent. A value that varies and flows
into an input whose derivative is not implemented (``Rule.refuses``) and is
useful is an error here, never a silent zero.
"""
from __future__ import annotations

from ..errors import NonDifferentiableError
from ..ir.nodes import Assign, Function, Return, value_vars
from ..rules import RULES


def active_values(fn: Function, wrt: tuple[str, ...]) -> frozenset[str]:
    varied = set(wrt)
    for stmt in _assigns(fn):
        rule = RULES[stmt.op.prim]
        for param, arg in zip(rule.params, stmt.op.args):
            if param in rule.vjp and any(v.name in varied for v in value_vars(arg)):
                varied.add(stmt.target.name)
    useful = {v.name for v in value_vars(_return(fn).value)}
    for stmt in reversed(_assigns(fn)):
        if stmt.target.name not in useful:
            continue
        rule = RULES[stmt.op.prim]
        for param, arg in zip(rule.params, stmt.op.args):
            names = {v.name for v in value_vars(arg)}
            if param in rule.refuses and names & varied:
                raise NonDifferentiableError(
                    f"{stmt.loc.filename}:{stmt.loc.line}: the result depends on a differentiated value "
                    f"through argument {param!r} of {rule.name}, which has no derivative there; "
                    f"compute that argument from non-differentiated inputs, or use adjoint.custom_vjp "
                    f"(line: {stmt.loc.text.strip()})")
            if param in rule.vjp:
                useful |= names
    return frozenset(varied & useful)


def _assigns(fn: Function) -> list[Assign]:
    return [s for s in fn.body if isinstance(s, Assign)]


def _return(fn: Function) -> Return:
    ret = fn.body[-1]
    assert isinstance(ret, Return), "the IR of a function ends with its return"
    return ret
