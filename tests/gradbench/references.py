"""Independent NumPy implementations of the GradBench evals, written the way GradBench's
C++ reference writes them (plain loops), to check adjoint's primal values; their
central differences check adjoint's gradients."""
from __future__ import annotations

import math

import numpy as np
from scipy.special import multigammaln


def lse(x):
    return float(np.log(np.sum(np.exp(x))))


def llsq(x, n):
    total = 0.0
    for i in range(n):
        t = -1.0 + 2.0 * i / (n - 1)
        inner = float((t > 0) - (t < 0))
        for j in range(len(x)):
            inner -= x[j] * t ** j
        total += inner * inner
    return total / 2.0


def ode(x, s):
    n = len(x)
    h = 2.0 / s
    y = np.zeros(n)

    def f(y):
        z = np.empty(n)
        z[0] = x[0]
        for i in range(1, n):
            z[i] = x[i] * y[i - 1]
        return z

    for _ in range(s):
        k1 = f(y)
        k2 = f(y + h * k1 / 2)
        k3 = f(y + h * k2 / 2)
        k4 = f(y + h * k3)
        y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return y


def gmm(alpha, mu, q, l, x, gamma, m):
    """The log posterior from its definition: densities, determinants and the Wishart pdf."""
    n, d = x.shape
    k = len(alpha)
    phi = np.exp(alpha) / np.sum(np.exp(alpha))
    log_likelihood = 0.0
    precisions = []
    for j in range(k):
        Q = np.diag(np.exp(q[j]))
        index = 0
        for col in range(d):
            for row in range(col + 1, d):
                Q[row, col] = l[j][index]
                index += 1
        precisions.append(Q.T @ Q)
    for i in range(n):
        mixture = 0.0
        for j in range(k):
            z = x[i] - mu[j]
            P = precisions[j]
            mixture += phi[j] * math.exp(-0.5 * z @ P @ z) / math.sqrt((2 * math.pi) ** d / np.linalg.det(P))
        log_likelihood += math.log(mixture)
    n_w = d + m + 1
    log_prior = 0.0
    for j in range(k):
        P = precisions[j]
        V = np.eye(d) / gamma ** 2
        log_prior += ((n_w - d - 1) / 2 * math.log(np.linalg.det(P)) - np.trace(np.linalg.inv(V) @ P) / 2
                      - d * n_w / 2 * math.log(2) - n_w / 2 * math.log(np.linalg.det(V))
                      - multigammaln(n_w / 2, d))
    return log_likelihood + log_prior


def lstm(main_params, extra_params, state, sequence):
    def sigmoid(z):
        return 1.0 / (1.0 + math.exp(-z))

    l = main_params.shape[0] // 2
    c, b = sequence.shape
    state = state.copy()
    total = 0.0
    for t in range(c - 1):
        layer_input = [sequence[t, j] * extra_params[0, j] for j in range(b)]
        for i in range(l):
            W, B = main_params[2 * i], main_params[2 * i + 1]
            for j in range(b):
                forget = sigmoid(layer_input[j] * W[j] + B[j])
                ingate = sigmoid(state[2 * i, j] * W[b + j] + B[b + j])
                outgate = sigmoid(layer_input[j] * W[2 * b + j] + B[2 * b + j])
                change = math.tanh(state[2 * i, j] * W[3 * b + j] + B[3 * b + j])
                state[2 * i + 1, j] = state[2 * i + 1, j] * forget + ingate * change
                state[2 * i, j] = outgate * math.tanh(state[2 * i + 1, j])
            layer_input = list(state[2 * i])
        ypred = [layer_input[j] * extra_params[1, j] + extra_params[2, j] for j in range(b)]
        lse = math.log(sum(math.exp(v) for v in ypred) + 2)
        total += sum(sequence[t + 1, j] * (ypred[j] - lse) for j in range(b))
    return -total / ((c - 1) * b)


def ba_reprojection(cam, X, w, feat):
    """One observation's two weighted reprojection errors (ADBench's C++, line by line)."""
    Xo = X - cam[3:6]
    rot = cam[0:3]
    sqtheta = rot @ rot
    if sqtheta != 0:
        theta = math.sqrt(sqtheta)
        axis = rot / theta
        Xcam = Xo * math.cos(theta) + np.cross(axis, Xo) * math.sin(theta) + axis * (axis @ Xo) * (1 - math.cos(theta))
    else:
        Xcam = Xo + np.cross(rot, Xo)
    proj = Xcam[0:2] / Xcam[2]
    rsq = proj @ proj
    proj = proj * (1.0 + cam[9] * rsq + cam[10] * rsq * rsq)
    proj = proj * cam[6] + cam[7:9]
    return w * (proj - feat)


def central_differences(f, x, step=1e-6):
    """d f / d x for a scalar or array f of an array x: shape f.shape + x.shape."""
    x = np.array(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        h = step * max(1.0, abs(x.flat[i]))
        plus, minus = x.copy(), x.copy()
        plus.flat[i] += h
        minus.flat[i] -= h
        columns.append((np.asarray(f(plus)) - np.asarray(f(minus))) / (2 * h))
    return np.moveaxis(np.array(columns), 0, -1).reshape(np.shape(f(x)) + x.shape)
