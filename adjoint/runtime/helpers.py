"""Runtime helpers called by generated code: each is a plain NumPy function (jit=False) with a Numba overload (jit=True).

The functions below are the NumPy "twins". Importing this module also imports
``adjoint.runtime._numba_impl``, which registers a ``numba.extending.overload``
for every twin, so an ``@numba.njit`` function calling e.g. ``unbroadcast``
compiles in nopython mode.

Conventions shared by twins and overloads:

* "array" means an ``np.ndarray`` with ``ndim > 0``; everything else (Python
  numbers, NumPy scalars, 0-d arrays in the twins) is a scalar.
* Python ``float``/``int`` count as float64/int64 (what Numba types them as),
  so dtype rules agree between the two paths.
* A "gradient dtype" is the input dtype if it is inexact, else float64. The arrays a
  cotangent starts from (``zero_like``, ``fill_like``, and the cotangents of max, min and
  prod) have the "cotangent dtype", float64 (complex128 for complex input) whatever x's.
  ``matmul_grad_*``/``outer_grad_*`` work in the common dtype of g, a and b
  (np.result_type; integers become float64, as Numba's BLAS needs floats).
* A scalar operand of ``maximum/minimum_grad_weight``, and a scalar bound of
  ``clip`` whose kind is not above x's, takes the array operand's dtype (NumPy 2
  does so for Python scalars; Numba cannot tell those from NumPy scalars, so
  both paths do it for every scalar).
* Axis arguments are runtime ints, possibly negative; out of range raises
  ValueError (``numpy.exceptions.AxisError`` in the twins, a subclass).
* Bad ranks raise ValueError in the twins and a Numba TypingError (raised at
  compile time) in the overloads.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

Scalar = Union[float, int, bool, np.number, np.bool_]
ArrayOrScalar = Union[np.ndarray, Scalar]

__all__ = [
    "unbroadcast", "zero_like", "fill_like", "expand_axis", "expand_view",
    "reduce_sum", "reduce_max", "reduce_min", "reduce_mean", "reduce_prod",
    "extremum_grad", "extremum_axis_grad", "prod_grad", "prod_axis_grad",
    "matmul_grad_a", "matmul_grad_b", "outer_grad_a", "outer_grad_b",
    "reshape_like", "concat_part", "stack_part", "sign_nonneg", "clip", "copy_of",
    "maximum_grad_weight", "minimum_grad_weight", "cotangent", "broadcast_like", "dot_promoted",
    "power", "select", "loop_length", "elements", "pointer", "keep_alive", "apart", "item", "set_item",
    "new_tape", "tape_rows", "tape_peek", "owned", "unowned",
]


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) and x.ndim > 0


def _dtype_of(x: Any) -> np.dtype:
    return np.asarray(x).dtype


def _grad_dtype(x: Any) -> np.dtype:
    dt = _dtype_of(x)
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _cotangent_dtype(x: Any) -> np.dtype:
    """float64 (complex128 for complex x): the arrays a cotangent starts from. A float32
    cotangent would turn float64 where the adjoint multiplies it by a Python float under
    Numba, and a loop or branch whose cotangent is float32 on one path and float64 on the
    other does not compile. The gradients come back in their arguments' dtypes."""
    return np.result_type(_dtype_of(x), np.float64)


def _removed(shape: tuple, axis: int) -> tuple:
    return shape[:axis] + shape[axis + 1:]


def _check_shape(got: tuple, want: tuple, what: str) -> None:
    if got != want:
        raise ValueError(f"{what}: got shape {got}, expected {want}")


# ---------------------------------------------------------------- custom rules

def cotangent(result: Any, like: ArrayOrScalar, rule: str, k: int = 0, n: int = 1) -> ArrayOrScalar:
    """Input ``k`` of ``n``'s cotangent from what a custom rule returned, checked: one per
    input (a tuple when n > 1; a 1-tuple or a bare value when n == 1), each of its input's
    shape (a scalar for a scalar)."""
    if isinstance(result, tuple):
        if len(result) != n:
            raise ValueError(f"the custom rule of {rule} returned {len(result)} cotangents for "
                             f"{n} input{'s' * (n != 1)}")
        result = result[k]
    elif n != 1:
        raise ValueError(f"the custom rule of {rule} must return a tuple of {n} cotangents, one per input")
    if _is_array(like) != _is_array(result) or (_is_array(like) and result.shape != like.shape):
        got = f"an array of shape {np.shape(result)}" if _is_array(result) else "a scalar"
        want = f"an array of shape {like.shape}" if _is_array(like) else "a scalar"
        raise ValueError(f"the custom rule of {rule} returned {got} as the cotangent of input {k}, "
                         f"which is {want}: each cotangent must have its input's shape")
    return result


# ---------------------------------------------------------------- broadcasting

def unbroadcast(g: ArrayOrScalar, like: ArrayOrScalar) -> ArrayOrScalar:
    """Sum ``g`` down to the shape of ``like`` (undo NumPy broadcasting)."""
    if not _is_array(like):
        return g.sum() if _is_array(g) else g
    if not _is_array(g):
        return np.full(like.shape, g)
    if g.shape == like.shape:
        return g
    lead = g.ndim - like.ndim
    if lead < 0 or any(n != 1 and n != m for n, m in zip(like.shape, g.shape[lead:])):
        raise ValueError(f"unbroadcast: cannot sum shape {g.shape} to {like.shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(like.shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, dtype=g.dtype).reshape(like.shape)


def broadcast_like(g: ArrayOrScalar, like: ArrayOrScalar) -> ArrayOrScalar:
    """``g`` broadcast (copied) to the shape of ``like``: the adjoint of ``unbroadcast``."""
    if not _is_array(like):
        return g
    if _is_array(g) and g.shape == like.shape:
        return g
    return np.broadcast_to(g, like.shape).copy()


def zero_like(x: ArrayOrScalar) -> ArrayOrScalar:
    """0.0 for a scalar, zeros of x's shape (cotangent dtype) for an array, a 0-d one included
    (as compiled: ``z_bar[None] += g`` of a 0-d z writes into it)."""
    return np.zeros(x.shape, _cotangent_dtype(x)) if isinstance(x, np.ndarray) else 0.0


def fill_like(g: Scalar, x: ArrayOrScalar) -> ArrayOrScalar:
    """Array of x's shape filled with scalar ``g`` (cotangent dtype of x); g if x is scalar."""
    return np.full(x.shape, g, _cotangent_dtype(x)) if _is_array(x) else g


def _expansion_axis(g: ArrayOrScalar, x: np.ndarray, axis: int, what: str) -> int:
    """``axis`` of x, along which g (x.shape without it; a number for a 1-D x) expands to
    x's shape; a ValueError naming ``what`` where g does not fit."""
    ax = normalize_axis_index(axis, x.ndim)
    if not _is_array(g):
        if x.ndim != 1:
            raise ValueError(f"{what}: scalar g needs a 1-D x")
    else:
        _check_shape(g.shape, _removed(x.shape, ax), what)
    return ax


def expand_axis(g: ArrayOrScalar, x: np.ndarray, axis: int) -> np.ndarray:
    """Repeat ``g`` (x.shape without ``axis``) along ``axis`` to x's shape."""
    ax = _expansion_axis(g, x, axis, "expand_axis")
    if not _is_array(g):
        return np.full(x.shape, g)
    return np.repeat(np.expand_dims(g, ax), x.shape[ax], axis=ax)


def expand_view(g: ArrayOrScalar, x: np.ndarray, axis: int) -> ArrayOrScalar:
    """``g`` (x.shape without ``axis``) with a length-1 ``axis``: what ``expand_axis``
    repeats, left for the arithmetic that reads it, and x, to broadcast (no copy). A
    number g (for a 1-D x) is itself."""
    ax = _expansion_axis(g, x, axis, "expand_view")
    return np.expand_dims(g, ax) if _is_array(g) else g


# ------------------------------------------------------------ forward reductions

def reduce_max(x: ArrayOrScalar, axis: Optional[int] = None) -> ArrayOrScalar:
    """np.max(x, axis=axis)."""
    return np.max(x, axis=axis)


def reduce_min(x: ArrayOrScalar, axis: Optional[int] = None) -> ArrayOrScalar:
    """np.min(x, axis=axis)."""
    return np.min(x, axis=axis)


def reduce_sum(x: ArrayOrScalar, axis: Optional[int] = None) -> ArrayOrScalar:
    """np.sum(x, axis=axis) (Numba's own takes over a second to compile)."""
    return np.sum(x, axis=axis)


def reduce_mean(x: ArrayOrScalar, axis: Optional[int] = None) -> ArrayOrScalar:
    """np.mean(x, axis=axis)."""
    return np.mean(x, axis=axis)


def reduce_prod(x: ArrayOrScalar, axis: Optional[int] = None) -> ArrayOrScalar:
    """np.prod(x, axis=axis)."""
    return np.prod(x, axis=axis)


# ------------------------------------------------------ reduction gradients

def extremum_grad(x: ArrayOrScalar, out: Scalar, g: Scalar) -> ArrayOrScalar:
    """Cotangent of a full max/min: g split equally among entries equal to out."""
    if not _is_array(x):
        return g
    mask = x == out
    res = np.zeros(x.shape, _cotangent_dtype(x))
    count = int(mask.sum())
    if count:
        res[mask] = g / count
    return res


def extremum_axis_grad(x: np.ndarray, out: ArrayOrScalar, g: ArrayOrScalar,
                       axis: int) -> np.ndarray:
    """Cotangent of max/min along ``axis`` (out, g have the axis removed)."""
    ax = normalize_axis_index(axis, x.ndim)
    out_e = np.expand_dims(out, ax)
    mask = x == out_e
    count = mask.sum(axis=ax, keepdims=True)
    share = np.asarray(np.expand_dims(g, ax), dtype=np.float64) / np.maximum(count, 1)
    res = np.zeros(x.shape, _cotangent_dtype(x))
    np.copyto(res, share, where=mask, casting="unsafe")
    return res


def _prod_grad_lines(x3: np.ndarray, g3: np.ndarray) -> np.ndarray:
    """Exclusive prefix products times (g * suffix products) along axis 1 of (m, n, k) x3.

    g3 is (m, 1, k); the multiplication order matches the Numba kernel exactly.
    """
    ones = np.ones_like(x3[:, :1])
    prefix = np.cumprod(np.concatenate([ones, x3[:, :-1]], axis=1), axis=1)
    rev = x3[:, ::-1]
    gsuffix = np.cumprod(np.concatenate([g3, rev[:, :-1]], axis=1), axis=1)[:, ::-1]
    return prefix * gsuffix


def prod_grad(x: ArrayOrScalar, g: Scalar) -> ArrayOrScalar:
    """Cotangent of np.prod(x) (full), exact with zeros (no division)."""
    if not _is_array(x):
        return g
    dt = _cotangent_dtype(x)
    if x.size == 0:
        return np.zeros(x.shape, dt)
    x3 = x.astype(dt).reshape(1, x.size, 1)
    return _prod_grad_lines(x3, np.full((1, 1, 1), g, dt)).reshape(x.shape)


def prod_axis_grad(x: np.ndarray, g: ArrayOrScalar, axis: int) -> np.ndarray:
    """Cotangent of np.prod(x, axis) (g has the axis removed), exact with zeros."""
    ax = normalize_axis_index(axis, x.ndim)
    dt = _cotangent_dtype(x)
    _check_shape(np.shape(g), _removed(x.shape, ax), "prod_axis_grad")
    if x.size == 0:
        return np.zeros(x.shape, dt)
    pre, post = int(np.prod(x.shape[:ax])), int(np.prod(x.shape[ax + 1:]))
    x3 = x.astype(dt).reshape(pre, x.shape[ax], post)
    g3 = np.asarray(g, dt).reshape(pre, 1, post)
    return _prod_grad_lines(x3, g3).reshape(x.shape)


# ------------------------------------------------------------ linear algebra

def _common(*vals: Any) -> tuple:
    dt = np.result_type(*(_dtype_of(v) for v in vals))
    if dt.kind not in "fc":
        dt = np.dtype(np.float64)
    return tuple(np.asarray(v, dt) for v in vals)


def dot_promoted(a: np.ndarray, b: np.ndarray) -> ArrayOrScalar:
    """``a @ b`` for 1-D and 2-D operands in their common float dtype (Numba's matmul
    wants one dtype): used where a second derivative multiplies two cotangents."""
    a, b = _common(a, b)
    return a @ b


def _matmul_ranks(a: Any, b: Any) -> tuple:
    ranks = (np.ndim(a), np.ndim(b))
    if ranks not in ((1, 1), (2, 1), (1, 2), (2, 2)):
        raise ValueError(f"matmul gradient: unsupported operand ranks {ranks}; "
                         "expected 1 or 2 for each operand")
    return ranks


def matmul_grad_a(g: ArrayOrScalar, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cotangent of ``a`` for ``out = a @ b`` (also np.dot), ranks 1 or 2."""
    ranks = _matmul_ranks(a, b)
    g, a, b = _common(g, a, b)
    if ranks == (1, 1):
        return g * b
    if ranks == (2, 1):
        return np.outer(g, b)
    return b @ g if ranks == (1, 2) else g @ b.T


def matmul_grad_b(g: ArrayOrScalar, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cotangent of ``b`` for ``out = a @ b`` (also np.dot), ranks 1 or 2."""
    ranks = _matmul_ranks(a, b)
    g, a, b = _common(g, a, b)
    if ranks == (1, 1):
        return g * a
    if ranks == (1, 2):
        return np.outer(a, g)
    return a.T @ g


def outer_grad_a(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cotangent of ``a`` for ``np.outer(a, b)`` with 1-D a, b."""
    g, a, b = _common(g, a, b)
    return g @ b


def outer_grad_b(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cotangent of ``b`` for ``np.outer(a, b)`` with 1-D a, b."""
    g, a, b = _common(g, a, b)
    return a @ g


# ------------------------------------------------------------ shape plumbing

def reshape_like(g: ArrayOrScalar, x: ArrayOrScalar) -> ArrayOrScalar:
    """``g`` reshaped to x's shape; the single element of g if x is a scalar."""
    if not _is_array(x):
        if not _is_array(g):
            return g
        if g.size != 1:
            raise ValueError("reshape_like: g must have exactly one element")
        return g.flat[0]
    if not _is_array(g):
        return np.full(x.shape, g)
    return np.reshape(g, x.shape)


def concat_part(g: np.ndarray, offset: int, like: np.ndarray, axis: int) -> np.ndarray:
    """Slice of g along ``axis`` for one input of np.concatenate (C-contiguous)."""
    ax = normalize_axis_index(axis, g.ndim)
    n = like.shape[ax]
    if offset < 0 or offset + n > g.shape[ax]:
        raise ValueError("concat_part: slice out of range")
    part = g[(slice(None),) * ax + (slice(offset, offset + n),)]
    _check_shape(part.shape, like.shape, "concat_part")
    return np.ascontiguousarray(part)


def stack_part(g: np.ndarray, index: int, like: ArrayOrScalar, axis: int) -> ArrayOrScalar:
    """Cotangent of input ``index`` of np.stack(..., axis): g[index] along axis."""
    if not _is_array(like):
        if g.ndim != 1:
            raise ValueError("stack_part: scalar parts need a 1-D g")
        return g[index]
    ax = normalize_axis_index(axis, g.ndim)
    part = np.take(g, index, axis=ax)
    _check_shape(part.shape, like.shape, "stack_part")
    return np.ascontiguousarray(part)


# ------------------------------------------------------------ fused loops (compiled code)

def loop_length(a: Any) -> int:
    """The length of a 1-D float64 array, -1 for anything else: a run of elementwise
    statements becomes one loop over the elements when all its arrays have the same
    length (``codegen/fuse.py``). Under Numba the -1 is known at compile time."""
    if isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype == np.float64:
        return a.shape[0]
    return -1


def _span(a: np.ndarray) -> tuple[int, int]:
    first = a.ctypes.data
    last = first + (a.shape[0] - 1) * a.strides[0]
    return min(first, last), max(first, last) + a.itemsize


def apart(a: Any, b: Any) -> bool:
    """Whether the 1-D arrays a and b share no memory, or are the same elements in the
    same order: then a loop writing a[k] and reading b[k] does what whole-array statements
    do (``codegen/fuse.py``; b = a[1:] would read what a[k-1] just became)."""
    if a.shape[0] == 0 or b.shape[0] == 0:
        return True
    if a.ctypes.data == b.ctypes.data and a.strides[0] == b.strides[0]:
        return True
    a_lo, a_hi = _span(a)
    b_lo, b_hi = _span(b)
    return a_hi <= b_lo or b_hi <= a_lo


def elements(a: Any) -> Any:
    """``a``, the 1-D array a fused loop indexes (Numba types a fused loop even where
    ``loop_length`` is -1: it then gets an empty float64 array for anything else)."""
    return a


def pointer(a: Any) -> Any:
    """``a``, read and written by a fused loop through ``item`` and ``set_item``. Compiled, for
    a contiguous 1-D float64 array, the address of its first element: the loop then holds no
    reference to the array, so Numba releases a view made for the loop as soon as it has made
    it, where it held it until the loop's end: the lstm benchmark's gradient 2.5 to 5% faster
    (holding every view to the loop's end gave that back; Numba's reference-count pruning
    deletes an incref and decref in one block). An array whose memory nothing else holds is
    kept alive over the loop by ``keep_alive`` (``codegen/fuse.py``). Otherwise as
    ``elements``."""
    return a


def keep_alive(*arrays: Any) -> None:
    """Nothing: its call after a fused loop keeps the arrays that loop reads through a
    ``pointer`` alive until the loop has ended."""


def item(a: np.ndarray, index: Any) -> Any:
    """``a[index]``, read by a fused loop at an index its test proved in range: compiled
    without the bounds check that guards the function's other indexing (``codegen/fuse.py``)."""
    return a[index]


def set_item(a: np.ndarray, index: Any, value: Any) -> None:
    """``a[index] = value``, written by a fused loop at an index its test proved in range:
    compiled without the bounds check, as ``item``."""
    a[index] = value


# ------------------------------------------------------------ tapes

def new_tape(n: int, m: int = 1) -> list:
    """The tape of a loop of ``n`` iterations, each pushing one entry (of a loop of ``m``
    iterations inside one of ``n``: ``new_tape(n, m)``): a list. Compiled, a list with room
    for ``n * m`` entries (a negative count is 0) made at once, which grows as Numba's lists
    do after them (``runtime/_numba_tape.py``)."""
    return []


def tape_peek(tape: list, index: int) -> Any:
    """``tape[index]``. Compiled, the tape's own reference: its arrays have no owner, so
    Numba counts no reference to them (``codegen/borrow.py``), and they are valid while the
    tape lives."""
    return tape[index]


def owned(x: Any) -> Any:
    """``x``. Compiled, a copy of an array that has no owner (one ``tape_peek`` read, a view
    of an argument made ``unowned``, or a view of either), so that what a function returns
    never outlives what holds its memory."""
    return x


def unowned(x: Any) -> Any:
    """``x``, a view of an argument. Compiled, with no owner: the caller holds the argument
    for the whole call, so Numba need count no reference to its views (``codegen/borrow.py``)."""
    return x


def tape_rows(arena: np.ndarray, used: int, m: int, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """``m`` rows of ``n`` numbers for a fused loop to fill that a tape keeps, cut from the
    float64 buffer ``arena`` after its first ``used`` numbers: (the rows, the buffer, the
    numbers used after them). Where the buffer has no room left, a new one with room for
    twice as much: the rows cut from the old one keep it alive as long as the tape keeps
    them. A loop that tapes an LSTM cell's six rows at each of 200 steps makes 9 buffers,
    where it made 200 arrays that all lived until the reverse sweep ended (the lstm
    benchmark's gradient: 3% of its time, codegen/fuse.py)."""
    return cut_rows(arena, used, m, n)


def cut_rows(arena, used, m, n):  # tape_rows, as Numba compiles it too (no annotations)
    buffer, start = room_for(arena, used, m * n)
    return buffer[start:start + m * n].reshape((m, n)), buffer, start + m * n


def room_for(arena, used, size):
    """(the buffer, where its room starts): ``arena`` after its first ``used`` numbers, or
    a new buffer where that has no room for ``size`` numbers."""
    if used + size <= arena.shape[0]:
        return arena, used
    return np.empty(max(2 * arena.shape[0], size)), 0


# ------------------------------------------------------------ element writes

def copy_of(x: ArrayOrScalar) -> ArrayOrScalar:
    """A copy of an array (a scalar as it is): what an element write will overwrite."""
    return x.copy() if isinstance(x, np.ndarray) else x


# ------------------------------------------------------------ elementwise

NEGATIVE_INT_POWER = ("an int raised to a negative int power: Python makes it a float, NumPy "
                      "refuses it and Numba's compiled code gives 0; make the base a float, "
                      "e.g. float(n) ** k or n.astype(np.float64) ** k")


def _holds_ints(x: Any) -> bool:
    return isinstance(x, (bool, int, np.integer, np.bool_)) or \
        isinstance(x, np.ndarray) and x.dtype.kind in "iub"


def power(x: ArrayOrScalar, y: ArrayOrScalar) -> ArrayOrScalar:
    """``x ** y`` with a run-time exponent; an int to a negative int power raises
    ``ValueError`` (as NumPy does for arrays) instead of the float Python gives and the 0
    Numba's compiled ``**`` gives, so that jit=False and jit=True agree."""
    if _holds_ints(x) and _holds_ints(y) and np.any(np.asarray(y) < 0):
        raise ValueError(NEGATIVE_INT_POWER)
    return x ** y

def select(c: ArrayOrScalar, a: ArrayOrScalar, b: ArrayOrScalar) -> ArrayOrScalar:
    """``a`` where ``c`` holds, else ``b`` (``np.where``), a number when all three are: the
    adjoint of ``np.where`` sends its cotangent to the side selected, without multiplying it
    by 0 elsewhere (an infinite cotangent times 0 would be nan)."""
    if not (_is_array(c) or _is_array(a) or _is_array(b)):
        return a if c else b
    return np.where(c, a, b)


def sign_nonneg(x: ArrayOrScalar) -> ArrayOrScalar:
    """1.0 where x >= 0 else -1.0 (derivative of abs, grad(abs)(0) == 1)."""
    if not _is_array(x):
        return 1.0 if x >= 0 else -1.0
    return np.where(x >= 0, 1.0, -1.0).astype(_grad_dtype(x))


def _weak_bound(bound: Any, x: Any) -> Any:
    """Cast a scalar bound to x's dtype when that loses no kind (int->float, not float->int)."""
    if _is_array(bound):
        return bound
    order = "biufc"
    bk, xdt = _dtype_of(bound).kind, _dtype_of(x)
    if bk in order and xdt.kind in order and order.index(bk) <= order.index(xdt.kind):
        return xdt.type(bound)
    return bound


def clip(x: ArrayOrScalar, lo: ArrayOrScalar, hi: ArrayOrScalar) -> ArrayOrScalar:
    """np.minimum(np.maximum(x, lo), hi); scalar in, scalar out.

    Scalar bounds are cast to x's dtype when x is of the same or a higher
    kind (float32 x with float bounds stays float32), on both paths.
    """
    return np.minimum(np.maximum(x, _weak_bound(lo, x)), _weak_bound(hi, x))


def _weight_dtype(x: Any, y: Any) -> np.dtype:
    arrays = [v.dtype for v in (x, y) if _is_array(v)]
    dt = np.result_type(*arrays)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def maximum_grad_weight(x: ArrayOrScalar, y: ArrayOrScalar) -> ArrayOrScalar:
    """x's share of max(x, y)'s cotangent: 1 if x > y, 0.5 on ties, else 0."""
    if not (_is_array(x) or _is_array(y)):
        return 1.0 if x > y else (0.5 if x == y else 0.0)
    dt = _weight_dtype(x, y)
    x = x if _is_array(x) else dt.type(x)  # a scalar operand takes the arrays' dtype
    y = y if _is_array(y) else dt.type(y)
    return np.where(x > y, dt.type(1), np.where(x == y, dt.type(0.5), dt.type(0)))


def minimum_grad_weight(x: ArrayOrScalar, y: ArrayOrScalar) -> ArrayOrScalar:
    """x's share of min(x, y)'s cotangent: 1 if x < y, 0.5 on ties, else 0."""
    return maximum_grad_weight(y, x)


# ------------------------------------------------------------ NumPy's own loops (compiled code)

# Ufuncs whose NumPy loop is several times faster than Numba's compiled one on a large
# float array: Numba calls libm once per element, NumPy has SIMD loops for these (measured
# on a 256 x 128 float64 array, AVX2: tanh 348 -> 54 us, exp 143 -> 27 us, log 116 -> 25 us,
# arctan 265 -> 39 us; sin and cos are no faster, sqrt slower). In the module Numba
# compiles (codegen/numba_calls.py), ``np.<name>(a)`` of an array becomes
# ``numpy_<name>(a)``: NumPy's loop (entered through Numba's object mode, about 3.5 us)
# from the size given here on, Numba's own below it: the smallest power of two at which
# NumPy's loop won (1-D float64, 256 to 2048 elements; exp2 still lost at 2048).
NUMPY_LOOPS: dict[str, int] = {
    "tanh": 512, "sinh": 512, "arctan": 512, "arcsinh": 512, "arctanh": 512, "tan": 512, "cbrt": 512,
    "exp": 1024, "expm1": 1024, "log": 1024, "log1p": 1024, "log10": 1024, "cosh": 1024,
    "arcsin": 1024, "arccos": 1024, "log2": 2048, "exp2": 4096,
}


def _numpy_loop(name: str) -> Any:
    ufunc = getattr(np, name)

    def call(x: ArrayOrScalar) -> ArrayOrScalar:
        return ufunc(x)

    call.__name__ = call.__qualname__ = f"numpy_{name}"
    call.__doc__ = f"np.{name}(x); compiled, NumPy's loop for a float array of {NUMPY_LOOPS[name]} elements or more."
    return call


for _name in NUMPY_LOOPS:
    globals()[f"numpy_{_name}"] = _numpy_loop(_name)
    __all__.append(f"numpy_{_name}")


# ------------------------------------------------------------ what Numba gets wrong (compiled code)

def norm_of(x: ArrayOrScalar) -> Any:
    """np.linalg.norm(x); compiled, of a contiguous copy where x is not contiguous (Numba
    0.68's norm of a vector with a negative stride reads outside it)."""
    return np.linalg.norm(x)


def reshape_of(x: np.ndarray, shape: Any) -> np.ndarray:
    """x.reshape(shape); compiled, of a contiguous copy where x is not contiguous (Numba
    reshapes only contiguous arrays; NumPy copies the others)."""
    return x.reshape(shape)


__all__ += ["norm_of", "reshape_of"]


from . import _numba_impl, _numba_tape  # noqa: E402,F401  (register the Numba overloads)
