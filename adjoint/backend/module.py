"""Write stage: a generated module becomes a real ``.py`` file, named by the hash
of its content and of adjoint's runtime (the helpers it calls), and is imported from there.

A real file is what lets ``inspect``, tracebacks, pdb and Numba's ``cache=True``
see the code. Writes are atomic (temporary name, then rename), so processes
sharing the cache never see half a file; a file whose content does not match
its name is rewritten before it is imported.
"""
from __future__ import annotations

import functools
import hashlib
from collections import Counter
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from .cache import cache_dir


@functools.cache
def _runtime_digest() -> bytes:
    """The source of what generated code runs on and is compiled with: the runtime helpers,
    their Numba versions and the compile options. Numba's cache of a generated function
    does not see a change there (its key is the function's own file), so it is part of the
    file's name: a changed adjoint never runs code compiled by an older one."""
    here = Path(__file__).resolve().parent
    files = (*sorted((here.parent / "runtime").glob("*.py")), here / "numba_jit.py")
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).digest()


def module_path(source: str, stem: str) -> Path:
    digest = hashlib.sha256(source.encode() + _runtime_digest()).hexdigest()[:20]
    return cache_dir() / f"{stem}_{digest}.py"


# How often a module was found intact in the cache or (re)written: the cache tests read it.
STATS: Counter[str] = Counter()


def write_module(source: str, stem: str) -> Path:
    path = module_path(source, stem)
    if path.exists():
        try:
            if path.read_text() == source:
                STATS["reused"] += 1
                return path
        except (OSError, UnicodeDecodeError):
            pass  # unreadable or garbled: rewrite below
        STATS["rewritten"] += 1
    STATS["written"] += 1
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(source)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def import_module(path: Path) -> ModuleType:
    name = f"adjoint_generated_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
