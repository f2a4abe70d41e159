"""The public transforms: ``grad`` and ``value_and_grad`` (API.md).

A ``GradFunction`` lowers its function to IR once, lazily, and generates a
module for each new set of argument *ranks* (which arguments are numbers, and
the rank of each array): knowing that ``s`` is a number, the adjoint says
``s_bar = s_1_bar`` rather than ``unbroadcast(s_1_bar, s)``, and a loop need
not tape ``s``. Numba compiles each module at its first call. ``.source`` is
the module of the latest call (a generic one, valid for any arguments, before
the first call).

Compiling a function without loops can take Numba seconds (each NumPy routine it
calls is compiled anew in every process), while NumPy runs that same code at close
to compiled speed. So by default (``background=True``) the first calls of such a
function run the generated module as plain Python, as ``jit=False`` does, while
Numba compiles it in a worker process (``backend.numba_jit.BackgroundCompile``); once
compiled (and cached on disk for the next process), calls run the compiled code. A function with loops compiles at
its first call: interpreted, its loops would be far slower than compiling them.
"""
from __future__ import annotations

import functools
import html
import inspect
import linecache
import numbers
import os
import time
import warnings
from typing import Any, Callable, Sequence, Union

import numpy as np

from . import custom
from .analysis.kinds import argument_kind, check_integer_writes
from .backend import numba_jit
from .codegen.highlight import to_html
from .errors import CompileError, CompileWarning
from .ir.nodes import For, Function, Loc, While, walk
from .pipeline import Built, build, lower_function, returns_scalar

Wrt = Union[int, str, Sequence[Union[int, str]]]


def _normalize_wrt(fn: Callable[..., Any], wrt: Wrt) -> tuple[tuple[int, ...], bool]:
    """Positions of the ``wrt`` parameters, and whether a single one was asked for."""
    params = list(inspect.signature(fn).parameters)
    if isinstance(wrt, np.integer):
        wrt = int(wrt)
    single = isinstance(wrt, (int, str))
    if not single and not isinstance(wrt, Sequence):
        raise TypeError(f"wrt takes a parameter position or name, or a tuple of them, not {wrt!r}")
    items = [wrt] if single else [int(w) if isinstance(w, np.integer) else w for w in wrt]
    if not items:
        raise TypeError(f"wrt for {fn.__qualname__} is empty: name at least one parameter")
    positions = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise TypeError(f"wrt takes parameter positions or names, not {item!r}")
        if isinstance(item, str):
            if item not in params:
                raise TypeError(f"{fn.__qualname__} has no parameter {item!r} "
                                f"(its parameters: {', '.join(params)})")
            positions.append(params.index(item))
        else:
            if not -len(params) <= item < len(params):
                raise TypeError(f"wrt={item} is out of range: {fn.__qualname__} takes {len(params)} arguments")
            positions.append(item % len(params))
    if len(set(positions)) != len(positions):
        raise TypeError(f"wrt names a parameter twice: {wrt!r}")
    return tuple(positions), single


def _check_arg(fn_name: str, name: str, value: Any, differentiated: bool, as_index: bool,
               index_array: bool = False, where: Loc | None = None) -> Any:
    at = f" ({where.filename}:{where.line}: {where.text.strip()})" if where is not None else ""
    if as_index and (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral)):
        fancy = "; indexing with an array (fancy indexing) is not supported: index with ints and " \
                "slices, or read one element per index, x[idx[j]]" if isinstance(value, np.ndarray) else ""
        raise TypeError(f"argument {name!r} of {fn_name} is used in an index or a range() bound and must be "
                        f"an int, not {type(value).__name__}{at}{fancy}")
    if index_array and not (isinstance(value, np.ndarray) and value.dtype.kind in "iu"):
        got = f"an array of {value.dtype}" if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"argument {name!r} of {fn_name} has its elements used in an index and must be "
                        f"an integer array, not {got} (e.g. pass idx.astype(np.int64)){at}")
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray:  # np.matrix's * is a matrix product, a masked array's mask...
            raise TypeError(f"argument {name!r} of {fn_name} is a {type(value).__name__}, a subclass of "
                            f"np.ndarray that adjoint does not differentiate; pass a plain array "
                            f"(np.asarray({name}))")
        kind = value.dtype.kind
        if kind not in "fiub" or value.dtype == np.float16 or kind == "f" and value.dtype.itemsize > 8:
            raise TypeError(f"argument {name!r} of {fn_name} has dtype {value.dtype}; adjoint takes "
                            f"float64, float32, int and bool arrays")
        if not value.dtype.isnative:  # Numba compiles native byte order only
            raise TypeError(f"argument {name!r} of {fn_name} has dtype {value.dtype.str} (not the machine's "
                            f"byte order); convert it with {name}.astype({value.dtype.newbyteorder('=').name})")
        if differentiated and kind != "f":
            raise TypeError(f"cannot differentiate {fn_name} with respect to {name!r}: it is an array "
                            f"of {value.dtype}; pass a float array (e.g. x.astype(float))")
        return value
    if isinstance(value, (bool, np.bool_)) or isinstance(value, numbers.Integral):
        if differentiated:
            raise TypeError(f"cannot differentiate {fn_name} with respect to {name!r}: it is an int "
                            f"({value!r}); ints are never differentiated, pass a float such as {float(value)!r}")
        return int(value) if not isinstance(value, (bool, np.bool_)) else bool(value)
    if isinstance(value, (float, np.floating)) and not isinstance(value, np.float16):
        return float(value)  # NumPy scalars run as Python floats, like in NumPy arithmetic
    hint = " (convert it with np.asarray)" if isinstance(value, (list, tuple)) else ""
    raise TypeError(f"argument {name!r} of {fn_name} is a {type(value).__name__}{hint}; adjoint takes "
                    f"floats, ints and NumPy arrays")


class GradFunction:
    """``fn`` made to return its gradient (and its value, for ``value_and_grad``)."""

    def __init__(self, fn: Callable[..., Any], wrt: Wrt = 0, jit: bool = True,
                 with_value: bool = False, background: bool | None = None) -> None:
        if isinstance(fn, GradFunction):
            raise TypeError("grad of a grad (higher derivatives) is not supported yet")
        if not callable(fn):
            raise TypeError(f"adjoint.grad needs a function, got {type(fn).__name__}")
        if not inspect.isfunction(fn):
            what = "a bound method: write a module-level def that takes the numbers and arrays " \
                   "it needs as arguments" if inspect.ismethod(fn) else \
                "a class" if inspect.isclass(fn) else f"a {type(fn).__name__} object"
            raise TypeError(f"adjoint differentiates Python functions (def), not {what}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.jit = jit
        self.background = _background_default() if background is None else bool(background)
        self.with_value = with_value
        self.wrt, self._single = _normalize_wrt(fn, wrt)
        self._signature = inspect.signature(fn)
        self._params = list(self._signature.parameters)
        self._irs: dict[tuple | None, Function] = {}  # by the ranks of the arguments
        self._ir_timings: dict[str, float] = {}
        self._builds: dict[tuple | None, Built] = {}
        # a loop's reverse tapes arrays of libm results (False: computes them again, for
        # adjoint.hessian, which cannot differentiate a tape)
        self._libm_taped = True
        # grad and value_and_grad differentiate a scalar function; vjp and jacobian any
        self._scalar_result = True
        self._current: tuple | None = None  # the ranks of the latest call
        self._kinds_checked: set[tuple] = set()  # (ranks, kinds) of the arguments, checked
        self._functions: dict[tuple, Callable[..., Any]] = {}
        # compiles under way in the background: (future, the plain-Python function meanwhile)
        self._pending: dict[tuple, tuple[Any, Callable[..., Any]]] = {}
        # by _call_key of positional arguments: the final function their call runs, whether it is
        # a <name>_vjp, and their ranks
        self._calls: dict[tuple, tuple[Callable[..., Any], bool, tuple]] = {}
        self._custom_generation = custom.generation()

    def _refresh(self) -> None:
        """Forget what was built if a custom_vjp function or rule has been (re)defined since:
        a module built before binds the old ones (``@f.defvjp`` run again with a new rule)."""
        if self._custom_generation != custom.generation():
            self._custom_generation = custom.generation()
            if any("custom_function(" in built.generated.source for built in self._builds.values()):
                self._irs.clear()
                self._builds.clear()
                self._functions.clear()
                self._pending.clear()
                self._kinds_checked.clear()
                self._calls.clear()

    # -- building -----------------------------------------------------------
    def _lowered(self, ranks: tuple | None = None) -> Function:
        """The IR for arguments of these ranks (None: any)."""
        if ranks not in self._irs:
            self._irs[ranks] = lower_function(self.fn, self._ir_timings, ranks)
        return self._irs[ranks]

    def _build(self, ranks: tuple | None = None, *, current: bool = True) -> Built:
        """The module for arguments of these ranks (by default, those of the latest call)."""
        key = self._current if ranks is None and current else ranks
        if key not in self._builds:
            self._builds[key] = build(self._lowered(key), self.wrt, key, self._ir_timings,
                                     libm_taped=self._libm_taped)
        return self._builds[key]

    def source_for(self, *args: Any, **kwargs: Any) -> str:
        """The generated module that a call with these arguments runs."""
        return self._build(_ranks(self._arguments(args, kwargs))).generated.source

    @property
    def source(self) -> str:
        """The generated Python module: the forward and the adjoint (``<name>_vjp``), as the
        latest call ran it (before any call, a generic module that serves any arguments)."""
        return self._build().generated.source

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent in each pipeline stage so far (compile included after the first call)."""
        return dict(self._build().timings)

    def _compiled(self, name: str, values: Sequence[Any], extra: tuple = (),
                  ready: bool = False, key: tuple | None = None) -> Callable[..., Any]:
        """The generated function ``name`` for arguments like ``values`` (+ ``extra``, the
        seed of a pullback): compiled, unless jit=False, or unless it is compiling in the
        background (then its plain-Python version). ``ready=True``: the compiled one, waiting
        for it if need be. ``key``: the ranks of ``values``, where the caller has them."""
        key = self._current = _ranks(values) if key is None else key
        slot = self._slot(name, values, extra, key)
        if slot in self._functions:
            return self._functions[slot]
        if slot in self._pending:
            future, plain = self._pending[slot]
            if not (ready or future.done()):
                return plain
            return self._finish(slot, ready)
        built = self._build(key)
        fn = getattr(built.module, name)
        if self.jit:
            # Numba compiles the fused module (codegen/fuse.py) for float64 arrays: its loops
            # make float64 arrays, where the statements they stand for would make float32 ones
            module, path = built.for_numba(slot[2])
            numba_jit.discard_broken_cache(path)
            plain, fn = fn, numba_jit.jit(getattr(module, name))
            if self.background and not ready and not _has_loops(built.ir):
                # A worker process compiles into the cache, unless the cache has the function
                # already (then this process loads it) or it calls custom_vjp functions (they
                # live in this process only).
                here = "custom_function(" in built.generated.source or numba_jit.has_cache_index(path, name)
                path = None if here else path
                self._pending[slot] = (numba_jit.BackgroundCompile(fn, list(values) + list(extra), path, name), plain)
                return plain
        self._functions[slot] = fn
        return fn

    def _slot(self, name: str, values: Sequence[Any], extra: tuple = (), key: tuple | None = None) -> tuple:
        """What a compiled function is kept under: the ranks of the arguments (``key``, if
        given), the generated function's name, and whether Numba compiles the fused module
        (all arrays float64)."""
        return _ranks(values) if key is None else key, name, self.jit and _float64([*values, *extra])

    def _finish(self, slot: tuple, raise_error: bool = False) -> Callable[..., Any]:
        """Take the result of the background compile of ``slot``: the compiled function, or
        (with a ``CompileWarning``) the plain-Python one if Numba failed."""
        future, plain = self._pending.pop(slot)
        try:
            fn, seconds = future.result()
            self._build(slot[0], current=False).timings["compile (background)"] = seconds
        except Exception as exc:
            if raise_error and not numba_jit.is_numba_error(exc):
                raise
            if raise_error:
                raise CompileError(f"Numba could not compile the generated code of {self.fn.__qualname__}: "
                                   f"{numba_jit.first_line(exc)}. Run with jit=False to execute it as plain "
                                   f"Python, and print .source to read it.") from None
            warnings.warn(CompileWarning(
                f"Numba could not compile the generated code of {self.fn.__qualname__} "
                f"({numba_jit.first_line(exc)}); it goes on running as plain Python, as with "
                f"jit=False. Print .source to read it."), stacklevel=5)  # the user's call of the gradient
            fn = plain
        self._functions[slot] = fn
        return fn

    def wait(self) -> "GradFunction":
        """Block until the code compiling in the background is compiled; later calls run it.
        Returns the function itself, so ``adjoint.grad(f).wait()`` reads naturally."""
        for slot in list(self._pending):
            self._finish(slot)
        return self

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The original function's value, computed by the compiled forward."""
        values = self._arguments(args, kwargs)
        forward = self._compiled(self._build(_ranks(values), current=False).generated.forward_name, values)
        out = self._run(forward, values)
        # ``return x``, ``x.T``, ``x[1:]``: the value would be (a view of) an argument
        if isinstance(out, np.ndarray) and any(isinstance(v, np.ndarray) and np.may_share_memory(out, v)
                                               for v in values):
            out = out.copy()
        return out

    # -- calling ------------------------------------------------------------
    def _arguments(self, args: tuple, kwargs: dict) -> list[Any]:
        self._refresh()
        if kwargs or len(args) != len(self._params):
            try:
                bound = self._signature.bind(*args, **kwargs)
            except TypeError as exc:  # as Python says it: f() missing a required argument: 'y'
                raise TypeError(f"{self.fn.__qualname__}() {exc}") from None
            bound.apply_defaults()
            args = tuple(bound.arguments.values())
        lowered = self._lowered(_ranks(args))
        name, where = self.fn.__qualname__, dict(lowered.index_locs) if lowered.index_locs else {}
        return [_check_arg(name, p, v, i in self.wrt, p in lowered.index_params, p in lowered.index_arrays,
                           where.get(p))
                for i, (p, v) in enumerate(zip(self._params, args))]

    def _run(self, fn: Callable[..., Any], values: Sequence[Any]) -> Any:
        try:
            return fn(*values)
        except Exception as exc:
            if self.jit and numba_jit.is_numba_error(exc):
                self._explain_compile_error(values, exc)
            plain = getattr(fn, "py_func", None)
            if plain is not None:
                # Compiled code fails without a line ("unable to broadcast argument 1 to output
                # array"): the same code as plain Python fails as NumPy does, at the user's line
                # (the generated module's: the fused one Numba compiled has lines of its own).
                plain = getattr(self._build().module, plain.__name__, plain)
                try:
                    plain(*values)
                except Exception as again:
                    self._point_at_user_lines(again)
                    raise again from None
            self._point_at_user_lines(exc)
            raise

    def _point_at_user_lines(self, exc: BaseException) -> None:
        """Name, beside each frame in the generated file, the user's line it comes from."""
        built = self._build()
        tb = exc.__traceback__
        while tb is not None:
            where = built.user_line(tb.tb_lineno) if tb.tb_frame.f_code.co_filename == str(built.path) else None
            if where is not None:
                user_file, user_line = where
                text = linecache.getline(user_file, user_line).strip()
                note = (f"generated line {tb.tb_lineno} of {built.path.name} comes from "
                        f"{user_file}, line {user_line}: {text}")
                if hasattr(exc, "add_note"):
                    exc.add_note(note)
            tb = tb.tb_next

    def _explain_compile_error(self, values: Sequence[Any], exc: BaseException) -> None:
        if self._scalar_result:  # a non-scalar result is the likeliest cause: the plain forward tells
            plain = getattr(self._build().module, self._build().generated.forward_name)
            try:
                value = plain(*values)
            except Exception:
                value = None
            self._check_value(value) if value is not None else None
        types = ", ".join(f"{p}: {_describe(v)}" for p, v in zip(self._params, values))
        raise CompileError(
            f"Numba could not compile the generated code of {self.fn.__qualname__} for ({types}): "
            f"{numba_jit.first_line(exc)}. Run with jit=False to execute the same generated code "
            f"as plain Python, and print .source to read it.") from None

    def check_scalar_result(self, values: list[Any]) -> None:
        """A TypeError unless ``fn`` returns a number for these (checked) arguments: told by
        the ranks, or else by running the generated forward as plain Python."""
        key = _ranks(values)
        built = self._build(key, current=False)
        if returns_scalar(built.ir, key) is not True:
            self._check_value(getattr(built.module, built.generated.forward_name)(*values))

    def _check_value(self, value: Any) -> None:
        if value is None:
            raise TypeError(f"{self.fn.__qualname__} must return a scalar to be differentiated, but it "
                            f"returned None; return a number")
        if np.ndim(value) != 0 or not isinstance(value, (numbers.Number, np.ndarray, np.generic)):
            shape = f" of shape {np.shape(value)}" if isinstance(value, np.ndarray) else ""
            raise TypeError(f"{self.fn.__qualname__} must return a scalar to be differentiated, but it "
                            f"returned {type(value).__name__}{shape}; reduce it (e.g. np.sum) first")

    def pull(self, values: list[Any], seed: Any, scalar: bool = False,
             value: bool = True) -> tuple[Any, tuple[Any, ...]]:
        """The value and the cotangents of the ``wrt`` arguments for the output cotangent
        ``seed``; ``values`` come from ``_arguments``; ``scalar``: the value must be one.
        ``value=False``: the caller does not need it, so ``<name>_grad`` may run instead of
        ``<name>_vjp`` where the module has one (then the value, a known scalar, is None)."""
        fn, vjp, first, _ = self._pullback(values, seed, value)
        return self._pulled(fn, vjp, values, seed, scalar, first)

    def _pullback(self, values: list[Any], seed: Any, value: bool) -> tuple[Callable[..., Any], bool, str, bool]:
        """The function that pulls ``seed`` back for arguments like ``values``; whether it is
        the ``<name>_vjp`` (which returns the value too); for its first call, the name its
        time is recorded under in ``timings`` (else ""); and whether it is final (compiled, or
        plain Python for good: not a stand-in while Numba compiles in the background)."""
        key = _ranks(values)
        built = self._build(key, current=False)
        kinds = tuple(map(argument_kind, values))
        if (key, kinds) not in self._kinds_checked:  # no differentiated number written into ints
            check_integer_writes(built.ir, built.active, kinds)
            self._kinds_checked.add((key, kinds))
        generated = built.generated
        name = generated.grad_name if not value and generated.grad_name else generated.vjp_name
        slot = self._slot(name, values, (seed,), key)
        first = slot not in self._functions and slot not in self._pending
        fn = self._compiled(name, values, (seed,), key=key)
        final = slot in self._functions
        timed = ("first call (compile)" if self.jit and final else "first call") if first else ""
        return fn, name == generated.vjp_name, timed, final

    def _pulled(self, fn: Callable[..., Any], vjp: bool, values: list[Any], seed: Any,
                scalar: bool = False, timed: str = "") -> tuple[Any, tuple[Any, ...]]:
        """Run ``fn`` (``vjp``: a ``<name>_vjp``) on ``values`` and ``seed``: the value, if it
        gives it, and the cotangents of the ``wrt`` arguments. ``timed``: record the time it
        takes in ``timings`` under that name."""
        start = time.perf_counter()
        if vjp:
            result, grads = self._run(fn, values + [seed])
        else:
            result, grads = None, self._run(fn, values + [seed])
        if timed:
            self._build().timings[timed] = time.perf_counter() - start
        if scalar and vjp:  # (<name>_grad runs only for a known scalar)
            self._check_value(result)
        # (the seed too: ``return x`` hands the pullback's cotangent back as x's)
        return result, _gradients([values[i] for i in self.wrt], grads, [*values, seed])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Arguments of the types of an earlier call (arrays of the same dtype and ndim, floats,
        # ints: what _arguments passes on unchanged) go straight to the function that call
        # ran, once it is final: the per-call checks cost 10-30 us (a fifth of some gradients).
        self._refresh()
        key = None if kwargs else _call_key(args)
        known = self._calls.get(key) if key is not None else None
        if known is not None:
            fn, vjp, self._current = known
            value, out = self._pulled(fn, vjp, list(args), 1.0, scalar=True)
        else:
            values = self._arguments(args, kwargs)
            fn, vjp, timed, final = self._pullback(values, 1.0, self.with_value)
            if final and key is not None and len(args) == len(self._params):
                self._calls[key] = (fn, vjp, self._current)
            value, out = self._pulled(fn, vjp, values, 1.0, True, timed)
        result = out[0] if self._single else out
        return (float(value), result) if self.with_value else result

    def _repr_html_(self) -> str:
        """Jupyter shows the function, its wrt, and the highlighted generated source."""
        return f"<p><code>{html.escape(repr(self))}</code></p>" + to_html(self.source)

    def __repr__(self) -> str:
        kind = "value_and_grad" if self.with_value else "grad"
        wrt = ", ".join(self._params[i] for i in self.wrt)
        return f"<adjoint.{kind} of {self.fn.__qualname__} with respect to ({wrt}), jit={self.jit}>"


def _background_default() -> bool:
    """``ADJOINT_BACKGROUND=0`` makes every function compile at its first call."""
    return os.environ.get("ADJOINT_BACKGROUND", "1").strip().lower() not in ("0", "false", "no", "off")


def _float64(values: Sequence[Any]) -> bool:
    """Whether every array among ``values`` is float64 (numbers may be anything)."""
    return all(v.dtype == np.float64 for v in values if isinstance(v, np.ndarray))


def _has_loops(ir: Function) -> bool:
    return any(isinstance(stmt, (For, While)) for stmt in walk(ir.body))


def _ranks(values: Sequence[Any]) -> tuple[int | None, ...]:
    """0 for a number, ndim for an array (None for a 0-d array, which may act as either)."""
    return tuple((value.ndim or None) if isinstance(value, np.ndarray) else 0 for value in values)


def _call_key(args: tuple) -> tuple | None:
    """What decides how ``_arguments`` checks and passes on positional arguments: the dtype and
    ndim of each array, the type of each float or int; None if any is of another type (it
    may need converting: a NumPy scalar runs as a Python number)."""
    key = []
    for arg in args:
        kind = type(arg)
        if kind is np.ndarray:
            key.append((arg.dtype, arg.ndim))
        elif kind is float or kind is int:
            key.append(kind)
        else:
            return None
    return tuple(key)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype}[{', '.join(map(str, value.shape))}]"
    return type(value).__name__


def _gradients(args: Sequence[Any], grads: Sequence[Any], inputs: Sequence[Any]) -> tuple[Any, ...]:
    """Gradients in the shape and dtype of their arguments, never sharing memory with
    an input or with each other. A gradient in a memory block the compiled call allocated,
    one no input and no other gradient is in, shares none (``numba_jit.numba_block``); the
    others are compared with each input and gradient (``np.may_share_memory``, 0.3 us a pair:
    lstm's two gradients and four inputs took 2.3 us of each call)."""
    out: list[Any] = []
    arrays = [value for value in inputs if isinstance(value, np.ndarray)]
    blocks: set[int | None] | None = None
    for arg, g in zip(args, grads):
        if not isinstance(arg, np.ndarray):
            if type(g) is float:
                out.append(g)
            else:
                out.append(float(np.asarray(g).reshape(())) if np.size(g) == 1 else _shape_bug(arg, g))
            continue
        if type(g) is not np.ndarray or g.dtype != arg.dtype:
            g = np.asarray(g, dtype=arg.dtype)
        if g.shape != arg.shape:
            _shape_bug(arg, g)
        block = numba_jit.numba_block(g)
        if block is not None and blocks is None:
            blocks = {numba_jit.numba_block(value) for value in arrays}
        if block is None or block in blocks:
            for other in arrays:
                if np.may_share_memory(g, other):
                    g = g.copy()
                    break
        else:
            blocks.add(block)
        out.append(g)
        arrays.append(g)
    return tuple(out)


def _shape_bug(arg: Any, g: Any) -> Any:
    raise AssertionError(f"adjoint bug: a gradient of shape {np.shape(g)} for an argument of shape "
                         f"{np.shape(arg)}; please report it with the function's source")


def grad(fn: Callable[..., Any] | None = None, *, wrt: Wrt = 0, jit: bool = True,
         background: bool | None = None) -> Any:
    """The gradient of a scalar function with respect to ``wrt`` (API.md). ``background``:
    a function without loops runs as plain Python while Numba compiles it in a background
    thread (default: on, unless the environment sets ``ADJOINT_BACKGROUND=0``)."""
    if fn is None:
        return lambda f: GradFunction(f, wrt, jit, background=background)
    return GradFunction(fn, wrt, jit, background=background)


def value_and_grad(fn: Callable[..., Any] | None = None, *, wrt: Wrt = 0, jit: bool = True,
                   background: bool | None = None) -> Any:
    """Like ``grad``, returning ``(value, gradient)``; plugs into ``scipy.optimize.minimize(jac=True)``."""
    if fn is None:
        return lambda f: GradFunction(f, wrt, jit, with_value=True, background=background)
    return GradFunction(fn, wrt, jit, with_value=True, background=background)
