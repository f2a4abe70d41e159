"""Reverse transform of regions: ``if`` and ``for``, and what the loops must tape.

``if``: the adjoint is an ``if`` on the same condition, each branch reversing its
own statements; a merged value's cotangent goes to the side that was taken.

``for``: the adjoint is a loop with the same trip count, run backwards. Each
iteration first pops the values the forward iteration taped (values defined in
the loop that the adjoint reads: they are overwritten by the next iteration),
hands the cotangent of each carried value to its update, reverses the body, and
leaves behind the cotangent of the carried value at the start of the iteration.
Cotangents of values from outside the loop are accumulated in place in arrays
the adjoint owns, created before the loop.
"""
from __future__ import annotations

from ..codegen.render import render
from ..ir.nodes import Assign, For, If, Stmt, Var, While, defined_names
from .cleanup import names_in
from .reverse import AdjFor, AdjIf, AdjNode, AdjStmt, Cotangents, Tape, reverse_assign


def _refs(nodes: list[AdjNode] | tuple[AdjNode, ...]) -> set[str]:
    """Primal and cotangent names the adjoint nodes read."""
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, AdjStmt):
            if node.kind != "pop":
                out |= names_in([node.expr])
                if node.index:
                    out |= names_in([f"_[{node.index}]"])
                if node.kind == "store":
                    out.add(node.target)
        elif isinstance(node, AdjIf):
            out |= names_in([node.cond]) | _refs(node.then) | _refs(node.orelse)
        elif isinstance(node, AdjFor):
            out |= names_in([node.trip]) | _refs(node.body)
    return out


def adjoint_reads(nodes: tuple[AdjNode, ...]) -> set[str]:
    """Every name the adjoint reads (the forward must compute them)."""
    return _refs(nodes)


def _direct(stmts: tuple[Stmt, ...]) -> tuple[set[str], set[str]]:
    """Names a region defines itself: (values and if-merges, carried values of inner loops)."""
    values: set[str] = set()
    exits: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, Assign):
            values.add(stmt.target.name)
        elif isinstance(stmt, If):
            values |= {p.var.name for p in stmt.phis}
        elif isinstance(stmt, (For, While)):
            exits |= {p.var.name for p in stmt.carried}
    return values, exits


def _defined(stmts: tuple[Stmt, ...]) -> frozenset[str]:
    return frozenset(defined_names(stmts))


class Reverser:
    def __init__(self, active: frozenset[str]) -> None:
        self.active = active
        self.loop_depth = 0
        self.values: set[str] = set()
        self.iteration: set[str] = set()
        self.exits: set[str] = set()

    def tape(self) -> Tape:
        return Tape(frozenset(self.values), frozenset(self.iteration), frozenset(self.exits))

    def block(self, stmts: tuple[Stmt, ...], cot: Cotangents) -> None:
        for stmt in reversed(stmts):
            if isinstance(stmt, Assign):
                if stmt.target.name in self.active and stmt.target.name in cot.bars \
                        or stmt.op.prim == "setitem":  # a write is always undone
                    reverse_assign(stmt, self.active, cot)
            elif isinstance(stmt, If):
                self.reverse_if(stmt, cot)
            elif isinstance(stmt, (For, While)):
                self.reverse_for(stmt, cot)

    def _pops(self, stmts: tuple[Stmt, ...], nodes: list[AdjNode], loc, extra: set[str] = frozenset()) -> list[AdjNode]:
        """Pop, at the start of a region's reverse, the values it defined that the adjoint reads."""
        values, exits = _direct(stmts)
        read = _refs(nodes)
        self.values |= values & read
        self.exits |= exits & read
        self.iteration |= set(extra) & read
        names = sorted(((values | exits | set(extra)) & read))
        return [AdjStmt("pop", name, "", loc) for name in names]

    def _materialize(self, cot: Cotangents, child: Cotangents, known: set[str], loc) -> list[AdjNode]:
        """Create, before a region, the outer cotangents the region adds to (owned ones
        for loops, which add in place); those outer here too are left to the enclosing
        scope. ``known``: the names whose cotangents existed before the region."""
        pre: list[AdjNode] = []
        for var, own in child.outer.items():
            bar = cot.bar(var)
            if cot.is_outer(var):
                cot.outer[var] = cot.outer.get(var, False) or own
                if cot.outer_owned or own:
                    cot.owned.add(bar)
                continue
            if var not in known:
                pre.append(AdjStmt("assign", bar, f"zero_like({var})", loc))
                cot.owned.add(bar)
                known.add(var)
            elif own and bar not in cot.owned:
                pre.append(AdjStmt("assign", bar, f"{bar} + zero_like({var})", loc))  # a copy we own
                cot.owned.add(bar)
        return pre

    def reverse_if(self, stmt: If, cot: Cotangents) -> None:
        phis = [p for p in stmt.phis if p.var.name in self.active and p.var.name in cot.bars]
        known = set(cot.bars)
        sides = []
        children = []
        for stmts, take in ((stmt.then, lambda p: p.first), (stmt.orelse, lambda p: p.second)):
            child = cot.child(_defined(stmts), False)
            for phi in phis:
                value = take(phi)
                if isinstance(value, Var) and value.name in self.active:
                    child.add(value.name, cot.bars[phi.var.name], stmt.loc)
            self.block(stmts, child)
            body = list(child.out)
            if self.loop_depth and body:
                body = self._pops(stmts, body, stmt.loc) + body
            sides.append(tuple(body))
            children.append(child)
        if not sides[0] and not sides[1]:
            return
        for child in children:
            cot.out.extend(self._materialize(cot, child, known, stmt.loc))
        cot.out.append(AdjIf(render(stmt.cond), sides[0], sides[1], stmt.loc))

    def reverse_for(self, stmt: For | While, cot: Cotangents) -> None:
        carried = [p for p in stmt.carried if p.var.name in self.active]
        known = set(cot.bars)
        pre: list[AdjNode] = []
        for phi in carried:
            if phi.var.name not in cot.bars:  # nothing after the loop reads it: it starts at zero
                pre.append(AdjStmt("assign", cot.bar(phi.var.name), f"zero_like({phi.var.name})", stmt.loc))
        index = {stmt.index.name} if isinstance(stmt, For) else set()
        defined = _defined(stmt.body) | index | {p.var.name for p in stmt.carried}
        child = cot.child(defined, True)
        carried_names = {p.var.name for p in stmt.carried}
        swap = any(isinstance(p.second, Var) and p.second.name in carried_names for p in carried)
        incoming = {}
        for phi in carried:
            bar = cot.bar(phi.var.name)
            if swap:  # a, b = b, a: read every incoming cotangent before any is replaced
                incoming[phi.var.name] = cot.names.fresh(f"{bar}_next")
                child.out.append(AdjStmt("assign", incoming[phi.var.name], bar, stmt.loc))
            else:
                incoming[phi.var.name] = bar
            child.bars.pop(phi.var.name, None)  # fresh in every iteration
            child.owned.discard(bar)
        self.loop_depth += 1
        for phi in carried:
            if isinstance(phi.second, Var) and phi.second.name in self.active:
                child.add(phi.second.name, incoming[phi.var.name], stmt.loc)
        self.block(stmt.body, child)
        for phi in carried:
            if phi.var.name not in child.bars:  # nothing flowed back to the start of this iteration
                child.out.append(AdjStmt("assign", cot.bar(phi.var.name), f"zero_like({phi.var.name})", stmt.loc))
        extra = index | carried_names
        body = self._pops(stmt.body, child.out, stmt.loc, extra) + child.out
        self.loop_depth -= 1
        pre += self._materialize(cot, child, known, stmt.loc)
        cot.out.extend(pre)
        trip = f"len({range_text(stmt)})" if isinstance(stmt, For) else stmt.count.name
        cot.out.append(AdjFor(trip, tuple(body), stmt.loc))
        for phi in carried:
            cot.owned.discard(cot.bars[phi.var.name])
            if isinstance(phi.first, Var) and phi.first.name in self.active:
                cot.add(phi.first.name, cot.bars[phi.var.name], stmt.loc)


def range_text(stmt: For) -> str:
    """``range(stop)``, ``range(start, stop)`` or ``range(start, stop, step)``, as short as exact."""
    start, stop, step = (render(b) for b in (stmt.start, stmt.stop, stmt.step))
    if step == "1":
        return f"range({stop})" if start == "0" else f"range({start}, {stop})"
    return f"range({start}, {stop}, {step})"
