"""Compile stage: Numba's ``njit(cache=True)`` on a generated function.

Numba compiles lazily, at the first call with new argument types; ``call``
turns a Numba failure into a ``CompileError`` naming the user's function,
never a Numba traceback. ``BackgroundCompile`` compiles in a separate process
instead, for the types of given arguments, while the caller runs the same
generated code as plain Python.
"""
from __future__ import annotations

import atexit
import json
import os
import pickle
import pickletools
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    import numba

    # error_model="numpy": float division by zero gives inf/nan as NumPy does for arrays,
    # not ZeroDivisionError; it also lets LLVM vectorise. (Under jit=False a number divided
    # by a zero number is plain Python's: ZeroDivisionError.)
    # boundscheck=True: an index out of range is an IndexError, as in NumPy, instead of a
    # read of whatever lies there (a wrong value) and, in the adjoint, a write into memory
    # that is not the array's. It costs about 10 % on benchmarks/writes (an element read
    # and write per step), nothing measurable on lstm, ba, ode, loop_sin, while_newton.
    return numba.njit(cache=True, error_model="numpy", boundscheck=True)(fn)


class BackgroundCompile:
    """Numba compiling one generated function for the types of one call, off the caller's
    thread. A separate process (``compile_worker``) compiles it into Numba's on-disk cache,
    on another core and without holding this process's GIL; a thread of this process waits
    for it, then loads the compiled code from the cache. ``done()`` says whether it is
    over; ``result()`` waits, and gives the dispatcher ready to run and the seconds it
    took, or raises what failed."""

    def __init__(self, dispatcher: Any, values: Any, path: Path | None, name: str) -> None:
        import numba

        self._dispatcher = dispatcher
        self._signature = tuple(numba.typeof(v) for v in values)
        self._path, self._name = path, name
        self._done = threading.Event()
        self._outcome: tuple[Any, float] | None = None
        self._error: BaseException | None = None
        # a daemon: a process may end while its compile goes on (the worker then stops too)
        threading.Thread(target=self._work, name=f"adjoint-compile-{name}", daemon=True).start()

    def _work(self) -> None:
        start = time.perf_counter()
        try:
            if self._path is not None:
                _compile_in_process(self._path, self._name, self._signature)
            with _LOADING:  # a process never exits in the middle of this (see _at_exit)
                if _EXITING.is_set():
                    return
                self._dispatcher.compile(self._signature)  # loads what the worker cached
            self._outcome = (self._dispatcher, time.perf_counter() - start)
        except BaseException as exc:  # reported by result(), in the caller's thread
            self._error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self) -> tuple[Any, float]:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome


class WorkerError(Exception):
    """The compile worker failed; ``numba`` says whether Numba refused the code."""

    def __init__(self, message: str, numba: bool) -> None:
        super().__init__(message)
        self.numba = numba


def _compile_in_process(path: Path, name: str, signature: tuple) -> None:
    root = str(Path(__file__).resolve().parents[2])  # where the adjoint package lives
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    # The worker reads the signature, then waits for the end of its standard input: this
    # process keeps the pipe open until the worker is done, and if this process ends first
    # the pipe closes and the worker stops (no compile outlives the process that asked).
    worker = subprocess.Popen([sys.executable, "-m", "adjoint.backend.compile_worker", str(path), name],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              env=env)
    assert worker.stdin is not None and worker.stdout is not None
    data = pickle.dumps(signature)
    worker.stdin.write(len(data).to_bytes(8, "little") + data)
    worker.stdin.flush()
    report = worker.stdout.read().decode(errors="replace")
    status = worker.wait()
    worker.stdin.close()
    if status != 0:
        try:
            failure = json.loads((report.strip().splitlines() or [""])[-1])
        except ValueError:
            failure = {"message": f"the compile worker ended with status {status}", "numba": False}
        raise WorkerError(failure["message"], failure["numba"])


_LOADING = threading.Lock()
_EXITING = threading.Event()


@atexit.register
def _at_exit() -> None:
    """Let a load from the cache under way finish (it is short), and start no other:
    a thread cut off inside LLVM while the process ends can crash it."""
    with _LOADING:
        _EXITING.set()


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


def _cache_roots(module_path: Path) -> list[Path]:
    roots = [module_path.parent / "__pycache__"]
    if os.environ.get("NUMBA_CACHE_DIR"):
        roots.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    return roots


def has_cache_index(module_path: Path, name: str) -> bool:
    """Whether Numba's cache holds compiled code of function ``name`` of a generated module
    (for some signature): then loading it here is quicker than starting a worker process."""
    return any(root.is_dir() and any(root.rglob(f"{module_path.stem}.{name}-*.nbi"))
               for root in _cache_roots(module_path))


def discard_broken_cache(module_path: Path) -> int:
    """Delete Numba's cache files of a generated module that are truncated or garbled
    (Numba itself would crash unpickling them); Numba then compiles afresh.
    Returns how many files were removed."""
    removed = 0
    for root in _cache_roots(module_path):
        if not root.is_dir():
            continue
        for file in root.rglob(f"{module_path.stem}.*"):
            # an index is the version pickle then the (stamp, overloads) pickle; data is one pickle
            count = 2 if file.suffix == ".nbi" else 1 if file.suffix == ".nbc" else 0
            if count and not _pickles_intact(file, count):
                file.unlink(missing_ok=True)
                removed += 1
    return removed


def numba_block(array: Any) -> int | None:
    """The address of the memory block Numba allocated for ``array``, if ``array`` is (a view
    of) an array compiled code made, with no Python object as its owner; else None. Two
    arrays with different blocks share no memory. Numba gives an argument it did not make a
    block whose owner is that argument, and a block it made stays made by it (an array a
    compiled call returned, passed to the next call)."""
    while type(array) is np.ndarray:
        array = array.base
    if type(array) is _meminfo():
        owner = array.parent
        return array.data if owner is None else numba_block(owner)
    return None


def _meminfo() -> type:
    global _MEMINFO
    if _MEMINFO is None:
        from numba.core.runtime._nrt_python import _MemInfo
        _MEMINFO = _MemInfo
    return _MEMINFO


_MEMINFO: type | None = None


def is_numba_error(exc: BaseException) -> bool:
    from numba.core import errors

    return isinstance(exc, errors.NumbaError) or isinstance(exc, WorkerError) and exc.numba


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
