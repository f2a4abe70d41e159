"""Fuse stage: a run of elementwise statements on 1-D arrays becomes one loop over the
elements, in the module Numba compiles (``.source`` keeps the statements as they are).

Assumes the source of a generated module (``codegen/python.py``), the known ranks of its
primal names (``analysis/ranks.py``) and the primal name of each cotangent name. Promises a
module with the same functions, computing the same values, or None when nothing fuses.

Each statement of generated code computes a whole array, and an LSTM cell's adjoint is
some thirty of them on arrays of 14 numbers: Numba allocates an array per statement and
loops over it, and that, not the arithmetic, is the time (benchmarks/lstm: 4.3x the
hand-written adjoint, which loops once over the elements). A run of such statements
becomes::

    n = loop_length(a)              # -1 unless a 1-D float64 array
    if (n >= 0) & (loop_length(b) == n) & apart(w, b):
        a_e, b_e = pointer(a), pointer(b)  # compiled: the first elements' addresses
        t1_out = np.empty(n)        # only for what is read after the run (several:
                                    # rows of one np.empty((m, n)) per lifetime; what a
                                    # tape keeps: rows cut from a shared buffer, tape_rows)
        for k in range(n):
            ...                     # one scalar statement per statement of the run,
                                    # reading item(a_e, k)
            set_item(t1_out, k, t1_k)
        keep_alive(a)               # what nothing but a variable holds (a pointer does not)
        t1 = t1_out
    else:
        ...                         # the statements as they were (broadcasting, float32)

Per element, the loop does what the statements do, in their order: every array in it has
the same length and is read or written at element k only, so element k's result depends
on element k of each operand as it stood at that point of the run. What breaks that, and
so is never fused: an element read or write (``x[i]``), a reduction or any call outside
the elementwise table, and a write into an array that another operand of the run views
at other offsets (``y_bar[1:] += g`` beside a read of ``y_bar[:-1]``). Arrays are traced
to where they were made (``_Roots``): a write goes only into an array the function made
(never an argument's, nor one popped from a tape), and each other operand that may come
from the same array is checked at run time by ``apart`` (disjoint, or the very same
elements in the same order), unless the code before the run proves the two views apart
(``codegen/disjoint.py``: rows 2i and 2i + 1, parts [:b] and [b:2b] of a row). A tape
holds primal values, which never share memory with a cotangent.

Statements between those of a run that neither read what the run defines nor define
what it reads (a view ``t12 = t7[:b]``, an int ``t19 = 2 * b``) move before it.

A statement of arithmetic on matrices, vectors along their rows and numbers (``c = x -
mu``, ``x - mu[j]``), or a row sum of such arithmetic (``r = reduce_sum(t12 ** 2, 1)``),
becomes two loops, over the rows and over each row's elements (``_matrix_statement``): each
element is made once, and a row sum's matrix is never made. Where the statements after
``m = E`` sum m's columns (``reduce_sum(m, 0)``, gmm's mu cotangent), the loops add each
element into its column's sum as they make it, and those calls read the sums.

Every index in these loops is one the test before them proved in range, so they read and
write elements with ``item(a, k)`` and ``set_item(a, k, v)``, which Numba compiles without
the bounds check it keeps for the rest of the function (``x[i]`` as the user wrote it).
Checked, a matrix loop was slower than the NumPy statement it stood for (``x - mu[j]``, 1000
x 10: 6.3 us against 4.0; unchecked 2.5).
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

from ..runtime.helpers import NUMPY_LOOPS
from ..transform.cleanup import call_name
from .disjoint import Ints

# one-argument NumPy ufuncs whose scalar form Numba compiles, and whose result is a float
_FLOAT_UFUNCS = frozenset({"exp", "log", "tanh", "sin", "cos", "tan", "sqrt", "log1p", "expm1",
                           "arctan", "arcsin", "arccos", "sinh", "cosh", "arctanh", "arcsinh"})
_UFUNCS = _FLOAT_UFUNCS | {"abs", "negative"}
_FRESH_CALLS = frozenset({"zero_like", "fill_like", "copy_of"}) | {f"np.{u}" for u in _UFUNCS} \
    | {"np.zeros", "np.ones", "np.empty", "np.full", "np.zeros_like", "np.ones_like"}
_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_FIRST_ONLY = frozenset({"unbroadcast", "reshape_like", "expand_axis", "expand_view", "broadcast_like"})  # (g, like)
_MIN_STATEMENTS = 2  # one statement is a loop already; two save an allocation (lstm: 4%)
_MAX_APART = 48  # pairs of operands made from one array, each checked at run time
UNKNOWN = "?"  # where an array comes from when the function does not show it (a tuple's item)
# helpers whose result has the shape of one argument (its position): unbroadcast(g, like)...
_SHAPE_OF = {"unbroadcast": 1, "fill_like": 1, "zero_like": 0, "reshape_like": 1, "broadcast_like": 1,
             "cotangent": 1, "expand_axis": 1, "copy_of": 0, "sign_nonneg": 0, "extremum_grad": 0,
             "extremum_axis_grad": 0, "matmul_grad_a": 1, "matmul_grad_b": 2}
# (and of the rank of one argument: expand_view(g, like, axis) has like's)
_RANK_OF = {**_SHAPE_OF, "expand_view": 1}


def _arithmetic(node: ast.BinOp | ast.UnaryOp, *operands: str) -> str:
    """The scalar text of a binary operation or a unary minus or plus, given its operands'
    texts: ``(a * b)``, ``(-a)``."""
    if isinstance(node, ast.BinOp):
        op = ast.unparse(ast.BinOp(ast.Name("L"), node.op, ast.Name("R"))).split(" ")[1]
        return f"({operands[0]} {op} {operands[1]})"
    return f"({'-' if isinstance(node.op, ast.USub) else '+'}{operands[0]})"


class _Unchecked(ast.NodeTransformer):
    """A fused loop's element reads ``a[k]`` and writes ``a[k] = v``, ``a[k] += v`` as
    ``item(a, k)`` and ``set_item(a, k, v)``: every index in the loop is one its test
    proved in range, and those helpers compile without Numba's bounds check, which the
    function keeps for the user's own indexing (gmm's gradient: 20 % faster)."""

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        return _helper("item", node.value, node.slice)

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        target = node.targets[0]
        if len(node.targets) != 1 or not isinstance(target, ast.Subscript):
            return self.generic_visit(node)  # (t_k = ...: a scalar of the loop)
        return ast.Expr(_helper("set_item", target.value, self.visit(target.slice), self.visit(node.value)))

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        if not isinstance(node.target, ast.Subscript):
            return self.generic_visit(node)
        array, index = node.target.value, self.visit(node.target.slice)
        value = ast.BinOp(_helper("item", array, index), node.op, self.visit(node.value))
        return ast.Expr(_helper("set_item", array, index, value))


class _Replace(ast.NodeTransformer):
    """Each node whose id is a key by the name it maps to."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self.names:
            return ast.Name(self.names[id(node)], ast.Load())
        return self.generic_visit(node)

    def visit_all(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.visit(stmt)


def _helper(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _unchecked(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """``stmts`` with the loops among them reading and writing elements unchecked."""
    return [_Unchecked().visit(stmt) if isinstance(stmt, ast.For) else stmt for stmt in stmts]


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def makes_tape(value: ast.expr) -> bool:
    """``[]``, ``new_tape(n)`` or ``new_tape(n, m)``: a tape (codegen/python.py)."""
    return isinstance(value, ast.List) and not value.elts or isinstance(value, ast.Call) \
        and isinstance(value.func, ast.Name) and value.func.id == "new_tape"


class _Roots:
    """Where each name's array may come from, over the whole function (every definition
    counts): ``new:x`` an array made at a definition of x, ``param:p`` an argument,
    ``?`` unknown (an item of a tuple). A value popped from a tape comes from where the
    forward sweep's definitions of its name made it."""

    def __init__(self, fn: ast.FunctionDef) -> None:
        self.of: dict[str, set[str]] = {a.arg: {f"param:{a.arg}"} for a in fn.args.args}
        self.tapes = tapes = {n.targets[0].id for n in ast.walk(fn) if isinstance(n, ast.Assign)
                              and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
                              and makes_tape(n.value)}
        defs: list[tuple[str, ast.AST | None]] = []
        popped: set[str] = set()
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
                names = [target] if isinstance(target, ast.Name) else \
                    target.elts if isinstance(target, ast.Tuple) else []
                if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id in tapes:
                    # a pop gives back the very arrays the forward pushed under these names
                    popped |= {t.id for t in names if isinstance(t, ast.Name)}
                elif isinstance(target, ast.Name):
                    defs.append((target.id, value))
                elif isinstance(target, ast.Tuple):
                    items = value.elts if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts) \
                        else [None] * len(target.elts)
                    defs += [(t.id, v) for t, v in zip(target.elts, items) if isinstance(t, ast.Name)]
        changed = True
        while changed:
            changed = False
            for name, value in defs:
                roots = self._expr(name, value)
                if not roots <= self.of.setdefault(name, set()):
                    self.of[name] |= roots
                    changed = True
        for name in popped:
            if not self.of.get(name):
                self.of[name] = {UNKNOWN}

    def _expr(self, target: str, value: ast.AST | None) -> set[str]:
        if value is None:
            return {UNKNOWN}
        if isinstance(value, ast.Constant):
            return set()
        if isinstance(value, ast.Name):
            return set(self.of.get(value.id, ()))
        if isinstance(value, ast.Subscript):  # a view, or an element
            return self._expr(target, value.value)
        if isinstance(value, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp)) or \
                call_name(value) in _FRESH_CALLS or \
                isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "copy":
            return {f"new:{target}"}
        # anything else may return one of its arguments or a view of it, or a new array:
        # unbroadcast(g, x) and the like give g or a new array, np.transpose(a) a view of a
        roots = {f"new:{target}"}
        args = value.args[:1] if call_name(value) in _FIRST_ONLY else [value]
        for name in set().union(*(_names(a) for a in args)):
            roots |= self.of.get(name, set())
        return roots


@dataclass
class _Value:
    """An array the run computes: its element in the loop is the scalar ``local``;
    ``loose``: the statements may make it of a higher rank than its name's (see _exact)."""
    local: str
    read_after: bool = False
    loose: bool = False


@dataclass
class _Outside:
    """An array that exists before the run: read (and maybe written) at ``text[k]``."""
    name: str  # the name or view expression as the source writes it
    local: str  # what the loop reads it through (pointer(...))
    shaped: bool = False  # bound by unbroadcast(name, like) to a 1-D like: bound to local after


@dataclass
class _Run:
    stmts: list[ast.stmt] = field(default_factory=list)  # the fused statements, in order
    moved: list[ast.stmt] = field(default_factory=list)  # statements moved before the run
    body: list[str] = field(default_factory=list)  # the loop's statements
    env: dict[str, _Value | _Outside] = field(default_factory=dict)  # binding of each name now
    outside: dict[str, _Outside] = field(default_factory=dict)  # by source text
    written: set[str] = field(default_factory=set)  # source texts of outside arrays written
    apart: set[tuple[str, str]] = field(default_factory=set)  # pairs checked at run time
    defined: set[str] = field(default_factory=set)  # names the run (re)binds
    reads: set[str] = field(default_factory=set)  # names the run reads
    # numbers the run sums (target -> its statement after the loop, the sums' accumulators)
    sums: dict[str, tuple[str, list[str]]] = field(default_factory=dict)


class _Fuser:
    def __init__(self, fn: ast.FunctionDef, ranks: Mapping[str, int], cotangent_of: Mapping[str, str],
                 taken: set[str]) -> None:
        self.fn = fn
        self.ranks = ranks
        self.cotangent_of = cotangent_of
        self.roots = _Roots(fn)
        self.taken = taken
        self.floats = self._floats()
        self.exact = self._exact()
        self.runs = 0
        self.arena: tuple[str, str] | None = None  # (buffer, numbers used) of tape_rows

    # -------------------------------------------------------------- facts about names

    def _rank(self, name: str) -> int | None:
        primal = self.cotangent_of.get(name)
        if primal is not None:
            return self.ranks.get(primal)  # (a deferred sum may leave it larger: loop_length checks)
        return self.ranks.get(name)

    def _scalar(self, name: str) -> bool:
        """A number for sure: a name of rank 0, a cotangent only if every definition of it
        has its primal's rank (``_exact``: a deferred sum may leave a cotangent larger)."""
        return self._rank(name) == 0 and (name not in self.cotangent_of or name in self.exact)

    def _floats(self) -> set[str]:
        """Names every definition of which is a float (or a float array): cotangents,
        array arguments (the fused module runs only for float64 arrays; a number argument
        may be an int or a bool), and what arithmetic
        with a float makes of them. A fused loop's array is float64; the statements
        it replaces must make float64 arrays too, or Numba could not merge the two."""
        # (an argument that is a number may be an int or a bool: m * n of a mask m is no float)
        floats = set(self.cotangent_of) | {a.arg for a in self.fn.args.args if (self.ranks.get(a.arg) or 0) >= 1}
        defs: dict[str, list[ast.AST | None]] = {}
        for node in ast.walk(self.fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    defs.setdefault(target.id, []).append(node.value)
                elif isinstance(target, ast.Tuple):
                    for t in target.elts:
                        if isinstance(t, ast.Name):
                            defs.setdefault(t.id, []).append(None)  # a pop: as the forward made it
        changed = True
        while changed:
            changed = False
            for name, values in defs.items():
                if name in floats:
                    continue
                real = [v for v in values if v is not None]
                if real and all(self._float_expr(v, floats) for v in real):
                    floats.add(name)
                    changed = True
        return floats

    def _exact(self) -> set[str]:
        """Names whose arrays certainly have the rank ``_rank`` gives: primal names of known
        rank, and each cotangent every definition of which has its primal's rank. A deferred
        sum (transform/sums.py) leaves a cotangent the shape of its reader: ``c_bar = d_bar * W``
        is 2-D for a 1-D c. The fused loop makes 1-D arrays, and Numba types both branches:
        a name bound after the run must be 1-D in the statements too."""
        exact = {n for n, r in self.ranks.items() if r is not None and n not in self.cotangent_of}
        defs: dict[str, list[ast.AST | None]] = {}
        for node in ast.walk(self.fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
                if isinstance(target, ast.Name):
                    defs.setdefault(target.id, []).append(value)
                elif isinstance(target, ast.Tuple):
                    items = value.elts if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts) \
                        else [None] * len(target.elts)
                    for t, v in zip(target.elts, items):
                        if isinstance(t, ast.Name):
                            defs.setdefault(t.id, []).append(v)
        # (a seed argument has the rank its caller gives: grad's 1.0 for an array result,
        # before it raises a TypeError, is a number)
        seeds = {a.arg for a in self.fn.args.args if a.arg in self.cotangent_of and self._rank(a.arg) != 0}
        cotangents = {n for n in self.cotangent_of if self._rank(n) is not None} - seeds
        exact |= cotangents  # then drop those a definition breaks, until none does
        changed = True
        while changed:
            changed = False
            for name in sorted(cotangents & exact):
                if any(self._expr_rank(v, exact) != self._rank(name) for v in defs.get(name, ())):
                    exact.discard(name)
                    changed = True
        return exact

    def _expr_rank(self, node: ast.AST | None, exact: set[str]) -> int | None:
        """The rank of what ``node`` makes, if certain (names of ``exact``), else None."""
        if isinstance(node, ast.Constant):
            return 0 if type(node.value) in (int, float, bool) else None
        if isinstance(node, ast.Name):
            return self._rank(node.id) if node.id in exact else None
        if isinstance(node, ast.Subscript):
            if not isinstance(node.value, ast.Name) or node.value.id not in exact:
                return None
            rank = self._rank(node.value.id)
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            rank -= sum(not isinstance(item, ast.Slice) for item in items)
            return rank if rank >= 0 else None
        if isinstance(node, ast.BinOp):
            left, right = self._expr_rank(node.left, exact), self._expr_rank(node.right, exact)
            return None if left is None or right is None else max(left, right)
        if isinstance(node, ast.UnaryOp):
            return self._expr_rank(node.operand, exact)
        name = call_name(node)
        if name.startswith("np.") and name[3:] in _UFUNCS and len(node.args) == 1:
            return self._expr_rank(node.args[0], exact)
        if name in _RANK_OF and len(node.args) > _RANK_OF[name]:
            return self._expr_rank(node.args[_RANK_OF[name]], exact)
        return None

    def _loose(self, node: ast.AST, run: _Run) -> bool:
        """Whether the array ``node`` makes may be of a higher rank than the run's arrays."""
        if isinstance(node, ast.Name):
            bound = run.env.get(node.id)
            if isinstance(bound, _Value):
                return bound.loose
            if isinstance(bound, _Outside):
                return self._loose_binding(bound)
            return not self._scalar(node.id)
        if isinstance(node, ast.Subscript):
            return not isinstance(node.value, ast.Name) or node.value.id not in self.exact
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            return any(self._loose(n, run) for n in ast.iter_child_nodes(node) if isinstance(n, ast.expr))
        name = call_name(node)
        if name.startswith("np.") and node.args:
            return self._loose(node.args[0], run)
        if name in _RANK_OF and len(node.args) > _RANK_OF[name]:
            return self._loose(node.args[_RANK_OF[name]], run)
        return not isinstance(node, ast.Constant)

    def _float_expr(self, node: ast.AST, floats: set[str]) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, float)
        if isinstance(node, ast.Name):
            return node.id in floats
        if isinstance(node, ast.Subscript):
            return self._float_expr(node.value, floats)
        if isinstance(node, ast.BinOp):
            return isinstance(node.op, ast.Div) or self._float_expr(node.left, floats) or \
                self._float_expr(node.right, floats)
        if isinstance(node, ast.UnaryOp):
            return self._float_expr(node.operand, floats)
        name = call_name(node)
        if name.startswith("np.") and name[3:] in _FLOAT_UFUNCS or name in ("zero_like", "fill_like"):
            return True
        if name in ("unbroadcast", "copy_of", "np.abs", "np.zeros_like", "np.ones_like", "np.empty_like") \
                and node.args and not node.keywords:
            return self._float_expr(node.args[0], floats)
        # (NumPy's default dtype: float64; np.zeros(n) that the user then writes elements into)
        return name in ("np.zeros", "np.ones", "np.empty") and len(node.args) == 1 and not node.keywords

    def _fresh(self, base: str) -> str:
        name, i = base, 1
        while name in self.taken:
            name, i = f"{base}_{i}", i + 1
        self.taken.add(name)
        return name

    # -------------------------------------------------------------- one statement

    def _basic_index(self, node: ast.Subscript, run: _Run) -> bool:
        """Whether ``x[...]`` indexes by known ints (not defined by the run; ``t + 1``) and
        slices of them: a view of x (or an element), never a copy of what an index array picks."""
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        parts = [p for item in items for p in ([item.lower, item.upper, item.step] if isinstance(item, ast.Slice)
                                                else [item]) if p is not None]
        return all(self._int(part, run) for part in parts)

    def _int(self, node: ast.AST, run: _Run) -> bool:
        """An int literal, a known number the run does not define, or int arithmetic of them."""
        if isinstance(node, ast.Constant):
            return type(node.value) is int
        if isinstance(node, ast.Name):
            return self._scalar(node.id) and node.id not in run.defined
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
            return self._int(node.left, run) and self._int(node.right, run)
        return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and self._int(node.operand, run)

    def _view(self, node: ast.Subscript, run: _Run) -> str | None:
        """The source text of ``x[...]`` if it is a 1-D view of an array x bound before the
        run, every index item a known int name (or int literal) or a slice of them."""
        if not isinstance(node.value, ast.Name) or node.value.id in run.defined:
            return None
        rank = self._rank(node.value.id)
        if rank is None or not self._basic_index(node, run):
            return None
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        rank -= sum(not isinstance(item, ast.Slice) for item in items)
        return ast.unparse(node) if rank == 1 else None

    def _outside(self, text: str, run: _Run) -> _Outside:
        if text not in run.outside:
            base = text.split("[")[0]
            run.outside[text] = _Outside(text, self._fresh(f"{base}_e"))
        return run.outside[text]

    def _operand(self, node: ast.AST, run: _Run) -> tuple[str, bool] | None:
        """(scalar text of element k, whether it is an array) for an operand, or None."""
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return repr(node.value), False
        if isinstance(node, ast.Name):
            bound = run.env.get(node.id)
            if isinstance(bound, _Value):
                return bound.local, True
            if isinstance(bound, _Outside):
                return f"{bound.local}[k]", True
            if self._scalar(node.id) and node.id not in run.defined:
                run.reads.add(node.id)
                return node.id, False
            if self._rank(node.id) == 1:
                run.reads.add(node.id)
                outside = self._outside(node.id, run)
                run.env[node.id] = outside
                return f"{outside.local}[k]", True
            return None
        if isinstance(node, ast.Subscript):
            text = self._view(node, run)
            if text is None:
                return None
            run.reads |= _names(node)
            return f"{self._outside(text, run).local}[k]", True
        return None

    def _expr(self, node: ast.AST, run: _Run) -> tuple[str, bool] | None:
        """(scalar text of element k, whether the statement's value is an array)."""
        if isinstance(node, (ast.Constant, ast.Name, ast.Subscript)):
            return self._operand(node, run)
        if isinstance(node, ast.BinOp) and isinstance(node.op, _OPS):
            left, right = self._expr(node.left, run), self._expr(node.right, run)
            if left is None or right is None:
                return None
            return _arithmetic(node, left[0], right[0]), left[1] or right[1]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self._expr(node.operand, run)
            if inner is None:
                return None
            return _arithmetic(node, inner[0]), inner[1]
        name = call_name(node)
        if not isinstance(node, ast.Call) or node.keywords:
            return None
        args = node.args
        if name.startswith("np.") and name[3:] in _UFUNCS and len(args) == 1:
            inner = self._expr(args[0], run)
            return None if inner is None else (f"{name}({inner[0]})", inner[1])
        if name == "unbroadcast" and len(args) == 2 or name == "fill_like" and len(args) == 2:
            like = self._expr(args[1], run)
            value = self._expr(args[0], run)
            if like is None or not like[1] or value is None or name == "fill_like" and value[1]:
                return None  # (like an array: then unbroadcast keeps the value as it is)
            return value[0], True
        if name == "zero_like" and len(args) == 1:
            like = self._expr(args[0], run)
            return None if like is None or not like[1] else ("0.0", True)
        if name == "copy_of" and len(args) == 1:
            return self._expr(args[0], run)
        return None

    def _alias(self, node: ast.AST) -> str | None:
        """x for a value that is x's array itself: ``x``, ``unbroadcast(x, like)``."""
        if isinstance(node, ast.Name):
            return node.id
        if call_name(node) == "unbroadcast" and len(node.args) == 2 and isinstance(node.args[0], ast.Name):
            return node.args[0].id
        return None

    def _may_write(self, text: str, run: _Run) -> bool:
        """Whether the run may write into the outside array ``text`` element by element:
        an array the function made (not an argument's), that no other operand of the run
        views at other offsets. Operands made from the same array (two rows of it) are
        checked at run time (``apart``)."""
        base = text.split("[")[0]
        roots = self.roots.of.get(base, {UNKNOWN})
        if not roots or any(not r.startswith("new:") for r in roots):
            return False
        cotangent = base in self.cotangent_of
        for other in run.outside:
            if other == text:
                continue
            other_roots = self.roots.of.get(other.split("[")[0], {UNKNOWN})
            if UNKNOWN in other_roots and not (cotangent and other.split("[")[0] not in self.cotangent_of):
                return False  # (a primal value, wherever it comes from, is never a cotangent's array)
            if roots & other_roots:
                run.apart.add((min(text, other), max(text, other)))
        return len(run.apart) <= _MAX_APART

    def _write_ok(self, run: _Run) -> bool:
        return all(self._may_write(text, run) for text in run.written)

    def statement(self, stmt: ast.stmt, run: _Run) -> bool:
        """Add ``stmt`` to the run if it is elementwise on the run's arrays; False (and the
        run as it was) if not."""
        saved = (list(run.body), dict(run.env), dict(run.outside), set(run.written), set(run.defined),
                 set(run.reads), set(self.taken), set(run.apart), dict(run.sums))
        if self._statement(stmt, run) and self._write_ok(run):
            run.stmts.append(stmt)
            return True
        run.body, run.env, run.outside, run.written, run.defined, run.reads, self.taken, run.apart, run.sums = saved
        return False

    def _statement(self, stmt: ast.stmt, run: _Run) -> bool:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                return self._assign(target.id, stmt.value, run)
            if isinstance(target, ast.Subscript):
                return self._store(target, None, stmt.value, run)
            return False
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Add, ast.Sub, ast.Mult)):
            if isinstance(stmt.target, ast.Subscript):
                return self._store(stmt.target, stmt.op, stmt.value, run)
            if isinstance(stmt.target, ast.Name):
                bound = run.env.get(stmt.target.id)
                if bound is None and self._rank(stmt.target.id) == 1 and stmt.target.id not in run.defined:
                    self._operand(stmt.target, run)  # an array from before the run: in place
                    bound = run.env.get(stmt.target.id)
                value = self._expr(stmt.value, run)
                if value is None or not isinstance(bound, (_Value, _Outside)):
                    return False
                op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}[type(stmt.op)]
                if isinstance(bound, _Value):
                    run.body.append(f"{bound.local} {op}= {value[0]}")
                else:
                    run.written.add(bound.name)
                    run.body.append(f"{bound.local}[k] {op}= {value[0]}")
                return True
        return False

    def _assign(self, target: str, value: ast.AST, run: _Run) -> bool:
        if self._scalar(target):
            return self._sum(target, value, run)
        if self._rank(target) != 1 or not self._float_expr(value, self.floats) or isinstance(value, ast.Subscript):
            return False  # (a view: it moves before the run, if anything)
        if call_name(value) == "unbroadcast" and value.args and isinstance(value.args[0], ast.Subscript):
            return False  # unbroadcast(y[i], like) is the view y[i] itself, no copy of it
        alias = self._alias(value)
        if alias is not None:
            if self._expr(ast.Name(alias), run) is None:
                return False
            bound = run.env.get(alias)
            if isinstance(value, ast.Call):  # unbroadcast(x, like): like must be one of the arrays
                like = self._expr(value.args[1], run)
                if like is None or not like[1]:
                    return False
            if bound is None:
                return False
            if isinstance(value, ast.Call) and isinstance(bound, _Outside) and not bound.shaped and \
                    not self._loose(value.args[1], run):
                # the statements make it like's (1-D); name may be a deferred sum's 2-D cotangent
                bound = _Outside(bound.name, bound.local, shaped=True)
            run.env[target] = bound
            run.defined.add(target)
            return True
        element = self._expr(value, run)
        if element is None or not element[1]:
            return False
        local = self._fresh(f"{target}_k")
        run.body.append(f"{local} = {element[0]}")
        run.env[target] = _Value(local, loose=self._loose(value, run))
        run.defined.add(target)
        return True

    def _sum(self, target: str, value: ast.AST, run: _Run) -> bool:
        """``target = E``, a number, where E is arithmetic on numbers from before the run
        and sums of the run's arrays, ``np.sum(x)``: the loop adds each element of x into an
        accumulator as it has it, from 0.0 and in the order k = 0, 1, ... (Numba's own
        ``np.sum`` adds them so), and target is E of the accumulators, after the loop. The
        run's later statements may not read target (``run.defined`` without a binding).
        ``writes = np.sum(y * y)`` made and summed an array of 100,000 squares (with the
        np.zeros of ``_float_expr``, 4 to 5% of the writes benchmark's gradient)."""
        sums = [node for node in ast.walk(value) if isinstance(node, ast.Call)]
        if not sums or target in run.defined or target in run.reads or any(
                call_name(c) != "np.sum" or len(c.args) != 1 or c.keywords or not isinstance(c.args[0], ast.Name)
                for c in sums):
            return False
        summed = {c.args[0].id for c in sums}
        rest = _names(value) - summed - {"np"}
        if any(not self._scalar(name) or name in run.defined for name in rest) or any(
                not isinstance(n, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load,
                                   ast.Call, ast.Attribute, ast.operator, ast.unaryop)) for n in ast.walk(value)):
            return False
        accumulators: dict[str, str] = {}
        for name in sorted(summed):
            element = self._expr(ast.Name(name, ast.Load()), run)
            if element is None or not element[1]:
                return False
            accumulators[name] = self._fresh(f"{name}_sum")
            run.body.append(f"{accumulators[name]} += {element[0]}")

        class Read(ast.NodeTransformer):
            def visit_Call(self, node: ast.Call) -> ast.AST:
                return ast.Name(accumulators[node.args[0].id], ast.Load())

        after = Read().visit(ast.parse(ast.unparse(value), mode="eval"))
        run.sums[target] = (f"{target} = {ast.unparse(after)}", list(accumulators.values()))
        run.reads |= rest
        run.defined.add(target)
        return True

    def _store(self, target: ast.Subscript, op: ast.operator | None, value: ast.AST, run: _Run) -> bool:
        text = self._view(target, run)
        element = self._expr(value, run)
        if text is None or element is None:
            return False
        run.reads |= _names(target)
        outside = self._outside(text, run)
        run.written.add(text)
        sign = {None: "", ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}.get(type(op) if op else None)
        if sign is None:
            return False
        run.body.append(f"{outside.local}[k] {sign}= {element[0]}")
        return True

    def movable(self, stmt: ast.stmt, run: _Run) -> bool:
        """Whether ``stmt`` may go before the run: it binds one name, the run has neither
        read nor bound it, and it reads nothing the run binds nor any array (an int, or a
        view: neither reads an element)."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            return False
        name = stmt.targets[0].id
        reads = _names(stmt.value)
        if name in run.reads or name in run.defined or name in run.env or reads & run.defined:
            return False
        calls = [n for n in ast.walk(stmt.value) if isinstance(n, ast.Call)]
        if isinstance(stmt.value, ast.Subscript) and (self._rank(name) or 0) >= 1:
            return not calls and self._basic_index(stmt.value, run)  # a view, reading no element (not x[idx])
        # a number from numbers (np.log(t49)): a ufunc of numbers is a number
        if any(not call_name(c).startswith("np.") or call_name(c)[3:] not in _UFUNCS for c in calls):
            return False
        return self._scalar(name) and all(self._scalar(r) for r in (reads - {"np"} if calls else reads))

    # -------------------------------------------------------------- blocks

    def block(self, stmts: list[ast.stmt], frames: tuple = ()) -> list[ast.stmt]:
        """``stmts`` with their runs fused; ``frames``: (block, index, statement) of each
        enclosing statement, innermost last (what runs after a run)."""
        out: list[ast.stmt] = []
        i = 0
        while i < len(stmts):
            stmt = stmts[i]
            for attr in ("body", "orelse"):
                if isinstance(stmt, (ast.For, ast.While, ast.If)) and getattr(stmt, attr):
                    setattr(stmt, attr, self.block(getattr(stmt, attr), frames + ((stmts, i, stmt),)))
            run = _Run()
            j, last = i, i
            while j < len(stmts):
                if self.statement(stmts[j], run):
                    last = j + 1
                elif not run.stmts or not self.movable(stmts[j], run):
                    break
                else:
                    run.moved.append(stmts[j])
                j += 1
            # (aliases only: no loop to write; a name read after bound to what may be 2-D, a
            # deferred sum's cotangent: the loop's 1-D array could not stand for it in Numba)
            fuse = len(run.body) >= _MIN_STATEMENTS  # (statements of the loop: an alias is none)
            after = _live_after(stmts, last, frames) if fuse else set()
            if fuse and not any(self._loose_binding(run.env[name]) for name in run.defined & after
                                if name not in run.sums):
                kept = [s for s in stmts[i:last] if any(s is m for m in run.moved)]
                self.runs += 1
                out += kept + self._emit(run, stmts, i, last, after, frames)
                i = last
            else:
                out += self._matrix_statement(stmt, stmts[i + 1:]) or [stmt]
                i += 1
        return out

    # -------------------------------------------------------------- matrices

    def _column_sums(self, target: str, later: list[ast.stmt]) -> list[ast.Call]:
        """The calls ``reduce_sum(target, 0)`` in the statements after ``target = E`` that
        read target as E made it: up to the first one that binds target again, may write
        into its array (``x += e`` or ``x[i] = e`` of a name whose array may come from
        where target's does, ``_Roots``) or is not a simple statement."""
        mine = self.roots.of.get(target, {UNKNOWN})
        calls = []
        for stmt in later:
            if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr)):
                break
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
            bound = {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}
            written = {n.id for t in targets if isinstance(t, ast.Subscript) for n in ast.walk(t.value)
                       if isinstance(n, ast.Name)} | (bound if isinstance(stmt, ast.AugAssign) else set())
            roots = set().union(*(self.roots.of.get(name, {UNKNOWN}) for name in written))
            if target in bound or written and (UNKNOWN in roots | mine or roots & mine):
                break
            calls += [node for node in ast.walk(stmt.value) if call_name(node) == "reduce_sum" and len(node.args) == 2
                      and not node.keywords and isinstance(node.args[0], ast.Name) and node.args[0].id == target
                      and ast.unparse(node.args[1]) in ("0", "-2")]
        return calls

    def _matrix_statement(self, stmt: ast.stmt, later: list[ast.stmt]) -> list[ast.stmt] | None:
        """Two loops, over rows and over each row's elements, for one statement of
        elementwise arithmetic E on matrices of one shape, vectors along a row (``x - mu``:
        mu[j]), a cotangent repeated along an axis (``expand_view(g, x, 1)``: g[i]) and
        numbers (``_grid``):

        * ``m = E`` (m a matrix): each element made once, where Numba's loop did more per
          element (gmm's ``x - mu[j]`` 4.0 -> 2.5 us per component, a row of a matrix,
          ``mu[j]``, being a vector made before the loops; mlp_ce's ``h_bar * (1.0 - h *
          h)`` on matrices of one shape, 256 x 128: 12.8 -> 7.6 us);
        * with ``reduce_sum(m, 0)`` after it (``_column_sums``): each element also added
          into its column's sum, in reduce_sum's order (rows in turn, from 0.0), and the
          calls read the sums (gmm: a 1000 x 10 column sum per component, 4 us);
        * ``r = reduce_sum(E, 1)``: each element added into its row's sum as it is made, E
          never made (gmm's ``reduce_sum(t12 ** 2, 1)``: 6.9 -> 2.6 us per component),
          the same additions in the same order as reduce_sum's (a float64 sum per row,
          from 0.0, along the row).

        Behind a test of the shapes when there is more than one array; the statement as it
        was where they differ (then they broadcast)."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            return None
        target, value = stmt.targets[0].id, stmt.value
        row_sum = call_name(value) == "reduce_sum" and len(value.args) == 2 and not value.keywords \
            and ast.unparse(value.args[1]) in ("1", "-1") and self._rank(target) == 1
        if row_sum:
            value = value.args[0]
        elif not (isinstance(value, (ast.BinOp, ast.UnaryOp)) and self._rank(target) == 2 and target in self.exact):
            return None
        if isinstance(value, ast.Name) or not self._float_expr(value, self.floats):
            return None
        taken = set(self.taken)
        rows, cols, i, j = (self._fresh(n) for n in ("rows", "cols", "i", "j"))
        grid = _Grid(i, j)
        element = self._element(value, grid)
        if element is None or not grid.matrices:
            self.taken = taken
            return None
        out = self._fresh(f"{target}_out")
        column_sums = [] if row_sum else self._column_sums(target, later)
        views = [f"{name} = {text}" for text, name in grid.views.items()]
        lines = views + [f"{rows}, {cols} = {grid.matrices[0]}.shape"]
        if row_sum:
            total = self._fresh("total")
            lines += [f"{out} = np.empty({rows})",
                      f"for {i} in range({rows}):",
                      f"    {total} = 0.0",
                      f"    for {j} in range({cols}):",
                      f"        {total} += {element}",
                      f"    {out}[{i}] = {total}"]
        else:
            lines.append(f"{out} = np.empty(({rows}, {cols}))")
            body = [f"{out}[{i}, {j}] = {element}"]
            if column_sums:
                sums, made = self._fresh(f"{target}_colsum"), self._fresh(f"{target}_ij")
                lines.append(f"{sums} = np.zeros({cols})")
                body = [f"{made} = {element}", f"{out}[{i}, {j}] = {made}", f"{sums}[{j}] += {made}"]
            lines += [f"for {i} in range({rows}):", f"    for {j} in range({cols}):"] + [f"        {b}" for b in body]
        lines.append(f"{target} = {out}")
        self.runs += 1
        tests = [f"{m}.shape == {grid.matrices[0]}.shape" for m in grid.matrices[1:]] + \
            [f"{v}.shape[0] == {cols if along == j else rows}" for v, along in grid.vectors]
        loops = _unchecked(ast.parse("\n".join(lines)).body)
        if column_sums:  # (the loops' sums, where the statements after them summed target's columns)
            _Replace({id(call): sums for call in column_sums}).visit_all(later)
        if not tests:
            return loops
        guard = ast.parse(f"if {' and '.join(tests)}:\n    pass").body[0]
        first = len(views) + 1  # (the views and the shape, before the test)
        guard.body, guard.orelse = loops[first:], [stmt]
        if column_sums:
            guard.orelse.append(ast.parse(f"{sums} = reduce_sum({target}, 0)").body[0])
        return loops[:first] + [guard]

    def _element(self, node: ast.AST, grid: "_Grid") -> str | None:
        """Element [i, j] of elementwise arithmetic on matrices and vectors (see
        ``_matrix_statement``), recording them in ``grid``; or None."""
        if isinstance(node, ast.Constant):
            return repr(node.value) if type(node.value) in (int, float) else None
        if isinstance(node, ast.Name):
            rank = self._rank(node.id) if node.id in self.exact else None
            if rank == 2:
                grid.matrix(node.id)
                return f"{node.id}[{grid.i}, {grid.j}]"
            if rank == 1:  # along a row, as NumPy broadcasts it
                grid.vector(node.id, grid.j)
                return f"{node.id}[{grid.j}]"
            return node.id if self._scalar(node.id) else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in self.exact \
                and self._rank(node.value.id) == 2 and isinstance(node.slice, ast.Name) \
                and self._scalar(node.slice.id):  # a matrix's row (x - mu[j]): a vector made before the loops
            row = grid.view(ast.unparse(node), lambda: self._fresh(f"{node.value.id}_row"))
            grid.vector(row, grid.j)
            return f"{row}[{grid.j}]"
        if isinstance(node, ast.BinOp) and isinstance(node.op, _OPS):
            left, right = self._element(node.left, grid), self._element(node.right, grid)
            if left is None or right is None:
                return None
            return _arithmetic(node, left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self._element(node.operand, grid)
            return None if inner is None else _arithmetic(node, inner)
        name = call_name(node)
        if name == "expand_view" and len(node.args) == 3 and not node.keywords \
                and all(isinstance(a, ast.Name) for a in node.args[:2]):
            g, like = node.args[0].id, node.args[1].id  # g[i] (axis 1) or g[j] (axis 0) of like's shape
            along = {"1": grid.i, "-1": grid.i, "0": grid.j, "-2": grid.j}.get(ast.unparse(node.args[2]))
            if along is None or self._rank(g) != 1 or g not in self.exact or self._rank(like) != 2 \
                    or like not in self.exact:
                return None
            grid.matrix(like)
            grid.vector(g, along)
            return f"{g}[{along}]"
        if name.startswith("np.") and name[3:] in _UFUNCS and name[3:] not in NUMPY_LOOPS and len(node.args) == 1 \
                and not node.keywords:  # (np.exp of a matrix: NumPy's SIMD loop, codegen/numba_calls.py)
            inner = self._element(node.args[0], grid)
            return None if inner is None else f"{name}({inner})"
        return None

    def _loose_binding(self, bound: _Value | _Outside) -> bool:
        if isinstance(bound, _Value):
            return bound.loose
        return not bound.shaped and bound.name.split("[")[0] not in self.exact

    def _pushed(self, stmts: list[ast.stmt]) -> set[str]:
        """Names the statements push onto a tape (``tape.append((a, b))``), or bind to a name
        they push (``h = hidden``: a loop's next iteration pushes it)."""
        pushed = {n.id for stmt in stmts for call in ast.walk(stmt) if isinstance(call, ast.Call)
                  and isinstance(call.func, ast.Attribute) and call.func.attr == "append"
                  and isinstance(call.func.value, ast.Name) and call.func.value.id in self.roots.tapes
                  for n in ast.walk(call) if isinstance(n, ast.Name) and n is not call.func.value}
        copies = [(t.id, v.id) for stmt in stmts for node in ast.walk(stmt)
                  if isinstance(node, ast.Assign) and len(node.targets) == 1
                  for t, v in _pairs(node.targets[0], node.value)]
        while True:
            more = {source for target, source in copies if target in pushed} - pushed
            if not more:
                return pushed
            pushed |= more

    def _allocate(self, names: list[str], n: str, taped: bool = False) -> list[str]:
        """Arrays of length ``n`` for a loop to fill: one allocation, whose rows they are
        when there are several. An LSTM cell's loop fills six for the tape, and pushing six
        fresh arrays at every step cost a tenth of the lstm benchmark's gradient. Rows live
        as long as the longest-lived of them: what a tape keeps is allocated apart from
        what dies sooner (``_emit``), cut from a buffer that the function's loops share
        (``taped``: ``tape_rows``), as they all live until the reverse sweep reads them."""
        if not names or len(names) == 1 and not taped:
            return [f"{name} = np.empty({n})" for name in names]
        rows = self._fresh("rows")
        if taped:
            if self.arena is None:
                self.arena = (self._fresh("tape_arena"), self._fresh("tape_arena_used"))
            arena, used = self.arena
            made = f"{rows}, {arena}, {used} = tape_rows({arena}, {used}, {len(names)}, {n})"
        else:
            made = f"{rows} = np.empty(({len(names)}, {n}))"
        return [made] + [f"{name} = {rows}[{i}]" for i, name in enumerate(names)]

    def _read_once(self, run: _Run) -> list[str]:
        """The loop's statements, each element that several of them read read once, first.
        Between two reads of ``a[k]`` a loop writes other arrays' elements, and the
        compiler, which cannot tell them apart from ``a``, reads ``a[k]`` again after each
        write (lstm's adjoint read its taped gates three times each: 4% of its gradient).
        Only an array the run never writes and that shares no memory with one it writes
        (no ``apart`` pair) holds the same element k all through the loop's body."""
        shared = {text for pair in run.apart for text in pair}
        body = list(run.body)
        first = []
        for a in run.outside.values():
            if a.name in run.written or a.name in shared:
                continue
            element = re.compile(rf"(?<![\w.]){re.escape(a.local)}\[k\]")
            if sum(len(element.findall(line)) for line in body) < 2:
                continue
            local = self._fresh(f"{a.name.split('[')[0]}_k")
            first.append(f"{local} = {a.local}[k]")
            body = [element.sub(local, line) for line in body]
        return first + body

    def _held(self, name: str) -> bool:
        """Whether the memory of ``name``'s array (and of its views) is held until the
        function returns, whatever the function's variables: an argument's (the caller holds
        it), or an array made by the one binding of ``name``, at the function's top level,
        that the final return reads (a cotangent the function returns). A fused loop reads
        its arrays through ``pointer``, which holds none: any other array it reads is kept
        alive over the loop (``keep_alive``), or Numba could free it before the loop ends
        (the cotangent the previous layer's loop made, which this one replaces)."""
        roots = self.roots.of.get(name, {UNKNOWN})
        return all(root.startswith("param:") for root in roots) or \
            roots == {f"new:{name}"} and name in self._returned_once

    @cached_property
    def _returned_once(self) -> set[str]:
        """Names bound once in the function, by an assignment at its top level, that its
        final return reads."""
        last = self.fn.body[-1]
        if not isinstance(last, ast.Return):
            return set()
        bound = Counter(node.id for node in ast.walk(self.fn)
                        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load))
        top = {stmt.targets[0].id for stmt in self.fn.body if isinstance(stmt, ast.Assign)
               and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)}
        return {name for name in top & _names(last) if bound[name] == 1}

    def _tested(self, run: _Run, stmts: list[ast.stmt], start: int, frames: tuple) -> list[tuple[str, str]]:
        """The pairs of operands made from one array that ``apart`` tests at run time: those
        not proved apart where the run starts (``codegen/disjoint.py``)."""
        if not run.apart:
            return []
        ints = Ints(frames, stmts[:start] + run.moved)
        tested = []
        for a, b in sorted(run.apart):
            base = a.split("[")[0]
            rank = self._rank(base)
            if base != b.split("[")[0] or rank is None or not ints.apart(a, b, rank):
                tested.append((a, b))
        return tested

    def _emit(self, run: _Run, stmts: list[ast.stmt], start: int, end: int, after: set[str],
              frames: tuple) -> list[ast.stmt]:
        fused = [s for s in stmts[start:end] if not any(s is m for m in run.moved)]
        arrays = list(run.outside.values())
        n = self._fresh("n")
        refs, before = {}, []  # each view made once, before the test
        for a in arrays:
            refs[a.name] = a.name
            if "[" in a.name:
                refs[a.name] = self._fresh(f"{a.name.split('[')[0]}_part")
                before.append(ast.parse(f"{refs[a.name]} = {a.name}").body[0])
        before.append(ast.parse(f"{n} = loop_length({refs[arrays[0].name]})").body[0])
        lines = [f"{a.local} = pointer({refs[a.name]})" for a in arrays]
        # what is read after the run: an array of its own, or the outside array it is
        out_arrays: dict[int, str] = {}
        aliases, bindings = [], []
        for name in sorted(run.defined & after - set(run.sums)):
            bound = run.env[name]
            if isinstance(bound, _Outside):
                aliases.append((name, f"elements({refs[bound.name]})" if bound.shaped else bound.name))
            else:
                if id(bound) not in out_arrays:
                    out_arrays[id(bound)] = self._fresh(f"{name}_out")
                    bound.read_after = True
                bindings.append((name, out_arrays[id(bound)]))
        pushed = self._pushed(stmts[end:])
        kept = {out for name, out in bindings if name in pushed}
        for group in (kept, set(out_arrays.values()) - kept):  # what a tape keeps, what dies sooner
            lines += self._allocate([out for out in out_arrays.values() if out in group], n, group is kept)
        loop = [f"    {line}" for line in self._read_once(run)]
        for bound in {id(b): b for b in run.env.values() if isinstance(b, _Value) and b.read_after}.values():
            loop.append(f"    {out_arrays[id(bound)]}[k] = {bound.local}")
        k = self._fresh("k")
        lines += [f"{acc} = 0.0" for _, accs in run.sums.values() for acc in accs]
        lines.append(f"for {k} in range({n}):")
        lines += [line.replace("[k]", f"[{k}]") for line in loop]
        unheld = [refs[a.name] for a in arrays if not self._held(a.name.split("[")[0])]
        if unheld:
            lines.append(f"keep_alive({', '.join(unheld)})")
        lines += [statement for statement, _ in run.sums.values()]
        aliases = [(t, s) for t, s in aliases if t != s]
        if aliases:
            lines.append(f"{', '.join(t for t, _ in aliases)} = {', '.join(s for _, s in aliases)}")
        lines += [f"{t} = {s}" for t, s in bindings]
        # one test of them all, & (not and: a branch per test; lstm's gradient 2 to 3% faster)
        test = " & ".join([f"({n} >= 0)"] + [f"(loop_length({refs[a.name]}) == {n})" for a in arrays[1:]])
        tested = self._tested(run, stmts, start, frames)
        test += "".join(f" & apart({refs[a]}, {refs[b]})" for a, b in tested)
        guard = ast.parse(f"if {test}:\n    pass").body[0]
        guard.body = _unchecked(ast.parse("\n".join(lines)).body)
        guard.orelse = fused
        return before + [guard]


@dataclass
class _Grid:
    """The arrays element [i, j] reads (i, j: the loops' names): matrices (of the first
    one's shape) and vectors read at i (a column's length) or at j (a row's)."""
    i: str
    j: str
    matrices: list[str] = field(default_factory=list)
    vectors: list[tuple[str, str]] = field(default_factory=list)
    views: dict[str, str] = field(default_factory=dict)  # a name for each row view, by its text

    def view(self, text: str, fresh) -> str:
        if text not in self.views:
            self.views[text] = fresh()
        return self.views[text]

    def matrix(self, name: str) -> None:
        if name not in self.matrices:
            self.matrices.append(name)

    def vector(self, name: str, along: str) -> None:
        if (name, along) not in self.vectors:
            self.vectors.append((name, along))


def _pairs(target: ast.expr, value: ast.expr) -> list[tuple[ast.Name, ast.Name]]:
    """(target, source) of each name an assignment binds to another name: ``a = b``,
    ``a, c = b, d``."""
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        return [pair for t, v in zip(target.elts, value.elts) for pair in _pairs(t, v)]
    return [(target, value)] if isinstance(target, ast.Name) and isinstance(value, ast.Name) else []


def _reads(node: ast.AST) -> set[str]:
    """Names ``node`` reads (an augmented assignment reads its target)."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            out.add(n.target.id)
    return out


def _assigned(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, ast.Assign):
        return {n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return set()


def _exposed(stmts: list[ast.stmt], bound: set[str]) -> tuple[set[str], set[str]]:
    """(names ``stmts`` may read before binding them, given ``bound`` already bound; the
    names bound once they have run, whatever path they took)."""
    exposed, bound = set(), set(bound)
    for stmt in stmts:
        if isinstance(stmt, ast.For):
            exposed |= _reads(stmt.iter) - bound
            inner = bound | {n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)}
            exposed |= _exposed(stmt.body, inner)[0]  # it may run no iteration: binds nothing
        elif isinstance(stmt, ast.While):
            exposed |= _reads(stmt.test) - bound
            exposed |= _exposed(stmt.body, bound)[0]
        elif isinstance(stmt, ast.If):
            exposed |= _reads(stmt.test) - bound
            (then, then_bound), (other, other_bound) = _exposed(stmt.body, bound), _exposed(stmt.orelse, bound)
            exposed |= then | other
            bound = then_bound & other_bound
        else:
            exposed |= _reads(stmt) - bound
            bound |= _assigned(stmt)
    return exposed, bound


def _live_after(stmts: list[ast.stmt], end: int, frames: tuple) -> set[str]:
    """Names that what runs after ``stmts[:end]`` may read before binding them again: the
    rest of the block, then of each enclosing block (after each enclosing loop's next
    iterations)."""
    live, bound = _exposed(stmts[end:], set())
    for block, index, stmt in reversed(frames):
        if isinstance(stmt, (ast.For, ast.While)):  # its next iteration
            again = stmt.body if isinstance(stmt, ast.For) else [ast.Expr(stmt.test)] + stmt.body
            live |= _exposed(again, bound)[0]
        rest, bound = _exposed(block[index + 1:], bound)
        live |= rest
    return live


def fuse_module(source: str, ranks: Mapping[str, int], cotangent_of: Mapping[str, str]) -> str | None:
    """The module Numba compiles: ``source`` with its elementwise runs fused, or None."""
    tree = ast.parse(source)
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
        {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    runs = 0
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef):
            fuser = _Fuser(fn, ranks, cotangent_of, taken)
            fn.body = fuser.block(fn.body)
            runs += fuser.runs
            if fuser.arena is not None:
                _insert_first(fn.body, f"{', '.join(fuser.arena)} = np.empty(0), 0")
    if not runs:
        return None
    _insert_first(tree.body, "import numpy as np\nfrom adjoint.runtime.helpers import apart, elements, item, "
                  "keep_alive, loop_length, pointer, set_item, tape_rows")
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _insert_first(body: list[ast.stmt], source: str) -> None:
    """``source``'s statements at the start of ``body``, after its docstring if it has one."""
    start = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    body[start:start] = ast.parse(source).body
