"""The on-disk cache of generated modules (and, beside them, Numba's compiled code).

``ADJOINT_CACHE_DIR`` moves it; by default it is the user's cache directory
(``$XDG_CACHE_HOME/adjoint``, ``~/Library/Caches/adjoint``, ``%LOCALAPPDATA%\\adjoint``).
The directory is created private to the user (mode 0700).
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def cache_dir() -> Path:
    env = os.environ.get("ADJOINT_CACHE_DIR")
    if env:
        path = Path(env).expanduser()
    elif sys.platform == "win32":
        path = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "adjoint"
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Caches" / "adjoint"
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "adjoint"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def clear_cache() -> None:
    """Remove every generated module and compiled file from the cache directory."""
    root = cache_dir()
    for entry in root.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
