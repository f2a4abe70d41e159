"""GradBench ``gmm``: the log posterior of a Gaussian mixture model with a Wishart prior
(the ADBench GMM objective), and its gradient.

Component j has weight parameter alpha_j, mean mu_j and the lower-triangular matrix
Q_j whose diagonal is exp(q_j) and whose strict lower triangle holds l_j, column by
column. Q_j is the Cholesky-like factor of the precision matrix (Sigma_j^-1 = Q_j^T Q_j),
so with beta_ij = alpha_j + sum(q_j) - 1/2 |Q_j (x_i - mu_j)|^2,

    objective = sum_i logsumexp_j(beta_ij) - n logsumexp(alpha)
                - sum_j (1/2 gamma^2 (|exp(q_j)|^2 + |l_j|^2) - m sum(q_j))
                + k (n_w d log(gamma / sqrt 2) - log Gamma_d(n_w / 2)) - n d/2 log(2 pi)

with n_w = d + m + 1 and Gamma_d the multivariate gamma function.

Input ``{"d", "k", "n", "m", "gamma", "x": [n][d], "alpha": [k], "mu": [k][d],
"q": [k][d], "l": [k][d(d-1)/2]}``. ``objective`` returns a float; ``jacobian``
returns the gradient as ``{"alpha": [k], "mu": [k][d], "q": [k][d], "l": [k][...]}``.
"""
import math

import numpy as np

import adjoint

from . import Function, floats


def logsumexp(v):
    top = np.max(v)
    return top + np.log(np.sum(np.exp(v - top)))


def logsumexp_rows(a):
    """logsumexp of each row of a matrix."""
    top = np.max(a, axis=1)
    return top + np.log(np.sum(np.exp(a - top.reshape(-1, 1)), axis=1))


def precision_factor(q_j, l_j):
    """Q_j: exp(q_j) on the diagonal, l_j below it, filled column by column."""
    d = q_j.shape[0]
    Q = np.zeros((d, d))
    for i in range(d):
        Q[i, i] = np.exp(q_j[i])
    index = 0
    for col in range(d):
        for row in range(col + 1, d):
            Q[row, col] = l_j[index]
            index += 1
    return Q


def gmm_objective(alpha, mu, q, l, x, gamma, m, log_gamma_d):
    """The log posterior; ``log_gamma_d`` is the constant log Gamma_d((d + m + 1) / 2)."""
    n, d = x.shape
    k = alpha.shape[0]
    sum_q = np.sum(q, axis=1)
    # beta[i, j]: the log of component j's weighted density at x_i, up to constants
    beta = np.empty((n, k))
    for j in range(k):
        Q = precision_factor(q[j], l[j])
        centered = x - mu[j]
        mahalanobis = np.sum((centered @ Q.T) ** 2, axis=1)
        beta[:, j] = alpha[j] + sum_q[j] - 0.5 * mahalanobis
    likelihood = np.sum(logsumexp_rows(beta)) - n * logsumexp(alpha)
    frobenius = np.sum(np.exp(q) ** 2) + np.sum(l ** 2)
    n_wishart = d + m + 1
    prior = (-(0.5 * gamma * gamma * frobenius - m * np.sum(sum_q))
             + k * (n_wishart * d * np.log(gamma / np.sqrt(2.0)) - log_gamma_d))
    return likelihood + prior - n * d * 0.5 * np.log(2.0 * np.pi)


def multivariate_log_gamma(a, p):
    """log Gamma_p(a), a constant of the objective (no derivative needed)."""
    return 0.25 * p * (p - 1) * math.log(math.pi) + sum(math.lgamma(a + 0.5 * (1 - j))
                                                         for j in range(1, p + 1))


gmm_grad = adjoint.grad(gmm_objective, wrt=("alpha", "mu", "q", "l"), background=False)


def prepare(input):
    d, k = int(input["d"]), int(input["k"])
    alpha = np.asarray(input["alpha"], dtype=np.float64)
    mu = np.asarray(input["mu"], dtype=np.float64).reshape(k, d)
    q = np.asarray(input["q"], dtype=np.float64).reshape(k, d)
    l = np.asarray(input["l"], dtype=np.float64).reshape(k, d * (d - 1) // 2)
    x = np.asarray(input["x"], dtype=np.float64).reshape(-1, d)
    m = int(input["m"])
    return alpha, mu, q, l, x, float(input["gamma"]), m, multivariate_log_gamma(0.5 * (d + m + 1), d)


def jacobian_output(grads):
    alpha, mu, q, l = grads
    return {"alpha": floats(alpha), "mu": floats(mu), "q": floats(q), "l": floats(l)}


FUNCTIONS = {
    "objective": Function(prepare, gmm_grad.forward, float),
    "jacobian": Function(prepare, gmm_grad, jacobian_output),
}

TINY_INPUT = {
    "d": 3, "k": 2, "n": 4, "m": 0, "gamma": 1.0,
    "x": [[0.1, 0.2, -0.3], [1.0, -0.5, 0.25], [-0.7, 0.3, 0.9], [0.4, 0.4, -1.2]],
    "alpha": [0.3, -0.2],
    "mu": [[0.1, 0.0, 0.2], [-0.3, 0.5, 0.1]],
    "q": [[0.1, -0.2, 0.05], [0.0, 0.3, -0.1]],
    "l": [[0.2, -0.1, 0.4], [0.05, 0.3, -0.2]],
}
