"""Shared test configuration: an isolated adjoint cache and the --update-golden flag."""
from __future__ import annotations

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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*.py from the current code generator")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
