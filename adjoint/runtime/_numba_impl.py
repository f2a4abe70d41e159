"""Numba overloads (nopython) of the NumPy twins in ``adjoint.runtime.helpers``.

Imported for its side effect by ``helpers``. Each overload picks an
implementation from the argument types at compile time. The work is done by
small kernels over flat 1-D C-order buffers; an op along a runtime ``axis``
views the array as (pre, n, post), so element (i, j, k) is
``xf[(i * n + j) * post + k]`` (non-C-contiguous inputs are copied to C order
first). Kernels only see 1-D arrays and ints, so one compilation per dtype is
shared by every rank and layout, which keeps Numba compile times down.
"""

import operator

import numpy as np
from numba import config, types
from numba.core.errors import TypingError
from numba import njit, objmode
from numba.extending import intrinsic, overload

# The loops that do the work are compiled once per signature and cached on disk
# (cache=True), so every generated function, in every process, shares them
# instead of compiling them again into each caller. Only at Numba's default optimization
# level: Numba's cache does not tell levels apart, and kernels cached by a process run with
# NUMBA_OPT=0 (as the test suite runs) would be linked into every later caller (measured:
# np.sum(x, axis=1) of a 1000 x 10 array took 74 us instead of 5.5 us, the gmm benchmark's
# forward 2.7 ms instead of 0.8 ms).
_kernel = njit(cache=int(config.OPT) == 3, nogil=True, error_model="numpy")
from numba.np.numpy_support import as_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from . import helpers as h

# ------------------------------------------------------------ typing-time helpers


def _arr(t):
    return isinstance(t, types.Array)


def _num(t):
    return isinstance(t, (types.Number, types.Boolean))


def _none(t):
    return t is None or isinstance(t, (types.NoneType, types.Omitted))


def _np_dt(t):
    return as_dtype(types.unliteral(t.dtype if _arr(t) else t))


def _grad_dt(*ts):
    dt = np.result_type(*(_np_dt(t) for t in ts))
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _cot_dt(t):
    """The cotangent dtype (helpers._cotangent_dtype): float64, complex128 for complex."""
    return np.result_type(_np_dt(t), np.float64)


def _rank(t):
    return t.ndim if _arr(t) else 0


def _need(cond, msg):
    if not cond:
        raise TypingError(msg)


# ------------------------------------------------------------ jitted utilities
# Shells call only numba builtins and the shared kernels below (deep call trees
# of small jitted helpers are slow to compile). ``np.ascontiguousarray(x)`` is
# x itself when x is C-contiguous by type, and so is ``x.ravel()``.


def _astype(x, dt):
    """x cast to dtype dt (no copy when it already has it); works for scalars."""


@overload(_astype)
def _ov_astype(x, dt):
    target = dt.dtype
    if _arr(x):
        if x.dtype == target:
            return lambda x, dt: x
        return lambda x, dt: x.astype(dt)
    return lambda x, dt: target(x)


@_kernel
def _axis(shp, axis):
    """(ax, pre, n, post) for a runtime, possibly negative ``axis`` of shape array shp."""
    nd = shp.size
    if axis < -nd or axis >= nd:
        raise ValueError("axis is out of bounds for array dimension")
    ax = axis + nd if axis < 0 else axis
    return ax, np.prod(shp[:ax]), shp[ax], np.prod(shp[ax + 1:])


@_kernel
def _without(shp, ax):
    """Shape array shp with dimension ax removed."""
    return np.concatenate((shp[:ax], shp[ax + 1:]))


@_kernel
def _check_without(small, shp, ax):
    if not np.array_equal(small, _without(shp, ax)):
        raise ValueError("shape must equal the full shape with the axis removed")


# ------------------------------------------------------------ broadcasting


@_kernel
def _sum_kernel(gf, gshape, lshape, of):
    """Add every element of C-order g (shape gshape) into its broadcast source in of."""
    m, lead = len(gshape), len(gshape) - len(lshape)
    step = np.zeros(m, np.intp)  # flat stride in `of` per g dim (0: summed over)
    s = 1
    for d in range(len(lshape) - 1, -1, -1):
        if lshape[d] != 1:
            if lshape[d] != gshape[lead + d]:
                raise ValueError("unbroadcast: shapes are not broadcast-compatible")
            step[lead + d] = s
        s *= lshape[d]
    if gf.size == 0:
        return
    last = gshape[m - 1]
    idx = np.zeros(m, np.intp)
    off = 0
    for r in range(gf.size // last):
        base = r * last
        if step[m - 1] == 0:
            acc = of[off]
            for j in range(last):
                acc += gf[base + j]
            of[off] = acc
        else:  # (through views: flat offsets, of[off + j] += gf[base + j], took 4x as long)
            _add_into(of[off:off + last], gf[base:base + last])
        d = m - 2  # odometer over the leading dims
        while d >= 0:
            idx[d] += 1
            off += step[d]
            if idx[d] < gshape[d]:
                break
            off -= step[d] * gshape[d]
            idx[d] = 0
            d -= 1


@_kernel
def _add_into(o, g):
    for j in range(o.shape[0]):
        o[j] += g[j]


@_kernel
def _sum_to(gf, gshape, like_shape):
    """Sum flat C-order g down to the (broadcast-compatible) like_shape; flat result."""
    of = np.zeros(np.prod(like_shape), gf.dtype)
    _sum_kernel(gf, gshape, like_shape, of)
    return of


@overload(h.broadcast_like)
def _ov_broadcast_like(g, like):
    if not _arr(like):
        return lambda g, like: g
    if not _arr(g):
        return lambda g, like: np.full(like.shape, g)
    if g.ndim != like.ndim:
        return lambda g, like: np.broadcast_to(g, like.shape).copy()

    def impl(g, like):
        if g.shape == like.shape:
            return g
        return np.broadcast_to(g, like.shape).copy()
    return impl


@overload(h.unbroadcast)
def _ov_unbroadcast(g, like):
    if not _arr(like) or like.ndim == 0:  # a number (a 0-d array is one, as in the twin)
        if _arr(g):
            return lambda g, like: g.sum()
        return lambda g, like: g
    if not _arr(g):
        return lambda g, like: np.full(like.shape, g)
    _need(g.ndim >= like.ndim, f"unbroadcast: g has rank {g.ndim} < like rank {like.ndim}")
    if g.ndim > like.ndim:
        return lambda g, like: _sum_to(g.ravel(), np.array(g.shape),
                                       np.array(like.shape)).reshape(like.shape)

    def impl(g, like):
        if g.shape == like.shape:
            return g
        return _sum_to(g.ravel(), np.array(g.shape), np.array(like.shape)).reshape(like.shape)
    return impl


@overload(h.zero_like)
def _ov_zero_like(x):
    if _arr(x):
        dt = _cot_dt(x)
        return lambda x: np.zeros(x.shape, dt)
    return lambda x: 0.0


@overload(h.fill_like)
def _ov_fill_like(g, x):
    if _arr(x):
        dt = _cot_dt(x)
        return lambda g, x: np.full(x.shape, g, dt)
    return lambda g, x: g


@_kernel
def _expand_kernel(gf, of, pre, n, post):
    if post == 1:  # along the last axis: each value of g fills a contiguous run
        for i in range(pre):
            v = gf[i]
            for j in range(n):
                of[i * n + j] = v
        return
    for i in range(pre):
        for j in range(n):
            ob = (i * n + j) * post
            for k in range(post):
                of[ob + k] = gf[i * post + k]


@overload(h.expand_axis)
def _ov_expand_axis(g, x, axis):
    _need(_arr(x), "expand_axis: x must be an array")
    if not _arr(g):
        _need(x.ndim == 1, "expand_axis: scalar g needs a 1-D x")

        def impl_scalar(g, x, axis):
            _axis(np.array(x.shape), axis)
            return np.full(x.shape, g)
        return impl_scalar
    _need(g.ndim == x.ndim - 1, "expand_axis: g must have rank x.ndim - 1")

    def impl(g, x, axis):
        shp = np.array(x.shape)
        ax, pre, n, post = _axis(shp, axis)
        _check_without(np.array(g.shape), shp, ax)
        of = np.empty(x.size, g.dtype)
        _expand_kernel(g.ravel(), of, pre, n, post)
        return of.reshape(x.shape)
    return impl


@overload(h.expand_view)
def _ov_expand_view(g, x, axis):
    _need(_arr(x), "expand_view: x must be an array")
    if not _arr(g):
        _need(_num(g) and x.ndim == 1, "expand_view: scalar g needs a 1-D x")

        def impl_scalar(g, x, axis):
            _axis(np.array(x.shape), axis)
            return g
        return impl_scalar
    _need(g.ndim == x.ndim - 1, "expand_view: g must have rank x.ndim - 1")

    def impl(g, x, axis):
        shp = np.array(x.shape)
        ax = _axis(shp, axis)[0]
        _check_without(np.array(g.shape), shp, ax)
        return np.expand_dims(g, ax)
    return impl


# ------------------------------------------------------------ forward reductions


@_kernel
def _line_extremum(xf, xb, n, is_max):
    """Max (or min) of the contiguous xf[xb:xb + n]; a NaN wins, as in NumPy."""
    m = xf[xb]
    nan = m != m
    if is_max:  # branch-free selects in the hot loops
        for j in range(1, n):
            v = xf[xb + j]
            m = v if v > m else m
            nan |= v != v
    else:
        for j in range(1, n):
            v = xf[xb + j]
            m = v if v < m else m
            nan |= v != v
    if nan:
        for j in range(n):
            if xf[xb + j] != xf[xb + j]:
                return xf[xb + j]
    return m


@_kernel
def _k_extremum(xf, of, pre, n, post, is_max):
    """Max (or min) along the middle axis; a NaN wins, as in NumPy."""
    if n == 0:
        raise ValueError("zero-size array to a max/min reduction, which has no identity")
    for i in range(pre):
        ob, xb = i * post, i * n * post
        if post == 1:
            of[ob] = _line_extremum(xf, xb, n, is_max)
            continue
        _rows_extremum(xf.reshape((pre, n, post))[i], of.reshape((pre, post))[i], is_max)


@_kernel
def _rows_extremum(x2, o, is_max):
    """o = max (or min) of the rows of x2, a row at a time (vectorizable selects), NaNs
    patched in after. Indexed by axis: flat offsets (xf[xb + j * post + k]) made a max
    along axis 0 of a 1000 x 25 array take 34 us, now 8."""
    n, post = x2.shape
    nan = False
    o[:] = x2[0]
    for j in range(1, n):
        for k in range(post):
            v, c = x2[j, k], o[k]
            o[k] = v if (v > c if is_max else v < c) else c
            nan |= v != v
    if nan:
        for j in range(1, n):
            for k in range(post):
                if x2[j, k] != x2[j, k]:
                    o[k] = x2[j, k]


@_kernel
def _k_max(xf, of, pre, n, post):
    _k_extremum(xf, of, pre, n, post, True)


@_kernel
def _k_min(xf, of, pre, n, post):
    _k_extremum(xf, of, pre, n, post, False)


@_kernel
def _k_mean(xf, of, pre, n, post):
    if n == 0:
        of[:] = np.nan
        return
    for i in range(pre):
        ob, xb = i * post, i * n * post
        if post == 1:  # contiguous line: float64 accumulator (also for float32)
            acc = 0.0
            for j in range(n):
                acc += xf[xb + j]
            of[ob] = acc / n
            continue
        o = of.reshape((pre, post))[i]  # rows at a time, accumulating in the result dtype
        _rows_sum(xf.reshape((pre, n, post))[i], o)
        o /= n


@_kernel
def _k_sum(xf, of, pre, n, post):
    if post == 1:  # contiguous lines: float64 accumulator (also for float32)
        # (tested outside the loop over lines: inside it, with a continue, reduce_sum(x, 1)
        # of a 1000 x 10 array took 5.4 us, now 2.6; the same change made max slower)
        for i in range(pre):
            xb = i * n
            acc = 0.0
            for j in range(n):
                acc += xf[xb + j]
            of[i] = acc
        return
    x3, o2 = xf.reshape((pre, n, post)), of.reshape((pre, post))
    for i in range(pre):
        _rows_sum(x3[i], o2[i])


@_kernel
def _rows_sum(x2, o):
    """o = the sum of the rows of x2, a row at a time in o's dtype. Indexed by axis: flat
    offsets (xf[xb + j * post + k]) made a sum along axis 0 of a 1000 x 25 array take
    17 us, now 4."""
    o[:] = 0
    for j in range(x2.shape[0]):
        for k in range(x2.shape[1]):
            o[k] += x2[j, k]


@_kernel
def _k_sum_exact(xf, of, pre, n, post):
    """Sum along the middle axis accumulating in the result dtype: integer sums (of bools,
    ints) are exact, where _k_sum's float64 accumulator rounds above 2**53."""
    x3, o2 = xf.reshape((pre, n, post)), of.reshape((pre, post))
    for i in range(pre):
        _rows_sum(x3[i], o2[i])


@_kernel
def _k_prod(xf, of, pre, n, post):
    of[:] = 1
    for i in range(pre):
        ob, xb = i * post, i * n * post
        for j in range(n):
            xj = xb + j * post
            for k in range(post):
                of[ob + k] *= xf[xj + k]


def _register_reduction(twin, float_kernel, out_dt, scalar_type, int_kernel=None):
    """Overload ``twin(x, axis=None)``; a full reduction is the kernel with pre = post = 1.
    ``int_kernel``, if given, reduces integer and boolean arrays instead of ``float_kernel``."""
    name = twin.__name__

    @overload(twin)
    def _ov(x, axis=None):
        if not _arr(x):
            _need(_num(x) and _none(axis), f"{name}: a scalar x needs axis=None")
            target = scalar_type(types.unliteral(x))
            return lambda x, axis=None: target(x)
        dt = out_dt(x)
        kernel = int_kernel if int_kernel is not None and _np_dt(x).kind in "biu" else float_kernel
        if _none(axis) or x.ndim == 1:
            def impl_full(x, axis=None):
                if axis is not None:
                    _axis(np.array(x.shape), axis)
                of = np.empty(1, dt)
                kernel(x.ravel(), of, 1, x.size, 1)
                return of[0]
            return impl_full
        _need(isinstance(axis, types.Integer), f"{name}: axis must be None or an int")
        ndo = x.ndim - 1

        def impl(x, axis=None):
            shp = np.array(x.shape)
            ax, pre, n, post = _axis(shp, axis)
            of = np.empty(pre * post, dt)
            kernel(x.ravel(), of, pre, n, post)
            return of.reshape(to_fixed_tuple(_without(shp, ax), ndo))
        return impl


def _prod_dt(t):
    dt = _np_dt(t)
    return dt if dt.kind in "fc" else np.dtype(np.uint64 if dt.kind == "u" else np.int64)


def _float_or(t, other):
    return t if isinstance(t, types.Float) else other


_register_reduction(h.reduce_max, _k_max, _np_dt, lambda t: t)
_register_reduction(h.reduce_min, _k_min, _np_dt, lambda t: t)
# Sums and products of bools and ints are int64 (uint64 for unsigned ints), as in NumPy: a
# sum in the array's own dtype would give True for a count of bools, and wrap around in uint8.
_int_result = lambda t: _float_or(t, types.uint64 if isinstance(t, types.Integer)  # noqa: E731
                                  and not t.signed else types.int64)
_register_reduction(h.reduce_sum, _k_sum, _prod_dt, _int_result, int_kernel=_k_sum_exact)
_register_reduction(h.reduce_mean, _k_mean, _grad_dt, lambda t: _float_or(t, types.float64))
_register_reduction(h.reduce_prod, _k_prod, _prod_dt, _int_result)


# ------------------------------------------------------ reduction gradients


@_kernel
def _extremum_lines(x3, o2, g2, r3):
    """Split g2[i, k] equally over the entries of line x3[i, :, k] equal to o2[i, k], into
    r3 (zeros). Indexed by axis, not by flat offsets: on 1000 x 25 lines of 25, 9 us where
    the flat form (xf[i * n + j]) took 45."""
    pre, n, post = x3.shape
    if post == 1:
        for i in range(pre):
            o = o2[i, 0]
            count = 0
            for j in range(n):
                count += x3[i, j, 0] == o
            if count:
                share = g2[i, 0] / count
                for j in range(n):
                    if x3[i, j, 0] == o:
                        r3[i, j, 0] = share
        return
    counts = np.empty(post, np.int64)  # lines side by side: rows at a time
    for i in range(pre):
        counts[:] = 0
        for j in range(n):
            for k in range(post):
                counts[k] += x3[i, j, k] == o2[i, k]
        for j in range(n):
            for k in range(post):
                if x3[i, j, k] == o2[i, k]:  # (then counts[k] > 0)
                    r3[i, j, k] = g2[i, k] / counts[k]


@overload(h.extremum_grad)
def _ov_extremum_grad(x, out, g):
    if not _arr(x):
        return lambda x, out, g: g
    _need(_num(out) and _num(g), "extremum_grad: out and g must be scalars")
    dt = _cot_dt(x)

    def impl(x, out, g):
        rf = np.zeros(x.size, dt)
        line = (1, x.size, 1)
        _extremum_lines(x.ravel().reshape(line), np.full((1, 1), out), np.full((1, 1), g), rf.reshape(line))
        return rf.reshape(x.shape)
    return impl


@overload(h.extremum_axis_grad)
def _ov_extremum_axis_grad(x, out, g, axis):
    _need(_arr(x), "extremum_axis_grad: x must be an array")
    if x.ndim == 1:
        _need(_num(out) and _num(g), "extremum_axis_grad: out and g must be scalars for 1-D x")

        def impl1(x, out, g, axis):
            _axis(np.array(x.shape), axis)
            return h.extremum_grad(x, out, g)
        return impl1
    _need(_rank(out) == x.ndim - 1 and _rank(g) == x.ndim - 1,
          "extremum_axis_grad: out and g must have rank x.ndim - 1")
    dt = _cot_dt(x)

    def impl(x, out, g, axis):
        shp = np.array(x.shape)
        ax, pre, n, post = _axis(shp, axis)
        _check_without(np.array(out.shape), shp, ax)
        _check_without(np.array(g.shape), shp, ax)
        rf = np.zeros(x.size, dt)
        lines = (pre, n, post)
        _extremum_lines(x.ravel().reshape(lines), out.ravel().reshape((pre, post)),
                        g.ravel().reshape((pre, post)), rf.reshape(lines))
        return rf.reshape(x.shape)
    return impl


@_kernel
def _prod_line(xf, rf, base, n, stride, gval, one):
    """rf on one line = (exclusive prefix product) * (gval * exclusive suffix product)."""
    acc = one
    for j in range(n):
        p = base + j * stride
        rf[p] = acc
        acc *= xf[p]
    acc = gval
    for j in range(n - 1, -1, -1):
        p = base + j * stride
        rf[p] *= acc
        acc *= xf[p]


@_kernel
def _prod_lines(xf, gf, rf, pre, n, post, one):
    for i in range(pre):
        for k in range(post):
            _prod_line(xf, rf, i * n * post + k, n, post, gf[i * post + k], one)


@overload(h.prod_grad)
def _ov_prod_grad(x, g):
    if not _arr(x):
        return lambda x, g: g
    _need(_num(g), "prod_grad: g must be a scalar")
    dt = _cot_dt(x)
    one = dt.type(1)

    def impl(x, g):
        rf = np.empty(x.size, dt)
        _prod_line(x.ravel(), rf, 0, x.size, 1, _astype(g, dt), one)
        return rf.reshape(x.shape)
    return impl


@overload(h.prod_axis_grad)
def _ov_prod_axis_grad(x, g, axis):
    _need(_arr(x), "prod_axis_grad: x must be an array")
    if x.ndim == 1:
        _need(_num(g), "prod_axis_grad: g must be a scalar for 1-D x")

        def impl1(x, g, axis):
            _axis(np.array(x.shape), axis)
            return h.prod_grad(x, g)
        return impl1
    _need(_rank(g) == x.ndim - 1, "prod_axis_grad: g must have rank x.ndim - 1")
    dt = _cot_dt(x)
    one = dt.type(1)

    def impl(x, g, axis):
        shp = np.array(x.shape)
        ax, pre, n, post = _axis(shp, axis)
        _check_without(np.array(g.shape), shp, ax)
        rf = np.empty(x.size, dt)
        _prod_lines(x.ravel(), _astype(g.ravel(), dt), rf, pre, n, post, one)
        return rf.reshape(x.shape)
    return impl


# ------------------------------------------------------------ linear algebra


def _matmul_dt(g, a, b):
    ranks = (_rank(a), _rank(b))
    _need(ranks in ((1, 1), (2, 1), (1, 2), (2, 2)),
          f"matmul gradient: unsupported operand ranks {ranks}; expected 1 or 2 for each")
    return ranks, _grad_dt(g, a, b)


@overload(h.matmul_grad_a)
def _ov_matmul_grad_a(g, a, b):
    ranks, dt = _matmul_dt(g, a, b)
    if ranks == (1, 1):
        return lambda g, a, b: _astype(g, dt) * _astype(b, dt)
    if ranks == (2, 1):
        return lambda g, a, b: np.outer(_astype(g, dt), _astype(b, dt))
    if ranks == (1, 2):
        return lambda g, a, b: np.dot(_astype(b, dt), _astype(g, dt))
    return lambda g, a, b: np.dot(_astype(g, dt), _astype(b, dt).T)


def _mixed_product(a, b):
    """The common float dtype of a matrix product of arrays of two dtypes, a float and
    another (float64 data and float32 weights, float data and an int matrix), or None."""
    if not (_arr(a) and _arr(b) and a.ndim in (1, 2) and b.ndim in (1, 2) and a.dtype != b.dtype):
        return None
    kinds = {_np_dt(a).kind, _np_dt(b).kind}
    if "f" not in kinds or not kinds <= {"f", "i", "u", "b"}:
        return None
    return np.result_type(_np_dt(a), _np_dt(b))


@overload(operator.matmul)
def _ov_mixed_matmul(a, b):
    """x @ w of two dtypes: NumPy promotes, Numba's product takes one dtype only."""
    dt = _mixed_product(a, b)
    if dt is not None:
        return lambda a, b: _astype(a, dt) @ _astype(b, dt)


@overload(np.dot)
def _ov_mixed_dot(a, b):
    dt = _mixed_product(a, b)
    if dt is not None:
        return lambda a, b: np.dot(_astype(a, dt), _astype(b, dt))


@overload(h.dot_promoted)
def _ov_dot_promoted(a, b):
    _need(_rank(a) in (1, 2) and _rank(b) in (1, 2), "dot_promoted: expected 1-D or 2-D operands")
    dt = _grad_dt(a, b)
    return lambda a, b: np.dot(_astype(a, dt), _astype(b, dt))


@overload(h.matmul_grad_b)
def _ov_matmul_grad_b(g, a, b):
    ranks, dt = _matmul_dt(g, a, b)
    if ranks == (1, 1):
        return lambda g, a, b: _astype(g, dt) * _astype(a, dt)
    if ranks == (1, 2):
        return lambda g, a, b: np.outer(_astype(a, dt), _astype(g, dt))
    return lambda g, a, b: np.dot(_astype(a, dt).T, _astype(g, dt))


def _outer_dt(g, a, b):
    _need((_rank(g), _rank(a), _rank(b)) == (2, 1, 1),
          "outer gradient: expected a 2-D g and 1-D a, b")
    return _grad_dt(g, a, b)


@overload(h.outer_grad_a)
def _ov_outer_grad_a(g, a, b):
    dt = _outer_dt(g, a, b)
    return lambda g, a, b: np.dot(_astype(g, dt), _astype(b, dt))


@overload(h.outer_grad_b)
def _ov_outer_grad_b(g, a, b):
    dt = _outer_dt(g, a, b)
    return lambda g, a, b: np.dot(_astype(a, dt), _astype(g, dt))


# ------------------------------------------------------------ shape plumbing


@overload(h.reshape_like)
def _ov_reshape_like(g, x):
    if not _arr(x):
        if not _arr(g):
            return lambda g, x: g

        def impl_item(g, x):
            if g.size != 1:
                raise ValueError("reshape_like: g must have exactly one element")
            return g.flat[0]
        return impl_item
    if not _arr(g):
        return lambda g, x: np.full(x.shape, g)
    return lambda g, x: np.ascontiguousarray(g).reshape(x.shape)


@_kernel
def _copy_block(gf, of, pre, big, start, n, post):
    """of (pre, n, post) = gf viewed as (pre, big, post), at [:, start:start + n, :]."""
    m = n * post
    for i in range(pre):
        src = (i * big + start) * post
        for q in range(m):
            of[i * m + q] = gf[src + q]


@overload(h.concat_part)
def _ov_concat_part(g, offset, like, axis):
    _need(_arr(g) and _arr(like) and g.ndim == like.ndim,
          "concat_part: g and like must be arrays of the same rank")

    def impl(g, offset, like, axis):
        shp, lshp = np.array(g.shape), np.array(like.shape)
        ax, pre, big, post = _axis(shp, axis)
        n = lshp[ax]
        if not np.array_equal(_without(shp, ax), _without(lshp, ax)):
            raise ValueError("concat_part: g does not match like outside the axis")
        if offset < 0 or offset + n > big:
            raise ValueError("concat_part: slice out of range")
        of = np.empty(like.size, g.dtype)
        _copy_block(g.ravel(), of, pre, big, offset, n, post)
        return of.reshape(like.shape)
    return impl


@overload(h.stack_part)
def _ov_stack_part(g, index, like, axis):
    _need(_arr(g), "stack_part: g must be an array")
    if not _arr(like):
        _need(g.ndim == 1, "stack_part: scalar parts need a 1-D g")

        def impl_scalar(g, index, like, axis):
            if index < -g.size or index >= g.size:
                raise IndexError("stack_part: index out of range")
            return g[index]
        return impl_scalar
    _need(g.ndim == like.ndim + 1, "stack_part: g must have rank like.ndim + 1")

    def impl(g, index, like, axis):
        shp = np.array(g.shape)
        ax, pre, big, post = _axis(shp, axis)
        _check_without(np.array(like.shape), shp, ax)
        if index < -big or index >= big:
            raise IndexError("stack_part: index out of range")
        of = np.empty(like.size, g.dtype)
        _copy_block(g.ravel(), of, pre, big, index + big if index < 0 else index, 1, post)
        return of.reshape(like.shape)
    return impl


# ------------------------------------------------------------ elementwise


@_kernel
def _sign_kernel(xf, of):
    for i in range(xf.size):
        of[i] = 1 if xf[i] >= 0 else -1


@overload(float)
def _ov_float_of_bool(x):
    """float(True) is 1.0 in Python, and float of a 0-d array its number; Numba has float()
    for numbers only."""
    if isinstance(x, types.Boolean):
        return lambda x: 1.0 if x else 0.0
    if _arr(x) and x.ndim == 0:
        return lambda x: float(x[()])


def _fused_operand(t):
    return _arr(t) and t.ndim == 1 and t.dtype == types.float64


@overload(h.loop_length)
def _ov_loop_length(a):
    if _fused_operand(a):
        return lambda a: a.shape[0]
    return lambda a: -1


@overload(h.apart)
def _ov_apart(a, b):
    if not (_fused_operand(a) and _fused_operand(b)):
        return lambda a, b: False

    def impl(a, b):
        if a.shape[0] == 0 or b.shape[0] == 0:
            return True
        a0, b0 = a.ctypes.data, b.ctypes.data
        if a0 == b0 and a.strides[0] == b.strides[0]:
            return True
        a1, b1 = a0 + (a.shape[0] - 1) * a.strides[0], b0 + (b.shape[0] - 1) * b.strides[0]
        return max(a0, a1) + 8 <= min(b0, b1) or max(b0, b1) + 8 <= min(a0, a1)
    return impl


@overload(h.elements)
def _ov_elements(a):
    if _fused_operand(a):
        return lambda a: a
    return lambda a: np.empty(0, np.float64)


@intrinsic
def _first_address(typingctx, a):
    """The address of a contiguous array's first element."""
    def codegen(context, builder, sig, args):
        return context.make_array(a)(context, builder, args[0]).data
    return types.CPointer(a.dtype)(a), codegen


@intrinsic
def _load(typingctx, p, k):
    """``p[k]``, the k-th element after the address p (no bounds: a fused loop's index)."""
    def codegen(context, builder, sig, args):
        return builder.load(builder.gep(args[0], [args[1]], inbounds=True))
    return p.dtype(p, k), codegen


@intrinsic
def _store(typingctx, p, k, v):
    """``p[k] = v``."""
    def codegen(context, builder, sig, args):
        builder.store(args[2], builder.gep(args[0], [args[1]], inbounds=True))
        return context.get_dummy_value()
    return types.void(p, k, p.dtype), codegen


@overload(h.pointer)
def _ov_pointer(a):
    if _fused_operand(a) and a.layout == "C":
        return lambda a: _first_address(a)
    return lambda a: h.elements(a)  # (an array: item and set_item index it)


@intrinsic
def _use(typingctx, *arrays):
    """Nothing, compiled: its arguments' variables are live until the call."""
    def codegen(context, builder, sig, args):
        return context.get_dummy_value()
    return types.none(types.StarArgTuple.from_types(arrays)), codegen


@overload(h.keep_alive)
def _ov_keep_alive(*arrays):
    return lambda *arrays: _use(*arrays)


# A fused loop's element reads and writes, at indices its test proved in range: without the
# bounds check (numba_jit.jit compiles with boundscheck=True), which made gmm's matrix loops
# slower than the statements they stand for (x - mu[j], 1000 x 10: 6.3 us checked, 2.5 us
# here, 4.0 us as NumPy broadcasting). LLVM inlines them.
@overload(h.item, jit_options={"boundscheck": False})
def _ov_item(a, index):
    if isinstance(a, types.CPointer):  # (pointer: the loop's own index)
        return lambda a, index: _load(a, index)
    return lambda a, index: a[index]


@overload(h.set_item, jit_options={"boundscheck": False})
def _ov_set_item(a, index, value):
    if isinstance(a, types.CPointer):
        return lambda a, index, value: _store(a, index, value)

    def impl(a, index, value):
        a[index] = value
    return impl


# Inlined into the caller (Numba IR): lstm's gradient is 3% faster than with a call (its
# time over the hand-written adjoint's, interleaved: 1.38 against 1.43). The branch is in
# room_for, called: Numba's inliner warns of the names a branch of an inlined function
# binds (NumbaIRAssumptionWarning), and a user would see the warning.
@overload(h.tape_rows, inline="always")
def _ov_tape_rows(arena, used, m, n):
    return h.cut_rows  # NumPy that Numba compiles as it is


@overload(h.room_for)
def _ov_room_for(arena, used, size):
    return h.room_for


@overload(h.copy_of)
def _ov_copy_of(x):
    if _arr(x):
        return lambda x: x.copy()
    return lambda x: x


def _ints(t):
    return isinstance(t, (types.Integer, types.Boolean)) or _arr(t) and isinstance(t.dtype, (types.Integer, types.Boolean))


@overload(h.power)
def _ov_power(x, y):
    if not (_ints(x) and _ints(y)):
        return lambda x, y: x ** y
    if _arr(y):
        def impl(x, y):
            if np.any(y < 0):
                raise ValueError(h.NEGATIVE_INT_POWER)
            return x ** y
        return impl

    def impl(x, y):
        if y < 0:
            raise ValueError(h.NEGATIVE_INT_POWER)
        return x ** y
    return impl


@overload(h.select)
def _ov_select(c, a, b):
    if not (_arr(c) or _arr(a) or _arr(b)):
        return lambda c, a, b: a if c else b
    return lambda c, a, b: np.where(c, a, b)


@overload(h.sign_nonneg)
def _ov_sign_nonneg(x):
    if not _arr(x):
        return lambda x: 1.0 if x >= 0 else -1.0
    dt = _grad_dt(x)

    def impl(x):
        of = np.empty(x.size, dt)
        _sign_kernel(x.ravel(), of)
        return of.reshape(x.shape)
    return impl


def _weak_dt(bound, x):
    """Dtype a scalar bound takes: x's when its kind is not higher (see helpers.clip)."""
    order = "biufc"
    bdt, xdt = _np_dt(bound), _np_dt(x)
    if not _arr(bound) and bdt.kind in order and xdt.kind in order \
            and order.index(bdt.kind) <= order.index(xdt.kind):
        return xdt
    return bdt


@_kernel
def _clip1(v, lo, hi):
    r = v
    if r < lo or lo != lo:  # lo != lo: a NaN bound propagates, as in np.maximum
        r = lo
    if r > hi or hi != hi:
        r = hi
    return r


@_kernel
def _clip_kernel(xf, lo, hi, of):
    for i in range(xf.size):
        of[i] = _clip1(xf[i], lo, hi)


@overload(h.clip)
def _ov_clip(x, lo, hi):
    ldt, hdt = _weak_dt(lo, x), _weak_dt(hi, x)
    if _arr(lo) or _arr(hi):  # broadcasting bounds: plain ufuncs
        return lambda x, lo, hi: np.minimum(np.maximum(x, _astype(lo, ldt)), _astype(hi, hdt))
    if not _arr(x):
        return lambda x, lo, hi: _clip1(x, _astype(lo, ldt), _astype(hi, hdt))
    dt = np.result_type(_np_dt(x), ldt, hdt)

    def impl(x, lo, hi):
        of = np.empty(x.size, dt)
        _clip_kernel(x.ravel(), _astype(lo, ldt), _astype(hi, hdt), of)
        return of.reshape(x.shape)
    return impl


@_kernel
def _weights_kernel(xf, yf, of):
    """Max weights of x against y; a 1-element xf or yf is broadcast."""
    sx, sy = xf.size > 1, yf.size > 1
    for i in range(of.size):
        u, v = xf[i * sx], yf[i * sy]
        of[i] = 1 if u > v else (0.5 if u == v else 0)


@overload(h.maximum_grad_weight)
def _ov_maximum_grad_weight(x, y):
    if not (_arr(x) or _arr(y)):
        return lambda x, y: 1.0 if x > y else (0.5 if x == y else 0.0)
    dt = np.result_type(*(_np_dt(t) for t in (x, y) if _arr(t)))
    dt = dt if dt.kind == "f" else np.dtype(np.float64)
    if not _arr(y):  # a scalar operand takes the array's dtype
        def impl_xs(x, y):
            of = np.empty(x.size, dt)
            _weights_kernel(x.ravel(), np.full(1, _astype(y, dt)), of)
            return of.reshape(x.shape)
        return impl_xs
    if not _arr(x):
        def impl_sy(x, y):
            of = np.empty(y.size, dt)
            _weights_kernel(np.full(1, _astype(x, dt)), y.ravel(), of)
            return of.reshape(y.shape)
        return impl_sy
    half = dt.type(0.5)

    def impl_bcast(x, y):  # 0.5 * (x > y) + 0.5 * (x >= y) is 1, 0.5 (tie) or 0
        return (x > y) * half + (x >= y) * half
    if x.ndim != y.ndim:
        return impl_bcast

    def impl(x, y):
        if x.shape == y.shape:
            of = np.empty(x.size, dt)
            _weights_kernel(x.ravel(), y.ravel(), of)
            return of.reshape(x.shape)
        return (x > y) * half + (x >= y) * half
    return impl


@overload(h.minimum_grad_weight)
def _ov_minimum_grad_weight(x, y):
    return lambda x, y: h.maximum_grad_weight(y, x)


# ------------------------------------------------------------ custom rules

def _raising(msg, like):
    """An implementation that raises ``msg`` at run time but types like a cotangent of
    ``like`` (an implementation that only raises would type as None at its callers)."""
    if _arr(like):
        def impl(result, like, rule, k=0, n=1):
            if like.size >= 0:  # always: not foldable, so the return below keeps its type
                raise ValueError(msg)
            return np.zeros(like.shape)
        return impl

    def scalar(result, like, rule, k=0, n=1):
        if like == like or like != like:
            raise ValueError(msg)
        return 0.0 * like
    return scalar


@overload(h.cotangent, prefer_literal=True)
def _ov_cotangent(result, like, rule, k=0, n=1):
    name = getattr(rule, "literal_value", "a custom function")
    kk = getattr(k, "literal_value", 0) if not _none(k) else 0
    nn = getattr(n, "literal_value", 1) if not _none(n) else 1
    if isinstance(result, types.BaseTuple):
        if len(result) != nn:
            return _raising(f"the custom rule of {name} returned {len(result)} cotangents for "
                            f"{nn} input{'s' * (nn != 1)}", like)
        value = result[kk]
    elif nn != 1:
        return _raising(f"the custom rule of {name} must return a tuple of {nn} cotangents, "
                        "one per input", like)
    else:
        value = result
    shape_msg = (f"the custom rule of {name} returned a cotangent whose shape is not its input's "
                 f"(input {kk}): each cotangent must have its input's shape")
    if _arr(like) != _arr(value) or (_arr(like) and like.ndim != value.ndim):
        return _raising(shape_msg, like)
    tupled = isinstance(result, types.BaseTuple)
    if _arr(like) and tupled:
        def tuple_array(result, like, rule, k=0, n=1):
            got = result[kk]
            if got.shape != like.shape:
                raise ValueError(shape_msg)
            return got
        return tuple_array
    if _arr(like):
        def array(result, like, rule, k=0, n=1):
            if result.shape != like.shape:
                raise ValueError(shape_msg)
            return result
        return array
    if tupled:
        return lambda result, like, rule, k=0, n=1: result[kk]
    return lambda result, like, rule, k=0, n=1: result


# ------------------------------------------------------------ NumPy's own loops

_LOOP_UFUNCS = tuple(getattr(np, name) for name in h.NUMPY_LOOPS)


def _run_numpy_loop(which, x, out):
    """Called in object mode. Compiled code warns of nothing (exp(1000.0) is inf, log(-1.0)
    nan, silently), and NumPy's loop, in its place, must not either."""
    with np.errstate(all="ignore"):
        _LOOP_UFUNCS[which](x, out=out)


@njit(cache=int(config.OPT) == 3, error_model="numpy")  # as _kernel, but holds the GIL: object mode takes it
def _numpy_loop(which, x, out):
    """out = the ufunc ``which`` of x (1-D, contiguous), by NumPy's loop. One object-mode
    block, compiled once per dtype and cached: a generated function that calls it compiles
    none of its own (each cost about 0.5 s of compile time and 40 ms at its first call)."""
    with objmode():
        _run_numpy_loop(which, x, out)


def _numpy_loop_overload(which, name, smallest):
    ufunc = _LOOP_UFUNCS[which]

    @overload(getattr(h, f"numpy_{name}"))
    def _impl(x):
        if not (_arr(x) and x.ndim > 0 and isinstance(x.dtype, types.Float)):
            return lambda x: ufunc(x)

        def impl(x):
            if x.size < smallest:
                return ufunc(x)
            out = np.empty(x.size, x.dtype)
            _numpy_loop(which, np.ascontiguousarray(x).reshape(x.size), out)
            return out.reshape(x.shape)
        return impl


for _which, (_name, _smallest) in enumerate(h.NUMPY_LOOPS.items()):
    _numpy_loop_overload(_which, _name, _smallest)


# ------------------------------------------------------------ what Numba gets wrong

@overload(h.norm_of)
def _ov_norm_of(x):
    if _arr(x):
        return lambda x: np.linalg.norm(np.ascontiguousarray(x))
    if _num(x):
        return lambda x: abs(x) * 1.0  # NumPy's norm of a number; Numba's takes arrays only


@overload(h.reshape_of)
def _ov_reshape_of(x, shape):
    if _arr(x):
        return lambda x, shape: np.ascontiguousarray(x).reshape(shape)
