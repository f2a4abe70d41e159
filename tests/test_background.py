"""Background compiles (api.GradFunction, backend.numba_jit.BackgroundCompile): a function
without loops answers its first calls as plain Python while a worker process compiles it
into Numba's cache; a function with loops compiles at its first call."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numba.core import errors as numba_errors
from numba.core.registry import CPUDispatcher

import adjoint
from adjoint.backend import numba_jit


def mlp(W, b, X):
    h = np.tanh(X * W + b)
    return np.sum(h * h) / X.shape[0]


def looped(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.sin(x * i)
    return s


W = np.linspace(-0.5, 0.5, 12).reshape(4, 3)
b = np.array([0.1, -0.2, 0.3])
X = np.linspace(-1.0, 1.0, 12).reshape(4, 3)


def expected(W, b, X):
    h = np.tanh(X * W + b)
    dz = 2 * h * (1 - h * h) / X.shape[0]
    return X * dz, dz.sum(axis=0)


def _worker_env(monkeypatch, cache):
    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(cache))
    # The worker process compiles at Numba's default optimisation: Numba refuses to cache
    # code compiled at the test suite's NUMBA_OPT=0 ("dynamic globals").
    monkeypatch.delenv("NUMBA_OPT", raising=False)


def test_first_call_runs_plain_python_then_the_compiled_code(tmp_path, monkeypatch):
    _worker_env(monkeypatch, tmp_path)
    g = adjoint.grad(mlp, wrt=(0, 1), background=True)
    gW, gb = g(W, b, X)
    (slot, (future, plain)), = g._pending.items()
    assert not isinstance(plain, CPUDispatcher)          # the first call ran plain Python
    assert "first call" in g.timings and "first call (compile)" not in g.timings
    np.testing.assert_allclose(gW, expected(W, b, X)[0], rtol=1e-12)
    np.testing.assert_allclose(gb, expected(W, b, X)[1], rtol=1e-12)

    assert g.wait() is g and not g._pending
    compiled = g._functions[slot]
    assert isinstance(compiled, CPUDispatcher)
    # a worker process compiled it into the cache; this process loaded it from there
    assert numba_jit.has_cache_index(g._build().for_numba(slot[2])[1], slot[1])
    assert sum(compiled.stats.cache_hits.values()) == 1
    assert g.timings["compile (background)"] > 0
    gW2, gb2 = g(W, b, X)
    np.testing.assert_allclose(gW2, gW, rtol=1e-12)
    np.testing.assert_allclose(gb2, gb, rtol=1e-12)


def test_value_and_forward_run_plain_then_compiled(tmp_path, monkeypatch):
    _worker_env(monkeypatch, tmp_path)
    vg = adjoint.value_and_grad(mlp, wrt=1, background=True)
    value, gb = vg(W, b, X)
    assert value == pytest.approx(mlp(W, b, X), rel=1e-12)
    assert vg.forward(W, b, X) == pytest.approx(mlp(W, b, X), rel=1e-12)
    vg.wait()
    assert all(isinstance(fn, CPUDispatcher) for fn in vg._functions.values())
    assert vg(W, b, X)[0] == pytest.approx(value, rel=1e-12)


def test_a_function_with_loops_compiles_at_its_first_call():
    g = adjoint.grad(looped, background=True)
    assert g(0.3, 5) == pytest.approx(sum(i * np.cos(0.3 * i) for i in range(5)), rel=1e-12)
    assert not g._pending and isinstance(next(iter(g._functions.values())), CPUDispatcher)
    assert "first call (compile)" in g.timings


def test_switched_off_by_argument_and_by_environment(monkeypatch):
    assert not adjoint.grad(mlp, background=False).background
    monkeypatch.setenv("ADJOINT_BACKGROUND", "0")
    assert not adjoint.grad(mlp).background
    monkeypatch.setenv("ADJOINT_BACKGROUND", "1")
    assert adjoint.grad(mlp).background
    assert not adjoint.grad(mlp, jit=False)._pending


class _Refused:
    """Stands for a background compile that Numba refused."""

    def __init__(self, *args):
        pass

    def done(self):
        return True

    def result(self):
        raise numba_errors.TypingError("Cannot unify float64 and array(float64, 1d, C)")


def test_a_refused_background_compile_warns_and_goes_on_as_plain_python(monkeypatch):
    monkeypatch.setattr(numba_jit, "BackgroundCompile", _Refused)
    g = adjoint.grad(mlp, wrt=1, background=True)
    first = g(W, b, X)
    with pytest.warns(adjoint.CompileWarning, match="mlp.*Cannot unify.*plain Python"):
        second = g(W, b, X)
    np.testing.assert_allclose(second, first, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g(W, b, X)  # once only


def test_a_refused_compile_needed_now_is_a_compile_error(monkeypatch):
    monkeypatch.setattr(numba_jit, "BackgroundCompile", _Refused)
    g = adjoint.grad(mlp, wrt=1, background=True)
    values = g._arguments((W, b, X), {})
    g(W, b, X)
    name = g._build().generated.vjp_name
    with pytest.raises(adjoint.CompileError, match="mlp.*Cannot unify"):
        g._compiled(name, values, ready=True)


def test_the_worker_reports_a_failure(tmp_path):
    source = tmp_path / "broken_module.py"
    source.write_text("def f(x):\n    return x + undefined_name\n")
    import numba
    with pytest.raises(numba_jit.WorkerError) as info:
        numba_jit._compile_in_process(source, "f", (numba.float64,))
    assert info.value.numba and "undefined_name" in str(info.value)


def test_the_worker_stops_when_its_caller_goes(tmp_path):
    """No compile outlives the process that asked for it: the worker stops as soon as its
    standard input closes (here at once, long before its compile could end)."""
    import pickle
    import subprocess
    import sys

    import numba
    source = tmp_path / "slow_module.py"
    source.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(np.tanh(x) @ x.T)\n")
    worker = subprocess.Popen([sys.executable, "-m", "adjoint.backend.compile_worker", str(source), "f"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    data = pickle.dumps((numba.types.Array(numba.float64, 2, "C"),))
    worker.stdin.write(len(data).to_bytes(8, "little") + data)
    worker.stdin.close()
    assert worker.wait(timeout=60) == 3
    assert not (tmp_path / "__pycache__").exists() or not any((tmp_path / "__pycache__").iterdir())
