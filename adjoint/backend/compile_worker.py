"""Compile one generated function for one signature, in a process of its own, into
Numba's on-disk cache (``numba_jit.BackgroundCompile`` starts it and then loads what it
cached).

    python -m adjoint.backend.compile_worker <generated module path> <function name>
    (on standard input: the length of the signature in 8 bytes, little-endian, then the
    signature, a pickled tuple of Numba types; the caller keeps standard input open until
    the worker ends, and the worker stops if it closes first)

On failure it exits with status 1 after printing one JSON line:
``{"message": ..., "numba": true when Numba refused the code}``.
"""
from __future__ import annotations

import json
import os
import pickle
import sys
import threading
import warnings
from pathlib import Path

import numba  # noqa: F401  (the pickled signature holds Numba types)

from adjoint.backend.module import import_module
from adjoint.backend.numba_jit import first_line, is_numba_error, jit


def _stop_with_caller() -> None:
    """End this process when the standard input closes: the process that started it ended.
    (``os.read``, not ``sys.stdin``: a daemon thread blocked holding the lock of a buffered
    stream aborts the interpreter at exit.)"""
    while os.read(0, 4096):
        pass
    os._exit(3)


def main() -> int:
    path, name = Path(sys.argv[1]), sys.argv[2]
    warnings.simplefilter("ignore")  # Numba's warnings: nobody reads them here
    try:
        size = int.from_bytes(sys.stdin.buffer.read(8), "little")
        signature = pickle.loads(sys.stdin.buffer.read(size))
        threading.Thread(target=_stop_with_caller, daemon=True).start()
        jit(getattr(import_module(path), name)).compile(signature)
    except Exception as exc:
        print(json.dumps({"message": first_line(exc), "numba": is_numba_error(exc)}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
