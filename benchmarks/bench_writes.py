"""writes: a recurrence written element by element, y[i] = a * y[i-1] + sin(x[i]), loss
sum(y * y); gradient with respect to x and a."""
from __future__ import annotations

import math

import numba
import numpy as np

from harness import Benchmark
from problems import writes


@numba.njit(cache=True)
def hand_grad(x, a):
    """Forward keeps y; the reverse carries one scalar cotangent of y[i] down the chain."""
    n = x.shape[0]
    y = np.empty(n)
    y[0] = x[0]
    for i in range(1, n):
        y[i] = a * y[i - 1] + math.sin(x[i])
    gx = np.empty(n)
    ga = 0.0
    yb = 0.0
    for i in range(n - 1, 0, -1):
        yb = 2.0 * y[i] + a * yb      # d loss / d y[i], including what y[i+1] adds
        gx[i] = yb * math.cos(x[i])
        ga += yb * y[i - 1]
    gx[0] = 2.0 * y[0] + a * yb
    return gx, ga


def make(quick: bool = False) -> Benchmark:
    n = 10_000 if quick else 100_000
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    a = 0.9

    def jax_version():
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def loss(x, a):
            def step(prev, s):
                y = a * prev + s
                return y, y
            _, ys = jax.lax.scan(step, x[0], jnp.sin(x[1:]))
            return x[0] * x[0] + jnp.sum(ys * ys)
        g = jax.jit(jax.grad(loss, argnums=(0, 1)))
        jx = jnp.asarray(x)
        return lambda: g(jx, a)

    def torch_version():
        import torch
        tx = torch.from_numpy(x)

        def run():
            xt = tx.clone().requires_grad_()
            at = torch.tensor(a, dtype=torch.float64, requires_grad=True)
            s = torch.sin(xt)
            y = xt[0]
            ys = [y]
            for i in range(1, n):
                y = at * y + s[i]
                ys.append(y)
            y = torch.stack(ys)
            torch.sum(y * y).backward()
            return xt.grad, at.grad
        return run

    return Benchmark(
        name="writes", title="element writes y[i] = a*y[i-1] + sin(x[i]), sum(y*y)",
        size=f"n={n:,}", problem=writes, args=(x, a), wrt=("x", "a"),
        hand=lambda: hand_grad(x, a), jax=jax_version, torch=torch_version,
        jax_form="lax.scan over the recurrence, sin vectorised",
        torch_form="eager Python loop, sin vectorised")
