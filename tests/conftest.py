"""Shared test configuration: an isolated adjoint cache, the --update-golden flag, and the
garbage collector's settings for a suite that keeps hundreds of compiled functions alive."""
from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

# Generated modules (and Numba's compiled code beside them) go to a cache owned by the
# test run, so the suite never touches the user's cache; it is reused between local runs.
os.environ.setdefault("ADJOINT_CACHE_DIR", str(Path(__file__).resolve().parent.parent
                                               / ".pytest_cache" / "adjoint-cache"))


# Functions without loops compile at their first call, as they did before background
# compiles: each test then checks the compiled code. tests/test_background.py checks the
# background compiles themselves (background=True).
os.environ.setdefault("ADJOINT_BACKGROUND", "0")


# LLVM's -O3 dominates compile time on the large generated test programs; the
# generated code's meaning does not depend on it. Benchmarks run at Numba's default.
os.environ.setdefault("NUMBA_OPT", "0")


# The suite keeps hundreds of compiled functions alive, and Numba keeps their types and
# code: a full garbage collection walks over a million objects, about a second each. Python
# starts one after 10 collections of the younger generations (if the heap grew by a
# quarter), which compiling makes often: garbage collection took 89 s and 65 s of the two
# workers' 550 s. After 100, 60 s and 56 s; a worker's peak was 3.7 GB. (Three test files
# alone: 0.70 GB at 10, 0.86 GB at 1000.)
gc.set_threshold(700, 10, 100)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*.py from the current code generator")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Freeze the objects the run leaves alive out of the garbage collector's reach.

    After the last test pytest (8.4 on) collects garbage five times, to report exceptions
    raised in finalizers. With the hundreds of functions the suite has compiled still alive
    (Numba keeps their types and code), each collection walks millions of objects: 6 s in
    all in an xdist worker. execnet interrupts a worker (SIGINT) that has not finished 5 s
    after the controller's shutdown, and that KeyboardInterrupt lands wherever the worker
    is, once in hypothesis's gc callback. Frozen, the five collections take no time.
    """
    gc.freeze()
