"""An element of an integer array argument used as an index: ``x[idx[j]]``, ``x[obs[j, 0]]``.

The gradient scatters into x, adding at repeated indices; int() of such an element is
recomputed in the reverse sweep, never taped.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import adjoint

JIT = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])


def gather(x, idx):
    s = 0.0
    for j in range(idx.shape[0]):
        s = s + x[idx[j]]
    return s


def gather_squares(x, idx):
    s = 0.0
    for j in range(idx.shape[0]):
        s = s + x[idx[j]] ** 2 * np.sin(x[idx[j]])
    return s


def gather_column(x, idx):
    s = 0.0
    for j in range(idx.shape[0]):
        s = s + x[idx[j], 1] * x[idx[j], 0]
    return s


def pairs(x, obs):
    s = 0.0
    for j in range(obs.shape[0]):
        s = s + x[obs[j, 0]] ** 2 * x[obs[j, 1]]
    return s


def pairs_weighted(x, obs, w):
    s = 0.0
    for j in range(obs.shape[0]):
        s = s + w[j] * np.exp(x[obs[j, 0]] - x[obs[j, 1]])
    return s


def row_then_element(x, idx):
    row = idx[1]
    return x[row[0]] * x[row[1]]


def shifted(x, idx, k):
    s = 0.0
    for j in range(idx.shape[0]):
        s = s + x[idx[j] + k] * x[idx[j]]
    return s


def scatter_write(x, idx):
    y = np.zeros(4)
    for j in range(idx.shape[0]):
        y[idx[j]] += x[j] * x[j]
    return np.sum(y * y)


def observed(x, obs):
    s = 0.0
    for j in range(obs.shape[0]):
        c = int(obs[j, 0])
        s = s + x[c] * obs[j, 1]
    return s


def direct(x, i):
    return x[i] * 2.0


def clamped(x, k):
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        s = s + x[i] * x[min(i + 1, n - 1)] * x[max(i - k, 0)] + x[abs(i - 2)] * x[np.minimum(i, 1)]
    return s


def floored(x, v):
    return x[math.floor(v)] * x[math.ceil(v)] + x[math.trunc(-v) + 3]


def fd(fn, args, step=1e-6):
    """Central differences with respect to the first argument (a float array) only."""
    x = np.array(args[0], dtype=np.float64)
    out = np.empty(x.size)
    for i in range(x.size):
        values = []
        for sign in (1.0, -1.0):
            shifted_x = x.copy().reshape(-1)
            shifted_x[i] += sign * step
            values.append(fn(shifted_x.reshape(x.shape), *args[1:]))
        out[i] = (values[0] - values[1]) / (2 * step)
    return out.reshape(x.shape)


IDX = np.array([0, 3, 3, 1])
OBS = np.array([[0, 3], [3, 3], [4, 1], [3, 0]])
CASES = {
    "gather": (gather, [np.arange(5.0), IDX]),
    "gather_int32": (gather, [np.arange(5.0), IDX.astype(np.int32)]),
    "gather_uint8": (gather, [np.arange(5.0), IDX.astype(np.uint8)]),
    "gather_squares": (gather_squares, [np.linspace(-1.0, 1.5, 5), IDX]),
    "gather_column": (gather_column, [np.linspace(0.5, 2.0, 10).reshape(5, 2), IDX]),
    "pairs": (pairs, [np.linspace(-1.0, 1.0, 5), OBS]),
    "pairs_weighted": (pairs_weighted, [np.linspace(-1.0, 1.0, 5), OBS, np.array([0.5, 1.0, -2.0, 3.0])]),
    "row_then_element": (row_then_element, [np.linspace(1.0, 2.0, 5), OBS]),
    "shifted": (shifted, [np.linspace(1.0, 2.0, 6), IDX, 2]),
    "scatter_write": (scatter_write, [np.array([0.5, -1.0, 2.0, 1.5]), IDX]),
    # indices clamped with min, max, abs, np.minimum, and made by math.floor, ceil, trunc
    "clamped": (clamped, [np.linspace(0.5, 2.0, 5), 2]),
    "floored": (floored, [np.linspace(0.5, 2.0, 5), 1.5]),
}


@JIT
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_finite_differences(name, jit):
    fn, args = CASES[name]
    value, g = adjoint.value_and_grad(fn, jit=jit)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-13, abs=1e-13)
    np.testing.assert_allclose(g, fd(fn, args), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(adjoint.grad(fn, jit=jit)(*args), g, rtol=1e-13, atol=1e-15)


@JIT
def test_repeated_indices_add_up(jit):
    """The scatter adds at every read: index 3, read twice, gets 2."""
    g = adjoint.grad(gather, jit=jit)(np.arange(5.0), IDX)
    np.testing.assert_array_equal(g, np.bincount(IDX, minlength=5).astype(float))
    g = adjoint.grad(gather_column, jit=jit)(np.arange(10.0).reshape(5, 2), IDX)
    x = np.arange(10.0).reshape(5, 2)
    expected = np.zeros((5, 2))
    for i in IDX:
        expected[i] += x[i, ::-1]
    np.testing.assert_array_equal(g, expected)


@JIT
def test_int_of_an_element_is_recomputed_not_taped(jit):
    """c = int(obs[j, 0]) is recomputed by the reverse sweep: no tape at all, and grad
    (observed_grad) runs no forward loop."""
    obs = np.array([[0.0, 2.0], [3.0, 1.0], [3.0, -1.5]])
    g = adjoint.grad(observed, jit=jit)
    np.testing.assert_allclose(g(np.arange(5.0), obs), [2.0, 0.0, 0.0, -0.5, 0.0])
    source = g.source_for(np.arange(5.0), obs)
    assert "_stack" not in source
    vjp = source.split("def observed_vjp(")[1].split("# adjoint")[1]
    assert "c = int(obs[j, 0])" in vjp
    grad_alone = source.split("def observed_grad(")[1]
    loops = [line.strip() for line in grad_alone.splitlines() if line.strip().startswith("for ")]
    assert loops == ["for j in range(t1 - 1, -1, -1):"]


@JIT
@pytest.mark.parametrize("bad", [np.array([0.0, 3.0]), np.array([True, False])], ids=["float", "bool"])
def test_a_float_or_bool_array_is_refused(bad, jit):
    with pytest.raises(TypeError, match=r"argument 'idx' of gather .*must be an integer array, not an array "
                                        f"of {bad.dtype}"):
        adjoint.grad(gather, jit=jit)(np.arange(5.0), bad)


def test_an_int_is_refused_where_its_elements_are_read():
    with pytest.raises(TypeError, match="argument 'idx' of gather .*must be an integer array, not int"):
        adjoint.grad(gather)(np.arange(5.0), 3)


def test_a_row_is_not_an_index():
    """idx[j] of a 2-D idx is a row: x[idx[j]] would be fancy indexing."""
    with pytest.raises(TypeError, match=r"test_int_index.py:\d+: s = s \+ x\[idx\[j\]\]: an index is an "
                                        "array of rank 1"):
        adjoint.grad(gather)(np.arange(5.0), OBS)


def test_an_argument_used_as_the_index_itself_is_still_an_int():
    assert list(adjoint.grad(direct)(np.arange(3.0), 1)) == [0.0, 2.0, 0.0]
    with pytest.raises(TypeError, match="argument 'i' of direct is used in an index or a range.. bound and "
                                        "must be an int, not ndarray"):
        adjoint.grad(direct)(np.arange(3.0), np.array([1]))
    with pytest.raises(TypeError, match="argument 'k' of shifted is used in an index or a range.. bound and must be an int"):
        adjoint.grad(shifted)(np.arange(6.0), IDX, np.array([2]))


def test_an_integer_array_is_never_differentiated():
    with pytest.raises(TypeError, match="cannot differentiate gather with respect to 'idx'"):
        adjoint.grad(gather, wrt=(0, 1))(np.arange(5.0), IDX)


def test_check_grad_passes_integer_index_arrays_through():
    x = np.linspace(-1.0, 1.0, 5)
    idx = np.array([0, 3, 3, 1], dtype=np.int32)
    assert adjoint.check_grad(gather_squares, x, idx) < 1e-6


def summed_n_times(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.sum(x * x) * i
    return s


@pytest.mark.parametrize("jit", [False, True])
def test_a_range_bound_argument_must_be_an_int(jit):
    """range(n) of a float n: Python raised a bare TypeError from the generated module, and
    compiled code truncated n (3.7 ran 3 iterations). Both now name the argument and the line."""
    g = adjoint.grad(summed_n_times, jit=jit)
    np.testing.assert_allclose(g(np.array([1.0, 2.0]), 3), [6.0, 12.0])
    with pytest.raises(TypeError, match=r"argument 'n' of summed_n_times is used in an index or a range\(\) "
                                        r"bound and must be an int, not float \(.*for i in range\(n\)"):
        g(np.array([1.0, 2.0]), 3.7)
