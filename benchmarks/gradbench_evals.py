"""The GradBench evals: adjoint's gradients against JAX jit(grad) and PyTorch eager, on
the same inputs, at GradBench's default or representative sizes.

    python benchmarks/gradbench_evals.py            # all evals
    python benchmarks/gradbench_evals.py gmm lstm   # some of them

For each eval: checks that the three gradients agree, then prints the median time of
adjoint's gradient, of its own compiled primal, of JAX's jit(grad) and of PyTorch's
eager backward, and the ratios. Everything runs on one thread (as GradBench pins its
tools to one CPU); absolute times drift on a shared machine, the ratios are the figures.
JAX and PyTorch are optional (pip install -e ".[bench]"); a missing one is skipped.

The adjoint side calls the functions the GradBench tool times
(adjoint.gradbench.evals.<name>.FUNCTIONS[...].run), after the JSON conversion.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from adjoint.gradbench.evals import load_eval  # noqa: E402

try:
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp as jlogsumexp
    from jax.scipy.special import multigammaln as jmultigammaln

    jax.config.update("jax_enable_x64", True)
except ImportError:
    jax = None
try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    torch = None

RNG = np.random.default_rng(31337)


def median_time(fn, min_repeats=5, min_seconds=1.0, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    while len(times) < min_repeats or sum(times) < min_seconds:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        if len(times) >= 200:
            break
    return statistics.median(times)


# -- inputs (GradBench's JSON form) -----------------------------------------------------
def inputs():
    d, k, n = 10, 25, 1000
    l, c, b = 2, 1024, 14
    n_cams, n_points, n_obs = 49, 7776, 31843  # the size of ADBench's ba1
    return {
        "lse": ({"x": RNG.normal(size=100_000).tolist()}, "n = 100,000"),
        "llsq": ({"x": RNG.normal(size=128).tolist(), "n": 1024}, "m = 128, n = 1024"),
        "ode": ({"x": RNG.uniform(0.5, 1.5, size=1000).tolist(), "s": 10}, "n = 1000, s = 10"),
        "gmm": ({"d": d, "k": k, "n": n, "m": 0, "gamma": 1.0, "x": RNG.normal(size=(n, d)).tolist(),
                 "alpha": RNG.normal(size=k).tolist(), "mu": RNG.uniform(size=(k, d)).tolist(),
                 "q": RNG.normal(size=(k, d)).tolist(), "l": RNG.normal(size=(k, d * (d - 1) // 2)).tolist()},
                "d = 10, k = 25, n = 1000"),
        "lstm": ({"main_params": RNG.normal(size=(2 * l, 4 * b)).tolist(),
                  "extra_params": RNG.normal(size=(3, b)).tolist(),
                  "state": RNG.normal(size=(2 * l, b)).tolist(),
                  "sequence": RNG.normal(size=(c, b)).tolist()}, "l = 2, c = 1024, b = 14"),
        "ba": ({"n": n_cams, "m": n_points, "p": n_obs,
                "cam": [-0.0164, 0.0117, 0.00249, 0.0235, 0.0289, -0.4896, 399.75, 0.0, 0.0, -3.18e-07, 5.88e-13],
                "x": [-0.612, 0.572, -1.847], "w": 1.0, "feat": [-332.65, 262.09]},
               "n = 49, m = 7776, p = 31843 (ba1's size)"),
    }


# -- JAX and PyTorch versions, written the way each is fast -------------------------------
def jax_versions(name, args):
    if name == "lse":
        def f(x):
            top = jnp.max(x)
            return top + jnp.log(jnp.sum(jnp.exp(x - top)))
        g = jax.jit(jax.grad(f))
        return lambda: jax.block_until_ready(g(*args))
    if name == "llsq":
        x, n = args
        t = -1.0 + 2.0 * np.arange(n) / (n - 1)

        def f(x):
            powers = jnp.cumprod(jnp.concatenate((jnp.ones((n, 1)), jnp.repeat(t[:, None], x.shape[0] - 1, 1)), 1), 1)
            return 0.5 * jnp.sum((jnp.sign(t) - powers @ x) ** 2)
        g = jax.jit(jax.grad(f))
        return lambda: jax.block_until_ready(g(x))
    if name == "ode":
        x, s = args

        def last(x):
            def rhs(y):
                return jnp.concatenate((x[:1], x[1:] * y[:-1]))
            h = 2.0 / s

            def step(y, _):
                k1 = rhs(y); k2 = rhs(y + h / 2 * k1); k3 = rhs(y + h / 2 * k2); k4 = rhs(y + h * k3)  # noqa: E702
                return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None
            y, _ = jax.lax.scan(step, jnp.zeros_like(x), None, length=s)
            return y[-1]
        g = jax.jit(jax.grad(last))
        return lambda: jax.block_until_ready(g(x))
    if name == "gmm":
        alpha, mu, q, l, x, gamma, m, _ = args
        k, d = mu.shape
        n = x.shape[0]
        rows, cols = zip(*[(r, c) for c in range(d) for r in range(c + 1, d)])
        rows, cols = np.array(rows), np.array(cols)

        def f(alpha, mu, q, l):
            Q = jnp.zeros((k, d, d)).at[:, rows, cols].set(l) + jax.vmap(jnp.diag)(jnp.exp(q))
            Qx = jnp.einsum("kab,ikb->ika", Q, x[:, None, :] - mu[None])
            beta = alpha + jnp.sum(q, 1) - 0.5 * jnp.sum(Qx ** 2, 2)
            n_w = d + m + 1
            prior = (-jnp.sum(0.5 * gamma ** 2 * (jnp.sum(jnp.exp(q) ** 2, 1) + jnp.sum(l ** 2, 1)) - m * jnp.sum(q, 1))
                     + k * (n_w * d * jnp.log(gamma / jnp.sqrt(2.0)) - jmultigammaln(0.5 * n_w, d)))
            return jnp.sum(jlogsumexp(beta, 1)) - n * jlogsumexp(alpha) + prior - n * d * 0.5 * jnp.log(2 * jnp.pi)
        g = jax.jit(jax.grad(f, argnums=(0, 1, 2, 3)))
        return lambda: jax.block_until_ready(g(alpha, mu, q, l))
    if name == "lstm":
        main, extra, state, sequence = args
        n_layers, b = main.shape[0] // 2, sequence.shape[1]

        def f(main, extra):
            def step(st, pair):
                now, following = pair
                inp = now * extra[0]
                new = []
                for i in range(n_layers):
                    W, B = main[2 * i], main[2 * i + 1]
                    forget = jax.nn.sigmoid(inp * W[:b] + B[:b])
                    ingate = jax.nn.sigmoid(st[2 * i] * W[b:2 * b] + B[b:2 * b])
                    outgate = jax.nn.sigmoid(inp * W[2 * b:3 * b] + B[2 * b:3 * b])
                    change = jnp.tanh(st[2 * i] * W[3 * b:] + B[3 * b:])
                    cell = st[2 * i + 1] * forget + ingate * change
                    inp = outgate * jnp.tanh(cell)
                    new += [inp, cell]
                ypred = inp * extra[1] + extra[2]
                return jnp.stack(new), jnp.sum(following * (ypred - jnp.log(2.0 + jnp.sum(jnp.exp(ypred)))))
            _, totals = jax.lax.scan(step, state, (sequence[:-1], sequence[1:]))
            return -jnp.sum(totals) / ((sequence.shape[0] - 1) * b)
        g = jax.jit(jax.grad(f, argnums=(0, 1)))
        return lambda: jax.block_until_ready(g(main, extra))
    if name == "ba":
        cams, X, w, obs, feats = args

        def reproj(cam, x, w, feat):
            rot, xo = cam[0:3], x - cam[3:6]
            theta = jnp.sqrt(rot @ rot)
            axis = rot / theta
            xcam = (xo * jnp.cos(theta) + jnp.cross(axis, xo) * jnp.sin(theta)
                    + axis * (axis @ xo) * (1 - jnp.cos(theta)))
            proj = xcam[:2] / xcam[2]
            rsq = proj @ proj
            return w * (proj * (1 + cam[9] * rsq + cam[10] * rsq * rsq) * cam[6] + cam[7:9] - feat)
        blocks = jax.jit(jax.vmap(jax.jacrev(reproj, argnums=(0, 1, 2))))
        w_grad = jax.jit(jax.vmap(jax.grad(lambda w: 1.0 - w * w)))

        def run():
            return jax.block_until_ready((blocks(cams[obs[:, 0]], X[obs[:, 1]], w, feats), w_grad(w)))
        return run
    raise KeyError(name)


def torch_versions(name, args):
    T = lambda a, grad=False: torch.tensor(a, dtype=torch.float64, requires_grad=grad)  # noqa: E731
    if name == "lse":
        def run():
            x = T(args[0], True)
            top = torch.max(x).detach()
            (top + torch.log(torch.sum(torch.exp(x - top)))).backward()
            return x.grad
        return run
    if name == "llsq":
        x0, n = args
        t = torch.tensor(-1.0 + 2.0 * np.arange(n) / (n - 1))

        def run():
            x = T(x0, True)
            powers = torch.cumprod(torch.cat((torch.ones(n, 1, dtype=torch.float64),
                                              t[:, None].repeat(1, len(x0) - 1)), 1), 1)
            (0.5 * torch.sum((torch.sign(t) - powers @ x) ** 2)).backward()
            return x.grad
        return run
    if name == "ode":
        x0, s = args

        def run():
            x = T(x0, True)
            h = 2.0 / s
            rhs = lambda y: torch.cat((x[:1], x[1:] * y[:-1]))  # noqa: E731
            y = torch.zeros_like(x)
            for _ in range(s):
                k1 = rhs(y); k2 = rhs(y + h / 2 * k1); k3 = rhs(y + h / 2 * k2); k4 = rhs(y + h * k3)  # noqa: E702
                y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            y[-1].backward()
            return x.grad
        return run
    if name == "gmm":
        alpha0, mu0, q0, l0, x0, gamma, m, log_gamma_d = args
        k, d = mu0.shape
        n = x0.shape[0]
        rows, cols = zip(*[(r, c) for c in range(d) for r in range(c + 1, d)])
        x = T(x0)

        def run():
            alpha, mu, q, l = T(alpha0, True), T(mu0, True), T(q0, True), T(l0, True)
            L = torch.zeros(k, d, d, dtype=torch.float64)
            L[:, list(rows), list(cols)] = l
            Q = L + torch.diag_embed(torch.exp(q))
            Qx = torch.einsum("kab,ikb->ika", Q, x[:, None, :] - mu[None])
            beta = alpha + torch.sum(q, 1) - 0.5 * torch.sum(Qx ** 2, 2)
            n_w = d + m + 1
            prior = (-torch.sum(0.5 * gamma ** 2 * (torch.sum(torch.exp(q) ** 2, 1) + torch.sum(l ** 2, 1))
                                - m * torch.sum(q, 1))
                     + k * (n_w * d * np.log(gamma / np.sqrt(2.0)) - log_gamma_d))
            value = (torch.sum(torch.logsumexp(beta, 1)) - n * torch.logsumexp(alpha, 0) + prior
                     - n * d * 0.5 * np.log(2 * np.pi))
            value.backward()
            return alpha.grad, mu.grad, q.grad, l.grad
        return run
    if name == "lstm":
        main0, extra0, state0, sequence0 = args
        state, sequence = T(state0), T(sequence0)
        n_layers, b = main0.shape[0] // 2, sequence0.shape[1]

        def run():
            main, extra = T(main0, True), T(extra0, True)
            st = [state[i] for i in range(2 * n_layers)]
            total = 0.0
            for t in range(sequence.shape[0] - 1):
                inp = sequence[t] * extra[0]
                for i in range(n_layers):
                    W, B = main[2 * i], main[2 * i + 1]
                    forget = torch.sigmoid(inp * W[:b] + B[:b])
                    ingate = torch.sigmoid(st[2 * i] * W[b:2 * b] + B[b:2 * b])
                    outgate = torch.sigmoid(inp * W[2 * b:3 * b] + B[2 * b:3 * b])
                    change = torch.tanh(st[2 * i] * W[3 * b:] + B[3 * b:])
                    st[2 * i + 1] = st[2 * i + 1] * forget + ingate * change
                    st[2 * i] = inp = outgate * torch.tanh(st[2 * i + 1])
                ypred = inp * extra[1] + extra[2]
                total = total + torch.sum(sequence[t + 1] * (ypred - torch.log(2.0 + torch.sum(torch.exp(ypred)))))
            (-total / ((sequence.shape[0] - 1) * b)).backward()
            return main.grad, extra.grad
        return run
    if name == "ba":
        cams0, X0, w0, obs, feats0 = args
        cam_rows0, X_rows0, feats = cams0[obs[:, 0]], X0[obs[:, 1]], T(feats0)

        def cross(a, b):
            return torch.stack((a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                                a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]), 1)

        def run():
            # vectorised over observations, one backward pass per error component (as adjoint)
            blocks = []
            for r in range(2):
                cam, x, w = T(cam_rows0, True), T(X_rows0, True), T(w0, True)
                rot, xo = cam[:, 0:3], x - cam[:, 3:6]
                theta = torch.sqrt(torch.sum(rot * rot, 1, keepdim=True))
                axis = rot / theta
                xcam = (xo * torch.cos(theta) + cross(axis, xo) * torch.sin(theta)
                        + axis * torch.sum(axis * xo, 1, keepdim=True) * (1 - torch.cos(theta)))
                proj = xcam[:, :2] / xcam[:, 2:3]
                rsq = torch.sum(proj * proj, 1, keepdim=True)
                err = w[:, None] * (proj * (1 + cam[:, 9:10] * rsq + cam[:, 10:11] * rsq * rsq) * cam[:, 6:7]
                                    + cam[:, 7:9] - feats)
                torch.sum(err[:, r]).backward()
                blocks.append((cam.grad, x.grad, w.grad))
            w = T(w0, True)
            torch.sum(1.0 - w * w).backward()
            return blocks, w.grad
        return run
    raise KeyError(name)


def as_flat(name, module, ours):
    """adjoint's gradient as one flat vector in the order of the others' gradients."""
    if name == "lstm":
        return np.asarray(module.FUNCTIONS["jacobian"].output(ours))
    if name == "ba":
        return ours[2]
    return np.concatenate([np.ravel(v) for v in (ours if isinstance(ours, tuple) else (ours,))])


def flat_jax(name, value):
    if name == "ba":
        (d_cam, d_x, d_w), d_w_err = value
        blocks = np.concatenate((np.asarray(d_cam), np.asarray(d_x), np.asarray(d_w)[:, :, None]), axis=2)
        return np.concatenate((blocks.ravel(), np.asarray(d_w_err)))
    leaves = value if isinstance(value, (tuple, list)) else (value,)
    return np.concatenate([np.ravel(np.asarray(v)) for v in leaves])


def flat_torch(name, value):
    if name == "ba":
        blocks, d_w_err = value
        rows = [np.concatenate((dc.numpy(), dx.numpy(), dw.numpy()[:, None]), axis=1) for dc, dx, dw in blocks]
        return np.concatenate((np.stack(rows, axis=1).ravel(), d_w_err.numpy()))
    leaves = value if isinstance(value, (tuple, list)) else (value,)
    return np.concatenate([np.ravel(v.detach().numpy()) for v in leaves])


def agree(name, a, b, who):
    """GradBench's per-number criterion, with a much tighter tolerance than its 1e-4."""
    err = np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a) + np.abs(b)))
    assert a.shape == b.shape and err <= 1e-8, f"{name}: adjoint and {who} disagree by {err:g}"
    return err


GRADIENT = {"lse": "gradient", "llsq": "gradient", "ode": "gradient", "gmm": "jacobian", "lstm": "jacobian",
            "ba": "jacobian"}
PRIMAL = {"lse": "primal", "llsq": "primal", "ode": "primal", "gmm": "objective", "lstm": "objective",
          "ba": "objective"}


def main(names):
    table = []
    for name, (input, size) in inputs().items():
        if names and name not in names:
            continue
        module = load_eval(name)
        grad_fn, primal_fn = module.FUNCTIONS[GRADIENT[name]], module.FUNCTIONS[PRIMAL[name]]
        args = grad_fn.prepare(input)
        start = time.perf_counter()
        ours = grad_fn.run(*args)
        primal_fn.run(*args)
        row = {"eval": name, "size": size, "first calls (s)": time.perf_counter() - start}
        row["adjoint gradient"] = median_time(lambda: grad_fn.run(*args))
        row["adjoint primal"] = median_time(lambda: primal_fn.run(*args))
        flat = as_flat(name, module, ours)
        if jax is not None:
            run = jax_versions(name, args)
            row["JAX agrees to"] = agree(name, flat, flat_jax(name, run()), "JAX")
            row["JAX jit(grad)"] = median_time(run)
        if torch is not None:
            run = torch_versions(name, args)
            row["PyTorch agrees to"] = agree(name, flat, flat_torch(name, run()), "PyTorch")
            row["PyTorch eager"] = median_time(run, min_repeats=3)
        table.append(row)
        print(format_row(row), flush=True)
    print()
    print(markdown(table))


def format_row(row):
    return "  ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in row.items())


def markdown(table):
    head = ("| eval | size | adjoint gradient | adjoint primal | gradient / primal | JAX jit(grad) "
            "| adjoint / JAX | PyTorch eager | PyTorch / adjoint |")
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in table:
        ours = r["adjoint gradient"]
        jax_t, torch_t = r.get("JAX jit(grad)"), r.get("PyTorch eager")
        lines.append(f"| {r['eval']} | {r['size']} | {ms(ours)} | {ms(r['adjoint primal'])} | "
                     f"{ours / r['adjoint primal']:.2f} | {ms(jax_t)} | {ratio(ours, jax_t)} | {ms(torch_t)} | "
                     f"{ratio(torch_t, ours)} |")
    return "\n".join(lines)


def ms(t):
    return "n/a" if t is None else f"{t * 1e3:.3g} ms"


def ratio(a, b):
    return "n/a" if a is None or b is None else f"{a / b:.2f}"


if __name__ == "__main__":
    main(sys.argv[1:])
