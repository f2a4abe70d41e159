"""Random recurrences over an array: adjoint's gradient against finite differences.

Hypothesis draws functions ``f(x, a)`` (x of shape (6,), a a float) that fill an array
made in the function with a ``for`` loop reading and writing elements at ``i + c``:

- the array starts as zeros, ones or a copy of x, with or without a write before the loop;
- the range runs up or down, with steps of 1, 2 or -1, -2, from literal bounds or from
  ``x.shape[0]``; the loop sits alone or inside another loop (which runs it again);
- each statement writes ``y[i + d] = ...`` or ``y[i + d] += ...`` from elements
  ``y[i + c]`` and ``x[i + e]``, with offsets that may reach negative indices (``y[i - 1]``
  at ``i = 0`` is the last element) but never leave the array;
- after the loop, possibly another write into an element the loop read.

These are the programs where the adjoint may read an element again from the array as the
forward left it instead of taping it (``analysis/overwrites.py``): it must do so exactly
when no later write changes that element.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import adjoint
from adjoint.check import finite_difference

from .test_random_programs import load_source

N = 6


@st.composite
def recurrences(draw) -> str:
    init = draw(st.sampled_from(["np.zeros(n)", "np.ones(n)", "x.copy()"]))
    step = draw(st.sampled_from([1, 2, -1, -2]))
    lo, hi = draw(st.integers(0, 2)), draw(st.integers(N - 2, N))
    literal = draw(st.booleans())
    if step > 0:
        stop = str(hi) if literal or hi != N else "n"
        bounds, indices = f"{lo}, {stop}, {step}", range(lo, hi, step)
    else:
        start = str(hi - 1) if literal or hi != N else "n - 1"
        bounds, indices = f"{start}, {lo - 1}, {step}", range(hi - 1, lo - 1, step)
    if not indices:
        indices = range(lo, lo + 1)
        bounds = f"{lo}, {lo + 1}"
    low, high = min(indices), max(indices)
    offsets = st.integers(-N - low, N - 1 - high)  # y[i + c] stays inside: -n <= i + c < n
    behind = [c for c in ((-1, -2) if step > 0 else (1, 2)) if -N - low <= c <= N - 1 - high]
    reads = st.one_of(st.sampled_from(behind), offsets) if behind else offsets  # often y[i - 1]
    writes = st.one_of(st.just(0), offsets)

    def term() -> str:
        kind = draw(st.sampled_from(["y", "sin_y", "x", "xy"]))
        c, e = draw(reads), draw(offsets)
        y, x = f"y[{_plus(c)}]", f"x[{_plus(e)}]"
        return {"y": f"a * {y}", "sin_y": f"np.sin({y})", "x": f"np.cos({x})", "xy": f"0.5 * {y} * {x}"}[kind]

    lines = ["def f(x, a):", "    n = x.shape[0]", f"    y = {init}"]
    if draw(st.booleans()):
        lines.append(f"    y[{draw(st.integers(0, N - 1))}] = a * x[{draw(st.integers(0, N - 1))}]")
    indent = "    "
    if draw(st.integers(0, 4)) == 0:
        lines.append("    for k in range(2):")
        indent += "    "
    lines.append(f"{indent}for i in range({bounds}):")
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["=", "=", "=", "+="]))
        terms = " + ".join(term() for _ in range(draw(st.integers(1, 2))))
        lines.append(f"{indent}    y[{_plus(draw(writes))}] {op} 0.5 * ({terms})")
    if draw(st.integers(0, 4)) == 0:
        lines.append(f"    y[{draw(st.integers(0, N - 1))}] = a * y[{draw(st.integers(0, N - 1))}] + 0.1")
    lines.append("    return np.sum(y * y * np.arange(1.0, n + 1.0))")
    return "\n".join(lines) + "\n"


def _plus(c: int) -> str:
    return "i" if c == 0 else f"i + {c}" if c > 0 else f"i - {-c}"


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("random_recurrences")


@settings(max_examples=200, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(source=recurrences(), seed=st.integers(0, 2**16))
def test_random_recurrence_gradient(source: str, seed: int, program_dir: Path) -> None:
    f = load_source(source, program_dir)
    rng = np.random.default_rng(seed)
    x, a = rng.uniform(-1.0, 1.0, N), float(rng.uniform(-0.9, 0.9))
    g = adjoint.grad(f, wrt=(0, 1), jit=False)
    event("read again, not taped" if ".append(" not in g.source_for(x, a) else "taped")
    gx, ga = g(x, a)
    np.testing.assert_allclose(gx, finite_difference(f, [x, a], 0), rtol=1e-5, atol=1e-7, err_msg=source)
    assert ga == pytest.approx(finite_difference(f, [x, a], 1), rel=1e-5, abs=1e-7), source
