"""loop_sin: the gradient of sum_{i<n} sin(x*i)*x, n = 100,000, against a hand-written
Numba adjoint, JAX (jit(grad) over lax.fori_loop) and PyTorch eager, in one run.

    python benchmarks/loop_sin.py

Prints medians over repeats after warm-up and the ratios (absolute times drift on a shared
machine; the ratios are the figures). JAX and PyTorch are optional (pip install -e ".[bench]").
"""
from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

import numba

sys.path.insert(0, str(Path(__file__).resolve().parent))
import adjoint  # noqa: E402
from problems import loop_sin  # noqa: E402

N = 100_000


@numba.njit(cache=True)
def hand_grad(x, n):
    """The adjoint a careful person writes: no tape, one pass."""
    g = 0.0
    for i in range(n):
        g += math.sin(x * i) + x * i * math.cos(x * i)
    return g


def median_time(fn, repeats=7, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    x = 0.3
    results = {}
    start = time.perf_counter()
    grad = adjoint.grad(loop_sin)
    g = grad(x, N)
    first_call = time.perf_counter() - start
    forward = numba.njit(cache=True)(loop_sin)
    reference = hand_grad(x, N)
    assert abs(g - reference) <= 1e-9 * abs(reference), (g, reference)
    results["adjoint"] = median_time(lambda: grad(x, N))
    results["hand-written Numba"] = median_time(lambda: hand_grad(x, N))
    results["compiled forward"] = median_time(lambda: forward(x, N))
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)  # float64, like the others

        def jax_loss(x):
            return jax.lax.fori_loop(0, N, lambda i, s: s + jnp.sin(x * i) * x, 0.0)

        jax_grad = jax.jit(jax.grad(jax_loss))
        assert abs(float(jax_grad(x)) - reference) <= 1e-6 * abs(reference)
        results["JAX jit(grad) fori_loop"] = median_time(lambda: jax_grad(x).block_until_ready())
    except ImportError:
        pass
    try:
        import torch

        def torch_grad():
            xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            s = torch.zeros((), dtype=torch.float64)
            for i in range(N):
                s = s + torch.sin(xt * i) * xt
            s.backward()
            return xt.grad

        assert abs(float(torch_grad()) - reference) <= 1e-9 * abs(reference)
        results["PyTorch eager"] = median_time(torch_grad, repeats=1, warmup=0)
    except ImportError:
        pass
    base = results["adjoint"]
    print(f"loop_sin gradient, n = {N:,}; adjoint first call {first_call:.2f} s")
    for name, seconds in results.items():
        print(f"  {name:<26} {seconds * 1e3:10.2f} ms   {seconds / base:8.2f} x adjoint")


if __name__ == "__main__":
    main()
