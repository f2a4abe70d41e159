"""Which views of one array share no element, proved from the generated code rather than
tested at run time: the part of the fuse stage (``codegen/fuse.py``) that spares a fused
loop its ``apart`` tests.

An LSTM layer's adjoint adds into eight parts of two rows of the weights' cotangent,
``main_params_bar[t6, :b_1]``, ``main_params_bar[t8, b_1:t19]`` and so on, with
``t8 = t6 + 1``, ``t19 = 2 * b_1`` and ``b_1`` a length. Tested at run time, the 28 pairs
cost the lstm benchmark's gradient a tenth of its time; none of them can overlap.

Assumes a function of generated code and a point in it: the enclosing statements of the
point (each with its block and its place there, outermost first) and the statements that
run last before it. Promises ``Ints.apart(a, b)`` only when the views ``a`` and ``b``
(source texts such as ``x[i, lo:hi]``, of the same name) cannot share an element.

Each int name is known as a sum of atoms with int coefficients plus a constant, from the
statements that run before the point: ``t8 = t6 + 1`` with ``t6 = 2 * i`` is ``2 i + 1``.
An atom is a value nothing more is known of (an argument, a length, a loop's index, a name
as an earlier iteration left it), some known never to be negative: a length (``x.shape[0]``,
``len(x)``), the index of ``for i in range(...)`` from a start (or above a stop, counting
down) that is not. Two ints differ when their difference is a constant other than 0, two
slices share nothing when one ends where the other starts. Negative indices count from
the end, so an index or a bound is compared only when it is never negative, except a bound
that both slices share: ``x[a:b]`` and ``x[b:c]`` share nothing whatever ``b`` is.
"""
from __future__ import annotations

import ast
import itertools
from typing import Iterable

Form = tuple[int, frozenset[tuple[object, int]]]  # constant, {(atom, coefficient)}


# Compiled ints wrap at 2**63, where the forms' Python ints do not. An atom is a length (below
# 2**44: 16 TB of bytes) or a loop index (below 2**44 too: as many iterations never end), so a
# form with coefficients below 2**16 and a constant below 2**40 is exact; another proves nothing.
_COEFFICIENT, _CONSTANT = 2 ** 16, 2 ** 40


def _form(const: int, terms: dict[object, int]) -> Form:
    return const, frozenset((a, c) for a, c in terms.items() if c)


def _bounded(form: Form | None) -> Form | None:
    """The form, or None where compiled code could wrap around (``n + 2**63 + 2**63``)."""
    if form is None or abs(form[0]) >= _CONSTANT or any(abs(c) >= _COEFFICIENT for _, c in form[1]):
        return None
    return form


def _combine(a: Form, b: Form, sign: int) -> Form:
    terms = dict(a[1])
    for atom, coef in b[1]:
        terms[atom] = terms.get(atom, 0) + sign * coef
    return _form(a[0] + sign * b[0], terms)


def _scale(a: Form, k: int) -> Form:
    return _form(a[0] * k, {atom: coef * k for atom, coef in a[1]})


def _assigned(node: ast.AST) -> set[str]:
    """Every name ``node`` (a statement, with what it holds) may bind."""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
    return names


class Ints:
    """What is known of the generated code's int names at one point of a function."""

    def __init__(self, frames: Iterable[tuple[list[ast.stmt], int, ast.stmt]], last: Iterable[ast.stmt]) -> None:
        self.env: dict[str, Form] = {}
        self.nonneg: set[object] = set()
        self.shapes: set[str] = set()  # names bound to x.shape
        self._atoms = itertools.count()
        for block, index, stmt in frames:
            for before in block[:index]:
                self._run(before)
            for name in _assigned(stmt) if isinstance(stmt, (ast.For, ast.While)) else ():
                self._forget(name)  # as an earlier iteration left it
            if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name) and not stmt.orelse:
                self._loop_index(stmt.target.id, stmt.iter)  # (in a for's else, as the loop left it)
        for stmt in last:
            self._run(stmt)

    # ------------------------------------------------------------ values

    def _atom(self, nonneg: bool = False) -> Form:
        atom = next(self._atoms)
        if nonneg:
            self.nonneg.add(atom)
        return _form(0, {atom: 1})

    def _forget(self, name: str, nonneg: bool = False) -> None:
        self.env[name] = self._atom(nonneg)
        self.shapes.discard(name)

    def _value(self, node: ast.AST) -> Form | None:
        """The form of an int expression, or None when it is no known int."""
        return _bounded(self._unbounded(node))

    def _unbounded(self, node: ast.AST) -> Form | None:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return _form(node.value, {})
        if isinstance(node, ast.Name):
            if node.id not in self.env:  # bound before the function, or never on the way here
                self.env[node.id] = _form(0, {("name", node.id): 1})
            return self.env[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self._value(node.operand)
            return None if inner is None else _scale(inner, -1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = self._value(node.left), self._value(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Mult):
                if not left[1] or not right[1]:
                    return _scale(right, left[0]) if not left[1] else _scale(left, right[0])
                return self._atom()  # (of two lengths: it may wrap around)
            return _combine(left, right, 1 if isinstance(node.op, ast.Add) else -1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.FloorDiv):
            left, right = self._value(node.left), self._value(node.right)
            if left is None or right is None:
                return None
            return self._atom(self.never_negative(left) and not right[1] and right[0] > 0)
        if self._length(node):
            return self._atom(nonneg=True)
        return None

    def _length(self, node: ast.AST) -> bool:
        """``x.shape[k]``, ``t[k]`` of ``t = x.shape``, ``len(x)``."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
            return True
        if isinstance(node, ast.Subscript):
            shape = node.value
            return isinstance(shape, ast.Attribute) and shape.attr == "shape" or \
                isinstance(shape, ast.Name) and shape.id in self.shapes
        return False

    def never_negative(self, form: Form) -> bool:
        return form[0] >= 0 and all(coef > 0 and atom in self.nonneg for atom, coef in form[1])

    # ------------------------------------------------------------ statements

    def _run(self, stmt: ast.stmt) -> None:
        if any(isinstance(n, ast.NamedExpr) for n in ast.walk(stmt)):
            self._forget_all(stmt)  # (x := ...) binds inside an expression
            return
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
            if isinstance(target, ast.Name):
                self._bind(target.id, value)
                return
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
                values = [self._value(v) for v in value.elts]  # all read before any is bound
                for t, v in zip(target.elts, values):
                    if isinstance(t, ast.Name):
                        self.env[t.id] = v if v is not None else self._atom()
                        self.shapes.discard(t.id)
                    else:
                        self._forget_all(t)
                return
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            self._bind(stmt.target.id, ast.BinOp(ast.Name(stmt.target.id), stmt.op, stmt.value))
            return
        self._forget_all(stmt)

    def _bind(self, name: str, value: ast.AST) -> None:
        if isinstance(value, ast.Attribute) and value.attr == "shape":
            self._forget(name)
            self.shapes.add(name)
            return
        form = self._value(value)
        self.env[name] = form if form is not None else self._atom()
        self.shapes.discard(name)

    def _forget_all(self, stmt: ast.AST) -> None:
        for name in _assigned(stmt):
            self._forget(name)

    def _loop_index(self, name: str, iterable: ast.AST) -> None:
        """``for name in range(...)``: never negative from a start that is not, or above a
        stop of at least -1 counting down."""
        nonneg = False
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "range" \
                and not iterable.keywords and 1 <= len(iterable.args) <= 3:
            args = [self._value(a) for a in iterable.args]
            step = args[2] if len(args) == 3 else _form(1, {})
            if len(args) == 1:
                nonneg = True
            elif step is not None and not step[1] and step[0] > 0:
                nonneg = args[0] is not None and self.never_negative(args[0])
            elif step is not None and not step[1] and step[0] < 0:
                nonneg = args[1] is not None and self.never_negative(_combine(args[1], _form(1, {}), 1))
        self._forget(name, nonneg)

    # ------------------------------------------------------------ views

    def apart(self, a: str, b: str, rank: int) -> bool:
        """Whether the views ``a`` and ``b`` (``x[...]`` of the same name x of ``rank``
        axes) share no element: along some axis, what one takes the other does not."""
        left, right = self._items(a, rank), self._items(b, rank)
        if left is None or right is None:
            return False
        return any(self._axis_apart(p, q) for p, q in zip(left, right))

    def _items(self, text: str, rank: int) -> list[tuple[Form | None, Form | None, bool]] | None:
        """Per axis (start, stop, is an index): ``i`` is (i, i + 1, True), ``lo:hi`` is
        (lo, hi, False) with None for an open end; None for other views."""
        node = ast.parse(text, mode="eval").body
        if not isinstance(node, ast.Subscript) or not isinstance(node.value, ast.Name):
            return None
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        out = []
        for item in items:
            if isinstance(item, ast.Slice):
                if item.step is not None:
                    return None
                lo = _form(0, {}) if item.lower is None else self._value(item.lower)
                hi = None if item.upper is None else self._value(item.upper)
                if lo is None or item.upper is not None and hi is None:
                    return None
                out.append((lo, hi, False))
            else:
                index = self._value(item)
                if index is None:
                    return None
                out.append((index, _combine(index, _form(1, {}), 1), True))
        if len(out) > rank:
            return None
        return out + [(_form(0, {}), None, False)] * (rank - len(out))

    def _axis_apart(self, p: tuple, q: tuple) -> bool:
        return self._before(p, q) or self._before(q, p)

    def _before(self, p: tuple, q: tuple) -> bool:
        """Whether all that ``p`` takes along an axis comes before all that ``q`` takes."""
        stop, start = p[1], q[0]
        if stop is None:
            return False
        if stop == start and not p[2] and not q[2]:
            return True  # a bound both slices share counts from the same end
        # p's index or stop, and q's start, must count from the front: then p ends first
        # where stop <= start (a stop past the end is the end, and so is such a start)
        ends = (p[0] if p[2] else stop, start)
        return all(self.never_negative(end) for end in ends) and self.never_negative(_combine(start, stop, -1))
