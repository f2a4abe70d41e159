"""Composition benchmarks (issue 5), in one run:

1. a helper function called inside a 100,000-iteration loop, against the same code with
   the helper written inline (adjoint inlines helpers, so the two should cost the same);
2. the Hessian of the 100-dimensional Rosenbrock function: adjoint.hessian (the generated
   gradient, differentiated again) against jax.jit(jax.hessian(f)).

    python benchmarks/composition.py

Medians of interleaved calls after warm-up (benchmarks/harness.py); the ratios are the
figures on a shared machine.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import adjoint  # noqa: E402
from harness import median_times  # noqa: E402

N_LOOP = 100_000
N_ROSENBROCK = 100


def smooth_abs(v):
    return math.sqrt(v * v + 1e-3)


def with_helper(x, n):
    s = 0.0
    for i in range(n):
        s = s + smooth_abs(math.sin(x * i))
    return s


def inline(x, n):
    s = 0.0
    for i in range(n):
        v = math.sin(x * i)
        s = s + math.sqrt(v * v + 1e-3)
    return s


def rosenbrock(x):
    a = x[1:] - x[:-1] * x[:-1]
    b = 1.0 - x[:-1]
    return np.sum(100.0 * a * a + b * b)


def _first_call(make):
    start = time.perf_counter()
    result = make()
    return result, time.perf_counter() - start


def helper_in_loop() -> None:
    x = 0.3
    helper, inline_grad = adjoint.grad(with_helper), adjoint.grad(inline)
    g1, t1 = _first_call(lambda: helper(x, N_LOOP))
    g2, t2 = _first_call(lambda: inline_grad(x, N_LOOP))
    assert abs(g1 - g2) <= 1e-10 * abs(g2), (g1, g2)
    times = median_times({"helper": lambda: helper(x, N_LOOP), "inline": lambda: inline_grad(x, N_LOOP)})
    print(f"helper inside a {N_LOOP:,}-iteration loop (first calls {t1:.2f} s, {t2:.2f} s)")
    for label, (median, count, fastest) in times.items():
        print(f"  {label:<8} {median * 1e3:8.3f} ms  (fastest {fastest * 1e3:.3f} ms, {count} calls)")
    print(f"  helper / inline: {times['helper'][0] / times['inline'][0]:.2f} (median), "
          f"{times['helper'][2] / times['inline'][2]:.2f} (fastest)")


def hessian() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.5, N_ROSENBROCK)
    hess = adjoint.hessian(rosenbrock)
    h, first = _first_call(lambda: hess(x))
    fns = {"adjoint.hessian": lambda: hess(x)}
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def rosen_jax(v):
            a = v[1:] - v[:-1] * v[:-1]
            b = 1.0 - v[:-1]
            return jnp.sum(100.0 * a * a + b * b)

        jax_hess = jax.jit(jax.hessian(rosen_jax))
        xj = jnp.asarray(x)
        expected, jax_first = _first_call(lambda: np.asarray(jax_hess(xj)))
        np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-9)
        fns["jax.jit(jax.hessian)"] = lambda: jax_hess(xj).block_until_ready()
    except ImportError:
        jax_first = None
        print("  (JAX is not installed: pip install -e '.[bench]')")
    times = median_times(fns)
    firsts = f"first calls {first:.2f} s" + (f", JAX {jax_first:.2f} s" if jax_first is not None else "")
    print(f"Hessian of the {N_ROSENBROCK}-dimensional Rosenbrock function ({firsts})")
    for label, (median, count, fastest) in times.items():
        print(f"  {label:<22} {median * 1e3:8.3f} ms  (fastest {fastest * 1e3:.3f} ms, {count} calls)")
    if len(times) == 2:
        ours, theirs = times["adjoint.hessian"], times["jax.jit(jax.hessian)"]
        print(f"  JAX / adjoint: {theirs[0] / ours[0]:.2f} (median), {theirs[2] / ours[2]:.2f} (fastest)")


if __name__ == "__main__":
    helper_in_loop()
    hessian()
