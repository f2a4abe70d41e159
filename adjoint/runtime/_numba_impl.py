"""Numba overloads (nopython) of the NumPy twins in ``adjoint.runtime.helpers``.

Imported for its side effect by ``helpers``. Implementations are chosen from
the argument types at compile time; ops along a runtime ``axis`` view the
array as (pre, n, post) (copying to C order first when it is not C-contiguous).
"""

import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload, register_jitable
from numba.np.numpy_support import as_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from . import helpers as h

# ------------------------------------------------------------ typing helpers


def _arr(t):
    return isinstance(t, types.Array)


def _num(t):
    return isinstance(t, (types.Number, types.Boolean))


def _none(t):
    return t is None or isinstance(t, (types.NoneType, types.Omitted))


def _int(t):
    return isinstance(t, types.Integer)


def _np_dt(t):
    return as_dtype(types.unliteral(t.dtype if _arr(t) else t))


def _grad_dt(*ts):
    dt = np.result_type(*(_np_dt(t) for t in ts))
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _prod_dt(t):
    dt = _np_dt(t)
    if dt.kind in "fc":
        return dt
    return np.dtype(np.uint64) if dt.kind == "u" else np.dtype(np.int64)


def _rank(t):
    return t.ndim if _arr(t) else 0


def _need(cond, msg):
    if not cond:
        raise TypingError(msg)


# ------------------------------------------------------------ jitted utilities


def _contig(x):
    """x itself if C-contiguous (by type), else a C-contiguous copy."""


@overload(_contig)
def _ov_contig(x):
    if x.layout == "C":
        return lambda x: x
    return lambda x: np.ascontiguousarray(x)


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


@register_jitable
def _norm_axis(axis, nd):
    if axis < -nd or axis >= nd:
        raise ValueError("axis is out of bounds for array dimension")
    return axis + nd if axis < 0 else axis


@register_jitable
def _split(shape, ax):
    pre = 1
    post = 1
    for i in range(len(shape)):
        if i < ax:
            pre *= shape[i]
        elif i > ax:
            post *= shape[i]
    return pre, shape[ax], post


@register_jitable
def _removed_arr(shape, ax):
    out = np.empty(len(shape) - 1, np.intp)
    for i in range(len(shape) - 1):
        out[i] = shape[i] if i < ax else shape[i + 1]
    return out


@register_jitable
def _check_removed(small, big, ax):
    for i in range(len(small)):
        if small[i] != big[i if i < ax else i + 1]:
            raise ValueError("cotangent shape must be x.shape with the axis removed")


# ------------------------------------------------------------ broadcasting


@register_jitable
def _sum_to(g, shape):
    """Sum C-contiguous g into a new array of ``shape`` (broadcast-compatible)."""
    out = np.zeros(shape, g.dtype)
    m = g.ndim
    lead = m - out.ndim
    step = np.zeros(m, np.intp)  # flat stride in out per g dim (0: summed)
    s = 1
    for d in range(out.ndim - 1, -1, -1):
        n = out.shape[d]
        if n != 1:
            if n != g.shape[lead + d]:
                raise ValueError("unbroadcast: shapes are not broadcast-compatible")
            step[lead + d] = s
        s *= n
    if g.size == 0:
        return out
    gf = g.reshape(g.size)
    of = out.reshape(out.size)
    last = g.shape[m - 1]
    idx = np.zeros(m, np.intp)
    off = 0
    for r in range(g.size // last):
        base = r * last
        if step[m - 1] == 0:
            acc = of[off]
            for j in range(last):
                acc += gf[base + j]
            of[off] = acc
        else:
            for j in range(last):
                of[off + j] += gf[base + j]
        d = m - 2  # odometer over the leading dims
        while d >= 0:
            idx[d] += 1
            off += step[d]
            if idx[d] < g.shape[d]:
                break
            off -= step[d] * g.shape[d]
            idx[d] = 0
            d -= 1
    return out


@overload(h.unbroadcast)
def _ov_unbroadcast(g, like):
    if not _arr(like):
        if _arr(g):
            return lambda g, like: g.sum()
        return lambda g, like: g
    if not _arr(g):
        return lambda g, like: np.full(like.shape, g)
    _need(g.ndim >= like.ndim, f"unbroadcast: g has rank {g.ndim} < like rank {like.ndim}")
    if g.ndim == like.ndim:
        def impl(g, like):
            if g.shape == like.shape:
                return g
            return _sum_to(_contig(g), like.shape)
        return impl
    return lambda g, like: _sum_to(_contig(g), like.shape)


@overload(h.zero_like)
def _ov_zero_like(x):
    if _arr(x):
        dt = _grad_dt(x)
        return lambda x: np.zeros(x.shape, dt)
    return lambda x: 0.0


@overload(h.fill_like)
def _ov_fill_like(g, x):
    if _arr(x):
        dt = _grad_dt(x)
        return lambda g, x: np.full(x.shape, g, dt)
    return lambda g, x: g


@overload(h.expand_axis)
def _ov_expand_axis(g, x, axis):
    _need(_arr(x), "expand_axis: x must be an array")
    nd = x.ndim
    if not _arr(g):
        _need(nd == 1, "expand_axis: scalar g needs a 1-D x")

        def impl_scalar(g, x, axis):
            _norm_axis(axis, 1)
            return np.full(x.shape, g)
        return impl_scalar
    _need(g.ndim == nd - 1, "expand_axis: g must have rank x.ndim - 1")

    def impl(g, x, axis):
        ax = _norm_axis(axis, nd)
        _check_removed(g.shape, x.shape, ax)
        pre, n, post = _split(x.shape, ax)
        g2 = _contig(g).reshape((pre, post))
        out = np.empty(x.shape, g.dtype)
        o3 = out.reshape((pre, n, post))
        for i in range(pre):
            for j in range(n):
                for k in range(post):
                    o3[i, j, k] = g2[i, k]
        return out
    return impl


# ------------------------------------------------------------ forward reductions


@register_jitable
def _k_max(x3, out):
    pre, n, post = x3.shape
    if n == 0:
        raise ValueError("zero-size array to reduction operation maximum which has no identity")
    for i in range(pre):
        for k in range(post):
            out[i, k] = x3[i, 0, k]
        for j in range(1, n):
            for k in range(post):
                v = x3[i, j, k]
                if v > out[i, k] or v != v:  # v != v: propagate NaN like NumPy
                    out[i, k] = v


@register_jitable
def _k_min(x3, out):
    pre, n, post = x3.shape
    if n == 0:
        raise ValueError("zero-size array to reduction operation minimum which has no identity")
    for i in range(pre):
        for k in range(post):
            out[i, k] = x3[i, 0, k]
        for j in range(1, n):
            for k in range(post):
                v = x3[i, j, k]
                if v < out[i, k] or v != v:
                    out[i, k] = v


@register_jitable
def _k_mean(x3, out):
    pre, n, post = x3.shape
    out[:] = 0
    for i in range(pre):
        for j in range(n):
            for k in range(post):
                out[i, k] += x3[i, j, k]
    if n == 0:
        out[:] = np.nan
    else:
        out /= n


@register_jitable
def _k_prod(x3, out):
    pre, n, post = x3.shape
    out[:] = 1
    for i in range(pre):
        for j in range(n):
            for k in range(post):
                out[i, k] *= x3[i, j, k]


@register_jitable
def _full_max(x):
    return np.max(x)


@register_jitable
def _full_min(x):
    return np.min(x)


@register_jitable
def _full_mean(x):
    return np.mean(x)


@register_jitable
def _full_prod(x):
    return np.prod(x)


def _register_reduction(twin, full, kernel, out_dt, scalar_cast):
    @overload(twin)
    def _ov(x, axis=None):
        if _none(axis):
            if _arr(x):
                return lambda x, axis=None: full(x)
            _need(_num(x), f"{twin.__name__}: x must be a number or an array")
            target = scalar_cast(x)
            return lambda x, axis=None: target(x)
        _need(_arr(x) and _int(axis), f"{twin.__name__}: axis must be None or an int "
                                      "and x an array")
        dt = out_dt(x)
        nd = x.ndim
        ndo = nd - 1
        if nd == 1:
            def impl1(x, axis=None):
                _norm_axis(axis, 1)
                return full(x)
            return impl1

        def impl(x, axis=None):
            ax = _norm_axis(axis, nd)
            pre, n, post = _split(x.shape, ax)
            out = np.empty((pre, post), dt)
            kernel(_contig(x).reshape((pre, n, post)), out)
            return out.reshape(to_fixed_tuple(_removed_arr(x.shape, ax), ndo))
        return impl


def _same(t):
    return types.unliteral(t)


_register_reduction(h.reduce_max, _full_max, _k_max, _np_dt, _same)
_register_reduction(h.reduce_min, _full_min, _k_min, _np_dt, _same)
_register_reduction(h.reduce_mean, _full_mean, _k_mean, _grad_dt,
                    lambda t: types.unliteral(t) if isinstance(t, types.Float) else types.float64)
_register_reduction(h.reduce_prod, _full_prod, _k_prod, _prod_dt,
                    lambda t: types.unliteral(t) if isinstance(t, types.Float) else
                    (types.uint64 if isinstance(t, types.Integer) and not t.signed
                     else types.int64))


# ------------------------------------------------------ reduction gradients


@register_jitable
def _extremum_fill(x, out, g, res):
    rf = res.reshape(res.size)
    count = 0
    for i, v in enumerate(x.flat):
        if v == out:
            count += 1
            rf[i] = 1
    if count:
        share = g / count
        for i in range(rf.size):
            if rf[i] != 0:
                rf[i] = share
    return res


@overload(h.extremum_grad)
def _ov_extremum_grad(x, out, g):
    if not _arr(x):
        return lambda x, out, g: g
    _need(_num(out) and _num(g), "extremum_grad: out and g must be scalars")
    dt = _grad_dt(x)
    return lambda x, out, g: _extremum_fill(x, out, g, np.zeros(x.shape, dt))


@overload(h.extremum_axis_grad)
def _ov_extremum_axis_grad(x, out, g, axis):
    _need(_arr(x), "extremum_axis_grad: x must be an array")
    nd = x.ndim
    dt = _grad_dt(x)
    if nd == 1:
        _need(_num(out) and _num(g), "extremum_axis_grad: out and g must be scalars for 1-D x")

        def impl1(x, out, g, axis):
            _norm_axis(axis, 1)
            return _extremum_fill(x, out, g, np.zeros(x.shape, dt))
        return impl1
    _need(_arr(out) and _arr(g) and out.ndim == nd - 1 and g.ndim == nd - 1,
          "extremum_axis_grad: out and g must have rank x.ndim - 1")

    def impl(x, out, g, axis):
        ax = _norm_axis(axis, nd)
        _check_removed(out.shape, x.shape, ax)
        _check_removed(g.shape, x.shape, ax)
        pre, n, post = _split(x.shape, ax)
        x3 = _contig(x).reshape((pre, n, post))
        o2 = _contig(out).reshape((pre, post))
        g2 = _contig(g).reshape((pre, post))
        res = np.zeros(x.shape, dt)
        r3 = res.reshape((pre, n, post))
        for i in range(pre):
            for k in range(post):
                o = o2[i, k]
                count = 0
                for j in range(n):
                    if x3[i, j, k] == o:
                        count += 1
                if count:
                    share = g2[i, k] / count
                    for j in range(n):
                        if x3[i, j, k] == o:
                            r3[i, j, k] = share
        return res
    return impl


@register_jitable
def _prod_line(x3, res, i, k, gval, one):
    """res[i, :, k] = (exclusive prefix product) * (gval * exclusive suffix product)."""
    n = x3.shape[1]
    acc = one
    for j in range(n):
        res[i, j, k] = acc
        acc *= x3[i, j, k]
    acc = gval
    for j in range(n - 1, -1, -1):
        res[i, j, k] *= acc
        acc *= x3[i, j, k]


@overload(h.prod_grad)
def _ov_prod_grad(x, g):
    if not _arr(x):
        return lambda x, g: g
    _need(_num(g), "prod_grad: g must be a scalar")
    dt = _grad_dt(x)
    one = dt.type(1)

    def impl(x, g):
        x3 = _contig(x).reshape((1, x.size, 1))
        res = np.empty(x.shape, dt)
        _prod_line(x3, res.reshape((1, x.size, 1)), 0, 0, _astype(g, dt), one)
        return res
    return impl


@overload(h.prod_axis_grad)
def _ov_prod_axis_grad(x, g, axis):
    _need(_arr(x), "prod_axis_grad: x must be an array")
    nd = x.ndim
    if nd == 1:
        _need(_num(g), "prod_axis_grad: g must be a scalar for 1-D x")

        def impl1(x, g, axis):
            _norm_axis(axis, 1)
            return h.prod_grad(x, g)
        return impl1
    _need(_arr(g) and g.ndim == nd - 1, "prod_axis_grad: g must have rank x.ndim - 1")
    dt = _grad_dt(x)
    one = dt.type(1)

    def impl(x, g, axis):
        ax = _norm_axis(axis, nd)
        _check_removed(g.shape, x.shape, ax)
        pre, n, post = _split(x.shape, ax)
        x3 = _contig(x).reshape((pre, n, post))
        g2 = _astype(_contig(g), dt).reshape((pre, post))
        res = np.empty(x.shape, dt)
        r3 = res.reshape((pre, n, post))
        for i in range(pre):
            for k in range(post):
                _prod_line(x3, r3, i, k, g2[i, k], one)
        return res
    return impl


# ------------------------------------------------------------ linear algebra


def _matmul_ranks(a, b):
    ranks = (_rank(a), _rank(b))
    _need(ranks in ((1, 1), (2, 1), (1, 2), (2, 2)),
          f"matmul gradient: unsupported operand ranks {ranks}; expected 1 or 2 for each")
    return ranks


@overload(h.matmul_grad_a)
def _ov_matmul_grad_a(g, a, b):
    ranks = _matmul_ranks(a, b)
    dt = _grad_dt(g, a, b)
    if ranks == (1, 1):
        return lambda g, a, b: _astype(g, dt) * _astype(b, dt)
    if ranks == (2, 1):
        return lambda g, a, b: np.outer(_astype(g, dt), _astype(b, dt))
    if ranks == (1, 2):
        return lambda g, a, b: np.dot(_astype(b, dt), _astype(g, dt))
    return lambda g, a, b: np.dot(_astype(g, dt), _astype(b, dt).T)


@overload(h.matmul_grad_b)
def _ov_matmul_grad_b(g, a, b):
    ranks = _matmul_ranks(a, b)
    dt = _grad_dt(g, a, b)
    if ranks == (1, 1):
        return lambda g, a, b: _astype(g, dt) * _astype(a, dt)
    if ranks == (1, 2):
        return lambda g, a, b: np.outer(_astype(a, dt), _astype(g, dt))
    return lambda g, a, b: np.dot(_astype(a, dt).T, _astype(g, dt))


def _outer_check(g, a, b):
    _need((_rank(g), _rank(a), _rank(b)) == (2, 1, 1),
          "outer gradient: expected a 2-D g and 1-D a, b")
    return _grad_dt(g, a, b)


@overload(h.outer_grad_a)
def _ov_outer_grad_a(g, a, b):
    dt = _outer_check(g, a, b)
    return lambda g, a, b: np.dot(_astype(g, dt), _astype(b, dt))


@overload(h.outer_grad_b)
def _ov_outer_grad_b(g, a, b):
    dt = _outer_check(g, a, b)
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
    return lambda g, x: _contig(g).reshape(x.shape)


@overload(h.concat_part)
def _ov_concat_part(g, offset, like, axis):
    _need(_arr(g) and _arr(like) and g.ndim == like.ndim,
          "concat_part: g and like must be arrays of the same rank")
    nd = g.ndim

    def impl(g, offset, like, axis):
        ax = _norm_axis(axis, nd)
        n = like.shape[ax]
        if offset < 0 or offset + n > g.shape[ax]:
            raise ValueError("concat_part: slice out of range")
        part = np.moveaxis(g, ax, 0)[offset:offset + n]
        out = np.empty(like.shape, g.dtype)
        dst = np.moveaxis(out, ax, 0)
        if part.shape != dst.shape:
            raise ValueError("concat_part: g does not match like outside the axis")
        dst[...] = part
        return out
    return impl


@overload(h.stack_part)
def _ov_stack_part(g, index, like, axis):
    _need(_arr(g), "stack_part: g must be an array")
    if not _arr(like):
        _need(g.ndim == 1, "stack_part: scalar parts need a 1-D g")

        def impl_scalar(g, index, like, axis):
            n = g.shape[0]
            if index < -n or index >= n:
                raise IndexError("stack_part: index out of range")
            return g[index]
        return impl_scalar
    _need(g.ndim == like.ndim + 1, "stack_part: g must have rank like.ndim + 1")
    nd = g.ndim

    def impl(g, index, like, axis):
        ax = _norm_axis(axis, nd)
        n = g.shape[ax]
        if index < -n or index >= n:
            raise IndexError("stack_part: index out of range")
        part = np.moveaxis(g, ax, 0)[index + n if index < 0 else index]
        if part.shape != like.shape:
            raise ValueError("stack_part: g does not match like")
        out = np.empty(like.shape, g.dtype)
        out[...] = part
        return out
    return impl


# ------------------------------------------------------------ elementwise


@overload(h.sign_nonneg)
def _ov_sign_nonneg(x):
    if not _arr(x):
        return lambda x: 1.0 if x >= 0 else -1.0
    dt = _grad_dt(x)

    def impl(x):
        out = np.empty(x.shape, dt)
        of = out.reshape(out.size)
        for i, v in enumerate(x.flat):
            of[i] = 1 if v >= 0 else -1
        return out
    return impl


def _weak(bound, x):
    """Scalar ``bound`` cast to x's dtype when that keeps its kind (see helpers.clip)."""


@overload(_weak)
def _ov_weak(bound, x):
    if _arr(bound):
        return lambda bound, x: bound
    order = "biufc"
    bk, xdt = _np_dt(bound).kind, _np_dt(x)
    if bk in order and xdt.kind in order and order.index(bk) <= order.index(xdt.kind):
        target = xdt.type  # numpy scalar type; numba casts with it
        return lambda bound, x: target(bound)
    return lambda bound, x: bound


@overload(h.clip)
def _ov_clip(x, lo, hi):
    return lambda x, lo, hi: np.minimum(np.maximum(x, _weak(lo, x)), _weak(hi, x))


@overload(h.maximum_grad_weight)
def _ov_maximum_grad_weight(x, y):
    if not (_arr(x) or _arr(y)):
        return lambda x, y: 1.0 if x > y else (0.5 if x == y else 0.0)
    dt = np.result_type(*(_np_dt(t) for t in (x, y) if _arr(t)))
    dt = dt if dt.kind == "f" else np.dtype(np.float64)
    one, half, zero = dt.type(1), dt.type(0.5), dt.type(0)
    return lambda x, y: np.where(x > y, one, np.where(x == y, half, zero))


@overload(h.minimum_grad_weight)
def _ov_minimum_grad_weight(x, y):
    return lambda x, y: h.maximum_grad_weight(y, x)
