"""Kind analysis: which arrays hold integers, so that writing a differentiated number into
one is an error instead of a wrong gradient.

Assumes an ``ir.Function``, its active values and the kinds of the call's arguments
(``"int"`` for an int, a bool or an integer or boolean array, ``"float"`` for a float or a
float array, None otherwise). Promises the element writes ``y[i] = v`` of an active ``v``
into a ``y`` known to hold integers: NumPy truncates ``v`` there (``int(v)``), which has no
derivative, while the adjoint would give ``v`` the cotangent of ``y[i]``.

A kind is known only where it is certain: from the arguments, number literals,
``np.zeros``/``np.ones``/``np.empty`` without a dtype (floats), ``np.full`` of a fill value
of a known kind, ``.astype(int)``, copies, ``*_like``, element reads and writes of an array of a known kind,
and ``+ - * // % abs max min`` of integers; a float operand makes arithmetic float.
Anything else (a ``dtype=`` argument, other functions) is not known, and is not refused.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import NonDifferentiableError
from ..ir.nodes import Assign, Const, Function, Var, walk
from .ranks import Dataflow

INT, FLOAT = "int", "float"
_MADE = {"zeros", "ones", "empty"}  # floats unless a dtype is given
_SAME = {"copy", "getitem", "setitem", "save", "zeros_like", "ones_like", "empty_like"}
_INT_PRESERVING = {"add", "sub", "mul", "mul_self", "floordiv", "mod", "neg", "abs", "builtin_abs",
                   "maximum", "minimum", "builtin_max2", "builtin_min2"}


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
        kind = None
        if prim in _MADE and untyped:
            kind = FLOAT
        elif prim == "full" and untyped:
            kind = self.of(args[1])  # np.full(n, 0) holds ints
        elif prim == "full_like" and untyped or prim == "astype_int":
            kind = self.of(args[0]) if prim == "full_like" else INT
        elif prim in _SAME and (untyped or not prim.endswith("_like")):
            kind = self.of(args[0])
        elif prim in _INT_PRESERVING:
            kinds = [self.of(a) for a in args]
            kind = FLOAT if FLOAT in kinds else INT if kinds and all(k == INT for k in kinds) else None
        self.known[stmt.target.name] = kind


def check_integer_writes(fn: Function, active: frozenset[str], kinds: Sequence[str | None]) -> None:
    """Raise ``NonDifferentiableError`` at the first write of a differentiated number into
    an array that holds integers (see the module docstring)."""
    analysis = _Kinds(dict(zip(fn.param_names, kinds)))
    analysis.block(fn.body)
    for stmt in (s for s in walk(fn.body) if isinstance(s, Assign) and s.op.prim == "setitem"):
        x, _, value, _ = stmt.op.args
        if isinstance(value, Var) and value.name in active and analysis.of(x) == INT:
            raise NonDifferentiableError(
                f"{stmt.loc.filename}:{stmt.loc.line}: a differentiated number is written into an "
                f"array of integers, which truncates it (no derivative); make the array hold floats "
                f"first, e.g. y = k.astype(np.float64) or np.zeros(n) (line: {stmt.loc.text.strip()})")
