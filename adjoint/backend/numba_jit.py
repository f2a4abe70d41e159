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

    return numba.njit(cache=True)(fn)


def is_numba_error(exc: BaseException) -> bool:
    from numba.core import errors

    return isinstance(exc, errors.NumbaError)


def first_line(exc: BaseException) -> str:
    """The informative line of a Numba error (its first lines are pipeline boilerplate)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("During:", "File", "^", "Failed in", "-", "|")):
            return line
    return text[:200]
