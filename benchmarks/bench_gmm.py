"""gmm: the ADBench/GradBench Gaussian-mixture objective (log posterior of a GMM with a
Wishart prior), gradient with respect to the weights alpha, the means mu and the
precision factors q (log-diagonal) and l (strict lower triangle).

The problem is ``gmm_objective`` of ``adjoint/gradbench/evals/gmm.py`` (written once there):
for each component j a triangular Q_j = diag(exp(q_j)) + lower(l_j), and

    beta_ij = alpha_j + sum(q_j) - 1/2 |Q_j (x_i - mu_j)|^2,
    objective = sum_i logsumexp_j beta_ij - n logsumexp(alpha)
                - 1/2 gamma^2 (|exp(q)|^2 + |l|^2) + m sum(q) + constants.

Inputs are made as GradBench's (ADBench's) generator makes them: seed 31337, alpha and
the rows [q_j, l_j] of icf and x standard normal, mu uniform on [0, 1); m = 0, gamma = 1.
"""
from __future__ import annotations

import numba
import numpy as np

from adjoint.gradbench.evals.gmm import gmm_objective, multivariate_log_gamma
from harness import Benchmark


@numba.njit(cache=True)
def hand_grad(alpha, mu, q, l, x, gamma, m):
    """All k components at once, as two (n, d) x (d, k*d)-sized matrix products.

    z_ij = Q_j (x_i - mu_j) = Q_j x_i - Q_j mu_j, so one product Z = x @ [Q_1^T ... Q_k^T]
    (n, k*d) minus the row of offsets Q_j mu_j gives every z_ij; beta_ij follows, and each
    row of beta becomes its softmax w_ij (the cotangent of beta, as d logsumexp = softmax).
    Z is overwritten by R, r_ij = w_ij z_ij, the cotangent of -z_ij, and with
    s_j = sum_i r_ij the second product G = R^T @ x gives
        dQ_j = -sum_i r_ij (x_i - mu_j)^T = -G_j + s_j mu_j^T   (only its lower triangle),
        dmu_j = Q_j^T s_j,
    while sum_i w_ij goes to alpha_j and to each q_j[a] (through sum(q_j)). The prior and
    -n logsumexp(alpha) are added in closed form; dq takes dQ's diagonal times exp(q), dl
    dQ's strict lower triangle, column by column as l is laid out. Taped: only Z and w.
    """
    n, d = x.shape
    k = alpha.shape[0]
    kd = k * d
    QT = np.zeros((d, kd))   # QT[b, j*d + a] = Q_j[a, b]
    offset = np.empty(kd)    # Q_j mu_j
    sum_q = np.empty(k)
    for j in range(k):
        o = j * d
        total = 0.0
        for a in range(d):
            QT[a, o + a] = np.exp(q[j, a])
            total += q[j, a]
        sum_q[j] = total
        index = 0
        for col in range(d):
            for row in range(col + 1, d):
                QT[col, o + row] = l[j, index]
                index += 1
        for a in range(d):
            acc = 0.0
            for b in range(a + 1):
                acc += QT[b, o + a] * mu[j, b]
            offset[o + a] = acc
    # forward: Z, beta (kept in w), then w = softmax of each row and R = w * Z in place
    Z = x @ QT
    w = np.empty((n, k))
    for i in range(n):
        top = -np.inf
        for j in range(k):
            o = j * d
            maha = 0.0
            for a in range(d):
                za = Z[i, o + a] - offset[o + a]
                Z[i, o + a] = za
                maha += za * za
            beta = alpha[j] + sum_q[j] - 0.5 * maha
            w[i, j] = beta
            top = max(top, beta)
        total = 0.0
        for j in range(k):
            e = np.exp(w[i, j] - top)
            w[i, j] = e
            total += e
        for j in range(k):
            wij = w[i, j] / total
            w[i, j] = wij
            o = j * d
            for a in range(d):
                Z[i, o + a] *= wij
    # reverse: G = R^T x, s = column sums of R, sum_i w_ij
    G = Z.T @ x
    s = np.zeros(kd)
    g_alpha = np.zeros(k)
    for i in range(n):
        for c in range(kd):
            s[c] += Z[i, c]
        for j in range(k):
            g_alpha[j] += w[i, j]
    g_mu = np.empty((k, d))
    g_q = np.empty((k, d))
    g_l = np.empty_like(l)
    g2 = gamma * gamma
    for j in range(k):
        o = j * d
        for b in range(d):
            acc = 0.0
            for a in range(b, d):
                acc += QT[b, o + a] * s[o + a]
            g_mu[j, b] = acc
        for a in range(d):
            e = QT[a, o + a]
            dQ_aa = s[o + a] * mu[j, a] - G[o + a, a]
            g_q[j, a] = g_alpha[j] + dQ_aa * e - g2 * e * e + m
        index = 0
        for col in range(d):
            for row in range(col + 1, d):
                g_l[j, index] = s[o + row] * mu[j, col] - G[o + row, col] - g2 * l[j, index]
                index += 1
    # -n logsumexp(alpha)
    top = alpha.max()
    e = np.exp(alpha - top)
    g_alpha -= n * e / e.sum()
    return g_alpha, g_mu, g_q, g_l


def gradbench_input(d: int, k: int, n: int):
    """alpha, mu, q, l, x as GradBench's gmm data generator (from ADBench's) draws them."""
    k_max, n_max = 200, 10_000  # its pools are sized for the largest k and n
    rng = np.random.RandomState(31337)
    uniform = rng.uniform(0.0, 1.0, k_max * d)
    normal = rng.normal(0.0, 1.0, k_max * (1 + d + d * (d - 1) // 2) + n_max * d)
    width = d + d * (d - 1) // 2
    alpha = normal[:k].copy()
    icf = normal[k:k + k * width].reshape(k, width)
    x = normal[k + k * width:k + k * width + n * d].reshape(n, d).copy()
    mu = uniform[:k * d].reshape(k, d).copy()
    return alpha, mu, icf[:, :d].copy(), icf[:, d:].copy(), x


def make(quick: bool = False) -> Benchmark:
    d, k, n = (10, 10, 300) if quick else (10, 25, 1000)
    alpha, mu, q, l, x = gradbench_input(d, k, n)
    gamma, m = 1.0, 0
    log_gamma_d = multivariate_log_gamma(0.5 * (d + m + 1), d)
    args = (alpha, mu, q, l, x, gamma, m, log_gamma_d)
    # Q's strict lower triangle, column by column (the order of l's entries)
    rows, cols = map(np.array, zip(*[(r, c) for c in range(d) for r in range(c + 1, d)]))

    def jax_version():
        import jax
        import jax.numpy as jnp
        from jax.scipy.special import logsumexp
        jax.config.update("jax_enable_x64", True)

        def objective(alpha, mu, q, l, x):
            Q = jnp.zeros((k, d, d)).at[:, rows, cols].set(l) + jax.vmap(jnp.diag)(jnp.exp(q))
            z = jnp.einsum("jab,ijb->ija", Q, x[:, None, :] - mu[None])
            beta = alpha + jnp.sum(q, 1) - 0.5 * jnp.sum(z * z, 2)
            prior = (-0.5 * gamma * gamma * (jnp.sum(jnp.exp(q) ** 2) + jnp.sum(l * l))
                     + m * jnp.sum(q)
                     + k * ((d + m + 1) * d * np.log(gamma / np.sqrt(2.0)) - log_gamma_d))
            return (jnp.sum(logsumexp(beta, 1)) - n * logsumexp(alpha) + prior
                    - n * d * 0.5 * np.log(2.0 * np.pi))
        g = jax.jit(jax.grad(objective, argnums=(0, 1, 2, 3)))
        jargs = tuple(jnp.asarray(a) for a in (alpha, mu, q, l, x))
        return lambda: g(*jargs)

    def torch_version():
        import torch
        tx = torch.from_numpy(x)
        params = [torch.from_numpy(a.copy()).requires_grad_() for a in (alpha, mu, q, l)]

        def run():
            for p in params:
                p.grad = None
            ta, tmu, tq, tl = params
            L = torch.zeros(k, d, d, dtype=torch.float64)
            L[:, rows, cols] = tl
            Q = L + torch.diag_embed(torch.exp(tq))
            z = torch.einsum("jab,ijb->ija", Q, tx[:, None, :] - tmu[None])
            beta = ta + torch.sum(tq, 1) - 0.5 * torch.sum(z * z, 2)
            prior = (-0.5 * gamma * gamma * (torch.sum(torch.exp(tq) ** 2) + torch.sum(tl * tl))
                     + m * torch.sum(tq)
                     + k * ((d + m + 1) * d * np.log(gamma / np.sqrt(2.0)) - log_gamma_d))
            value = (torch.sum(torch.logsumexp(beta, 1)) - n * torch.logsumexp(ta, 0) + prior
                     - n * d * 0.5 * np.log(2.0 * np.pi))
            value.backward()
            return tuple(p.grad for p in params)
        return run

    return Benchmark(
        name="gmm", title="GMM log posterior (ADBench/GradBench)",
        size=f"d={d}, k={k}, n={n:,}", problem=gmm_objective, args=args,
        wrt=("alpha", "mu", "q", "l"),
        hand=lambda: hand_grad(alpha, mu, q, l, x, gamma, m), jax=jax_version,
        torch=torch_version,
        jax_form="vectorised over points and components (einsum), jax.scipy logsumexp",
        torch_form="eager, vectorised (einsum), torch.logsumexp")
