"""loop_sin: the gradient of sum_{i<n} sin(x*i)*x with respect to x (a scalar loop)."""
from __future__ import annotations

import math

import numba

from harness import Benchmark
from problems import loop_sin


@numba.njit(cache=True)
def hand_grad(x, n):
    """The adjoint a careful person writes: no tape, one pass."""
    g = 0.0
    for i in range(n):
        g += math.sin(x * i) + x * i * math.cos(x * i)
    return g


def make(quick: bool = False) -> Benchmark:
    n = 10_000 if quick else 100_000
    x = 0.3

    def jax_version():
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def loss(x):
            return jnp.sum(jnp.sin(x * jnp.arange(n)) * x)
        g = jax.jit(jax.grad(loss))
        return lambda: g(x)

    def torch_version():
        import torch
        i = torch.arange(n, dtype=torch.float64)

        def run():
            xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            torch.sum(torch.sin(xt * i) * xt).backward()
            return xt.grad
        return run

    return Benchmark(
        name="loop_sin", title="sum of sin(x*i)*x over i < n (scalar loop)", size=f"n={n:,}",
        problem=loop_sin, args=(x, n), wrt="x", hand=lambda: hand_grad(x, n),
        jax=jax_version, torch=torch_version,
        jax_form="vectorised over arange(n)", torch_form="eager, vectorised over arange(n)")
