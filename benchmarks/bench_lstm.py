"""lstm: the ADBench/GradBench LSTM objective (``adjoint/gradbench/evals/lstm.py``).

A stack of l = 2 LSTM layers with diagonal (elementwise) weights, hidden size b = 14, runs
over a sequence of c = 100 one-hot characters. At each step t < c-1 the stack reads
``sequence[t] * extra_params[0]``, predicts ``ypred = h_top * extra_params[1] +
extra_params[2]``, normalises it as ADBench does (``ypred - log(2 + sum(exp(ypred)))``) and
scores it against ``sequence[t+1]``; the objective is ``-total / ((c-1) b)``. The gradient is
taken with respect to ``main_params`` (2l x 4b: per layer a row of weights and a row of
biases for the forget, input, output and change gates) and ``extra_params`` (3 x b).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from adjoint.gradbench.evals.lstm import lstm_objective
from harness import Benchmark


@numba.njit(cache=True)
def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


@numba.njit(cache=True)
def hand_grad(main_params, extra_params, state, sequence):
    """Hand-written adjoint of ``lstm_objective``, scalar loops throughout.

    Forward: one sweep over steps, layers and the b lanes, storing per (step, layer) the
    layer input, the four gate activations, tanh of the new cell, and the hidden and cell
    states after each step (row 0: the initial state). Nothing else is kept: the loss term
    of a step only needs its softmax-like weights exp(ypred_j) / (2 + sum exp(ypred)),
    which are stored too.

    Reverse: one sweep backwards over the steps, carrying for each layer the cotangents
    of its hidden and cell state (what step t+1 sends back to step t). Within a step the
    layers are walked top to bottom; the cotangent of a layer's input is the extra
    cotangent of the hidden state of the layer below (or, for layer 0, goes to
    extra_params[0]). The weight and bias cotangents are accumulated in place into the
    two output arrays; the only allocations are the tapes and a few b-sized buffers.
    """
    n_layers = main_params.shape[0] // 2
    c, b = sequence.shape
    steps = c - 1
    # tapes
    xs = np.empty((steps, n_layers, b))        # layer inputs
    fs = np.empty((steps, n_layers, b))        # forget gate
    ins = np.empty((steps, n_layers, b))       # input gate
    outs = np.empty((steps, n_layers, b))      # output gate
    chs = np.empty((steps, n_layers, b))       # change (tanh)
    tcs = np.empty((steps, n_layers, b))       # tanh(new cell)
    hs = np.empty((steps + 1, n_layers, b))    # hidden after each step (0: initial)
    cs = np.empty((steps + 1, n_layers, b))    # cell after each step (0: initial)
    ps = np.empty((steps, b))                  # exp(ypred) / (2 + sum exp(ypred))
    for i in range(n_layers):
        for j in range(b):
            hs[0, i, j] = state[2 * i, j]
            cs[0, i, j] = state[2 * i + 1, j]
    total = 0.0
    x = np.empty(b)
    for t in range(steps):
        for j in range(b):
            x[j] = sequence[t, j] * extra_params[0, j]
        for i in range(n_layers):
            W = main_params[2 * i]
            B = main_params[2 * i + 1]
            for j in range(b):
                xj = x[j]
                hp = hs[t, i, j]
                f = _sigmoid(xj * W[j] + B[j])
                ig = _sigmoid(hp * W[b + j] + B[b + j])
                o = _sigmoid(xj * W[2 * b + j] + B[2 * b + j])
                ch = math.tanh(hp * W[3 * b + j] + B[3 * b + j])
                cell = cs[t, i, j] * f + ig * ch
                tc = math.tanh(cell)
                xs[t, i, j] = xj
                fs[t, i, j] = f
                ins[t, i, j] = ig
                outs[t, i, j] = o
                chs[t, i, j] = ch
                tcs[t, i, j] = tc
                cs[t + 1, i, j] = cell
                h = o * tc
                hs[t + 1, i, j] = h
                x[j] = h
        # x now holds the top layer's hidden state
        s = 2.0
        for j in range(b):
            ps[t, j] = math.exp(x[j] * extra_params[1, j] + extra_params[2, j])
            s += ps[t, j]
        lse = math.log(s)
        for j in range(b):
            ps[t, j] /= s
            total += sequence[t + 1, j] * (x[j] * extra_params[1, j] + extra_params[2, j] - lse)
    value = -total / (steps * b)

    gmain = np.zeros_like(main_params)
    gextra = np.zeros_like(extra_params)
    hb = np.zeros((n_layers, b))   # cotangent of each layer's hidden state (from step t+1)
    cb = np.zeros((n_layers, b))   # cotangent of each layer's cell state (from step t+1)
    xb = np.empty(b)               # cotangent flowing down the stack within a step
    g = -1.0 / (steps * b)         # d value / d total
    for t in range(steps - 1, -1, -1):
        # loss term: d/d ypred_j of sum_k s_k (ypred_k - log(2 + sum exp ypred)) is
        # s_j - (sum_k s_k) p_j
        ssum = 0.0
        for j in range(b):
            ssum += sequence[t + 1, j]
        top = n_layers - 1
        for j in range(b):
            yb = g * (sequence[t + 1, j] - ssum * ps[t, j])
            gextra[1, j] += yb * hs[t + 1, top, j]
            gextra[2, j] += yb
            xb[j] = yb * extra_params[1, j]   # cotangent of the top hidden state
        for i in range(n_layers - 1, -1, -1):
            W = main_params[2 * i]
            GW = gmain[2 * i]
            GB = gmain[2 * i + 1]
            for j in range(b):
                o = outs[t, i, j]
                tc = tcs[t, i, j]
                f = fs[t, i, j]
                ig = ins[t, i, j]
                ch = chs[t, i, j]
                xj = xs[t, i, j]
                hp = hs[t, i, j]
                hbar = xb[j] + hb[i, j]
                cbar = cb[i, j] + hbar * o * (1.0 - tc * tc)
                # pre-activation cotangents of the four gates
                zf = cbar * cs[t, i, j] * f * (1.0 - f)
                zi = cbar * ch * ig * (1.0 - ig)
                zo = hbar * tc * o * (1.0 - o)
                zc = cbar * ig * (1.0 - ch * ch)
                GW[j] += zf * xj
                GB[j] += zf
                GW[b + j] += zi * hp
                GB[b + j] += zi
                GW[2 * b + j] += zo * xj
                GB[2 * b + j] += zo
                GW[3 * b + j] += zc * hp
                GB[3 * b + j] += zc
                # to step t-1's states of this layer, and down to the layer below
                cb[i, j] = cbar * f
                hb[i, j] = zi * W[b + j] + zc * W[3 * b + j]
                xb[j] = zf * W[j] + zo * W[2 * b + j]
        for j in range(b):
            gextra[0, j] += xb[j] * sequence[t, j]
    return value, gmain, gextra


def make(quick: bool = False) -> Benchmark:
    n_layers, b = 2, 14
    c = 25 if quick else 100
    rng = np.random.default_rng(0)
    main_params = rng.normal(size=(2 * n_layers, 4 * b))
    extra_params = rng.normal(size=(3, b))
    state = rng.normal(size=(2 * n_layers, b))
    sequence = np.zeros((c, b))  # one-hot characters, as ADBench's text
    sequence[np.arange(c), rng.integers(0, b, size=c)] = 1.0
    args = (main_params, extra_params, state, sequence)

    def hand():
        _, gmain, gextra = hand_grad(*args)
        return gmain, gextra

    def jax_version():
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def loss(main, extra, state, sequence):
            def step(st, pair):
                now, following = pair
                inp = now * extra[0]
                new = []
                for i in range(n_layers):
                    W, B = main[2 * i], main[2 * i + 1]
                    h, cell = st[2 * i], st[2 * i + 1]
                    forget = jax.nn.sigmoid(inp * W[:b] + B[:b])
                    ingate = jax.nn.sigmoid(h * W[b:2 * b] + B[b:2 * b])
                    outgate = jax.nn.sigmoid(inp * W[2 * b:3 * b] + B[2 * b:3 * b])
                    change = jnp.tanh(h * W[3 * b:] + B[3 * b:])
                    cell = cell * forget + ingate * change
                    inp = outgate * jnp.tanh(cell)
                    new += [inp, cell]
                ypred = inp * extra[1] + extra[2]
                ynorm = ypred - jnp.log(2.0 + jnp.sum(jnp.exp(ypred)))
                return jnp.stack(new), jnp.sum(following * ynorm)
            _, totals = jax.lax.scan(step, state, (sequence[:-1], sequence[1:]))
            return -jnp.sum(totals) / ((sequence.shape[0] - 1) * b)
        g = jax.jit(jax.grad(loss, argnums=(0, 1)))
        jm, je, js, jseq = (jnp.asarray(a) for a in args)
        return lambda: g(jm, je, js, jseq)

    def torch_version():
        import torch
        tstate, tseq = torch.from_numpy(state), torch.from_numpy(sequence)

        def run():
            main = torch.from_numpy(main_params).clone().requires_grad_()
            extra = torch.from_numpy(extra_params).clone().requires_grad_()
            st = [tstate[k] for k in range(2 * n_layers)]
            total = 0.0
            for t in range(c - 1):
                inp = tseq[t] * extra[0]
                for i in range(n_layers):
                    W, B = main[2 * i], main[2 * i + 1]
                    forget = torch.sigmoid(inp * W[:b] + B[:b])
                    ingate = torch.sigmoid(st[2 * i] * W[b:2 * b] + B[b:2 * b])
                    outgate = torch.sigmoid(inp * W[2 * b:3 * b] + B[2 * b:3 * b])
                    change = torch.tanh(st[2 * i] * W[3 * b:] + B[3 * b:])
                    st[2 * i + 1] = st[2 * i + 1] * forget + ingate * change
                    st[2 * i] = inp = outgate * torch.tanh(st[2 * i + 1])
                ypred = inp * extra[1] + extra[2]
                ynorm = ypred - torch.log(2.0 + torch.sum(torch.exp(ypred)))
                total = total + torch.sum(tseq[t + 1] * ynorm)
            (-total / ((c - 1) * b)).backward()
            return main.grad, extra.grad
        return run

    return Benchmark(
        name="lstm", title="ADBench LSTM objective (diagonal weights), one-hot sequence",
        size=f"l={n_layers}, b={b}, c={c}", problem=lstm_objective, args=args,
        wrt=("main_params", "extra_params"), hand=hand, jax=jax_version, torch=torch_version,
        jax_form="lax.scan over the characters, layers unrolled, b-vector ops",
        torch_form="eager Python loop over characters and layers, b-vector ops")
