"""Kind analysis: which arrays hold integers, so that writing a differentiated number into
one is an error instead of a wrong gradient.

Assumes an ``ir.Function``, its active values and the kinds of the call's arguments
(``"int"`` for an int, a bool or an integer or boolean array, ``"float"`` for a float or a
float array, None otherwise). Promises the element writes ``y[i] = v`` of an active ``v``
into a ``y`` known to hold integers: NumPy truncates ``v`` there (``int(v)``), which has no
derivative, while the adjoint would give ``v`` the cotangent of ``y[i]``; the same for an
array of integers filled with an active ``v`` (``np.full_like(k, v)``, ``np.full(n, v, int)``).

A kind is known only where it is certain: from the arguments, number literals, a
``dtype=`` argument (``np.zeros(n, dtype=int)``), ``np.zeros``/``np.ones``/``np.empty``
without one (floats), ``np.full`` and ``*_like`` without one (the fill value's or the
array's kind), ``np.arange`` (ints from int bounds), ``.astype(int)``, copies, element
reads and writes of an array of a known kind, elementwise functions that keep integers
integers (``+ - * // % **``, abs, sign, max, min, clip, where, ...; a float operand makes
them float), comparisons (booleans, which count as integers), shapes, sizes, ``len`` and
``int``; libm functions, roots and ``/`` give floats (exp, sin, sqrt, ...). Anything else
is not known, and is not refused.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import NonDifferentiableError
from ..frontend.to_ir import BOOL_RESULT, INT_OF_INTS, INT_RESULT
from ..ir.nodes import Assign, Const, Function, Value, Var, walk
from ..rules import RULES
from ..rules.elementwise import LIBM
from .ranks import Dataflow

INT, FLOAT = "int", "float"
_MADE = {"zeros", "ones", "empty", "eye", "identity"}  # floats unless a dtype is given
_SAME = {"copy", "flatten", "getitem", "setitem", "save", "zeros_like", "ones_like", "empty_like"}
_INT_PRESERVING = INT_OF_INTS | {"pow", "pow_const", "square", "reciprocal", "sign", "clip", "arange",
                                 "helper.copy_of"}
# np.floor of integers: integers since NumPy 2.3 (floats before)
_INT_PRESERVING |= {"floor", "ceil", "trunc"} if np.floor(np.arange(1)).dtype.kind == "i" else set()
_INTEGER = BOOL_RESULT | INT_RESULT  # Python ints, of floats too (math.floor)
# Floats, of integer operands too: libm functions, square and cube roots, division, ...
_FLOAT = LIBM | {"sqrt", "cbrt", "deg2rad", "rad2deg", "rint", "truediv", "arctan2", "hypot"} | {
    name for name in RULES if name.startswith("math.") and name not in _INTEGER}


def argument_kind(value: Any) -> str | None:
    """The kind of one argument of a call."""
    if isinstance(value, (bool, int, np.integer, np.bool_)):
        return INT
    if isinstance(value, (float, np.floating)):
        return FLOAT
    if isinstance(value, np.ndarray):
        return INT if value.dtype.kind in "iub" else FLOAT if value.dtype.kind == "f" else None
    return None


class _Kinds(Dataflow):
    def of(self, value) -> str | None:
        if isinstance(value, Var):
            return self.known.get(value.name)
        if isinstance(value, Const) and isinstance(value.value, (bool, int, float)):
            return FLOAT if isinstance(value.value, float) else INT
        return None

    def assign(self, stmt: Assign) -> None:
        prim, args = stmt.op.prim, stmt.op.args
        untyped = isinstance(args[-1], Const) and args[-1].value is None  # no dtype= given
        rule = RULES.get(prim)
        kind = None
        if rule is not None and rule.params[-1:] == ("dtype",) and not untyped:
            kind = _dtype_kind(args[-1])  # np.zeros(n, dtype=int), .astype(np.float32)
        elif prim in _MADE:
            kind = FLOAT
        elif prim == "full":
            kind = self.of(args[1])  # np.full(n, 0) holds ints
        elif prim == "full_like":
            kind = self.of(args[0])
        elif prim in _SAME:
            kind = self.of(args[0])
        elif prim in _INT_PRESERVING or prim == "where":
            kinds = [self.of(a) for a in (args[1:] if prim == "where" else args)]
            kind = FLOAT if FLOAT in kinds else INT if kinds and all(k == INT for k in kinds) else None
            if kind == INT and prim in ("pow", "pow_const") and not (
                    isinstance(args[1], Const) and isinstance(args[1].value, (int, float)) and args[1].value >= 0):
                kind = None  # a Python int to a negative power is a float (n ** -1 is 0.5)
        elif prim in _INTEGER:
            kind = INT
        elif prim in _FLOAT:
            kind = FLOAT
        self.known[stmt.target.name] = kind


def _dtype_kind(dtype: Value) -> str | None:
    """The kind of a ``dtype=`` argument (np.int64, int, np.float32, float, bool)."""
    try:
        kind = np.dtype(dtype.value).kind if isinstance(dtype, Const) and dtype.value is not None else ""
    except TypeError:
        return None
    return INT if kind in ("i", "u", "b") else FLOAT if kind == "f" else None


def check_integer_writes(fn: Function, active: frozenset[str], kinds: Sequence[str | None]) -> None:
    """Raise ``NonDifferentiableError`` at the first write of a differentiated number into
    an array that holds integers (see the module docstring), and at the first array of
    integers filled with one (``np.full_like(k, v)`` of an int array ``k``, ``np.full(n, v,
    dtype=int)``: NumPy truncates ``v`` there too, while the adjoint would give ``v`` the
    sum of the array's cotangent)."""
    analysis = _Kinds(dict(zip(fn.param_names, kinds)))
    analysis.block(fn.body)
    for stmt in (s for s in walk(fn.body) if isinstance(s, Assign) and s.op.prim == "setitem"):
        x, _, value, _ = stmt.op.args
        if isinstance(value, Var) and value.name in active and analysis.of(x) == INT:
            raise NonDifferentiableError(
                f"{stmt.loc.filename}:{stmt.loc.line}: a differentiated number is written into an "
                f"array of integers, which truncates it (no derivative); make the array hold floats "
                f"first, e.g. y = k.astype(np.float64) or np.zeros(n) (line: {stmt.loc.text.strip()})")
    for stmt in (s for s in walk(fn.body) if isinstance(s, Assign) and s.op.prim in ("full", "full_like")):
        value = stmt.op.args[1]
        if isinstance(value, Var) and value.name in active and analysis.of(stmt.target) == INT:
            raise NonDifferentiableError(
                f"{stmt.loc.filename}:{stmt.loc.line}: a differentiated number fills an array of "
                f"integers, which truncates it (no derivative); give the array a float dtype, e.g. "
                f"np.full_like(k, v, dtype=np.float64) (line: {stmt.loc.text.strip()})")
