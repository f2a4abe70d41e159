"""Tangent regions: forward mode through a ``for`` loop's body of numbers that runs a loop.

Reverse mode through a loop tapes what each iteration overwrites and replays the iterations
backwards. Where a loop's body computes numbers only and runs a loop of its own (a Newton
``while`` per element of an array, ``benchmarks/problems.py``'s ``while_newton``), that tapes
every inner iteration, although the body's results depend on a few numbers only: the values
it carries, an element of an array it reads, a number from before the loop. Here such a body
carries, next to each value, its derivative with respect to each of those inputs (a
*tangent*, forward mode: ``dz_db = 1.0 / (1.0 + c)`` next to ``z = b[k] / (1.0 + c)``), and
each result it hands to the next iteration becomes a ``tangent_link`` of its derivatives
(``rules/tangent.py``). The body's own values are then *passive* (``Function.passive``: no
cotangent, nothing taped for them), and the reverse sweep of the loop reads one derivative
per result and input: ``b_bar[k] += s_bar * dz_1_db``.

A tangent statement is the rule's VJP template with the operand's tangent for ``{g}``: for
numbers, a rule's VJP is ``g`` times its partial derivative, so the same template gives the
JVP, and a derivative is still written in one place. The template is lowered to IR through
the rule table's own spellings (operators, ``np.``, ``math.`` and helper calls), so every
later stage sees ordinary statements; a template that does not lower leaves the loop to
reverse mode, as does anything else this module does not take on (an array value in the
body, an element write, a read of a differentiated array inside an inner loop or a branch,
a ``custom_vjp`` call, more than ``MAX_LOOP_DIRECTIONS`` inputs reaching an inner loop).
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import replace

from ..codegen.naming import Names
from ..ir.nodes import (Assign, Const, For, Function, If, Loc, Op, Phi, Return, Stmt, Tup, Value, Var,
                        While, defined_names, op_vars, statement_reads, value_vars, walk)
from ..rules import CALLS, RULES, SCATTER, BindError
from ..rules.registry import COMPARISONS, OPERATORS, VjpContext
from ..rules.tangent import LINK, NAMED

# Forward mode costs a pass of tangent statements per input that reaches an inner loop;
# reverse mode about two passes plus the tape. Beyond two such inputs, reverse mode stays.
MAX_LOOP_DIRECTIONS = 2

_CONSTANTS = {"pi": math.pi, "e": math.e}
ONE, ZERO = Const(1.0), Const(0.0)


class _Declined(Exception):
    """This loop stays with reverse mode."""


def tangent_regions(fn: Function, active: frozenset[str], known: dict[str, int]) -> Function:
    """``fn`` with each ``for`` loop that qualifies (see the module's doc) carrying tangents,
    its body passive; ``fn`` itself when none does."""
    names = Names(set(), set(fn.names))
    passive: set[str] = set()
    body = _visit(fn.body, active, known, names, passive)
    if not passive:
        return fn
    return replace(fn, body=body, names=fn.names | defined_names(body), passive=fn.passive | frozenset(passive))


def _visit(stmts: tuple[Stmt, ...], active, known, names: Names, passive: set[str]) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for stmt in stmts:
        if isinstance(stmt, For) and any(p.var.name in active for p in stmt.carried):
            try:
                out.append(_Region(stmt, active, known, names).transform(passive))
                continue
            except _Declined:
                pass
        if isinstance(stmt, (For, While)):
            stmt = replace(stmt, body=_visit(stmt.body, active, known, names, passive))
        elif isinstance(stmt, If):
            stmt = replace(stmt, then=_visit(stmt.then, active, known, names, passive),
                           orelse=_visit(stmt.orelse, active, known, names, passive))
        out.append(stmt)
    return tuple(out)


def _merges(stmt: Stmt) -> tuple[Phi, ...]:
    if isinstance(stmt, If):
        return stmt.phis
    return stmt.carried if isinstance(stmt, (For, While)) else ()


class _Region:
    """One ``for`` loop taken into forward mode: its inputs (``directions``), what depends
    on which (``deps``), and the tangent of each value in each direction (``tangents``)."""

    def __init__(self, loop: For, active: frozenset[str], known: dict[str, int], names: Names) -> None:
        self.loop, self.active, self.known, self.names = loop, active, known, names
        self.locals = defined_names(loop.body) | {p.var.name for p in loop.carried} | {loop.index.name}
        self.directions: list[tuple[str, str]] = []  # (the input's SSA name, its display name)
        self.reads: set[str] = set()  # element reads of differentiated arrays: inputs too
        self._check()
        self.deps: dict[str, frozenset[int]] = {name: frozenset({j})
                                                for j, (name, _) in enumerate(self.directions)}
        self._propagate(loop.body)
        reaching = set().union(*(self.deps.get(p.var.name, frozenset()) for s in walk(loop.body)
                                 if isinstance(s, (For, While)) for p in s.carried))
        if len(reaching) > MAX_LOOP_DIRECTIONS:
            raise _Declined
        if self._merges_a_zero() and any(_singular(s) for s in walk(loop.body) if isinstance(s, Assign)):
            raise _Declined  # a tangent 0.0 times an infinite derivative would be nan (below)
        self.tangents: dict[tuple[str, int], Value] = {
            (name, j): ONE for j, (name, _) in enumerate(self.directions)}

    # -- what qualifies ---------------------------------------------------------------

    def _check(self) -> None:
        loop, known, active = self.loop, self.known, self.active
        top = {id(s) for s in loop.body}
        if not any(isinstance(s, (For, While)) for s in walk(loop.body)):
            raise _Declined  # nothing to gain: a straight body tapes a few numbers
        if any(known.get(p.var.name) != 0 for p in loop.carried):
            raise _Declined
        carried_inputs = [p.var.name for p in loop.carried if p.var.name in active]
        free: list[str] = []
        for stmt in walk(loop.body):
            if isinstance(stmt, Return):
                raise _Declined
            if any(known.get(p.var.name) != 0 for p in _merges(stmt)):
                raise _Declined
            top_read = id(stmt) in top and self._active_read(stmt)
            if isinstance(stmt, Assign):
                rule = RULES[stmt.op.prim]
                if (known.get(stmt.target.name) != 0 or stmt.op.prim == "setitem" or rule.custom
                        or rule.internal):
                    raise _Declined
                if top_read:
                    self.reads.add(stmt.target.name)
            for var in statement_reads(stmt):
                if var.name in self.locals or var.name not in active:
                    continue
                if known.get(var.name) == 0:
                    if var.name not in free:
                        free.append(var.name)
                elif not (top_read and var == stmt.op.args[0]):
                    raise _Declined  # a differentiated array used otherwise
        for name in carried_inputs:
            self.directions.append((name, name))
        for stmt in loop.body:
            if isinstance(stmt, Assign) and stmt.target.name in self.reads:
                self.directions.append((stmt.target.name, stmt.op.args[0].name))
        self.directions += [(name, name) for name in free]
        if not self.directions:
            raise _Declined

    def _active_read(self, stmt: Stmt) -> bool:
        """An element read of a differentiated array, a number: one of the body's inputs."""
        return (isinstance(stmt, Assign) and stmt.op.prim == "getitem" and stmt.target.name in self.active
                and isinstance(stmt.op.args[0], Var) and stmt.op.args[0].name in self.active)

    def _deps_of(self, value: object) -> frozenset[int]:
        return frozenset().union(*(self.deps.get(v.name, frozenset()) for v in value_vars(value)))

    def _propagate(self, stmts: tuple[Stmt, ...]) -> None:
        """Which inputs each value depends on, through differentiable operands (as activity)."""
        for stmt in stmts:
            if isinstance(stmt, Assign):
                if stmt.target.name in self.reads:
                    continue
                rule = RULES[stmt.op.prim]
                found: frozenset[int] = frozenset()
                for param, arg in zip(rule.params, stmt.op.args):
                    deps = self._deps_of(arg)
                    if deps and param in rule.refuses:
                        raise _Declined  # reverse mode names the error
                    if param in rule.vjp:
                        found |= deps
                if found:
                    self.deps[stmt.target.name] = found
            elif isinstance(stmt, If):
                self._propagate(stmt.then)
                self._propagate(stmt.orelse)
                self._merge(stmt.phis)
            elif isinstance(stmt, (For, While)):
                while True:
                    before = dict(self.deps)
                    self._merge(stmt.carried)
                    self._propagate(getattr(stmt, "cond", ()))
                    self._propagate(stmt.body)
                    if self.deps == before:
                        break
                if isinstance(stmt, While):
                    self._check_test(stmt)

    def _merges_a_zero(self) -> bool:
        """Whether a merge takes, on some path, a value that does not depend on an input the
        merged value depends on (a loop's carried ``q = 0.0`` on entry): its tangent is then a
        literal 0.0 there, and 0.0 times the infinite derivative of sqrt(0.0) is nan, where
        reverse mode sends that infinity into the constant and drops it."""
        for stmt in walk(self.loop.body):
            for phi in _merges(stmt):
                for j in self.deps.get(phi.var.name, ()):
                    if j not in self._deps_of(phi.first) or j not in self._deps_of(phi.second):
                        return True
        return False

    def _merge(self, phis: tuple[Phi, ...]) -> None:
        for phi in phis:
            deps = self.deps.get(phi.var.name, frozenset()) | self._deps_of(phi.first) | self._deps_of(phi.second)
            if deps:
                self.deps[phi.var.name] = deps

    def _check_test(self, loop: While) -> None:
        """A ``while`` test's statements get no tangents: refuse a value they define that
        depends on an input and that the body or a merge reads."""
        defined = {s.target.name for s in loop.cond if isinstance(s, Assign) and self.deps.get(s.target.name)}
        if defined and any(v.name in defined for s in walk(loop.body) for v in statement_reads(s)) | any(
                v.name in defined for p in loop.carried for v in value_vars(p.second)):
            raise _Declined

    # -- the transformed loop ---------------------------------------------------------

    def transform(self, passive: set[str]) -> For:
        body = list(self._tangent_block(self.loop.body))
        carried = []
        links: set[str] = set()
        for phi in self.loop.carried:
            second = phi.second
            if phi.var.name in self.active and isinstance(second, Var) and self.deps.get(second.name) \
                    and second.name in defined_names(self.loop.body):
                order = sorted(self.deps[second.name])
                link = Var(self.names.version(phi.var.name))
                body.append(Assign(link, Op(LINK.name, (second, Tup(tuple(self._tangent(second, j) for j in order)),
                                                        Tup(tuple(Var(self.directions[j][0]) for j in order)))),
                                   self._loc_of(second.name)))
                links.add(link.name)
                phi = replace(phi, second=link)
            carried.append(phi)
        loop = replace(self.loop, body=tuple(body), carried=tuple(carried))
        passive |= defined_names(loop.body) - self.reads - links
        return loop

    def _loc_of(self, name: str) -> Loc:
        for stmt in walk(self.loop.body):
            if isinstance(stmt, Assign) and stmt.target.name == name:
                return stmt.loc
            if any(p.var.name == name for p in _merges(stmt)):
                return stmt.loc
        return self.loop.loc

    def _tangent(self, value: Value, j: int) -> Value:
        if isinstance(value, Var) and j in self.deps.get(value.name, frozenset()):
            if (value.name, j) not in self.tangents:
                raise _Declined  # not computed where it is read (a while test's value)
            return self.tangents[(value.name, j)]
        return ZERO

    def _new_tangent(self, name: str, j: int) -> Var:
        """The tangent of ``name`` in direction ``j``: ``dz_db``, or a temporary's ``tN``
        (codegen folds it into the statement that reads it, as it folds ``name``)."""
        var = Var(self.names.temp() if _temporary(name) else self.names.fresh(f"d{name}_d{self.directions[j][1]}"))
        self.tangents[(name, j)] = var
        return var

    def _tangent_block(self, stmts: tuple[Stmt, ...]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for stmt in stmts:
            if isinstance(stmt, Assign):
                tangents: list[Stmt] = []
                if stmt.target.name not in self.reads:
                    for j in sorted(self.deps.get(stmt.target.name, ())):
                        tangents += self._jvp(stmt, j)
                # before the value where they do not read it, as a person writes
                # dz = dz - df / fp ... before z = z - f / fp: z may then be updated in place
                if any(v.name == stmt.target.name for t in tangents for v in statement_reads(t)):
                    out += [stmt] + tangents
                else:
                    out += tangents + [stmt]
            elif isinstance(stmt, If):
                then, orelse = self._tangent_block(stmt.then), self._tangent_block(stmt.orelse)
                phis = list(stmt.phis)
                for phi in stmt.phis:
                    for j in sorted(self.deps.get(phi.var.name, ())):
                        first, second = self._tangent(phi.first, j), self._tangent(phi.second, j)
                        phis.append(Phi(self._new_tangent(phi.var.name, j), first, second))
                out.append(replace(stmt, then=then, orelse=orelse, phis=tuple(phis)))
            elif isinstance(stmt, (For, While)):
                # the tangents a loop carries are bound before its body reads them
                pending = [(phi, j, self._new_tangent(phi.var.name, j)) for phi in stmt.carried
                           for j in sorted(self.deps.get(phi.var.name, ()))]
                body = self._tangent_block(stmt.body)
                phis = [Phi(var, self._tangent(phi.first, j), self._tangent(phi.second, j))
                        for phi, j, var in pending]
                out.append(replace(stmt, body=body, carried=stmt.carried + tuple(phis)))
            else:
                raise _Declined
        return tuple(out)

    def _jvp(self, stmt: Assign, j: int) -> list[Assign]:
        """The statements computing the tangent of ``stmt``'s value in direction ``j``: the
        sum over its operands of the rule's VJP template with the operand's tangent as g."""
        rule = RULES[stmt.op.prim]
        lowering = _Lowering(self.names, stmt.loc)
        terms: list[Value] = []
        args = dict(zip(rule.params, stmt.op.args))
        for param, arg in args.items():
            if param not in rule.vjp or j not in self._deps_of(arg):
                continue
            if not isinstance(arg, Var) or rule.vjp[param] == SCATTER:
                raise _Declined
            term = lowering.template(rule.vjp[param], args, param, stmt.target, self._tangent(arg, j))
            if term is not None:
                terms.append(term)
        value: Value = terms[0] if terms else ZERO
        for term in terms[1:]:
            value = lowering.add(value, term)
        if lowering.stmts and value == lowering.stmts[-1].target:
            last = lowering.stmts.pop()
            lowering.stmts.append(replace(last, target=self._new_tangent(stmt.target.name, j)))
        elif isinstance(value, Var) and _temporary(value.name) and not _temporary(stmt.target.name):
            lowering.stmts.append(Assign(self._new_tangent(stmt.target.name, j), Op(NAMED.name, (value,)),
                                         stmt.loc))
        else:
            self.tangents[(stmt.target.name, j)] = value
        return lowering.stmts


# Finite at a point where their derivative is not (sqrt(0), x ** 0.5 at 0, arcsin(1)).
_SINGULAR = {"sqrt", "math.sqrt", "cbrt", "math.cbrt", "arcsin", "arccos", "math.asin", "math.acos",
             "arccosh", "math.acosh", "pow", "math.pow"}


def _singular(stmt: Assign) -> bool:
    if stmt.op.prim == "pow_const":
        n = stmt.op.args[1]
        return not (isinstance(n, Const) and float(n.value).is_integer() and n.value >= 0)
    return stmt.op.prim in _SINGULAR


def _temporary(name: str) -> bool:
    """A compiler temporary's name (``t12``), not a user's variable's."""
    return re.fullmatch(r"t\d+", name) is not None


class _Lowering:
    """A VJP template, rendered with marker names and parsed, lowered to IR statements."""

    def __init__(self, names: Names, loc: Loc) -> None:
        self.names, self.loc = names, loc
        self.stmts: list[Assign] = []
        self.values: dict[str, Value] = {}

    def template(self, vjp, args: dict[str, Value], param: str, out: Var, g: Value) -> Value | None:
        """The JVP term of operand ``param``; None where the template contributes nothing."""
        markers = {p: f"__arg_{p}" for p in args}
        self.values = {markers[p]: a for p, a in args.items()}
        self.values.update({"__g": g, "__out": out})
        if callable(vjp):
            rendered = {p: a.spelling() if isinstance(a, Const) else markers[p] for p, a in args.items()}
            text = vjp(VjpContext(rendered, {}, "__out", "__g"))
            if text == []:
                return None
            if not isinstance(text, str):
                raise _Declined
        else:
            text = vjp.format(**markers, out="__out", g="__g")
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            raise _Declined from None
        return self._lower(tree.body)

    def _lower(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Name):
            if node.id not in self.values:
                raise _Declined
            return self.values[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float)):
            return Const(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            return self._lower(node.operand)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.neg(self._lower(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            left = self._lower(node.left)
            # -a * b is -(a * b), so that a sum of terms reads x - a * b, not x + -a * b
            negated = self._negated(left) if isinstance(node.op, (ast.Mult, ast.Div)) else None
            right = self._lower(node.right)
            if negated is not None:
                return self.neg(self._binary(node.op, negated, right))
            return self._binary(node.op, left, right)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARISONS:
            return self._op(f"op:{COMPARISONS[type(node.ops[0])]}", self._lower(node.left),
                            self._lower(node.comparators[0]))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in ("np", "math") and node.attr in _CONSTANTS:
            return Const(_CONSTANTS[node.attr])
        if isinstance(node, ast.Call) and not node.keywords:
            func = node.func
            if isinstance(func, ast.Name) and func.id == "unbroadcast":
                return self._lower(node.args[0])  # numbers: nothing to sum
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("np", "math"):
                key = f"{'numpy' if func.value.id == 'np' else 'math'}.{func.attr}"
            elif isinstance(func, ast.Name):
                key = f"helpers.{func.id}"
            else:
                raise _Declined
            return self._op(key, *(self._lower(a) for a in node.args))
        raise _Declined

    def _binary(self, op: ast.operator, left: Value, right: Value) -> Value:
        if isinstance(op, ast.Mult):
            return self.mul(left, right)
        return self._op(f"op:{OPERATORS[type(op)]}", left, right)

    def _op(self, key: str, *args: Value) -> Var:
        if key not in CALLS:
            raise _Declined
        try:
            prim, bound = CALLS[key](args, {})
        except BindError:
            raise _Declined from None
        target = Var(self.names.temp())
        self.stmts.append(Assign(target, Op(prim, bound), self.loc))
        return target

    def _negated(self, value: Value) -> Value | None:
        """What ``value`` is the negation of, if this lowering just made it (``-u``)."""
        if isinstance(value, Const) and isinstance(value.value, float) and value.value < 0:
            return Const(-value.value)
        if self.stmts and self.stmts[-1].target == value and self.stmts[-1].op.prim == "neg":
            return self.stmts.pop().op.args[0]
        return None

    def neg(self, value: Value) -> Value:
        if isinstance(value, Const) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
            return Const(-value.value)
        return self._op("op:neg", value)

    def mul(self, left: Value, right: Value) -> Value:
        for one, other in ((left, right), (right, left)):
            if isinstance(one, Const) and one.value == 1.0 and isinstance(one.value, float):
                return other
            if isinstance(one, Const) and one.value == -1.0 and isinstance(one.value, float):
                return self.neg(other)
        return self._op("op:mul", left, right)

    def add(self, left: Value, right: Value) -> Value:
        negated = self._negated(right)
        if negated is not None:
            return self._op("op:sub", left, negated)
        return self._op("op:add", left, right)
