"""Lowering of structured control flow: ``if``/``elif``/``else``, conditional
expressions, ``and``/``or``, and ``for`` loops over ``range``.

A region (a branch, a loop body) is lowered into its own statement tuple.
Names a region changes are merged by ``Phi`` nodes: after an ``if``, a name
with different values in the two branches gets a new SSA value; in a loop,
each name assigned in the body that existed before the loop is carried (its
``Phi`` holds the value on entry and the body's update). Names defined on one
path only are not visible afterwards.
"""
from __future__ import annotations

import ast
import builtins
import copy

from ..analysis.groups import Groups
from ..ir.nodes import (Assign, Const, For, If, Op, Phi, Stmt, Tup, Value, Var, While, array_versions, definitions,
                        int_literal, value_key, written_arrays)


def _stored_names(body: list[ast.stmt]) -> list[str]:
    """Names a block assigns, in order of first assignment."""
    out: list[str] = []
    for stmt in body:
        for node in ast.walk(stmt):
            name = None
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                name = node.id
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                name = node.target.id
            elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and (
                    isinstance(node.ctx, ast.Store)):  # y[i] = ...: a new version of y
                name = node.value.id
            if name is not None and name not in out:
                out.append(name)
    return out


def _loads(node: ast.AST | None) -> list[ast.Name]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)] \
        if node is not None else []


def _exposed_reads(body: list[ast.stmt], test: ast.expr | None = None) -> list[ast.Name]:
    """The names an iteration of a loop may read before it assigns them: what it reads of the
    iteration before (conservative: an assignment counts after it in its own block, and
    after an ``if`` only if it comes before the ``if``)."""
    out = _loads(test)

    def block(stmts: list[ast.stmt], assigned: set[str]) -> None:
        for stmt in stmts:
            if isinstance(stmt, ast.If):  # (break and continue leave the rest under an if)
                out.extend(n for n in _loads(stmt.test) if n.id not in assigned)
                block(stmt.body, set(assigned))
                block(stmt.orelse, set(assigned))
                continue
            reads = _loads(stmt)
            if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                reads.append(stmt.target)  # y += e reads y
            out.extend(n for n in reads if n.id not in assigned)
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                assigned |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)
                             and isinstance(n.ctx, ast.Store)}
    block(body, set())
    return out


# Rules whose result may share memory with their input (NumPy views; np.float64 of a
# float64 array is that very array).
VIEWS = frozenset({"getitem", "reshape", "transpose", "ravel", "float64"})


def _sharing(names, *paths: dict[str, object]) -> list[set[str]]:
    """Classes of ``names`` that may name one array: two names do if they name the same
    array on one of the paths (each maps a name to its array object), and the relation
    is closed transitively (conservative)."""
    groups = Groups()
    for path in paths:
        first: dict[int, str] = {}
        for n in names:
            obj = path.get(n)
            if obj is not None:
                groups.join(n, first.setdefault(id(obj), n))
    classes: dict[str, set[str]] = {}
    for n in names:
        classes.setdefault(groups.find(n), set()).add(n)
    return list(classes.values())


def _merged_identity(env: dict, before: dict, then_identity: dict, else_identity: dict) -> dict:
    """The array objects the names visible after an ``if`` hold: a name that holds one array
    on one path and another on the other shares an object with every name that holds either
    (``w = y`` in one branch, ``w = q`` in the other: writing into w may change y)."""
    out = dict(before)
    names = [n for n in env if n in then_identity and n in else_identity]
    for group in _sharing(names, then_identity, else_identity):
        objs = {id(then_identity[n]) for n in group} | {id(else_identity[n]) for n in group}
        shared = then_identity[next(iter(group))] if len(objs) == 1 else object()
        for n in group:
            out[n] = shared
    return out


class ControlLowering:
    """Mixed into ``Lowering``; uses its ``env``, ``body``, ``names`` and ``expr``."""

    def region(self, stmts: list[ast.stmt]) -> tuple[Stmt, ...]:
        saved_body, saved_computed = self.body, dict(self.computed)
        self.body = []
        try:
            for stmt in stmts:
                self.statement(stmt)
            return tuple(self.body)
        finally:
            self.body, self.computed = saved_body, saved_computed

    def region_value(self, node: ast.expr) -> tuple[tuple[Stmt, ...], Value]:
        saved_body, saved_computed = self.body, dict(self.computed)
        self.body = []
        try:
            value = self.expr(node)
            return tuple(self.body), value
        finally:
            self.body, self.computed = saved_body, saved_computed

    def _same(self, a: Value, b: Value) -> bool:
        return value_key(a) == value_key(b)

    def _phi_int(self, var: Var, *values: Value) -> None:
        sources = [self._int_sources(v) for v in values]
        if all(s is not None for s in sources):
            self.int_sources[var.name] = frozenset().union(*sources)

    def _rank_of(self, value: Value) -> int | None:
        """0 for a number literal, the known rank of a value, or None."""
        if isinstance(value, Const) and isinstance(value.value, (bool, int, float)):
            return 0
        return self.array_rank.get(value.name) if isinstance(value, Var) else None

    def _refuse_merged_tuple(self, name: str, node: ast.AST, how: str, *values: Value) -> None:
        """A tuple of numbers or arrays (not a shape of ints) merged by an if or carried by a
        loop: its adjoint would take the tuple for an array (a TypeError when run)."""
        def numbers(v: Value) -> bool:
            return isinstance(v, Tup) and any(numbers(i) if isinstance(i, Tup) else self._int_sources(i) is None
                                              for i in v.items)
        if any(numbers(v) for v in values):
            raise self.parsed.error(node, f"{name} holds a tuple {how}, which is not supported unless it holds "
                                          f"ints (a shape): give each of its items a name of its own")

    def _phi_rank(self, var: Var, *values: Value) -> None:
        ranks = {self._rank_of(v) for v in values}
        if len(ranks) == 1 and None not in ranks:
            self.array_rank[var.name] = ranks.pop()
        else:
            self.array_rank.pop(var.name, None)

    # -- if / elif / else -------------------------------------------------
    def lower_if(self, stmt: ast.If) -> None:
        cond = self.expr(stmt.test)
        if isinstance(cond, Const) and isinstance(cond.value, (bool, int, float)):
            # decided before run time (a literal, a module-level flag): only that branch exists
            for inner in (stmt.body if cond.value else stmt.orelse):
                self.statement(inner)
            return
        env, identity, stale = dict(self.env), dict(self.identity), dict(self.stale)
        then = self.region(stmt.body)
        then_env, then_identity, then_stale = self.env, self.identity, self.stale
        self.env, self.identity, self.stale = dict(env), dict(identity), dict(stale)
        orelse = self.region(stmt.orelse)
        else_env, else_identity = self.env, self.identity
        self.env, self.identity = dict(env), dict(identity)
        self.stale = {**then_stale, **self.stale}  # stale after either branch
        phis = []
        for name in list(then_env) + [n for n in else_env if n not in then_env]:
            a, b = then_env.get(name), else_env.get(name)
            if a is None or b is None:
                self.partial.add(name)
                self.loop_index_lines.pop(name, None)
                self.env.pop(name, None)
                continue
            if self._same(a, b):
                self.env[name] = a
                continue
            self._refuse_merged_tuple(name, stmt, "that the branches of this if set differently", a, b)
            var = Var(self.names.user(name))
            phis.append(Phi(var, a, b))
            self._phi_int(var, a, b)
            self._phi_rank(var, a, b)
            self._merge_memory(var, a, b)
            if all(isinstance(v, Var) and v.name in self.writable for v in (a, b)):
                self.writable.add(var.name)
            if any(isinstance(v, Var) and v.name in self.boolean for v in (a, b)):
                self.boolean.add(var.name)  # may hold booleans
            self.env[name] = var
        self.identity = _merged_identity(self.env, identity, then_identity, else_identity)
        self.body.append(If(cond, then, orelse, tuple(phis), self.parsed.loc(stmt)))

    def select(self, cond: Value, then: ast.expr | Value, orelse: ast.expr | Value,
               node: ast.expr, hint: str | None) -> Value:
        """``then if cond else orelse`` as an ``If`` with one merge; each side is
        evaluated only when chosen."""
        if isinstance(cond, Const) and isinstance(cond.value, (bool, int, float)):
            side = then if cond.value else orelse
            if isinstance(side, ast.expr):
                self.selected[node] = side  # its value is side's: `z = y if 1 > 0 else x` shares y's array
                return self.expr(side, hint)
            return side
        then_body, a = self.region_value(then) if isinstance(then, ast.expr) else ((), then)
        else_body, b = self.region_value(orelse) if isinstance(orelse, ast.expr) else ((), orelse)
        self._refuse_merged_tuple(hint or "this expression", node, "chosen by a condition", a, b)
        var = Var(self.names.user(hint) if hint else self.names.temp())
        self._phi_int(var, a, b)
        self._phi_rank(var, a, b)  # `w * (x if c else y)` of a 1-D w is 1-D: w[0] is a number
        # `z = y if c else w` is y's or w's array itself, as max(y, w) is (Lowering.picks): a
        # name bound to it shares both (bind), as after an if statement that sets it
        may_be = frozenset().union(*(self.picks.get(v.name, {v}) for v in (a, b)
                                     if isinstance(v, Var) and self._rank_of(v) != 0))
        if may_be:
            self.picks[var.name] = may_be
        self.body.append(If(cond, then_body, else_body, (Phi(var, a, b),), self.parsed.loc(node)))
        return var

    def _IfExp(self, node: ast.IfExp, hint: str | None) -> Value:
        return self.select(self.expr(node.test), node.body, node.orelse, node, hint)

    def _BoolOp(self, node: ast.BoolOp, hint: str | None) -> Value:
        value = self.expr(node.values[0])
        for i, operand in enumerate(node.values[1:], start=1):
            last = i == len(node.values) - 1
            if isinstance(node.op, ast.And):  # a and b: b if a else a
                value = self.select(value, operand, value, node, hint if last else None)
            else:  # a or b: a if a else b
                value = self.select(value, value, operand, node, hint if last else None)
        return value

    def _check_views(self, merges, stmt: ast.stmt, body: tuple[Stmt, ...], written: frozenset[str],
                     users: dict[str, str]) -> None:
        """A view of an array that the loop writes into must not outlive its iteration
        (carried, it would see the next iteration's writes)."""
        # what each value of the body is: a statement, or the merges of an if or an inner loop
        # (a view may reach the update through them: `if c: w = y[0:2]`, `w = y[0:2] if c else w`)
        defs = definitions(body)
        versions = {phi.var.name: array_versions(phi, body)[0] for phi in merges if phi.var.name in written}
        written_versions = set().union(*versions.values()) if versions else set()
        for phi in merges:
            todo, seen = [(phi.second, False)], set()
            while todo:
                value, through_view = todo.pop()
                if not isinstance(value, Var) or (value.name, through_view) in seen:
                    continue
                seen.add((value.name, through_view))
                if through_view and value.name in written_versions:
                    raise self.parsed.error(stmt, f"{users.get(phi.var.name, phi.var.name)} holds a view of an "
                                                  "array this loop writes into, and keeps it into the next "
                                                  "iteration, which would see the writes; take a .copy() of "
                                                  "the view")
                d = defs.get(value.name)
                if isinstance(d, tuple):  # a loop's carried value: its merge
                    d = d[0]
                if isinstance(d, Assign) and d.op.prim in VIEWS and not self._element(d.op.prim, d.op.args):
                    todo.append((d.op.args[0], True))
                elif isinstance(d, Phi):  # either side may be the value
                    todo += [(d.first, through_view), (d.second, through_view)]

    def _check_carried(self, merges, stmt: ast.stmt, body: tuple[Stmt, ...], users: dict[str, str]) -> None:
        """``users``: the user's name of each carried value (for the errors)."""
        written = written_arrays(body)
        self._check_views(merges, stmt, body, written, users)
        for phi in merges:
            name = users.get(phi.var.name, phi.var.name)
            if phi.var.name in self.int_sources and self._int_sources(phi.second) is None:
                del self.int_sources[phi.var.name]
            if self.array_rank.get(phi.var.name) != self._rank_of(phi.second):
                self.array_rank.pop(phi.var.name, None)
            if phi.var.name in written and phi.var.name not in self.boolean and isinstance(phi.second, Var) \
                    and phi.second.name in self.boolean:
                raise self.parsed.error(stmt, f"{name} is written into inside this loop and then "
                                              "replaced by booleans (a comparison), which a number written "
                                              "into it would become; assign it a float array instead")
            if phi.var.name in self.writable and not (isinstance(phi.second, Var)
                                                      and phi.second.name in self.writable):
                if phi.var.name not in written:  # rebound, never written into: fine, but it
                    self.writable.discard(phi.var.name)  # may now be any array
                    continue
                raise self.parsed.error(stmt, f"{name} is written into inside this loop and then "
                                              "replaced by an array that was not created here; "
                                              "assign it a .copy() instead")

    # -- for i in range(...) ----------------------------------------------
    def _enter_loop(self, stmt: ast.stmt, body: list[ast.stmt], exclude: str = "",
                    unranked: frozenset[str] = frozenset(), shared: tuple[frozenset[str], ...] = (),
                    memory: dict[str, frozenset[str]] | None = None) -> tuple[dict, dict, dict[str, Var]]:
        """Give every name the body assigns that existed before the loop a carried value.
        Its rank is the value's on entry (``unranked``: not known), which ``_rank_changed``
        checks against the update; the names of each class in ``shared`` may name one array
        (an iteration left them so, ``_sharing_changed``); a name's array may also be one of
        ``memory``'s (what an iteration left it: ``u, v = v, u``, ``_memory_grown``)."""
        for group in shared:
            objs = {id(self.identity[n]) for n in group}
            one = object()
            for n, obj in list(self.identity.items()):
                if id(obj) in objs:
                    self.identity[n] = one
        env, identity = dict(self.env), dict(self.identity)
        phis = {}
        for name in _stored_names(body):
            if name not in env or name == exclude:
                continue
            self._refuse_merged_tuple(name, stmt, "that this loop updates", env[name])
            phis[name] = Var(self.names.user(name))
            self.env[name] = phis[name]
            self._phi_int(phis[name], env[name])  # provisional: checked against the update
            self._phi_rank(phis[name], env[name])
            if name in unranked:
                self.array_rank.pop(phis[name].name, None)
            if isinstance(env[name], Var) and env[name].name in self.writable:
                self.writable.add(phis[name].name)
            self._merge_memory(phis[name], env[name])  # the update's: _leave_loop
            self.roots[phis[name].name] |= (memory or {}).get(name, frozenset())
            if isinstance(env[name], Var) and env[name].name in self.boolean:
                self.boolean.add(phis[name].name)
        return env, identity, phis

    def _rank_changed(self, phis: dict[str, Var]) -> frozenset[str]:
        """Carried names whose rank on entry, which the body was lowered with, the update
        does not keep: in a later iteration, ``y[i]`` of a 1-D ``y`` made 2-D is a row."""
        return frozenset(name for name, var in phis.items() if var.name in self.array_rank
                         and self.array_rank[var.name] != self._rank_of(self.env[name]))

    def _sharing_changed(self, env: dict, identity: dict) -> tuple[frozenset[str], ...]:
        """Names the body leaves naming one array that did not on entry (``w = y``): the
        next iteration starts so, and the body must be lowered knowing it."""
        names = [n for n in env if n in identity and n in self.identity]
        return tuple(frozenset(g) for g in _sharing(names, self.identity) if len({id(identity[n]) for n in g}) > 1)

    def _lowering_state(self) -> tuple[dict, object]:
        """What lowering a region changes, to lower it again."""
        state = {k: copy.copy(v) for k, v in vars(self).items() if isinstance(v, (dict, set, list))}
        return state, copy.deepcopy(self.names)

    def _restore_lowering_state(self, saved: tuple[dict, object]) -> None:
        """In place: a caller may hold one of these (``self.body.append`` of a ``return``
        whose value inlines a helper with a loop; rebinding lost that return)."""
        state, names = saved
        for k, v in state.items():
            held = getattr(self, k)
            if isinstance(held, list):
                held[:] = v
            else:
                held.clear()
                held.update(v)
        self.names = names

    def _lower_loop(self, stmt: ast.stmt, body: list[ast.stmt], lower_body, exclude: str = ""):
        """Enter the loop and lower its test and body (``lower_body()``: what it lowered, or
        None for a loop that never runs, which is then left out) until the body keeps the
        ranks and aliasing of the carried names it was lowered with: lowered again from the
        same state, not knowing a rank the update changes (``unranked``) and with names an
        iteration leaves naming one array sharing it (``shared``). Returns the entry's env
        and identity, the carried names and what ``lower_body`` lowered."""
        unranked: frozenset[str] = frozenset()
        shared: tuple[frozenset[str], ...] = ()
        memory: dict[str, frozenset[str]] = {}
        while True:
            saved = self._lowering_state()
            stale = dict(self.stale)
            env, identity, phis = self._enter_loop(stmt, body, exclude=exclude, unranked=unranked, shared=shared,
                                                   memory=memory)
            mark = len(self.writes)
            lowered = lower_body()
            if lowered is None:
                self.env, self.identity, self.stale = env, identity, stale
                return None
            changed, sharing = self._rank_changed(phis) - unranked, self._sharing_changed(env, identity)
            grown = self._memory_grown(phis, memory) if self.writes[mark:] else {}
            if grown:  # lower the body again, each name's array possibly one an iteration left it
                for name, roots in grown.items():
                    memory[name] = memory.get(name, frozenset()) | roots
                self._restore_lowering_state(saved)
                continue
            if not changed and not sharing:
                # a carried name holding a view of an array the body writes into (the write's
                # roots): the next iteration's write changes it (_leave_loop)
                carried = [(name, write) for name in phis for write in self.writes[mark:]
                           if self._shown(self.env.get(name)) & write[0]]
                first: dict[str, ast.Name] = {}  # each name's first read an iteration may make
                if self.stale or carried:
                    for node in _exposed_reads(body, getattr(stmt, "test", None)):
                        first.setdefault(node.id, node)
                for name, node in first.items():
                    if name in self.stale:  # the next iteration reads a view the body made stale
                        raise self._stale_error(node, " (in the loop's next iteration)")
                self.stale.update(stale)  # stale if it was before (the loop may not run) or after it
                self.carried_views = [(name, write, first.get(name)) for name, write in carried]
                return env, identity, phis, lowered
            unranked |= changed  # lower the body again, not knowing those ranks
            shared += sharing  # ...and with those names naming one array
            self._restore_lowering_state(saved)

    def _memory_grown(self, phis: dict[str, Var], memory: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
        """The arrays an iteration leaves a carried name naming that its carried value was
        not lowered knowing (``u, v = v, u``: the next iteration's v is u's array, and a
        write into it changes a view of u taken before the loop)."""
        # (only where some view shows one, other than of an argument: none is written into)
        shown = frozenset().union(*self.views.values()) - self.arguments
        grown = {}
        for name, var in phis.items():
            more = self._roots(self.env.get(name)) - self._roots(var)
            if more and (more | self._roots(var)) & shown:
                grown[name] = more
        return grown

    def _leave_loop(self, env: dict, identity: dict, phis: dict[str, Var], stmt: ast.stmt,
                    body: tuple[Stmt, ...]) -> tuple[Phi, ...]:
        """The carried merges; after the loop, names hold their carried value, and names
        first assigned inside the loop are not visible."""
        for name in phis:
            self._refuse_merged_tuple(name, stmt, "that this loop updates", self.env[name])
        merges = tuple(Phi(var, env[name], self.env[name]) for name, var in phis.items())
        for merge in merges:
            self._merge_memory(merge.var, merge.first, merge.second)
        self._check_carried(merges, stmt, body, {var.name: name for name, var in phis.items()})
        for name, (_, array, line), read in self.carried_views:  # (y += ..., which _check_carried does not see)
            self.stale[name] = (array, line, "")
            if read is not None:
                raise self._stale_error(read, " (in the loop's next iteration)")
        self.partial |= set(self.env) - set(env)
        for name in set(self.env) - set(env):
            self.loop_index_lines.pop(name, None)
        self.env = {n: phis.get(n, v) for n, v in env.items()}
        self.identity = identity
        return merges

    def lower_for(self, stmt: ast.For) -> None:
        if self.resolver.static(stmt.iter.func, self.env) is not builtins.range:
            raise self.parsed.error(stmt.iter, "a for loop must run over the builtin range(...)")
        args = [self.expr(a) for a in stmt.iter.args]
        start, stop, step = ([Const(0)] + args + [Const(1)])[:3] if len(args) == 1 else \
            (args + [Const(1)])[:3]
        if isinstance(step, Const) and step.value == 0:
            raise self.parsed.error(stmt.iter, "range() step must not be zero")
        for bound in (start, stop, step):
            if self._int_sources(bound) is None:
                raise self.parsed.error(stmt.iter, "range() takes ints: use int(...) or len(...) for a bound")
            self.need_ints(self._int_sources(bound), stmt.iter)  # range(n): n must be an int
        index_name = stmt.target.id

        def lower_body() -> tuple[Var, tuple[Stmt, ...]]:
            index = Var(self.names.user(index_name))  # not visible after the loop
            self.env[index_name] = index
            self.array_rank[index.name] = 0
            self.identity[index_name] = object()
            self.int_sources[index.name] = frozenset().union(*(self._int_sources(b) for b in (start, stop, step)))
            self.stale.pop(index_name, None)
            first, last, by = int_literal(start), int_literal(stop), int_literal(step)
            if by is not None and (first if by > 0 else last) is not None:
                self.int_min[index.name] = first if by > 0 else last + 1  # (range(n - 1, -1, -1): 0)
            return index, self.region(stmt.body)
        env, identity, phis, (index, body) = self._lower_loop(stmt, stmt.body, lower_body, exclude=index_name)
        merges = self._leave_loop(env, identity, phis, stmt, body)
        self.env.pop(index_name, None)
        self.partial.add(index_name)
        self.loop_index_lines[index_name] = stmt.lineno
        self.body.append(For(index, start, stop, step, body, merges, self.parsed.loc(stmt)))

    # -- while test ----------------------------------------------------------
    def lower_while(self, stmt: ast.While) -> None:
        def lower_body() -> tuple[Var, tuple[Stmt, ...], Value, tuple[Stmt, ...]] | None:
            count = Var(self.names.fresh("n_iterations"))
            self.int_sources[count.name] = frozenset()
            cond, test = self.region_value(stmt.test)
            if isinstance(test, Const) and isinstance(test.value, (bool, int, float)) and not test.value:
                return None  # decided before run time: it never runs
            return count, cond, test, self.region(stmt.body)
        lowered = self._lower_loop(stmt, stmt.body, lower_body)
        if lowered is None:
            return
        env, identity, phis, (count, cond, test, body) = lowered
        loc = self.parsed.loc(stmt)
        step = Var(self.names.fresh("n_iterations"))
        body += (Assign(step, Op("add", (count, Const(1))), loc),)
        merges = self._leave_loop(env, identity, phis, stmt, body)
        self.body.append(While(cond, test, body, merges + (Phi(count, Const(0), step),), count, loc))
