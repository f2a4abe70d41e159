"""The calls renamed in the modules Numba compiles (codegen/numba_calls.py): NumPy's own loops
(runtime helpers numpy_<ufunc>), norm_of and reshape_of. Which calls are renamed, that lines
stay where they were, that the compiled helpers give NumPy's values, dtypes and silence, and
that gradients through them are right."""
from __future__ import annotations

import ast
import warnings

import numba
import numpy as np
import pytest

import adjoint
from adjoint.codegen.numba_calls import numba_calls
from adjoint.runtime import helpers
from adjoint.runtime.helpers import NUMPY_LOOPS, norm_of, numpy_exp, numpy_log, numpy_tanh, reshape_of

SOURCE = '''"""doc"""
import numpy as np
from adjoint.runtime.helpers import unbroadcast

def f(x, s, i):
    # line 2: y = np.tanh(x) + np.exp(-x * 2.0) + np.exp(s)
    y = np.tanh(x) + np.exp(-x * 2.0) + np.exp(s)
    z = np.log(x[i]) + np.sqrt(x) + np.sin(x) + np.exp(x, out=x) + np.exp(np.sum(x))
    n = loop_length(x)
    for k in range(n):
        w = np.exp(x_k * 2.0)
    return np.tanh(y) + np.tanh(2.0 * s)

def g(x, X):
    v = np.linalg.norm(x[::-1]) * np.exp(X).reshape(-1) + X.T.reshape((-1, 1))
    while np.linalg.norm(x) > 1.0:
        x = x / 2.0
    return v
'''


def test_renames_calls_on_arrays_only_and_keeps_every_line_in_place():
    out = numba_calls(SOURCE, {"x": 1, "s": 0, "i": 0, "X": 2})
    assert out is not None
    before, after = SOURCE.split("\n"), out.split("\n")
    assert len(before) == len(after)
    assert after[1] == ("import numpy as np; from adjoint.runtime.helpers import norm_of, numpy_exp, "
                        "numpy_tanh, reshape_of")
    assert after[6] == "    y = numpy_tanh(x) + numpy_exp(-x * 2.0) + np.exp(s)"  # s is a number
    assert after[5] == before[5]  # a comment is not code
    # an element, a ufunc Numba compiles as fast or faster, a keyword, a reduction's
    # result, an element of a fused loop: left as they are
    assert after[7:11] == before[7:11]
    assert after[11] == "    return numpy_tanh(y) + np.tanh(2.0 * s)"  # y's rank is not known
    assert after[14] == "    v = norm_of(x[::-1]) * reshape_of(numpy_exp(X), -1) + reshape_of(X.T, (-1, 1))"
    assert after[15] == before[15]  # a loop's test is left as it is
    assert [a == b for a, b in zip(before, after)].count(False) == 4
    compile(out, "<numba_calls>", "exec")


def test_no_arrays_give_none():
    assert numba_calls("import numpy as np\n\ndef f(x):\n    return np.exp(x)\n", {"x": 0}) is None


def test_offsets_count_bytes_of_non_ascii_names():
    source = "import numpy as np\n\ndef f(α):\n    β = 'é' and np.exp(α) + np.log(α)\n    return β\n"
    out = numba_calls(source, {"α": 1, "β": 1})
    assert out.split("\n")[3] == "    β = 'é' and numpy_exp(α) + numpy_log(α)"


def test_every_helper_is_the_ufunc_as_python():
    x = np.linspace(0.1, 0.9, 7)
    for name in NUMPY_LOOPS:
        fn = getattr(helpers, f"numpy_{name}")
        assert fn.__name__ == f"numpy_{name}"
        np.testing.assert_array_equal(fn(x), getattr(np, name)(x))


@numba.njit
def _three(x):
    return numpy_tanh(x), numpy_exp(x), numpy_log(x)


@pytest.mark.parametrize("x", [
    np.linspace(0.01, 3.0, 3000),                                  # NumPy's loop, 1-D
    np.linspace(0.01, 3.0, 3000).reshape(50, 60),                  # 2-D
    np.asfortranarray(np.linspace(0.01, 3.0, 3000).reshape(50, 60)),
    np.linspace(0.01, 3.0, 6000).reshape(60, 100)[::2, ::2],       # strided view
    np.linspace(0.01, 3.0, 3000, dtype=np.float32),
    np.linspace(0.01, 3.0, 30),                                    # Numba's loop (small)
    np.arange(1, 3001),                                            # ints: Numba's, float64 out
], ids=["1d", "2d", "fortran", "strided", "float32", "small", "int"])
def test_compiled_helpers_give_numpys_values_and_dtypes(x):
    for got, name in zip(_three(x), ("tanh", "exp", "log")):
        with np.errstate(over="ignore"):
            want = getattr(np, name)(x)
        assert got.dtype == want.dtype and got.shape == want.shape and got.flags.c_contiguous
        if x.size >= NUMPY_LOOPS[name] and x.dtype.kind == "f":
            np.testing.assert_array_equal(got, want)  # the very same loop
        else:
            np.testing.assert_allclose(got, want, rtol=1e-14 if x.dtype == np.float64 else 1e-6)
    assert not np.shares_memory(_three(x)[0], x)


def test_compiled_helpers_warn_of_nothing_as_compiled_code():
    x = np.concatenate([np.full(2000, 1000.0), np.full(2000, -1.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tanh, exp, log = _three(x)
    assert np.isinf(exp[0]) and np.isnan(log[-1]) and tanh[0] == 1.0


def test_compiled_helpers_take_numbers():
    assert _three(0.5) == (np.tanh(0.5), np.exp(0.5), np.log(0.5))


def _mlp(w, x):
    h = np.tanh(x @ w)
    return np.sum(np.log(1.0 + np.exp(h)))


@pytest.fixture(scope="module")
def mlp_grad():
    return adjoint.grad(_mlp, wrt="w", background=False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradient_through_numpys_loops(mlp_grad, dtype):
    rng = np.random.default_rng(3)
    w = (0.1 * rng.normal(size=(8, 100))).astype(dtype)
    x = rng.normal(size=(12, 8)).astype(dtype)  # h: 12 x 100, NumPy's tanh and exp
    got = mlp_grad(w, x)
    h = np.tanh(x.astype(np.float64) @ w.astype(np.float64))
    want = x.T.astype(np.float64) @ ((1.0 - h * h) / (1.0 + np.exp(-h)))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-10 if dtype == np.float64 else 1e-4, atol=1e-6)
    built = mlp_grad._build()
    module, _ = built.for_numba(dtype == np.float64)
    source = open(module.__file__).read()
    assert "numpy_tanh(" in source and "numpy_exp(" in source
    assert "numpy_tanh" not in built.generated.source  # what the user reads keeps np.tanh


def test_numpy_loops_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("ADJOINT_NUMPY_LOOPS", "0")
    assert numba_calls("import numpy as np\n\ndef f(x):\n    return np.exp(x)\n", {"x": 1}) is None


@numba.njit
def _norm_and_reshape(v, X):
    return norm_of(v[::-1]), norm_of(v[::-2]), reshape_of(X.T, -1), reshape_of(v[::-1], (2, 3)), norm_of(2.5)


def test_compiled_norm_and_reshape_of_views_are_numpys():
    """Numba's own: norm of v[::-1] reads outside v, X.T.reshape(-1) raises (found by a fuzz)."""
    v = np.array([0.3, -0.4, 1.2, 100.0, 3.0, -2.0])
    X = np.arange(6.0).reshape(2, 3)
    n1, n2, flat, grid, number = _norm_and_reshape(v, X)
    assert n1 == pytest.approx(np.linalg.norm(v[::-1]), rel=1e-14)
    assert n2 == pytest.approx(np.linalg.norm(v[::-2]), rel=1e-14)
    np.testing.assert_array_equal(flat, X.T.reshape(-1))
    np.testing.assert_array_equal(grid, v[::-1].reshape(2, 3))
    assert number == 2.5


def _views(v, X):
    return np.linalg.norm(v[::-1]) + np.sum(X.T.reshape(-1) * np.arange(X.size))


def test_gradient_through_norm_and_reshape_of_views():
    v = np.array([0.3, -0.4, 1.2])
    X = np.arange(6.0).reshape(2, 3)
    for jit in (True, False):
        gv, gX = adjoint.grad(_views, wrt=(0, 1), jit=jit, background=False)(v, X)
        np.testing.assert_allclose(gv, v / np.linalg.norm(v), rtol=1e-13)
        np.testing.assert_allclose(gX, np.arange(6.0).reshape(3, 2).T, rtol=1e-13)


# Numbers and 0-d arrays, where NumPy and Numba differ (found by a fuzz against JAX)
def _where_of_numbers(x, s):
    t = np.where(s > 0.0, s, 0.5 * s)  # NumPy and Numba: a 0-d array; Numba cannot add it to s_bar
    return np.sin(s) + np.sum(x * t)


def _zero_d_argument(W, z):
    return np.sum(W * (1.5 + z * z)) + np.sin(z)


def _zero_d_indexed(z):
    return np.sum(z[np.newaxis] * 2.0)


def _zero_d_norm(z):
    return np.linalg.norm(z) * 3.0


@pytest.mark.parametrize("jit", [False, True])
def test_numbers_and_zero_d_arrays(jit):
    x = np.array([0.5, 1.0, 2.0])
    for s in (0.7, -0.7):
        gx, gs = adjoint.grad(_where_of_numbers, wrt=(0, 1), jit=jit, background=False)(x, s)
        np.testing.assert_allclose(gx, np.full(3, s if s > 0 else 0.5 * s), rtol=1e-14)
        assert gs == pytest.approx(np.cos(s) + x.sum() * (1.0 if s > 0 else 0.5), rel=1e-14)
    W, z = np.array([[0.5, 1.0], [2.0, -1.0]]), np.array(0.4)
    gW, gz = adjoint.grad(_zero_d_argument, wrt=(0, 1), jit=jit, background=False)(W, z)
    np.testing.assert_allclose(gW, np.full((2, 2), 1.66), rtol=1e-14)
    assert np.shape(gz) == () and float(gz) == pytest.approx(0.8 * W.sum() + np.cos(0.4), rel=1e-14)
    assert float(adjoint.grad(_zero_d_indexed, jit=jit, background=False)(z)) == pytest.approx(2.0)
    assert float(adjoint.grad(_zero_d_norm, jit=jit, background=False)(z)) == pytest.approx(3.0)
