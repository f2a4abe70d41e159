"""Reverse transform of regions: ``if`` and ``for``, and what the loops must tape.

``if``: the adjoint is an ``if`` on the same condition, each branch reversing its
own statements; a merged value's cotangent goes to the side that was taken.

``for``: the adjoint is a loop with the same trip count, run backwards. Each
iteration first pops the values the forward iteration taped (values defined in
the loop that the adjoint reads: they are overwritten by the next iteration),
hands the cotangent of each carried value to its update, reverses the body, and
leaves behind the cotangent of the carried value at the start of the iteration.
Cotangents of values from outside the loop are accumulated in place in arrays
the adjoint owns, created before the loop. A carried array's cotangent that the loop
made its own stays its own after it, if the body leaves it so (no second copy for the
next loop that writes the array).
"""
from __future__ import annotations

import ast

from ..codegen.render import render
from ..ir.nodes import (Assign, Const, For, If, Stmt, Var, While, array_versions, defined_names, op_vars,
                        walk,
                        trace_writes)
from ..rules import RULES
from ..rules.elementwise import FUNCTION_OF
from .cleanup import names_in
from .reverse import AdjFor, AdjIf, AdjNode, AdjStmt, Cotangents, Tape, node_reads, reverse_assign


def _refs(nodes: list[AdjNode] | tuple[AdjNode, ...]) -> set[str]:
    """Primal and cotangent names the adjoint nodes read from before them (a value a
    region recomputes or pops for itself is not read from before it: an inner loop that
    pops ``z`` at the start of each iteration needs no ``z`` from the outer one)."""
    out: set[str] = set()
    local = {name for n in nodes if isinstance(n, AdjStmt) and n.kind in ("recompute", "pop")
             for name in n.target.split(", ")}
    for node in nodes:
        out |= node_reads(node)
        if isinstance(node, AdjIf):
            out |= _refs(node.then) | _refs(node.orelse)
        elif isinstance(node, AdjFor):
            out |= _refs(node.body)
    return out - local


def adjoint_reads(nodes: tuple[AdjNode, ...]) -> set[str]:
    """Every name the adjoint reads (the forward must compute them)."""
    return _refs(nodes)


def direct_names(stmts: tuple[Stmt, ...]) -> tuple[set[str], set[str]]:
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
    def __init__(self, active: frozenset[str], written: frozenset[str] = frozenset(),
                 restore: frozenset[str] = frozenset(), final: frozenset[str] = frozenset(),
                 ranks: dict[str, int] | None = None, views: frozenset[str] = frozenset(),
                 recompute_branches: bool = False) -> None:
        self.active = active
        # for adjoint.hessian: the adjoint of a branch (outside loops) computes again the
        # values of the forward branch it reads, so that it reads none across the two ifs
        # (``if c: t = x ** 2`` ... ``if c: ... t``), which adjoint's subset refuses
        self.recompute_branches = recompute_branches
        self.ranks = ranks or {}  # known ranks: an array of libm results is taped, not recomputed
        self.written = written  # arrays element writes update: recomputed from only by...
        self.final = final  # ...these element reads, which no later write changes
        self.views = views  # views of the written arrays, which see their writes: never recomputed from
        self.restore = restore  # undo element writes into these (reverse.reverse decides)
        self.loop_depth = 0
        self.values: set[str] = set()
        self.iteration: set[str] = set()
        self.exits: set[str] = set()
        self.regions: set[tuple[str, ...]] = set()

    def tape(self) -> Tape:
        return Tape(frozenset(self.values), frozenset(self.iteration), frozenset(self.exits),
                    frozenset(self.regions))

    def block(self, stmts: tuple[Stmt, ...], cot: Cotangents) -> None:
        computed = self._computed(stmts)
        for stmt in reversed(stmts):
            if isinstance(stmt, Assign):
                if stmt.target.name in self.active and stmt.target.name in cot.bars \
                        or stmt.op.prim == "setitem":  # a write is always undone
                    reverse_assign(stmt, self.active, cot, stmt.op.prim == "setitem"
                                   and getattr(stmt.op.args[0], "name", None) in self.restore, computed)
            elif isinstance(stmt, If):
                self.reverse_if(stmt, cot)
            elif isinstance(stmt, (For, While)):
                self.reverse_for(stmt, cot)

    def _computed(self, stmts: tuple[Stmt, ...]) -> dict[tuple[str, str], str]:
        """The function calls of the block's statements, (NumPy name, argument) -> the name
        of the value: the adjoint of ``s = math.sin(theta)`` reads ``c`` of ``c =
        math.cos(theta)`` rather than call cos again (a Rodrigues rotation computes both).
        Not an array element writes update: it may hold other values where an adjoint reads it."""
        out: dict[tuple[str, str], str] = {}
        for stmt in stmts:
            if isinstance(stmt, Assign) and stmt.op.prim in FUNCTION_OF and len(stmt.op.args) == 1 and not {
                    stmt.target.name, *(v.name for v in op_vars(stmt.op))} & (self.written | self.views):
                out.setdefault((FUNCTION_OF[stmt.op.prim], render(stmt.op.args[0])), stmt.target.name)
        return out

    def _recomputed(self, stmts: tuple[Stmt, ...], read: set[str], unavailable: set[str],
                    same: dict[str, str], given: set[str] = frozenset(),
                    everything: bool = False) -> list[Assign]:
        """The region's direct definitions the adjoint reads that are cheap to recompute
        from values it has (values from outside the region, a regenerated loop index,
        literals, values it pops anyway, other recomputed values, a carried array that is
        the array it was on entry, the ``given`` values), with what they are computed from,
        in order. ``everything``: not only the cheap ones (any but element writes)."""
        defs = {s.target.name: s for s in stmts if isinstance(s, Assign)}

        def cheap(stmt: Assign) -> bool:
            if everything:
                return stmt.op.prim != "setitem"
            recompute = RULES[stmt.op.prim].recompute
            return recompute is True or recompute == "numbers" and not self.ranks.get(stmt.target.name)

        def ok(stmt: Assign) -> bool:  # values the adjoint reads are at hand: popped or recomputed
            # an array element writes update is never made again: a new one would lack the
            # writes, and the versions of a carried array are the very array on entry (``same``)
            return cheap(stmt) and stmt.target.name not in self.written and all(
                (v.name not in self.written or stmt.target.name in self.final) and v.name not in self.views and (
                    v.name not in unavailable or v.name in read or v.name in same or v.name in given
                    or v.name in defs and ok(defs[v.name]))
                for v in op_vars(stmt.op))

        wanted = {name for name in read - given if name in defs and ok(defs[name])}
        todo = list(wanted)
        while todo:  # what they are computed from, unless it is popped
            for v in op_vars(defs[todo.pop()].op):
                if v.name in defs and not {v.name} & (wanted | read | same.keys() | given):
                    wanted.add(v.name)
                    todo.append(v.name)
        return [s for s in stmts if isinstance(s, Assign) and s.target.name in wanted]

    def _pops(self, stmts: tuple[Stmt, ...], nodes: list[AdjNode], loc, extra: set[str] = frozenset(),
              same: dict[str, str] | None = None, updates: dict[str, str] | None = None) -> list[AdjNode]:
        """At the start of a region's reverse, pop the values it defined that the adjoint
        reads, or recompute them when that is cheap. ``same``: the versions of a carried
        array that element writes update, which stay the same array through the loop (the
        value on entry). ``updates``: for a loop in no other loop, each carried value's
        update, by the carried value: before the pop, the carried value still holds what the
        next iteration started from (or, first, what the loop ended with), which is this
        iteration's update (``u_1 = u``), so the update is neither taped nor recomputed."""
        same = same or {}
        values, exits = direct_names(stmts)
        read = _refs(nodes)
        nexts = {s: p for s, p in (updates or {}).items() if s in values}
        while True:
            redo = self._recomputed(stmts, read, values | exits | set(extra), same, set(nexts))
            needs = read | set().union(*(names_in([_forward_text(s)]) for s in redo))
            # only where the carried value is popped anyway, and the update is needed at all
            kept = {s: p for s, p in nexts.items() if p in needs and s in needs}
            if kept == nexts:
                break
            nexts = kept
        read = needs - set(nexts)
        values -= {s.target.name for s in redo} | set(nexts)
        aliased = sorted(name for name in same if name in read)
        read |= {same[name] for name in aliased}
        values -= set(aliased)
        extra = set(extra) - set(aliased)
        self.values |= values & read
        self.exits |= exits & read
        self.iteration |= extra & read
        names = tuple(sorted((values | exits | extra) & read))
        pops = []
        if names:  # the forward pushed them together, at the end of the region
            self.regions.add(names)
            pops.append(AdjStmt("pop", ", ".join(names), "", loc))
        return [AdjStmt("recompute", name, nexts[name], loc) for name in sorted(nexts)] + pops + \
            [AdjStmt("recompute", name, same[name], loc) for name in aliased] + \
            [AdjStmt("recompute", s.target.name, _forward_text(s), s.loc) for s in redo]

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
                pre.append(AdjStmt("assign", bar, cot.zero(var), loc))
                cot.owned.add(bar)
                known.add(var)
            elif own and bar not in cot.owned:
                pre.append(AdjStmt("assign", bar, f"copy_of({bar})", loc))  # a copy we own
                cot.owned.add(bar)
        return pre

    def _in_place(self, stmt: If, phis: list, cot: Cotangents) -> dict[str, str]:
        """In a loop, the merges of an array that element writes update in place, by the
        array as the ``if`` found it (``y_2``), where every path through both branches leads
        back to it through writes and inner merges only, and nothing else gave it a cotangent
        yet. Its cotangent is then each branch's own, handed on from the merge's: the
        branches update one array in place instead of each adding into a zero array made
        before the ``if`` (a copy and a sum of the whole array per iteration, where the
        forward wrote one element)."""
        if not self.loop_depth:
            return {}
        out: dict[str, str] = {}
        for phi in phis:
            if phi.var.name not in self.written:
                continue
            # every path through both branches ends at one array defined before the if
            ends = trace_writes(phi.first, stmt.then)[1] | trace_writes(phi.second, stmt.orelse)[1]
            if len(ends) == 1:
                (x,) = ends
                if x and x in self.active and x in self.written and x not in cot.bars \
                        and not cot.is_outer(x) and x not in out.values():
                    out[phi.var.name] = x
        return out

    def reverse_if(self, stmt: If, cot: Cotangents) -> None:
        phis = [p for p in stmt.phis if p.var.name in self.active and p.var.name in cot.bars]
        known = set(cot.bars)
        in_place = self._in_place(stmt, phis, cot)
        origins = set(in_place.values())
        sides = []
        children = []
        for stmts, take in ((stmt.then, lambda p: p.first), (stmt.orelse, lambda p: p.second)):
            child = cot.child(_defined(stmts) | origins, False)
            for phi in phis:
                value = take(phi)
                if isinstance(value, Var) and value.name in self.active:
                    fresh = value.name not in child.bars
                    child.add(value.name, cot.bars[phi.var.name], stmt.loc)
                    if phi.var.name in in_place and fresh and cot.writable(cot.bars[phi.var.name]):
                        # the merge's cotangent is read no more: this branch may update it
                        child.owned.add(child.bars[value.name])
            self.block(stmts, child)
            for x in sorted(origins - child.bars.keys()):  # nothing flowed back on this side
                child.out.append(AdjStmt("assign", child.bar(x), cot.zero(x), stmt.loc))
                child.owned.add(child.bars[x])
            body = list(child.out)
            if self.loop_depth and body:
                body = self._pops(stmts, body, stmt.loc) + body
            elif self.recompute_branches and body:
                values, exits = direct_names(stmts)
                redo = self._recomputed(stmts, _refs(body), values | exits, {}, everything=True)
                body = [AdjStmt("recompute", s.target.name, _forward_text(s), s.loc) for s in redo] + body
            sides.append(tuple(body))
            children.append(child)
        if not sides[0] and not sides[1]:
            return
        for child in children:
            cot.out.extend(self._materialize(cot, child, known, stmt.loc))
        cot.out.append(AdjIf(render(stmt.cond), sides[0], sides[1], stmt.loc))
        for x in sorted(origins):  # each branch set it: ours if it is ours in both
            bar = cot.bar(x)
            if all(child.writable(bar) for child in children):
                cot.owned.add(bar)

    def _owned_carried(self, stmt: For | While, carried: list, swap: bool,
                       ranks: dict[str, int]) -> list:
        """The carried arrays the body writes into whose cotangents can be ours for the whole
        loop (see reverse_for)."""
        if swap:
            return []
        arrays = [p for p in carried if p.var.name in self.written]
        others = [p for p in carried if ranks.get(p.var.name) != 0]
        if len(others) == 1:  # the one carried array: its cotangent shares memory with nothing
            return arrays
        owned = []
        for p in arrays:
            versions, in_place = array_versions(p, stmt.body, through_loops=True)
            if in_place and not any(_carried_names(q) & versions for q in others if q is not p):
                owned.append(p)
        return owned

    def reverse_for(self, stmt: For | While, cot: Cotangents) -> None:
        carried = [p for p in stmt.carried if p.var.name in self.active]
        if not carried and not any(isinstance(s, Assign) and s.op.prim == "setitem" for s in walk(stmt.body)):
            return  # no cotangent flows through it (a tangent region's inner loop)
        known = set(cot.bars)
        pre: list[AdjNode] = []
        for phi in carried:
            if phi.var.name not in cot.bars:  # nothing after the loop reads it: it starts at zero
                pre.append(AdjStmt("assign", cot.bar(phi.var.name), cot.zero(phi.var.name), stmt.loc))
        index = {stmt.index.name} if isinstance(stmt, For) else set()
        defined = _defined(stmt.body) | index | {p.var.name for p in stmt.carried}
        child = cot.child(defined, True)
        carried_names = {p.var.name for p in stmt.carried}
        swap = any(isinstance(p.second, Var) and p.second.name in carried_names for p in carried)
        # A carried array that element writes update in place (and that no other carried
        # value is a version of) has a cotangent that shares memory with nothing else that
        # lives from one iteration to the next (the frontend refuses other names for an array
        # it writes into): once it is ours, each iteration may update it in place. An element
        # write's adjoint then zeroes its element instead of copying the whole cotangent
        # (O(1), not O(n), per write), also when other arrays are carried along with it.
        owned = self._owned_carried(stmt, carried, swap, cot.ranks)
        for phi in owned:
            bar = cot.bar(phi.var.name)
            fresh = any(isinstance(n, AdjStmt) and n.target == bar for n in pre)
            if not fresh and bar not in cot.owned:
                pre.append(AdjStmt("assign", bar, f"copy_of({bar})", stmt.loc))
        incoming = {}
        for phi in carried:
            bar = cot.bar(phi.var.name)
            if swap:  # a, b = b, a: read every incoming cotangent before any is replaced
                incoming[phi.var.name] = cot.names.fresh(f"{bar}_next")
                child.out.append(AdjStmt("assign", incoming[phi.var.name], bar, stmt.loc))
            else:
                incoming[phi.var.name] = bar
            child.bars.pop(phi.var.name, None)  # fresh in every iteration
            child.disown(bar)
        self.loop_depth += 1
        for phi in carried:
            if isinstance(phi.second, Var) and phi.second.name in self.active:
                child.add(phi.second.name, incoming[phi.var.name], stmt.loc)
                if phi in owned:
                    child.owned.add(child.bars[phi.second.name])
        self.block(stmt.body, child)
        for phi in carried:
            if phi.var.name not in child.bars:  # nothing flowed back to the start of this iteration
                child.out.append(AdjStmt("assign", cot.bar(phi.var.name), cot.zero(phi.var.name), stmt.loc))
        same = {}  # every version of an array the body updates in place: the array on entry
        for p in stmt.carried:
            versions, in_place = array_versions(p, stmt.body)
            if p.var.name in self.written and isinstance(p.first, Var) and in_place:
                same.update(dict.fromkeys(versions, p.first.name))
        updates = {p.second.name: p.var.name for p in stmt.carried
                   if self.loop_depth == 1 and isinstance(p.second, Var) and p.var.name not in self.written}
        body = self._pops(stmt.body, child.out, stmt.loc, carried_names, same, updates) + child.out
        self.loop_depth -= 1
        pre += self._materialize(cot, child, known, stmt.loc)
        cot.out.extend(pre)
        if isinstance(stmt, For):  # the index runs backwards: it need not be taped
            cot.out.append(AdjFor(stmt.index.name, reversed_range_text(stmt), tuple(body), stmt.loc,
                                  frozenset(defined_names(stmt.body))))
        else:
            cot.out.append(AdjFor("_", f"range({stmt.count.name})", tuple(body), stmt.loc,
                                  frozenset(defined_names(stmt.body))))
        # An owned array's cotangent, ours at the start of every iteration, is ours after the
        # loop too when the body leaves it ours (every iteration then hands the next one an
        # array of ours): a first contribution it makes to the value the loop started from
        # passes it on, as the last use of its name (no second copy_of for a later loop).
        ours = [p for p in owned if p.var.name in child.bars and child.writable(child.bars[p.var.name])]
        for phi in carried:
            cot.disown(cot.bars[phi.var.name])
            if isinstance(phi.first, Var) and phi.first.name in self.active:
                first = phi.first.name
                passed = phi in ours and first not in cot.bars and not cot.is_outer(first)
                cot.add(first, cot.bars[phi.var.name], stmt.loc)
                if passed:
                    cot.owned.add(cot.bars[first])


def _carried_names(phi) -> set[str]:
    return {v.name for v in (phi.first, phi.second) if isinstance(v, Var)}


def _forward_text(stmt: Assign) -> str:
    rule = RULES[stmt.op.prim]
    return rule.render_forward({p: render(a) for p, a in zip(rule.params, stmt.op.args)})


def reversed_range_text(stmt: For) -> str:
    """The loop's range, last index first: ``range(n - 1, -1, -1)`` for ``range(n)``."""
    start, stop, step = stmt.start, stmt.stop, stmt.step
    if isinstance(step, Const) and step.value in (1, -1):
        sign = step.value
        last, before = (f"{render(b)} {'-' if sign == 1 else '+'} 1" if not isinstance(b, Const)
                        else repr(b.value - sign) for b in (stop, start))
        # range(a, b) reversed is range(b - 1, a - 1, -1): empty exactly when range(a, b) is
        return f"range({last}, {before}, {-sign})" if sign == 1 else f"range({last}, {before})"
    a, c = render(start), render(step)
    return f"range({a} + ({trip_count_text(stmt)} - 1) * {c}, {a} - {c}, -{c})"


def trip_count_text(stmt: For) -> str:
    """How many times the loop runs: ``n`` for ``range(n)``, else ``len(range(...))``."""
    text, stop = range_text(stmt), render(stmt.stop)
    return stop if text == f"range({stop})" else f"len({text})"


def range_text(stmt: For) -> str:
    """``range(stop)``, ``range(start, stop)`` or ``range(start, stop, step)``, as short as exact."""
    start, stop, step = (render(b) for b in (stmt.start, stmt.stop, stmt.step))
    if step == "1":
        return f"range({stop})" if start == "0" else f"range({start}, {stop})"
    return ast.unparse(ast.parse(f"range({start}, {stop}, {step})", mode="eval"))  # range(b, a, -1)
