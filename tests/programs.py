"""The corpus of whole test programs, shared by the program, golden and API tests."""
import math

import numpy as np


def seed_e(a, b):
    """The seed's e = (a + b)(b + 1)."""
    c = a + b
    d = b + 1.0
    return c * d


def seed_uv(x, y):
    u = x * y
    v = u + y
    return v ** 2


def seed_ab(x, y):
    a = x + y
    b = x * a
    return b * b


def mlp_loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1).reshape(-1, 1)
    p = np.exp(z) / np.sum(np.exp(z), axis=1).reshape(-1, 1)
    return -np.sum(Y * np.log(p)) / X.shape[0]


def logistic(w, b, X, y):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-12
    return -np.mean(y * np.log(p + eps) + (1.0 - y) * np.log(1.0 - p + eps))


def ridge(w, X, y, lam):
    r = X @ w - y
    return 0.5 * np.dot(r, r) + lam * np.sum(w ** 2)


def fan_out(x, s):
    """x is used many times; s is a scalar reassigned along the way."""
    s = s * 2.0
    y = np.sin(x) * x + s
    y = y * y + np.cos(x) * s
    z = np.concatenate((y, x[1:], x[:1] * s))
    w = np.stack((x, y))
    q, r = w[0], w[1]
    return np.sum(z * z) + np.sum(q * r) + math.exp(s) + np.prod(x[:2]) + np.min(y) * np.max(x)


def shapes(A, v):
    B = A.T @ A
    c = np.outer(v, v) * B[0, 0]
    d = np.sum(c, axis=0) + np.mean(A, axis=1).sum()
    e = np.where(d > 0.0, d, -d * 0.5)
    f = np.clip(e, -1.0, 2.0) + np.abs(v - 0.1) + np.maximum(v, 0.2)
    return np.sum(f.reshape(1, -1) * np.ones((2, 1))) + np.sum(A[:, 1] * v[: A.shape[0]])


def unused_argument(x, y):
    z = np.sin(y)
    return np.sum(z * z)


def matrix_power_from_eye(A, k, lam):
    """np.eye starts a product; np.identity regularises (both were refused: NumPy's Python
    np.eye was inlined and stopped at its `order` default)."""
    M = np.eye(A.shape[0])
    for i in range(k):
        M = M @ A
    B = M.T @ M + lam * np.identity(A.shape[1])
    return np.sum(B * B)


def eye_written(x):
    """Element writes into np.eye's fresh 2-D array (its diagonal, one off-diagonal element)."""
    M = np.eye(x.shape[0])
    M[0, 1] = x[0] * x[1]
    for i in range(x.shape[0]):
        M[i, i] = x[i] ** 2
    return np.sum(M @ x)
