"""``check_grad``: the generated gradient against central finite differences."""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from .api import GradFunction, Wrt, _normalize_wrt


def finite_difference(fn: Callable[..., Any], args: list[Any], position: int, step: float = 1e-6) -> Any:
    """Central differences of ``fn`` with respect to argument ``position``, in float64
    (float arrays are promoted; int arrays, used as indices, are passed as they are)."""
    base = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in args]
    x = np.array(base[position], dtype=np.float64)
    flat = x.reshape(-1)
    out = np.empty(flat.size)
    for i in range(flat.size):
        h = step * max(1.0, abs(flat[i]))
        values = []
        for sign in (1.0, -1.0):
            shifted = flat.copy()
            shifted[i] += sign * h
            trial = list(base)
            trial[position] = shifted.reshape(x.shape) if np.ndim(base[position]) else float(shifted[0])
            values.append(float(fn(*trial)))
        out[i] = (values[0] - values[1]) / (2 * h)
    return out.reshape(x.shape) if np.ndim(base[position]) else float(out[0])


def check_grad(fn: Callable[..., Any], *args: Any, wrt: Wrt = 0, rtol: float = 1e-5,
               atol: float = 1e-7, jit: bool = True, **kwargs: Any) -> float:
    """Compare ``grad(fn, wrt=wrt)`` with central differences of ``fn`` at
    ``(*args, **kwargs)``.

    Raises ``AssertionError`` listing the worst entries when they disagree;
    returns the largest relative error.
    """
    if isinstance(fn, GradFunction):
        fn, jit = fn.fn, fn.jit
    bound = inspect.signature(fn).bind(*args, **kwargs)  # all by position, defaults included
    bound.apply_defaults()
    args = tuple(bound.arguments.values())
    positions, single = _normalize_wrt(fn, wrt)
    grads = GradFunction(fn, tuple(positions), jit)(*args)
    worst = 0.0
    for position, g in zip(positions, grads):
        expected = finite_difference(fn, list(args), position)
        got = np.asarray(g, dtype=np.float64)
        err = np.abs(got - expected)
        rel = err / np.maximum(np.abs(expected), atol / rtol)
        worst = max(worst, float(np.max(rel, initial=0.0)))
        bad = err > atol + rtol * np.abs(expected)
        if np.any(bad) or not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
            rows = np.argsort(-np.ravel(err))[:5]
            lines = [f"  index {tuple(int(i) for i in np.unravel_index(r, np.shape(expected)))}: "
                     f"adjoint {float(np.ravel(got)[r])!r}, finite differences {float(np.ravel(expected)[r])!r}"
                     for r in rows]
            name = list(inspect.signature(fn).parameters)[position]
            raise AssertionError(f"gradient of {fn.__qualname__} with respect to {name!r} disagrees "
                                 f"with finite differences (rtol={rtol}, atol={atol}):\n" + "\n".join(lines))
    return worst
