"""Call resolution: the one place that decides what a name or callee means.

Order (one place, one order): rule table (including the calls that carry no
derivative, like ``len``) -> a ``custom_vjp`` function (its own rule) -> a plain
Python function, inlined and differentiated through -> ``NonDifferentiableError``
for any other callable.
A name is looked up first among the function's locals, then its closure and
module globals, then builtins.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import math
import numbers
from typing import Any, Mapping

import numpy as np

from ..custom import CustomVjp
from ..errors import NonDifferentiableError
from ..ir.nodes import Const, Value
from ..rules import CALLS
from ..runtime import helpers

NOT_STATIC = object()  # the expression names a local value, not a global object

_MODULES = {"numpy": np, "math": math, "builtins": builtins, "helpers": helpers}
_DTYPES = {np.float64: "np.float64", np.float32: "np.float32", float: "np.float64",
           np.int64: "np.int64", np.int32: "np.int32", int: "np.int64", np.bool_: "np.bool_"}


def _object_keys() -> dict[int, str]:
    keys: dict[int, str] = {}
    for key in CALLS:
        module, _, path = key.partition(".")
        obj = _MODULES.get(module)
        for attr in path.split(".") if obj is not None else ():
            obj = getattr(obj, attr, None)  # numpy.linalg.norm: np.linalg, then its norm
        if obj is not None:
            keys.setdefault(id(obj), key)
    return keys


_KEYS: dict[int, str] = {}


def _key_of(obj: Any) -> str | None:
    if len(_KEYS) == 0 or _KEYS.get(-1) != len(CALLS):  # rebuilt when a rule was registered
        _KEYS.clear()
        _KEYS.update(_object_keys())
        _KEYS[-1] = len(CALLS)  # type: ignore[assignment]
    return _KEYS.get(id(obj))


def constant_value(obj: Any, spelled: str) -> Const | None:
    """A global object usable as a value: a number, a dtype, or None (np.newaxis)."""
    if obj is None:
        return Const(None)
    if isinstance(obj, bool):
        return Const(obj)
    if isinstance(obj, numbers.Integral):
        return Const(int(obj))
    if isinstance(obj, numbers.Real):
        value = float(obj)
        if math.isfinite(value):
            return Const(value)
        return Const(value, "np.inf" if value > 0 else "-np.inf") if not math.isnan(value) else Const(value, "np.nan")
    if isinstance(obj, type) and obj in _DTYPES:
        return Const(obj, _DTYPES[obj])
    return None


class Resolver:
    def __init__(self, parsed) -> None:
        self.parsed = parsed

    def static(self, node: ast.expr, env: Mapping[str, Value]) -> Any:
        """The global object ``node`` names, or NOT_STATIC if it involves a local value."""
        if isinstance(node, ast.Name):
            if node.id in env:
                return NOT_STATIC
            if node.id not in self.parsed.namespace:
                raise NameError(f"{self._where(node)}: name {node.id!r} is not defined")
            return self.parsed.namespace[node.id]
        if isinstance(node, ast.Attribute):
            base = self.static(node.value, env)
            if base is NOT_STATIC:
                return NOT_STATIC
            try:
                return getattr(base, node.attr)
            except AttributeError:
                raise self.parsed.error(node, f"{ast.unparse(node)} does not exist") from None
        return NOT_STATIC

    def callee(self, func: ast.expr, env: Mapping[str, Value]) -> tuple[Any, ast.expr | None, str]:
        """``(key into CALLS or a Python function to inline, receiver of a method call or None,
        spelling)``."""
        spelled = ast.unparse(func)
        if isinstance(func, ast.Attribute) and self.static(func.value, env) is NOT_STATIC:
            key = f"method:{func.attr}"
            if key not in CALLS:
                raise self.parsed.error(func, f"the array method .{func.attr}() is not supported; "
                                              "see docs/subset.md for the supported methods")
            return key, func.value, spelled
        obj = self.static(func, env)
        if obj is NOT_STATIC:
            raise self.parsed.error(func, f"calling {spelled} is not supported: only functions named "
                                          "at module level can be called")
        key = _key_of(obj)
        if isinstance(obj, CustomVjp):
            return obj, None, spelled
        if key is None and getattr(obj, "__module__", None) == helpers.__name__:
            raise NonDifferentiableError(
                f"{self._where(func)}: the runtime helper {spelled} has no derivative rule "
                "(adjoint/rules/runtime.py), so a generated gradient that calls it cannot be "
                "differentiated again (hessian) yet")
        if key is None and inspect.isfunction(obj):
            return obj, None, spelled
        if key is None:
            name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", spelled)
            twin = f"numpy.{name}"  # sum(x), round(x): NumPy's function of the same name has a rule
            if obj is getattr(builtins, name, None) and twin in CALLS:
                raise NonDifferentiableError(
                    f"{self._where(func)}: the builtin {spelled} has no derivative rule in adjoint; "
                    f"use np.{name}(...), which has one")
            raise NonDifferentiableError(
                f"{self._where(func)}: {spelled} ({name}) has no derivative rule in adjoint; "
                f"give it one with @adjoint.custom_vjp, or compute it outside the differentiated function")
        return key, None, spelled

    def _where(self, node: ast.AST) -> str:
        loc = self.parsed.loc(node)
        return f"{loc.filename}:{loc.line}"
