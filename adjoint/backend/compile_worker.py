"""Compile one generated function for one signature, in a process of its own, into
Numba's on-disk cache (``numba_jit.BackgroundCompile`` starts it and then loads what it
cached).

    python -m adjoint.backend.compile_worker <generated module path> <function name>
    (the signature, a pickled tuple of Numba types, on standard input)

On failure it exits with status 1 after printing one JSON line:
``{"message": ..., "numba": true when Numba refused the code}``.
"""
from __future__ import annotations

import json
import os
import pickle
import sys
import warnings
from pathlib import Path

import numba  # noqa: F401  (the pickled signature holds Numba types)

from adjoint.backend.module import import_module
from adjoint.backend.numba_jit import first_line, is_numba_error, jit


def main() -> int:
    path, name = Path(sys.argv[1]), sys.argv[2]
    # Numba's and LLVM's warnings go nowhere: the process that started this one may have
    # ended (this one then still finishes and caches), and writing to its pipe would fail.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    warnings.simplefilter("ignore")
    try:
        signature = pickle.load(sys.stdin.buffer)
        jit(getattr(import_module(path), name)).compile(signature)
    except Exception as exc:
        try:
            print(json.dumps({"message": first_line(exc), "numba": is_numba_error(exc)}), flush=True)
        except OSError:  # nobody is listening any more
            pass
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
