"""Compile stage: Numba's ``njit(cache=True)`` on a generated function.

Numba compiles lazily, at the first call with new argument types; ``call``
turns a Numba failure into a ``CompileError`` naming the user's function,
never a Numba traceback.
"""
from __future__ import annotations

import re
from typing import Any, Callable


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    import numba

    # error_model="numpy": float division by zero gives inf/nan as in NumPy (and
    # as under jit=False), not ZeroDivisionError; it also lets LLVM vectorise.
    return numba.njit(cache=True, error_model="numpy")(fn)


def is_numba_error(exc: BaseException) -> bool:
    from numba.core import errors

    return isinstance(exc, errors.NumbaError)


def first_line(exc: BaseException) -> str:
    """The informative line of a Numba error (its first lines are pipeline boilerplate)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith(("During:", "File", "^", "Failed in", "|"))]
    if not lines:
        return text[:200]
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]
