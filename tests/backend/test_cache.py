"""The disk cache: found by a second process, safe under concurrency, robust to corruption.

Each test runs workers in fresh processes on its own cache directory and
asserts what they report (cache hits, files written), never timings.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import adjoint

WORKER = Path(__file__).with_name("cache_worker.py")


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, ADJOINT_CACHE_DIR=str(cache))
    env.pop("NUMBA_OPT", None)  # Numba refuses to cache some -O0 code; use its default here
    env.pop("NUMBA_CACHE_DIR", None)  # Numba's files go beside the generated module
    return env


def _start(cache: Path, mode: str = "jit") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), mode], env=_env(cache),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _report(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_second_process_hits_both_caches(tmp_path):
    first = _report(_start(tmp_path))
    second = _report(_start(tmp_path))
    assert first["correct"] and second["correct"]
    # two modules: the generated one and the fused one Numba compiles (codegen/fuse.py)
    assert first["stats"] == {"written": 2} and first["numba_hits"] == 0
    assert second["stats"] == {"reused": 2} and second["numba_hits"] == 1 and second["numba_misses"] == 0
    assert first["path"] == second["path"]


def test_second_process_hits_the_cache_of_a_gradient_with_a_tape(tmp_path):
    """A loop's tape is a Numba type of adjoint's own (runtime/_numba_tape.py): Numba's cache
    stores and loads code that uses it."""
    first = _report(_start(tmp_path, "tape"))
    second = _report(_start(tmp_path, "tape"))
    assert first["correct"] and second["correct"] and first["sized_tape"]
    assert first["numba_hits"] == 0 and second["numba_hits"] == 1 and second["numba_misses"] == 0


def test_concurrent_processes_both_succeed(tmp_path):
    procs = [_start(tmp_path) for _ in range(2)]
    reports = [_report(p) for p in procs]
    assert all(r["correct"] for r in reports)
    assert not list(tmp_path.glob(".tmp-*")), "a temporary file was left behind"


def test_garbled_module_is_rewritten_not_imported(tmp_path):
    path = Path(_report(_start(tmp_path, "python"))["path"])
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # truncated: it would not even compile
    report = _report(_start(tmp_path, "python"))
    assert report["correct"] and report["stats"] == {"rewritten": 1, "written": 1}
    assert path.read_text() == text


@pytest.mark.parametrize("suffixes, damage", [((".nbi",), "garbage"), ((".nbc",), "truncate"),
                                              ((".nbi", ".nbc"), "truncate")])
def test_garbled_numba_cache_is_recompiled(tmp_path, suffixes, damage):
    _report(_start(tmp_path))
    files = [f for suffix in suffixes for f in tmp_path.rglob(f"*{suffix}")]
    assert len(files) == len(suffixes)
    for f in files:
        data = f.read_bytes()
        f.write_bytes(b"garbage" if damage == "garbage" else data[: len(data) // 2])
    report = _report(_start(tmp_path))
    assert report["correct"] and report["numba_hits"] == 0


def test_cache_dir_is_private_and_clearable(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(cache))
    from adjoint.backend.cache import cache_dir
    assert cache_dir() == cache
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    (cache / "x.py").write_text("1")
    (cache / "__pycache__").mkdir()
    adjoint.clear_cache()
    assert list(cache.iterdir()) == []


def test_the_module_name_depends_on_adjoints_runtime(monkeypatch):
    """Numba keys its cache of a generated function on that function's file only, and
    compiles the runtime helpers into it: a changed helper (a fix in runtime/_numba_impl.py)
    must give the module another name, or the old compiled code would go on running."""
    from adjoint.backend import module

    before = module.module_path("x = 1\n", "f")
    assert before == module.module_path("x = 1\n", "f")
    monkeypatch.setattr(module, "_runtime_digest", lambda: b"another runtime")
    assert module.module_path("x = 1\n", "f") != before
