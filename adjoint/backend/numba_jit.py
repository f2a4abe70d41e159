"""Compile stage: Numba's ``njit(cache=True)`` on a generated function.

Numba compiles lazily, at the first call with new argument types; ``call``
turns a Numba failure into a ``CompileError`` naming the user's function,
never a Numba traceback.
"""
from __future__ import annotations

import os
import pickletools
import re
from pathlib import Path
from typing import Any, Callable


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    import numba

    # error_model="numpy": float division by zero gives inf/nan as in NumPy (and
    # as under jit=False), not ZeroDivisionError; it also lets LLVM vectorise.
    return numba.njit(cache=True, error_model="numpy")(fn)


def _pickles_intact(path: Path, count: int) -> bool:
    """Whether ``path`` holds ``count`` complete pickles, read without executing them."""
    try:
        with open(path, "rb") as handle:
            for _ in range(count):
                for _op in pickletools.genops(handle):
                    pass
            if count == 1 and handle.read(1):
                return False
        return True
    except Exception:  # truncated or garbled: pickletools raises on bad opcodes and early ends
        return False


def discard_broken_cache(module_path: Path) -> int:
    """Delete Numba's cache files of a generated module that are truncated or garbled
    (Numba itself would crash unpickling them); Numba then compiles afresh.
    Returns how many files were removed."""
    roots = [module_path.parent / "__pycache__"]
    if os.environ.get("NUMBA_CACHE_DIR"):
        roots.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    removed = 0
    for root in roots:
        if not root.is_dir():
            continue
        for file in root.rglob(f"{module_path.stem}.*"):
            # an index is the version pickle then the (stamp, overloads) pickle; data is one pickle
            count = 2 if file.suffix == ".nbi" else 1 if file.suffix == ".nbc" else 0
            if count and not _pickles_intact(file, count):
                file.unlink(missing_ok=True)
                removed += 1
    return removed


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
