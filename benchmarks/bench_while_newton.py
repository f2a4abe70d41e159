"""while_newton: per element of b, Newton's method on z**3 + c*z = b[k] in a while loop
until |f| < 1e-12; gradient of the sum of the roots with respect to b."""
from __future__ import annotations

import numba
import numpy as np

from harness import Benchmark, Unsupported
from problems import while_newton


@numba.njit(cache=True)
def hand_grad(b, c):
    """One input per root: carry the tangent dz/db[k] through the same iterations (forward
    mode is the cheapest exact derivative here, no tape)."""
    g = np.empty_like(b)
    for k in range(b.shape[0]):
        z = b[k] / (1.0 + c)
        dz = 1.0 / (1.0 + c)
        f = z * z * z + c * z - b[k]
        while abs(f) >= 1e-12:
            fp = 3.0 * z * z + c
            dz = 1.0 / fp + 6.0 * z * f * dz / (fp * fp)
            z = z - f / fp
            f = z * z * z + c * z - b[k]
        g[k] = dz
    return g


def make(quick: bool = False) -> Benchmark:
    n = 1_000 if quick else 10_000
    rng = np.random.default_rng(0)
    b = 3.0 * rng.normal(size=n)
    c = 1.5

    def jax_version():
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def loss(b):
            def residual(z):
                return z * z * z + c * z - b

            def body(z):
                f = residual(z)
                return jnp.where(jnp.abs(f) >= 1e-12, z - f / (3.0 * z * z + c), z)
            z = jax.lax.while_loop(lambda z: jnp.any(jnp.abs(residual(z)) >= 1e-12), body,
                                   b / (1.0 + c))
            return jnp.sum(z)
        g = jax.jit(jax.grad(loss))
        jb = jnp.asarray(b)
        try:
            g(jb)
        except ValueError as exc:  # JAX refuses: while_loop has no reverse-mode derivative
            raise Unsupported("JAX cannot reverse-differentiate lax.while_loop (jax.grad "
                              "raises ValueError: " + str(exc).split(". ")[0] + ")") from None
        return lambda: g(jb)

    def torch_version():
        import torch
        tb = torch.from_numpy(b)

        def run():
            bt = tb.clone().requires_grad_()
            z = bt / (1.0 + c)
            f = z * z * z + c * z - bt
            active = torch.abs(f) >= 1e-12
            while bool(active.any()):
                z = torch.where(active, z - f / (3.0 * z * z + c), z)
                f = z * z * z + c * z - bt
                active = torch.abs(f) >= 1e-12
            z.sum().backward()
            return bt.grad
        return run

    return Benchmark(
        name="while_newton", title="Newton while-loop per element, sum of the roots",
        size=f"n={n:,}", problem=while_newton, args=(b, c), wrt="b",
        hand=lambda: hand_grad(b, c), jax=jax_version, torch=torch_version,
        jax_form="lax.while_loop (vectorised, masked)",
        torch_form="eager, vectorised Newton with a mask (torch.where)")
