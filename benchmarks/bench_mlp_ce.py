"""mlp_ce: a 2-layer tanh MLP with softmax cross-entropy, gradient w.r.t. W1, b1, W2, b2."""
from __future__ import annotations

import numba
import numpy as np

from harness import Benchmark
from problems import mlp_ce


@numba.njit(cache=True)
def hand_grad(W1, b1, W2, b2, X, Y):
    """Backpropagation written out: softmax + cross-entropy fused into p - Y (Y one-hot)."""
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    p = np.empty_like(z)
    for r in range(n):
        m = z[r].max()
        e = np.exp(z[r] - m)
        p[r] = e / e.sum()
    dz = (p - Y) / n
    gW2 = h.T @ dz
    gb2 = dz.sum(axis=0)
    da = (dz @ W2.T) * (1.0 - h * h)
    gW1 = X.T @ da
    gb1 = da.sum(axis=0)
    return gW1, gb1, gW2, gb2


def make(quick: bool = False) -> Benchmark:
    batch, d_in, d_hidden, d_out = 256, 64, 128, 10
    rng = np.random.default_rng(0)
    W1 = rng.normal(size=(d_in, d_hidden)) / np.sqrt(d_in)
    b1 = 0.1 * rng.normal(size=d_hidden)
    W2 = rng.normal(size=(d_hidden, d_out)) / np.sqrt(d_hidden)
    b2 = 0.1 * rng.normal(size=d_out)
    X = rng.normal(size=(batch, d_in))
    Y = np.eye(d_out)[rng.integers(0, d_out, size=batch)]
    args = (W1, b1, W2, b2, X, Y)

    def jax_version():
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def loss(W1, b1, W2, b2, X, Y):
            z = jnp.tanh(X @ W1 + b1) @ W2 + b2
            return -jnp.sum(Y * jax.nn.log_softmax(z, axis=1)) / X.shape[0]
        g = jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3)))
        jargs = tuple(jnp.asarray(a) for a in args)
        return lambda: g(*jargs)

    def torch_version():
        import torch
        tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
        params = [torch.from_numpy(a.copy()).requires_grad_() for a in (W1, b1, W2, b2)]

        def run():
            for p in params:
                p.grad = None
            W1t, b1t, W2t, b2t = params
            z = torch.tanh(tX @ W1t + b1t) @ W2t + b2t
            loss = -torch.sum(tY * torch.log_softmax(z, dim=1)) / tX.shape[0]
            loss.backward()
            return tuple(p.grad for p in params)
        return run

    return Benchmark(
        name="mlp_ce", title="2-layer tanh MLP, softmax cross-entropy",
        size=f"batch {batch}, {d_in}-{d_hidden}-{d_out}",
        problem=mlp_ce, args=args, wrt=("W1", "b1", "W2", "b2"),
        hand=lambda: hand_grad(*args), jax=jax_version, torch=torch_version,
        jax_form="vectorised, jax.nn.log_softmax", torch_form="eager, torch.log_softmax")
