"""``vjp``, ``jacobian`` and ``hessian`` (API.md "More transforms"), built on the same
generated ``<name>_vjp`` function as ``grad``: it takes the output's cotangent as its last
argument, so an array-valued function is pulled back by passing an array cotangent.
``hessian`` differentiates the generated gradient again (reverse over reverse)."""
from __future__ import annotations

import functools
import linecache
import re
from typing import Any, Callable

import numpy as np

from .api import GradFunction, Wrt, _ranks
from .backend import numba_jit
from .backend.module import import_module, write_module
from .codegen.python import fresh_name
from .errors import CompileError, NonDifferentiableError, UnsupportedSyntaxError


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


def _differentiated(fn: Callable[..., Any], wrt: Wrt, jit: bool, transform: str) -> GradFunction:
    if isinstance(fn, GradFunction):  # it would differentiate fn.fn, not the gradient fn returns
        raise TypeError(f"adjoint.{transform} takes the function itself, not adjoint.grad or "
                        f"value_and_grad of it ({fn.fn.__qualname__}): the Jacobian of a gradient "
                        f"is adjoint.hessian({fn.fn.__qualname__}, wrt=...)")
    grad = GradFunction(fn, wrt, jit)
    grad._scalar_result = False
    return grad


def vjp(fn: Callable[..., Any], *args: Any, wrt: Wrt = 0, jit: bool = True,
        **kwargs: Any) -> tuple[Any, Callable[[Any], Any]]:
    """``(fn(*args, **kwargs), pullback)``: ``pullback(g)`` gives the cotangents of the
    ``wrt`` arguments for a cotangent ``g`` of the output (same shape as the output). Each
    pullback runs the compiled forward and adjoint again."""
    grad = _differentiated(fn, wrt, jit, "vjp")
    values = grad._arguments(args, kwargs)
    out = grad.forward(*values)

    def pullback(g: Any) -> Any:
        _, grads = grad.pull(values, _seed(g, out))
        return grads[0] if grad._single else grads

    return out, pullback


def jacobian(fn: Callable[..., Any], wrt: Wrt = 0, jit: bool = True) -> Callable[..., Any]:
    """A function giving the Jacobian of ``fn`` with respect to ``wrt``, of shape
    ``out.shape + arg.shape`` (a tuple of them for a tuple ``wrt``), one pullback per
    output entry."""
    return _jacobian(_differentiated(fn, wrt, jit, "jacobian"), jit)


def _jacobian(grad: GradFunction, jit: bool) -> Callable[..., Any]:
    def jac(*args: Any, **kwargs: Any) -> Any:
        values = grad._arguments(args, kwargs)
        out = grad.forward(*values)
        if jit and grad._single and np.ndim(out) > 0 and np.ndim(values[grad.wrt[0]]) > 0:
            return _compiled_rows(grad, values, out)
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


@functools.cache
def _rows_kernel():
    """One pullback per output entry, all in compiled code: ``vjp`` is the generated
    ``<name>_vjp`` (a Numba dispatcher), ``full`` its arguments ending with ``seed``."""
    import numba

    @numba.njit
    def rows(vjp, full, seed, n_in):
        flat = seed.reshape(-1)
        jac = np.empty((flat.size, n_in))
        for k in range(flat.size):
            flat[k] = 1.0
            _, grads = vjp(*full)
            jac[k, :] = np.ravel(grads[0])
            flat[k] = 0.0
        return jac

    return rows


def _compiled_rows(grad: GradFunction, values: list[Any], out: Any) -> np.ndarray:
    """The Jacobian of an array-valued function of one array, by compiled pullbacks;
    ``values``: checked arguments; ``out``: the output, or an array of its shape and dtype."""
    arg = values[grad.wrt[0]]
    vjp = grad._compiled(grad._build(_ranks(values), current=False).generated.vjp_name, values, ready=True)
    seed = np.zeros(np.shape(out), dtype=np.result_type(out.dtype, np.float32))
    full = tuple(values) + (seed,)
    try:
        jac = _rows_kernel()(vjp, full, seed, arg.size)
    except Exception as exc:
        if not numba_jit.is_numba_error(exc):
            raise
        grad._run(vjp, list(full))  # the vjp alone: a CompileError that names the types
        raise CompileError(f"Numba could not compile the Jacobian of {grad.fn.__qualname__}: "
                           f"{numba_jit.first_line(exc)}. Run with jit=False to execute the same "
                           f"generated code as plain Python.") from None
    return jac.reshape(np.shape(out) + arg.shape).astype(arg.dtype, copy=False)


def hessian(fn: Callable[..., Any], wrt: Wrt = 0, jit: bool = True) -> Callable[..., Any]:
    """A function giving the Hessian of the scalar ``fn`` with respect to one argument, of
    shape ``arg.shape + arg.shape``. adjoint writes ``fn``'s gradient as Python source
    (``<name>_vjp``, specialized to the ranks of the arguments), wraps it in a function
    returning the gradient, and takes the Jacobian of that, differentiating the generated
    code like any user code: one pullback per entry of the gradient."""
    grad = GradFunction(fn, wrt, jit)
    grad._libm_taped = False  # a tape could not be differentiated again
    if not grad._single:
        raise TypeError("hessian differentiates with respect to one argument: pass wrt=int or a name")
    jacobians: dict[tuple, Callable[..., Any]] = {}

    def hess(*args: Any, **kwargs: Any) -> Any:
        values = grad._arguments(args, kwargs)
        key = _ranks(values)
        try:
            if key not in jacobians:
                grad.check_scalar_result(values)  # (the gradient of an array's sum is no Hessian)
                jacobians[key] = GradFunction(_gradient_function(grad, key), grad.wrt[0], jit)
                jacobians[key]._scalar_result = False  # (it returns the gradient)
            inner = jacobians[key]
            # the gradient has x's shape (a 0-d array's is a number, which the kernel cannot ravel)
            if jit and np.ndim(values[grad.wrt[0]]) > 0:
                return _compiled_rows(inner, values, values[grad.wrt[0]])
            return _jacobian(inner, jit)(*values)
        except (UnsupportedSyntaxError, NonDifferentiableError) as exc:
            raise _refused_twice(grad, key, exc) from None

    hess.__name__ = f"hessian_of_{fn.__name__}"
    return hess


def _refused_twice(grad: GradFunction, ranks: tuple, exc: Exception) -> Exception:
    """What adjoint.hessian says when the generated gradient of ``grad.fn`` cannot be
    differentiated again: the same kind of error, at the user's line the refused generated
    line comes from (the gradient's module keeps its line numbers in the copy that
    ``_gradient_function`` writes), the generated line itself in a note."""
    built = grad._build(ranks, current=False)
    what = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    if isinstance(exc, SyntaxError) and re.search(r"= \[\]$|= new_tape\(|\.append\(", (exc.text or "").strip()):
        what = f"a loop of it tapes values ({exc.text.strip()})"
    elif isinstance(exc, SyntaxError) and "cotangent(" in (exc.text or ""):
        what = f"it calls a custom_vjp rule ({exc.text.strip()}), which is not differentiated again"
    message = (f"adjoint.hessian differentiates the generated gradient of {grad.fn.__qualname__} again, "
               f"and cannot here: {what}. Not supported there yet: loops that tape values (arrays "
               f"carried through loops, branches in loops), values merged by an if inside a branch, "
               f"element writes in a branch, np.prod, custom_vjp rules")
    lineno = getattr(exc, "lineno", None)
    # a NonDifferentiableError starts with where it was raised: the generated gradient's file
    located = None if isinstance(exc, SyntaxError) else re.match(r"(.+?\.py):(\d+): (.*)", what, re.S)
    if located is not None:
        generated, lineno, what = located.group(1), int(located.group(2)), located.group(3)
        message = message.replace(located.group(0), what, 1)
    # a line of the tape's bookkeeping maps to no line of the user's: the def then
    filename, user_line = built.user_line(lineno) or (built.ir.loc.filename, built.ir.loc.line)
    if isinstance(exc, SyntaxError):
        new: Exception = UnsupportedSyntaxError(message, filename, user_line, 1,
                                                linecache.getline(filename, user_line))
        new.add_note(f"the generated code refused: {exc.filename}, line {lineno}: {(exc.text or '').strip()}")
    elif located is not None:  # the user's file and line first, as the error says it elsewhere
        new = type(exc)(f"{filename}:{user_line}: {message}")
        new.add_note(f"the generated code refused: {generated}, line {lineno}: "
                     f"{linecache.getline(generated, lineno).strip()}")
    else:
        new = type(exc)(message)
        new.add_note(f"the generated code refused: {exc}")
    return new


def _gradient_function(grad: GradFunction, ranks: tuple) -> Callable[..., Any]:
    """``<name>_gradient(args...)``: the generated gradient, as a function adjoint can read,
    written into a copy of the generated module (so its source file is real)."""
    generated = grad._build(ranks, current=False).generated
    params = list(generated.params)
    value, gradient = (fresh_name(base, set(params)) for base in ("value", "gradient"))
    name = f"{generated.forward_name}_gradient"
    wrt = params[grad.wrt[0]]
    source = generated.source + f"""

def {name}({', '.join(params)}):
    \"\"\"The gradient of {grad.fn.__qualname__} with respect to {wrt}: what adjoint.hessian differentiates.\"\"\"
    {value}, ({gradient},) = {generated.vjp_name}({', '.join(params)}, 1.0)
    return {gradient}
"""
    module = import_module(write_module(source, name))
    return getattr(module, name)

