"""Benchmark problems written once in adjoint's subset (plain Python and NumPy).

Each function is differentiated by adjoint and, unchanged, compiled by ``numba.njit`` as
the "compiled forward" of the benchmark table.
"""
import math

import numpy as np


def loop_sin(x, n):
    """sum over i < n of sin(x * i) * x: a scalar loop."""
    s = 0.0
    for i in range(n):
        s = s + math.sin(x * i) * x
    return s


def mlp_ce(W1, b1, W2, b2, X, Y):
    """Mean softmax cross-entropy of a 2-layer tanh MLP; Y is one-hot."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1).reshape(-1, 1)
    p = np.exp(z) / np.sum(np.exp(z), axis=1).reshape(-1, 1)
    return -np.sum(Y * np.log(p)) / X.shape[0]


def lotka_volterra(u, v, alpha, beta, gamma, delta):
    """The right-hand side of the Lotka-Volterra equations (prey u, predators v)."""
    return alpha * u - beta * u * v, delta * u * v - gamma * v


def ode(p, u0, v0, dt, obs):
    """Sum of squared errors of an RK4 trajectory of Lotka-Volterra against ``obs``
    (shape (steps, 2): the state after each step); p = (alpha, beta, gamma, delta)."""
    alpha = p[0]
    beta = p[1]
    gamma = p[2]
    delta = p[3]
    u = u0
    v = v0
    loss = 0.0
    for i in range(obs.shape[0]):
        k1u, k1v = lotka_volterra(u, v, alpha, beta, gamma, delta)
        k2u, k2v = lotka_volterra(u + 0.5 * dt * k1u, v + 0.5 * dt * k1v, alpha, beta, gamma, delta)
        k3u, k3v = lotka_volterra(u + 0.5 * dt * k2u, v + 0.5 * dt * k2v, alpha, beta, gamma, delta)
        k4u, k4v = lotka_volterra(u + dt * k3u, v + dt * k3v, alpha, beta, gamma, delta)
        u = u + dt / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
        du = u - obs[i, 0]
        dv = v - obs[i, 1]
        loss = loss + du * du + dv * dv
    return loss


def writes(x, a):
    """A recurrence written element by element: y[i] = a * y[i - 1] + sin(x[i])."""
    n = x.shape[0]
    y = np.zeros(n)
    y[0] = x[0]
    for i in range(1, n):
        y[i] = a * y[i - 1] + math.sin(x[i])
    return np.sum(y * y)


def while_newton(b, c):
    """Sum over k of the real root z of z**3 + c*z = b[k] (c > 0), each found by Newton's
    method run until |f(z)| < 1e-12."""
    s = 0.0
    for k in range(b.shape[0]):
        z = b[k] / (1.0 + c)
        f = z * z * z + c * z - b[k]
        while abs(f) >= 1e-12:
            z = z - f / (3.0 * z * z + c)
            f = z * z * z + c * z - b[k]
        s = s + z
    return s


def ba_rotate(r0, r1, r2, x0, x1, x2):
    """Rotate the point (x0, x1, x2) by the angle-axis vector (r0, r1, r2) (Rodrigues'
    formula; the first-order formula X + r x X where there is no rotation, as ADBench)."""
    sqtheta = r0 * r0 + r1 * r1 + r2 * r2
    if sqtheta != 0.0:
        theta = math.sqrt(sqtheta)
        costheta = math.cos(theta)
        sintheta = math.sin(theta)
        a0 = r0 / theta
        a1 = r1 / theta
        a2 = r2 / theta
        t = (a0 * x0 + a1 * x1 + a2 * x2) * (1.0 - costheta)
        y0 = x0 * costheta + (a1 * x2 - a2 * x1) * sintheta + a0 * t
        y1 = x1 * costheta + (a2 * x0 - a0 * x2) * sintheta + a1 * t
        y2 = x2 * costheta + (a0 * x1 - a1 * x0) * sintheta + a2 * t
    else:
        y0 = x0 + (r1 * x2 - r2 * x1)
        y1 = x1 + (r2 * x0 - r0 * x2)
        y2 = x2 + (r0 * x1 - r1 * x0)
    return y0, y1, y2


def ba_project(cams, c, X, k):
    """Project point X[k] through camera cams[c]: rotation 0:3, centre 3:6, focal 6,
    principal point 7:9, radial distortion 9:11."""
    z0, z1, z2 = ba_rotate(cams[c, 0], cams[c, 1], cams[c, 2],
                           X[k, 0] - cams[c, 3], X[k, 1] - cams[c, 4], X[k, 2] - cams[c, 5])
    u = z0 / z2
    v = z1 / z2
    rsq = u * u + v * v
    distortion = 1.0 + cams[c, 9] * rsq + cams[c, 10] * rsq * rsq
    return (u * distortion * cams[c, 6] + cams[c, 7],
            v * distortion * cams[c, 6] + cams[c, 8])


def ba(cams, X, w, obs, feats):
    """ADBench bundle adjustment as one scalar: over the observations j (camera obs[j, 0]
    sees point obs[j, 1] at feats[j] with weight w[j]), the sum of the squared weighted
    reprojection errors w[j] * (project - feats[j]) and of the squared weight errors
    1 - w[j]**2."""
    loss = 0.0
    for j in range(obs.shape[0]):
        px, py = ba_project(cams, obs[j, 0], X, obs[j, 1])
        ex = w[j] * (px - feats[j, 0])
        ey = w[j] * (py - feats[j, 1])
        we = 1.0 - w[j] * w[j]
        loss = loss + ex * ex + ey * ey + we * we
    return loss
