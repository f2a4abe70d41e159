"""Tests for adjoint.runtime.helpers: NumPy twin vs. direct NumPy, Numba path vs. twin.

The Numba wrappers are defined once at module level and compiled once per type
signature; Numba compilation dominates the runtime, so the case tables reuse a
few signatures per helper (rank x dtype x layout) and vary shapes, axes and
values within them.
"""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.core.errors import TypingError

from adjoint.runtime import helpers as H

F32, F64, I64 = np.float32, np.float64, np.int64
RNG = np.random.default_rng(0)


# ------------------------------------------------------------ jitted wrappers

@numba.njit
def nb_unbroadcast(g, like):
    return H.unbroadcast(g, like)


@numba.njit
def nb_elementwise(g, x):
    return H.zero_like(x), H.fill_like(g, x), H.sign_nonneg(x)


@numba.njit
def nb_reduce(x, axis):
    return (H.reduce_max(x, axis), H.reduce_min(x, axis), H.reduce_mean(x, axis),
            H.reduce_prod(x, axis))


@numba.njit
def nb_reduce_full(x):
    return (H.reduce_max(x), H.reduce_min(x, None), H.reduce_mean(x), H.reduce_prod(x))


@numba.njit
def nb_full_grads(x, out, g):
    return H.extremum_grad(x, out, g), H.prod_grad(x, g)


@numba.njit
def nb_axis_grads(x, out, g, axis):
    return (H.expand_axis(g, x, axis), H.extremum_axis_grad(x, out, g, axis),
            H.prod_axis_grad(x, g, axis))


@numba.njit
def nb_matmul(g, a, b):
    return H.matmul_grad_a(g, a, b), H.matmul_grad_b(g, a, b)


@numba.njit
def nb_outer(g, a, b):
    return H.outer_grad_a(g, a, b), H.outer_grad_b(g, a, b)


@numba.njit
def nb_reshape_like(g, x):
    return H.reshape_like(g, x)


@numba.njit
def nb_concat_part(g, offset, like, axis):
    return H.concat_part(g, offset, like, axis)


@numba.njit
def nb_stack_part(g, index, like, axis):
    return H.stack_part(g, index, like, axis)


@numba.njit
def nb_clip(x, lo, hi):
    return H.clip(x, lo, hi)


@numba.njit
def nb_weights(x, y):
    return H.maximum_grad_weight(x, y), H.minimum_grad_weight(x, y)


# ------------------------------------------------------------ utilities

def arr(shape, dtype=F64, layout="C", lo=-2.0, hi=2.0):
    """Random array; layout "C", "T" (F-contiguous, a transposed view) or "S" (strided)."""
    a = RNG.uniform(lo, hi, size=shape)
    a = a.astype(dtype) if np.dtype(dtype).kind == "f" else np.round(a * 3).astype(dtype)
    if layout == "T":
        return np.ascontiguousarray(a.T).T
    if layout == "S":
        big = np.zeros(shape[:-1] + (2 * shape[-1],), dtype)
        big[..., ::2] = a
        return big[..., ::2]
    return a


def tol(*vals):
    return 2e-5 if any(np.asarray(v).dtype == F32 for v in vals) else 1e-12


def check(actual, expected, dtype=None, rtol=1e-12):
    """Same scalar-ness, shape, values (and dtype when given / both arrays)."""
    assert isinstance(actual, np.ndarray) == isinstance(expected, np.ndarray), (actual, expected)
    assert np.shape(actual) == np.shape(expected)
    if dtype is not None:
        assert np.asarray(actual).dtype == np.dtype(dtype)
    if isinstance(actual, np.ndarray):
        assert actual.dtype == expected.dtype
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol)


def both(nb_fn, twin_fn, args, ref, dtype=None):
    """Twin matches the NumPy reference; the Numba path matches the twin."""
    r = tol(*[a for a in args if isinstance(a, np.ndarray)])
    twin = twin_fn(*args)
    check(twin, ref, dtype, r)
    check(nb_fn(*args), twin, None, r)
    return twin


def fd_grad(f, x, eps=1e-6):
    """Central finite-difference gradient of scalar f at float64 x."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        grad[i] = (f(xp) - f(xm)) / (2 * eps)
    return grad


# ------------------------------------------------------------ 1. unbroadcast

def _unbroadcast_ref(g, like_shape):
    """Sum over the broadcast axes by brute force: add every g entry to its target."""
    out = np.zeros(like_shape, g.dtype)
    lead = g.ndim - len(like_shape)
    for idx in np.ndindex(g.shape):
        tgt = tuple(0 if n == 1 else i for i, n in zip(idx[lead:], like_shape))
        out[tgt] += g[idx]
    return out


UNBROADCAST_CASES = [  # g shape, like shape, g dtype, g layout
    ((2, 3), (1, 3), F64, "C"), ((2, 3), (2, 1), F64, "C"), ((2, 3), (1, 1), F64, "C"),
    ((2, 3), (3,), F64, "C"), ((2, 3), (1,), F64, "C"),
    ((2, 3, 4), (3, 1), F64, "C"), ((2, 3, 4), (1, 4), F64, "C"),
    ((2, 3), (1, 3), F32, "T"), ((2, 3), (1, 1), F32, "T"),
    ((2, 3, 4), (3, 1), F64, "S"), ((2, 3, 4), (1, 4), F64, "S"),
]


@pytest.mark.parametrize("gshape,lshape,dtype,layout", UNBROADCAST_CASES)
def test_unbroadcast(gshape, lshape, dtype, layout):
    g = arr(gshape, dtype, layout)
    like = np.zeros(lshape)  # only its shape matters
    both(nb_unbroadcast, H.unbroadcast, (g, like), _unbroadcast_ref(g, lshape), dtype)


@pytest.mark.parametrize("shape,dtype,layout", [((2, 3), F64, "C"), ((2, 3), F32, "T")])
def test_unbroadcast_same_shape_is_identity(shape, dtype, layout):
    g = arr(shape, dtype, layout)
    like = np.zeros(shape)
    assert H.unbroadcast(g, like) is g
    assert nb_unbroadcast(g, like) is g


def test_unbroadcast_scalars():
    g = arr((2, 3))
    assert H.unbroadcast(g, 1.0) == pytest.approx(g.sum())
    assert nb_unbroadcast(g, 1.0) == pytest.approx(g.sum())
    assert H.unbroadcast(2.5, 1.0) == 2.5 and nb_unbroadcast(2.5, 1.0) == 2.5
    like = np.zeros((2, 3))
    both(nb_unbroadcast, H.unbroadcast, (2.5, like), np.full((2, 3), 2.5), F64)
    assert H.unbroadcast(F32(2.5), like).dtype == F32
    assert H.unbroadcast(np.ones((2, 3), np.int32), np.zeros(3)).dtype == np.int32


def test_unbroadcast_errors():
    g, like = arr((2, 3)), np.zeros((4,))
    for fn in (H.unbroadcast, nb_unbroadcast):
        with pytest.raises(ValueError):
            fn(g, like)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=2, max_size=3), st.data())
def test_unbroadcast_random_shapes(gshape, data):
    k = data.draw(st.integers(1, 2)) if len(gshape) == 2 else 2  # signatures used above
    lshape = tuple(n if data.draw(st.booleans()) else 1 for n in gshape[len(gshape) - k:])
    g = arr(tuple(gshape))
    like = np.zeros(lshape)
    both(nb_unbroadcast, H.unbroadcast, (g, like), _unbroadcast_ref(g, lshape), F64)


# ------------------------------------------------ 2, 3, 13. zero_like / fill_like / sign_nonneg

@pytest.mark.parametrize("x", [
    np.array([[-1.5, 0.0, -0.0], [2.0, -3.0, 4.0]]), arr((3,), F32), np.array([[-2, 0, 3]]),
    arr((2, 3, 4), F32, "S"), arr((2, 3), F64, "T"),
])
def test_elementwise_arrays(x):
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(F64)
    # a cotangent starts as float64 whatever x's dtype (float32 too): see _cotangent_dtype
    check(H.zero_like(x), np.zeros(x.shape, F64), F64)
    check(H.fill_like(2.5, x), np.full(x.shape, 2.5, F64), F64)
    check(H.sign_nonneg(x), np.where(x >= 0, 1.0, -1.0).astype(dt), dt)
    zero, fill, sign = nb_elementwise(2.5, x)
    check(zero, H.zero_like(x))
    check(fill, H.fill_like(2.5, x))
    check(sign, H.sign_nonneg(x))


@pytest.mark.parametrize("x,sign", [(0.0, 1.0), (-0.0, 1.0), (3.5, 1.0), (-1.5, -1.0), (7, 1.0),
                                    (-2, -1.0)])
def test_elementwise_scalars(x, sign):
    assert (H.zero_like(x), H.fill_like(2.5, x), H.sign_nonneg(x)) == (0.0, 2.5, sign)
    got = nb_elementwise(2.5, x)
    assert got == (0.0, 2.5, sign) and all(isinstance(v, float) for v in got)


@numba.njit
def nb_select(c, a, b):
    return H.select(c, a, b)


@pytest.mark.parametrize("c, a, b", [
    (np.array([True, False, True]), np.array([np.inf, 1.0, 2.0]), 0.0),
    (np.array([[True], [False]]), 0.0, np.array([np.inf, -np.inf])),  # broadcast to (2, 2)
    (True, np.array([1.0, 2.0]), 0.0),
])
def test_select_arrays(c, a, b):
    """np.where, without multiplying the other side by 0 (inf * 0 would be nan)."""
    check(H.select(c, a, b), np.where(c, a, b), F64)
    check(nb_select(c, a, b), np.where(c, a, b), F64)


@pytest.mark.parametrize("c, a, b, out", [(True, np.inf, 0.0, np.inf), (False, np.inf, 0.0, 0.0),
                                          (np.bool_(True), 1.5, 0.0, 1.5)])
def test_select_numbers_are_numbers(c, a, b, out):
    for got in (H.select(c, a, b), nb_select(c, a, b)):
        assert got == out and isinstance(got, float)


# ------------------------------------------------------------ 5. reductions

REDUCE_CASES = [  # 3 compiled signatures: (rank, dtype, layout)
    ((5,), 0, F64, "C"), ((5,), -1, F64, "C"),
    ((3, 4), 0, F32, "T"), ((3, 4), 1, F32, "T"), ((3, 4), -2, F32, "T"),
    ((2, 3, 4), 0, I64, "S"), ((2, 3, 4), 1, I64, "S"), ((2, 3, 4), -1, I64, "S"),
    ((1, 3, 2), -3, I64, "S"),
]
REDUCERS = [(H.reduce_max, np.max), (H.reduce_min, np.min), (H.reduce_mean, np.mean),
            (H.reduce_prod, np.prod)]


@pytest.mark.parametrize("shape,axis,dtype,layout", REDUCE_CASES)
def test_reductions_axis(shape, axis, dtype, layout):
    x = arr(shape, dtype, layout)
    jit_results = nb_reduce(x, axis)
    for (twin, ref), got in zip(REDUCERS, jit_results):
        expected = ref(x, axis=axis)
        r = tol(x)
        check(np.asarray(twin(x, axis)), np.asarray(expected), expected.dtype, r)
        if len(shape) == 1:
            assert not isinstance(got, np.ndarray)
            np.testing.assert_allclose(got, expected, rtol=r)
        else:
            check(got, expected, expected.dtype, r)


def test_reductions_nan_and_errors():
    x = arr((3, 4), F32, "T")
    x[1, 2] = np.nan
    for got, ref in zip(nb_reduce(x, 1), (np.max, np.min, np.mean, np.prod)):
        np.testing.assert_allclose(got, ref(x, axis=1), rtol=tol(x))  # float32, as elsewhere
    for ax in (2, -3):
        with pytest.raises(ValueError):
            nb_reduce(x, ax)
        with pytest.raises(ValueError):
            H.reduce_max(x, ax)


def test_reductions_nan_along_axis_0():
    # lines side by side, a row at a time: a NaN in the first row or a later one wins
    x = arr((3, 4), F64, "C")
    x[0, 1] = x[2, 3] = np.nan
    for axis in (0, -2):
        for got, ref in zip(nb_reduce(x, axis), (np.max, np.min, np.mean, np.prod)):
            np.testing.assert_array_equal(got, ref(x, axis=axis))
        np.testing.assert_array_equal(nb_reduce_sum(x, axis), np.sum(x, axis=axis))


@pytest.mark.parametrize("x", [arr((3, 4), F32, "T"), arr((2, 3), np.int32), 3.0, 4])
def test_reductions_full(x):  # (full reductions of float64 arrays: the 1-D cases above)
    got = nb_reduce_full(x)
    for (twin, ref), g in zip(REDUCERS, got):
        expected = ref(x)
        np.testing.assert_allclose(twin(x), expected, rtol=tol(x))
        np.testing.assert_allclose(g, expected, rtol=tol(x))
        assert not isinstance(g, np.ndarray)
    assert nb_reduce_full.py_func(x)[3].dtype == np.prod(x).dtype


@numba.njit
def nb_reduce_sum(x, axis):
    return H.reduce_sum(x, axis)


@pytest.mark.parametrize("x", [
    np.array([[True, False, True], [True, True, True]]),  # counts, not "any"
    np.full((2, 200), 200, np.uint8),                     # no wrap-around at 256
    np.arange(6, dtype=np.int32).reshape(3, 2),
    np.array([2 ** 53, 1, 1], np.int64),                  # exact, not through a float64
    np.array([True, True, False]),
], ids=["bool", "uint8", "int32", "int64_big", "bool_1d"])
def test_reduce_sum_of_bools_and_ints_is_numpys(x):
    # np.sum(m, axis=...) of a bool or small-int array is int64 (uint64 for unsigned) in
    # NumPy; compiled code summed in the array's dtype (True for a count of bools, 144 for
    # two uint8 200s)
    for axis in range(-x.ndim, x.ndim):
        expected, got = np.sum(x, axis=axis), nb_reduce_sum(x, axis)
        check(np.asarray(H.reduce_sum(x, axis)), np.asarray(expected), expected.dtype, 0)
        if x.ndim == 1:
            assert got == expected and not isinstance(got, (bool, np.bool_))
        else:
            check(got, expected, expected.dtype, 0)


# ------------------------------------------------- 6-7. full-reduction gradients

def _extremum_ref(x, out, g, axis):
    mask = x == np.expand_dims(out, axis)
    share = np.expand_dims(np.asarray(g, F64), axis) / mask.sum(axis=axis, keepdims=True)
    return np.where(mask, share, 0.0)


def _prod_others(xf):
    """Product of all other entries, by brute force."""
    return np.array([np.prod(np.delete(xf, i)) for i in range(xf.size)])


@pytest.mark.parametrize("x,use_min", [
    (np.array([1.0, 3.0, 3.0, 2.0]), False),
    (np.array([2.0, 0.0, 3.0, 0.0]), True),
    (np.array([[1.0, 5.0, 5.0], [5.0, 0.0, 2.0]]), False),
    (np.ascontiguousarray(np.array([[2.0, 2.0, 1.0], [0.0, 2.0, 2.5]], F32).T).T, False),
    (np.array([[4, 1, 4], [2, 4, 0]]), True),
])
def test_full_reduction_grads(x, use_min):
    out = x.min() if use_min else x.max()
    dt = np.dtype(F64)  # the cotangent dtype, for float32 x too
    xf = x.reshape(-1)
    ext_ref = _extremum_ref(xf, out, 2.0, 0).reshape(x.shape).astype(dt)
    prod_ref = (2.0 * _prod_others(xf.astype(F64))).reshape(x.shape).astype(dt)
    r = tol(x)
    check(H.extremum_grad(x, out, 2.0), ext_ref, dt, r)
    check(H.prod_grad(x, 2.0), prod_ref, dt, r)
    jit_ext, jit_prod = nb_full_grads(x, out, 2.0)
    check(jit_ext, H.extremum_grad(x, out, 2.0), dt, r)
    check(jit_prod, H.prod_grad(x, 2.0), dt, r)


def test_full_reduction_grads_scalar_and_tie_split():
    assert H.extremum_grad(3.0, 3.0, 2.0) == 2.0 and H.prod_grad(3.0, 2.0) == 2.0
    assert nb_full_grads(3.0, 3.0, 2.0) == (2.0, 2.0)
    np.testing.assert_array_equal(nb_full_grads(np.array([1.0, 1.0]), 1.0, 1.0)[0], [0.5, 0.5])


def test_full_reduction_grads_finite_differences():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5], [1.0, -2.0, 0.5]])  # several zeros
    _, jit_prod = nb_full_grads(x, 0.0, 1.0)
    np.testing.assert_allclose(jit_prod, fd_grad(np.prod, x), atol=1e-7)
    x = np.array([[0.3, -1.2, 2.5, 0.7], [1.1, 0.4, -0.5, 0.9], [-2.0, 1.6, 0.2, 0.8]])
    jit_ext, _ = nb_full_grads(x, x.min(), 3.0)
    np.testing.assert_allclose(jit_ext, fd_grad(lambda v: 3.0 * np.min(v), x), atol=1e-8)
    # Ties: moving all tied entries together changes max at rate g, split evenly.
    x = np.array([[1.0, 3.0, 3.0], [3.0, 2.0, 0.0]])
    grad, _ = nb_full_grads(x, 3.0, 1.0)
    d = (x == 3.0).astype(F64)
    eps = 1e-6
    fd_dir = (np.max(x + eps * d) - np.max(x - eps * d)) / (2 * eps)
    np.testing.assert_allclose(np.sum(grad * d), fd_dir, rtol=1e-8)
    np.testing.assert_allclose(grad, d / 3)


# ---------------------------------------- 4, 6-7. gradients along an axis

AXIS_CASES = [  # x (ties and zeros included), axis, reduce with min instead of max
    (np.array([1.0, 3.0, 3.0, 0.0]), 0, False),
    (np.array([2.0, 0.0, 3.0]), -1, True),
    (np.array([[[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]]), 2, False),
    (np.array([[[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]]]), -2, True),
    (np.round(arr((2, 3, 4))), 0, False),
    (np.round(arr((2, 3, 4))), 1, True),
    (np.round(arr((2, 3, 4))), -1, False),
    (np.round(arr((3, 4), F32, "T")), 0, False),
    (np.round(arr((3, 4), F32, "T")), -1, True),
]


@pytest.mark.parametrize("x,axis,use_min", AXIS_CASES)
def test_axis_grads(x, axis, use_min):
    out = (np.min if use_min else np.max)(x, axis=axis)
    if out.ndim:
        out = np.ascontiguousarray(out)
        g = arr(out.shape, x.dtype, "T")  # F-ordered when 2-D (C 2-D g: see the FD test)
    else:
        out, g = float(out), 1.5
    expand_ref = np.array(np.broadcast_to(np.expand_dims(g, axis), x.shape))
    ext_ref = _extremum_ref(x, out, g, axis).astype(F64)  # cotangents start as float64
    prod_ref = np.apply_along_axis(_prod_others, axis, x.astype(F64))
    prod_ref = (prod_ref * np.expand_dims(g, axis)).astype(F64)
    jit = nb_axis_grads(x, out, g, axis)
    twins = (H.expand_axis(g, x, axis), H.extremum_axis_grad(x, out, g, axis),
             H.prod_axis_grad(x, g, axis))
    for twin, ref, got, dt in zip(twins, (expand_ref, ext_ref, prod_ref), jit, (x.dtype, F64, F64)):
        check(twin, ref, dt, tol(x))
        check(got, twin, dt, tol(x))


def test_axis_grads_errors():
    x, g = np.zeros((2, 3, 4)), np.zeros((2, 4))
    for ax in (0, 3, -4):  # wrong g shape, then axis out of range
        for fn in (H.expand_axis, H.extremum_axis_grad, H.prod_axis_grad):
            args = (g, x, ax) if fn is H.expand_axis else (
                (x, g, g, ax) if fn is H.extremum_axis_grad else (x, g, ax))
            with pytest.raises(ValueError):
                fn(*args)
        with pytest.raises(ValueError):
            nb_axis_grads(x, g, g, ax)


def test_axis_grads_finite_differences():
    x = np.array([[[0.3, -1.2, 2.5, 0.7], [1.1, 0.4, -0.5, 0.9], [-2.0, 1.6, 0.2, 0.8]]])
    w = np.array([[0.5, -1.0, 2.0, 1.5]])
    _, ext, _ = nb_axis_grads(x, x.max(axis=1), w, 1)
    np.testing.assert_allclose(ext, fd_grad(lambda v: np.sum(w * np.max(v, axis=1)), x), atol=1e-8)
    x = np.array([[[2.0, 0.0, 3.0], [0.0, 0.0, 1.5], [1.0, -2.0, 0.5]]])  # zeros
    w = np.array([[1.0, -2.0, 0.5]])
    _, _, prod = nb_axis_grads(x, w, w, 1)
    fd = fd_grad(lambda v: np.sum(w * np.prod(v, axis=1)), x)
    np.testing.assert_allclose(prod, fd, atol=1e-7)
    np.testing.assert_allclose(H.prod_axis_grad(x, w, 1), fd, atol=1e-7)


# ------------------------------------------------------------ 8-9. matmul / outer

def _mm_ref(g, a, b):
    ga = np.outer(g, b) if (a.ndim, b.ndim) == (2, 1) else (
        g * b if a.ndim == b.ndim == 1 else (b @ g if a.ndim == 1 else g @ b.T))
    gb = np.outer(a, g) if (a.ndim, b.ndim) == (1, 2) else (
        g * a if a.ndim == b.ndim == 1 else a.T @ g)
    return ga, gb


MATMUL_CASES = [  # (a shape, b shape, a dtype, b dtype, a layout)
    ((3,), (3,), F64, F64, "C"), ((2, 3), (3,), F64, F64, "T"), ((3,), (3, 2), F64, F64, "C"),
    ((2, 3), (3, 4), F64, F64, "C"), ((2, 3), (3, 4), F32, F32, "C"),
    ((2, 3), (3, 4), I64, F32, "T"),
]


@pytest.mark.parametrize("ashape,bshape,adt,bdt,layout", MATMUL_CASES)
def test_matmul_grads(ashape, bshape, adt, bdt, layout):
    a, b = arr(ashape, adt, layout), arr(bshape, bdt)
    dt = np.result_type(a.dtype, b.dtype)
    dt = dt if dt.kind == "f" else np.dtype(F64)
    out = a @ b
    g = arr(out.shape, dt) if out.ndim else dt.type(1.25)
    ref_a, ref_b = _mm_ref(g, a.astype(dt), b.astype(dt))
    jit_a, jit_b = nb_matmul(g, a, b)
    r = tol(a, b)
    check(H.matmul_grad_a(g, a, b), ref_a, dt, r)
    check(H.matmul_grad_b(g, a, b), ref_b, dt, r)
    check(jit_a, H.matmul_grad_a(g, a, b), dt, r)
    check(jit_b, H.matmul_grad_b(g, a, b), dt, r)
    assert jit_a.shape == a.shape and jit_b.shape == b.shape
    # VJP identity: <g, da @ b + a @ db> == <grad_a, da> + <grad_b, db> (bilinear).
    da, db = arr(ashape), arr(bshape)
    lhs = np.sum(g * (da @ b + a @ db))
    np.testing.assert_allclose(lhs, np.sum(jit_a * da) + np.sum(jit_b * db), rtol=100 * r)


def test_matmul_grads_bad_ranks():
    a, b, g = np.zeros((2, 3, 4)), np.zeros((4, 2)), np.zeros((2, 3, 2))
    for fn in (H.matmul_grad_a, H.matmul_grad_b):
        with pytest.raises(ValueError, match=r"\(3, 2\)"):
            fn(g, a, b)
    with pytest.raises(TypingError, match=r"ranks \(3, 2\)"):
        nb_matmul(g, a, b)


@pytest.mark.parametrize("adt,bdt", [(F64, F64), (F32, F64)])
def test_outer_grads(adt, bdt):
    a, b = arr((3,), adt), arr((4,), bdt)
    dt = np.result_type(adt, bdt)
    g = arr((3, 4), dt)
    r = tol(a, b)
    both(lambda *args: nb_outer(*args)[0], H.outer_grad_a, (g, a, b), g @ b, dt)
    both(lambda *args: nb_outer(*args)[1], H.outer_grad_b, (g, a, b), g.T @ a, dt)
    da, db = arr((3,)), arr((4,))
    lhs = np.sum(g * (np.outer(da, b) + np.outer(a, db)))
    ga, gb = nb_outer(g, a, b)
    np.testing.assert_allclose(lhs, ga @ da + gb @ db, rtol=100 * r)


# ------------------------------------------------------------ 10-12. shape plumbing

@pytest.mark.parametrize("g,xshape", [
    (arr((6,)), (2, 3)), (arr((12,)), (4, 3)), (arr((2, 3), F32, "T"), (3, 2)),
    (arr((2, 3, 4), F64, "S"), (24,)),
])
def test_reshape_like(g, xshape):
    x = np.zeros(xshape)
    both(nb_reshape_like, H.reshape_like, (g, x), g.reshape(xshape), g.dtype)


def test_reshape_like_scalars():
    for fn in (H.reshape_like, nb_reshape_like):
        assert fn(np.array([2.5]), 1.0) == 2.5
        assert fn(1.5, 1.0) == 1.5
        with pytest.raises(ValueError):
            fn(np.zeros(2), 1.0)


@pytest.mark.parametrize("gshape,offset,lshape,axis,layout", [
    ((5, 3), 0, (2, 3), 0, "C"), ((5, 3), 2, (3, 3), 0, "C"),
    ((2, 7), 3, (2, 4), -1, "C"), ((2, 7), 0, (2, 3), 1, "C"),
    ((2, 5, 3), 1, (2, 2, 3), 1, "C"), ((2, 5, 3), 4, (2, 1, 3), -2, "C"),
    ((5, 3), 2, (3, 3), 0, "T"), ((5, 3), 1, (5, 2), -1, "T"),
])
def test_concat_part(gshape, offset, lshape, axis, layout):
    g = arr(gshape, F64, layout)
    like = np.zeros(lshape)
    ax = axis % len(gshape)
    ref = np.split(g, [offset, offset + lshape[ax]], axis=ax)[1]
    twin = both(nb_concat_part, H.concat_part, (g, offset, like, axis), np.array(ref), F64)
    assert twin.flags.c_contiguous and nb_concat_part(g, offset, like, axis).flags.c_contiguous


def test_concat_part_errors():
    g = np.zeros((5, 3))
    for fn in (H.concat_part, nb_concat_part):
        with pytest.raises(ValueError):
            fn(g, 4, np.zeros((2, 3)), 0)
        with pytest.raises(ValueError):
            fn(g, 0, np.zeros((2, 2)), 0)


@pytest.mark.parametrize("parts,axis,layout", [
    (3, 0, "C"), (3, 1, "C"), (3, -1, "C"), (2, 2, "C"), (3, 0, "T"), (4, -2, "T"),
])
def test_stack_part(parts, axis, layout):
    pieces = [arr((2, 4)) for _ in range(parts)]
    g = np.stack(pieces, axis=axis)
    if layout == "T":
        g = np.ascontiguousarray(g.T).T
    like = np.zeros((2, 4))
    for index in (0, parts - 1, -1):
        both(nb_stack_part, H.stack_part, (g, index, like, axis), pieces[index], F64)


def test_stack_part_scalars_and_errors():
    g = np.array([1.0, 2.0, 3.0])
    for fn in (H.stack_part, nb_stack_part):
        assert fn(g, 1, 0.0, 0) == 2.0 and fn(g, -1, 0.0, 0) == 3.0
        with pytest.raises(IndexError):
            fn(np.zeros((3, 2, 4)), 3, np.zeros((2, 4)), 0)
        with pytest.raises(ValueError):
            fn(np.zeros((3, 2, 4)), 0, np.zeros((2, 5)), 0)


# ------------------------------------------------------------ 14-15. clip, weights

@pytest.mark.parametrize("x,lo,hi,dtype", [
    (arr((2, 3), F64, lo=-3, hi=3), -1.0, 1.0, F64),
    (arr((2, 3), F32, "T", lo=-3, hi=3), np.float64(-1.0), 1, F32),
    (arr((2, 3), F64, lo=-3, hi=3), arr((3,), lo=-2, hi=0), 1.0, F64),
    (np.array([-3, 0, 5]), -1, 2, I64),
    (np.array([-3, 0, 5]), -0.5, 2.5, F64),
])
def test_clip_arrays(x, lo, hi, dtype):
    both(nb_clip, H.clip, (x, lo, hi), np.clip(x, lo, hi).astype(dtype), dtype)


@pytest.mark.parametrize("x,lo,hi,expected", [
    (3.0, 1.0, 2.0, 2.0), (0.5, 1.0, 2.0, 1.0), (1.5, 1.0, 2.0, 1.5), (5, 1, 2, 2),
    (5, 1.5, 2.5, 2.5), (F32(0.0), 1.0, 2.0, 1.0),
])
def test_clip_scalars(x, lo, hi, expected):
    twin, jit = H.clip(x, lo, hi), nb_clip(x, lo, hi)
    assert np.ndim(twin) == 0 and not isinstance(jit, np.ndarray)
    assert twin == expected and jit == expected


@pytest.mark.parametrize("x,y,dtype", [
    (np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), 2.0, F64),
    (np.array([[1.0], [2.0]]), np.array([2.0, 1.0, 2.0]), F64),
    (np.array([1.0, 2.0, 3.0], F32), np.array([2.0, 2.0, 2.0], F32), F32),
    (2, np.array([1, 2, 3]), F64),
])
def test_grad_weights_arrays(x, y, dtype):
    ref_max = np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0)).astype(dtype)
    ref_min = np.where(x < y, 1.0, np.where(x == y, 0.5, 0.0)).astype(dtype)
    both(lambda a, b: nb_weights(a, b)[0], H.maximum_grad_weight, (x, y), ref_max, dtype)
    both(lambda a, b: nb_weights(a, b)[1], H.minimum_grad_weight, (x, y), ref_min, dtype)
    np.testing.assert_array_equal(H.maximum_grad_weight(x, y) + H.maximum_grad_weight(y, x), 1.0)


@pytest.mark.parametrize("x,y,wmax,wmin", [(1.0, 2.0, 0.0, 1.0), (2.0, 2.0, 0.5, 0.5),
                                           (3.0, 2.0, 1.0, 0.0), (3, 2.5, 1.0, 0.0)])
def test_grad_weights_scalars(x, y, wmax, wmin):
    assert (H.maximum_grad_weight(x, y), H.minimum_grad_weight(x, y)) == (wmax, wmin)
    assert nb_weights(x, y) == (wmax, wmin)


def test_no_code_compiled_below_numbas_default_optimization_is_cached_for_other_processes():
    """Numba's cache does not tell optimization levels apart. The suite runs with NUMBA_OPT=0
    (tests/conftest.py): its kernels must not land in the package's cache, where every later
    process would link them (74 us instead of 5.5 us for np.sum(x, axis=1) of 1000 x 10),
    and generated modules carry the level in their hash, so in their cache key."""
    import numba

    import adjoint
    from adjoint.runtime import _numba_impl

    if int(numba.config.OPT) != 0:
        pytest.skip("the suite was started with NUMBA_OPT set (conftest.py sets 0)")
    assert type(_numba_impl._k_sum._cache).__name__ == "NullCache"

    assert "numba " + numba.__version__ + " (NUMBA_OPT=0)," in adjoint.grad(_square).source


def _square(x):
    return x * x
