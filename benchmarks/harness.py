"""Shared benchmark machinery: the description of a benchmark, timing (median over repeats
after warm-up, in one process), the agreement check, and running one benchmark.

A benchmark module (``bench_<name>.py``) defines ``make(quick: bool) -> Benchmark``.
"""
from __future__ import annotations

import statistics
import time
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numba
import numpy as np

import adjoint

RTOL = 1e-8  # every implementation's gradient must agree with the hand-written one to this


class Unsupported(Exception):
    """Raised by a JAX or PyTorch factory when the framework cannot compute this gradient;
    its message goes into the table instead of a time."""


@dataclass
class Benchmark:
    name: str
    title: str
    size: str
    problem: Callable[..., float]            # the function in adjoint's subset (problems.py)
    args: tuple                              # its arguments
    wrt: Any                                 # adjoint's wrt (a name or a tuple of names)
    hand: Callable[[], tuple]                # the hand-written Numba adjoint: () -> gradients
    jax: Optional[Callable[[], Callable[[], tuple]]] = None    # factory: () -> (() -> gradients)
    torch: Optional[Callable[[], Callable[[], tuple]]] = None  # factory: () -> (() -> gradients)
    jax_form: str = ""
    torch_form: str = ""
    notes: list = field(default_factory=list)


def median_times(fns: dict, repeats: int = 21, warmup: int = 2,
                 budget: float = 20.0) -> dict:
    """Median wall time of each ``fn()`` in ``fns`` (label -> function) over ``repeats``
    calls after ``warmup`` calls, as ``label -> (median seconds, timed calls, fastest
    seconds)``. The timed calls are interleaved (one call of each function per round), so
    that a change in the load of a shared machine hits all of them alike. Each timed call
    right follows an untimed call of the same function: the first call after another
    function, or after a pause, runs cold (caches, branch predictors, clock), by a similar
    absolute time for every function, which weighs most on the shortest (measured on
    ``ode``: adjoint 0.76 ms instead of 0.53, the compiled forward 0.37 instead of 0.19,
    the hand-written adjoint 0.48 instead of 0.40). A slow function gets fewer calls (at
    least one), about ``budget`` seconds' worth; one whose calls take over a second, no
    untimed calls."""
    counts, slow = {}, {}
    for label, fn in fns.items():
        last = 0.0
        for _ in range(max(warmup, 1)):
            start = time.perf_counter()
            fn()
            last = time.perf_counter() - start
            if last > budget / 4:  # slow: one warm-up is enough
                break
        counts[label] = max(1, min(repeats, int(budget / max(last, 1e-9))))
        slow[label] = last > 1.0
    measured = {label: [] for label in fns}
    for round_ in range(max(counts.values())):
        for label, fn in fns.items():
            if round_ < counts[label]:
                if not slow[label]:
                    fn()  # untimed: the timed call runs warm, as in a loop of calls
                start = time.perf_counter()
                fn()
                measured[label].append(time.perf_counter() - start)
    return {label: (statistics.median(times), len(times), min(times))
            for label, times in measured.items()}


def as_tuple(grads: Any) -> tuple:
    return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)


def to_numpy(g: Any) -> np.ndarray:
    if hasattr(g, "detach"):  # torch
        g = g.detach().cpu().numpy()
    return np.asarray(g, dtype=np.float64)


def max_rel_error(got: tuple, ref: tuple) -> float:
    """max over the gradients of max|got - ref| / max|ref| (a norm-wise relative error)."""
    worst = 0.0
    if len(got) != len(ref):
        return float("inf")
    for g, r in zip(got, ref):
        g, r = to_numpy(g), to_numpy(r)
        if g.shape != r.shape:
            return float("inf")
        scale = max(float(np.max(np.abs(r))), 1e-300)
        worst = max(worst, float(np.max(np.abs(g - r))) / scale)
    return worst


def njit_problem(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` under ``numba.njit``: the compiled forward. Plain Python helpers it calls from
    its module (inlined by adjoint) are compiled too, so the problem stays plain Python."""
    helpers = {}
    for name in fn.__code__.co_names:
        value = fn.__globals__.get(name)
        if isinstance(value, types.FunctionType) and value.__module__ == fn.__module__:
            helpers[name] = njit_problem(value)
    if not helpers:
        return numba.njit(fn)
    copy = types.FunctionType(fn.__code__, {**fn.__globals__, **helpers}, fn.__name__,
                              fn.__defaults__, fn.__closure__)
    return numba.njit(copy)


def _framework(factory, label, reference) -> tuple[dict, Optional[Callable[[], Any]]]:
    """Build, run once and check a JAX or PyTorch version: its entry, and the function to time."""
    if factory is None:
        return {"status": "n/a", "note": f"no {label} version"}, None
    try:
        start = time.perf_counter()
        run = factory()
        grads = run()
        _block(grads)
        first = time.perf_counter() - start
    except ImportError as exc:
        return {"status": "missing", "note": f"{label} not installed ({exc.name})"}, None
    except Unsupported as exc:
        return {"status": "unsupported", "note": str(exc)}, None
    err = max_rel_error(as_tuple(grads), reference)
    if not err <= RTOL:
        raise AssertionError(f"{label} gradient disagrees with the hand-written one: "
                             f"relative error {err:.3g}")

    def timed():
        _block(run())
    return {"status": "ok", "first_call": first, "rel_error": err}, timed


def _block(grads: Any) -> None:
    for g in as_tuple(grads):
        if hasattr(g, "block_until_ready"):
            g.block_until_ready()


def run(bench: Benchmark, repeats: int = 21, warmup: int = 2, budget: float = 20.0,
        frameworks: tuple = ("jax", "torch")) -> dict:
    """Check that every implementation agrees, then time each; returns a JSON-able dict."""
    args = bench.args
    start = time.perf_counter()
    grad = adjoint.grad(bench.problem, wrt=bench.wrt)
    first = as_tuple(grad(*args))
    first_call = time.perf_counter() - start  # the first answer (plain Python if compiling behind)
    grad.wait()
    compiled_after = time.perf_counter() - start  # compiled code ready
    got = as_tuple(grad(*args))
    stages = grad.timings
    if not max_rel_error(first, got) <= RTOL:
        raise AssertionError(f"{bench.name}: adjoint's first (plain Python) and compiled gradients differ")

    reference = as_tuple(bench.hand())
    err = max_rel_error(got, reference)
    if not err <= RTOL:
        raise AssertionError(f"{bench.name}: adjoint's gradient disagrees with the hand-written "
                             f"one: relative error {err:.3g}")
    forward = njit_problem(bench.problem)
    forward_form = "numba.njit of the problem function"
    try:
        value = forward(*args)
    except numba.core.errors.TypingError as exc:
        # Numba cannot compile some NumPy (np.max(z, axis=1)): time adjoint's own compiled
        # forward, the generated forward module, instead.
        reason = next((line.strip() for line in str(exc).splitlines() if ">>>" in line), "")
        forward = grad.forward
        forward_form = f"adjoint's compiled forward (numba.njit fails: {reason.lstrip('> ')})"
        value = forward(*args)
    plain = bench.problem(*args)
    if not abs(value - plain) <= 1e-9 * max(abs(plain), 1.0):
        raise AssertionError(f"{bench.name}: compiled forward {value} != plain Python {plain}")

    result = {"name": bench.name, "title": bench.title, "size": bench.size,
              "adjoint_first_call": first_call, "adjoint_compiled_after": compiled_after,
              "adjoint_stages": {k: float(v) for k, v in stages.items()},
              "adjoint_rel_error": err, "notes": list(bench.notes)}
    timed = {"adjoint": lambda: grad(*args), "hand": bench.hand, "forward": lambda: forward(*args)}
    for label in ("adjoint", "hand", "forward"):
        result[label] = {"status": "ok"}
    result["forward"]["form"] = forward_form
    for label, name in (("jax", "JAX"), ("torch", "PyTorch")):
        if label in frameworks:
            result[label], fn = _framework(getattr(bench, label), name, reference)
            result[label]["form"] = getattr(bench, f"{label}_form")
            if fn is not None:
                timed[label] = fn
    for label, (seconds, n, fastest) in median_times(timed, repeats, warmup, budget).items():
        result[label].update(seconds=seconds, repeats=n, fastest=fastest)
    return result


def seconds_of(result: dict, label: str, key: str = "seconds") -> Optional[float]:
    """The median (``key="seconds"``) or fastest (``key="fastest"``) time of an entry."""
    entry = result.get(label) or {}
    return entry.get(key) if entry.get("status") == "ok" else None


def ratios(result: dict, key: str = "seconds") -> dict:
    """adjoint/hand, adjoint/forward, JAX/adjoint, PyTorch/adjoint (None where missing),
    of the median times, or of the fastest calls with ``key="fastest"``."""
    a = seconds_of(result, "adjoint", key)
    h, f = seconds_of(result, "hand", key), seconds_of(result, "forward", key)
    j, t = seconds_of(result, "jax", key), seconds_of(result, "torch", key)
    return {"adjoint/hand": a / h if h else None,
            "adjoint/forward": a / f if f else None,
            "JAX/adjoint": j / a if j else None,
            "PyTorch/adjoint": t / a if t else None}
