"""``vjp`` and ``jacobian`` (API.md "More transforms"), built on the same generated
``<name>_vjp`` function as ``grad``: it takes the output's cotangent as its last argument,
so an array-valued function is pulled back by passing an array cotangent."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .api import GradFunction, Wrt


def _seed(g: Any, out: Any) -> Any:
    """The output cotangent in the output's shape: a float for a scalar output."""
    if np.ndim(out) == 0:
        if np.ndim(g) != 0:
            raise ValueError(f"the output is a scalar, but the cotangent has shape {np.shape(g)}")
        return float(g)
    g = np.asarray(g, dtype=np.result_type(out.dtype, np.float32))
    if g.shape != np.shape(out):
        raise ValueError(f"the cotangent has shape {g.shape}, but the output has shape {np.shape(out)}")
    return g


def vjp(fn: Callable[..., Any], *args: Any, wrt: Wrt = 0, jit: bool = True) -> tuple[Any, Callable[[Any], Any]]:
    """``(fn(*args), pullback)``: ``pullback(g)`` gives the cotangents of the ``wrt``
    arguments for a cotangent ``g`` of the output (same shape as the output). Each
    pullback runs the compiled forward and adjoint again."""
    grad = fn if isinstance(fn, GradFunction) else GradFunction(fn, wrt, jit)
    values = grad._arguments(args, {})
    out = grad.forward(*args)

    def pullback(g: Any) -> Any:
        _, grads = grad.pull(values, _seed(g, out))
        return grads[0] if grad._single else grads

    return out, pullback


def jacobian(fn: Callable[..., Any], wrt: Wrt = 0, jit: bool = True) -> Callable[..., Any]:
    """A function giving the Jacobian of ``fn`` with respect to ``wrt``, of shape
    ``out.shape + arg.shape`` (a tuple of them for a tuple ``wrt``), one pullback per
    output entry."""
    grad = GradFunction(fn, wrt, jit)

    def jac(*args: Any) -> Any:
        values = grad._arguments(args, {})
        out = grad.forward(*args)
        basis = np.zeros(np.shape(out))
        rows: list[tuple[Any, ...]] = []
        for i in range(basis.size):
            basis.flat[i] = 1.0
            rows.append(grad.pull(values, _seed(basis.copy(), out))[1])
            basis.flat[i] = 0.0
        jacs = []
        for k, position in enumerate(grad.wrt):
            shape = np.shape(out) + np.shape(values[position])
            dtype = values[position].dtype if isinstance(values[position], np.ndarray) else np.float64
            jacs.append(np.array([row[k] for row in rows], dtype=dtype).reshape(shape))
        return jacs[0] if grad._single else tuple(jacs)

    return jac
