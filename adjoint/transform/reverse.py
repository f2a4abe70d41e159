"""Reverse transform: the adjoint statements of a straight-line SSA function.

Assumes an ``ir.Function`` and its active set. Promises an ``Adjoint``: the
statements that compute every ``wrt`` cotangent, in reverse topological order
of the forward statements, each tagged with the location of the forward
statement it reverses. The first contribution to a cotangent assigns it, later
ones add to it (the sum at fan-out); an index read scatters its cotangent into
a zero-initialised array. A cotangent is only updated in place once adjoint
owns its array (it allocated it), so no contribution can write into another
cotangent that happens to share its memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..codegen.naming import Names
from ..codegen.render import render
from ..ir.nodes import Assign, Const, Function, Loc, Return, Tup, Value, Var
from ..rules import RULES, SCATTER
from ..rules.registry import VjpContext

Kind = Literal["assign", "add", "accumulate", "scatter"]


@dataclass(frozen=True)
class AdjStmt:
    """``target = expr`` / ``target = target + expr`` / ``target += expr`` / ``target[index] += expr``."""

    kind: Kind
    target: str
    expr: str
    loc: Loc
    index: str = ""


@dataclass(frozen=True)
class Adjoint:
    wrt: tuple[str, ...]
    seed: str
    statements: tuple[AdjStmt, ...]
    grads: tuple[str, ...]


@dataclass
class _Cotangents:
    names: Names
    bars: dict[str, str] = field(default_factory=dict)
    owned: set[str] = field(default_factory=set)
    out: list[AdjStmt] = field(default_factory=list)

    def add(self, var: str, expr: str, loc: Loc, index: str | None = None) -> None:
        bar = self.bars.get(var)
        if index is not None:
            if bar is None:
                bar = self.bars[var] = self.names.cotangent(var)
                self.out.append(AdjStmt("assign", bar, f"zero_like({var})", loc))
            elif bar not in self.owned:
                self.out.append(AdjStmt("assign", bar, f"{bar}.copy()", loc))
            self.owned.add(bar)
            self.out.append(AdjStmt("scatter", bar, expr, loc, index))
        elif bar is None:
            bar = self.bars[var] = self.names.cotangent(var)
            self.out.append(AdjStmt("assign", bar, expr, loc))
        elif bar in self.owned:
            self.out.append(AdjStmt("accumulate", bar, expr, loc))
        else:
            self.out.append(AdjStmt("add", bar, expr, loc))
            self.owned.add(bar)


def reverse(fn: Function, wrt: tuple[str, ...], active: frozenset[str]) -> Adjoint:
    names = Names(set(fn.names), set())
    cot = _Cotangents(names)
    ret = fn.body[-1]
    assert isinstance(ret, Return)
    if isinstance(ret.value, Var):
        seed = cot.bars[ret.value.name] = names.cotangent(ret.value.name)
    else:
        seed = names.cotangent(fn.name)
    for stmt in reversed(fn.body[:-1]):
        if isinstance(stmt, Assign) and stmt.target.name in active and stmt.target.name in cot.bars:
            _reverse_assign(stmt, active, cot)
    grads = []
    for p in wrt:
        if p not in cot.bars:
            cot.bars[p] = names.cotangent(p)
            cot.out.append(AdjStmt("assign", cot.bars[p], f"zero_like({p})", fn.loc))
        grads.append(cot.bars[p])
    return Adjoint(wrt, seed, tuple(cot.out), tuple(grads))


def _reverse_assign(stmt: Assign, active: frozenset[str], cot: _Cotangents) -> None:
    rule = RULES[stmt.op.prim]
    args = dict(zip(rule.params, stmt.op.args))
    rendered = {p: render(a) for p, a in args.items()}
    items = {p: tuple(render(i) for i in a.items) for p, a in args.items() if isinstance(a, Tup)}
    g = cot.bars[stmt.target.name]
    for param, vjp in rule.vjp.items():
        arg = args[param]
        if vjp == SCATTER:
            cot.add(arg.name, g, stmt.loc, index=rendered["index"])
            continue
        if callable(vjp):
            exprs = vjp(VjpContext(rendered, items, stmt.target.name, g))
        else:
            template = _drop_unbroadcast(vjp, param, args)
            exprs = template.format(**rendered, out=stmt.target.name, g=g)
        targets = arg.items if isinstance(arg, Tup) else (arg,)
        exprs = exprs if isinstance(exprs, list) else [exprs]
        for target, expr in zip(targets, exprs):
            if isinstance(target, Var) and target.name in active:
                cot.add(target.name, expr, stmt.loc)


def _drop_unbroadcast(template: str, param: str, args: dict[str, Value]) -> str:
    """``unbroadcast(e, x)`` is just ``e`` when every other operand is a literal number:
    then the output already has x's shape."""
    head, tail = "unbroadcast(", f", {{{param}}})"
    others = [a for p, a in args.items() if p != param]
    if template.startswith(head) and template.endswith(tail) and others and \
            all(isinstance(a, Const) for a in others):
        return template[len(head):-len(tail)]
    return template
