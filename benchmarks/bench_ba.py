"""ba: ADBench bundle adjustment as one scalar loss. Observation j sees point X[obs[j, 1]]
from camera cams[obs[j, 0]] (11 parameters: Rodrigues rotation 0:3, centre 3:6, focal
length 6, principal point 7:9, radial distortion 9:11) at feats[j] with weight w[j]; the
loss is the sum over observations of the squared weighted reprojection errors
w[j] * (project - feats[j]) and of the squared weight errors 1 - w[j]**2. Gradient with
respect to the cameras, the points and the weights; adjoint differentiates the scalar loop
over observations of problems.ba."""
from __future__ import annotations

import math

import numba
import numpy as np

from harness import Benchmark
from problems import ba


@numba.njit(cache=True)
def hand_grad(cams, X, w, obs, feats):
    """One pass over the observations, no tape: each observation's loss term depends only
    on its own camera, point and weight, so its forward is computed and immediately run
    backwards (scalars in registers), and its cotangents are scattered into the rows
    cams_bar[c], X_bar[k] and w_bar[j]. The Rodrigues rotation's adjoint is written with
    cross products: for z = y cos + (a x y) sin + a (a.y)(1 - cos) with a = r / theta."""
    gc = np.zeros_like(cams)
    gX = np.zeros_like(X)
    gw = np.empty_like(w)
    for j in range(obs.shape[0]):
        c = obs[j, 0]
        k = obs[j, 1]
        r0, r1, r2 = cams[c, 0], cams[c, 1], cams[c, 2]
        y0 = X[k, 0] - cams[c, 3]
        y1 = X[k, 1] - cams[c, 4]
        y2 = X[k, 2] - cams[c, 5]
        # forward: rotation
        sq = r0 * r0 + r1 * r1 + r2 * r2
        turning = sq != 0.0
        th = ct = st = a0 = a1 = a2 = d = omc = tt = cx0 = cx1 = cx2 = 0.0
        if turning:
            th = math.sqrt(sq)
            ct = math.cos(th)
            st = math.sin(th)
            a0, a1, a2 = r0 / th, r1 / th, r2 / th
            d = a0 * y0 + a1 * y1 + a2 * y2
            omc = 1.0 - ct
            tt = d * omc
            cx0 = a1 * y2 - a2 * y1
            cx1 = a2 * y0 - a0 * y2
            cx2 = a0 * y1 - a1 * y0
            z0 = y0 * ct + cx0 * st + a0 * tt
            z1 = y1 * ct + cx1 * st + a1 * tt
            z2 = y2 * ct + cx2 * st + a2 * tt
        else:
            z0 = y0 + (r1 * y2 - r2 * y1)
            z1 = y1 + (r2 * y0 - r0 * y2)
            z2 = y2 + (r0 * y1 - r1 * y0)
        # forward: projection, distortion, errors
        iz = 1.0 / z2
        u = z0 * iz
        v = z1 * iz
        rsq = u * u + v * v
        k1, k2, f = cams[c, 9], cams[c, 10], cams[c, 6]
        L = 1.0 + k1 * rsq + k2 * rsq * rsq
        dx = u * L * f + cams[c, 7] - feats[j, 0]
        dy = v * L * f + cams[c, 8] - feats[j, 1]
        wj = w[j]
        # reverse: loss += (wj dx)^2 + (wj dy)^2 + (1 - wj^2)^2
        gw[j] = 2.0 * wj * (dx * dx + dy * dy) - 4.0 * wj * (1.0 - wj * wj)
        qxb = 2.0 * wj * wj * dx   # cotangent of the projection
        qyb = 2.0 * wj * wj * dy
        gc[c, 7] += qxb
        gc[c, 8] += qyb
        s = qxb * u + qyb * v
        gc[c, 6] += L * s
        Lb = f * s
        gc[c, 9] += Lb * rsq
        gc[c, 10] += Lb * rsq * rsq
        rsqb2 = 2.0 * Lb * (k1 + 2.0 * k2 * rsq)
        ub = qxb * L * f + u * rsqb2
        vb = qyb * L * f + v * rsqb2
        z0b = ub * iz
        z1b = vb * iz
        z2b = -(ub * u + vb * v) * iz
        # reverse: rotation
        if turning:
            ctb = z0b * y0 + z1b * y1 + z2b * y2
            stb = z0b * cx0 + z1b * cx1 + z2b * cx2
            tb = z0b * a0 + z1b * a1 + z2b * a2
            db = tb * omc
            ctb -= tb * d
            ab0 = st * (y1 * z2b - y2 * z1b) + z0b * tt + db * y0   # (y x zb) sin + ...
            ab1 = st * (y2 * z0b - y0 * z2b) + z1b * tt + db * y1
            ab2 = st * (y0 * z1b - y1 * z0b) + z2b * tt + db * y2
            yb0 = z0b * ct + st * (z1b * a2 - z2b * a1) + db * a0   # (zb x a) sin + ...
            yb1 = z1b * ct + st * (z2b * a0 - z0b * a2) + db * a1
            yb2 = z2b * ct + st * (z0b * a1 - z1b * a0) + db * a2
            thb = ct * stb - st * ctb - (ab0 * a0 + ab1 * a1 + ab2 * a2) / th
            # a = r / theta, theta = sqrt(r.r): r_bar = a_bar / theta + r * theta_bar / theta
            gc[c, 0] += (ab0 + r0 * thb) / th
            gc[c, 1] += (ab1 + r1 * thb) / th
            gc[c, 2] += (ab2 + r2 * thb) / th
        else:  # z = y + r x y
            yb0 = z0b + (z1b * r2 - z2b * r1)
            yb1 = z1b + (z2b * r0 - z0b * r2)
            yb2 = z2b + (z0b * r1 - z1b * r0)
            gc[c, 0] += y1 * z2b - y2 * z1b
            gc[c, 1] += y2 * z0b - y0 * z2b
            gc[c, 2] += y0 * z1b - y1 * z0b
        gc[c, 3] -= yb0
        gc[c, 4] -= yb1
        gc[c, 5] -= yb2
        gX[k, 0] += yb0
        gX[k, 1] += yb1
        gX[k, 2] += yb2
    return gc, gX, gw


def data(n: int, m: int, p: int, seed: int = 0):
    """Cameras about 10 units behind points in the unit cube, looking at them; camera 0
    does not rotate (the first-order branch); feats are the projections plus noise."""
    rng = np.random.default_rng(seed)
    cams = np.empty((n, 11))
    cams[:, 0:3] = 0.1 * rng.normal(size=(n, 3))
    cams[0, 0:3] = 0.0
    cams[:, 3:6] = np.array([0.0, 0.0, -10.0]) + 0.5 * rng.normal(size=(n, 3))
    cams[:, 6] = 500.0 + 50.0 * rng.normal(size=n)
    cams[:, 7:9] = rng.normal(size=(n, 2))
    cams[:, 9] = 1e-2 * rng.normal(size=n)
    cams[:, 10] = 1e-3 * rng.normal(size=n)
    X = rng.uniform(-1.0, 1.0, size=(m, 3))
    w = rng.uniform(0.5, 1.5, size=p)
    # every camera and every point observed at least once, the rest at random
    obs = np.stack((np.concatenate((np.arange(n), rng.integers(0, n, p - n))),
                    np.concatenate((np.arange(m), rng.integers(0, m, p - m)))), axis=1)
    obs = obs[rng.permutation(p)]
    feats = np.empty((p, 2))
    _project_all(cams, X, obs, feats)
    feats += rng.normal(size=(p, 2))
    return cams, X, w, obs, feats


def make(quick: bool = False) -> Benchmark:
    n, m, p = (13, 125, 1250) if quick else (49, 500, 5000)
    args = data(n, m, p)
    cams, X, w, obs, feats = args

    def jax_version():
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def loss(cams, X, w, obs, feats):
            cam = jnp.take(cams, obs[:, 0], axis=0)
            Y = jnp.take(X, obs[:, 1], axis=0) - cam[:, 3:6]
            rot = cam[:, 0:3]
            sq = jnp.sum(rot * rot, axis=1)
            turning = (sq != 0.0)[:, None]
            theta = jnp.sqrt(jnp.where(turning[:, 0], sq, 1.0))[:, None]  # no NaN where sq == 0
            a = rot / theta
            ct, st = jnp.cos(theta), jnp.sin(theta)
            t = jnp.sum(a * Y, axis=1, keepdims=True) * (1.0 - ct)
            Z = jnp.where(turning, Y * ct + jnp.cross(a, Y) * st + a * t, Y + jnp.cross(rot, Y))
            proj = Z[:, 0:2] / Z[:, 2:3]
            rsq = jnp.sum(proj * proj, axis=1, keepdims=True)
            L = 1.0 + cam[:, 9:10] * rsq + cam[:, 10:11] * rsq * rsq
            e = w[:, None] * (proj * L * cam[:, 6:7] + cam[:, 7:9] - feats)
            we = 1.0 - w * w
            return jnp.sum(e * e) + jnp.sum(we * we)
        g = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))
        jargs = tuple(jnp.asarray(a) for a in args)
        return lambda: g(*jargs)

    def torch_version():
        import torch
        tcams, tX, tw, tobs, tfeats = (torch.from_numpy(a) for a in args)
        ci, pi = tobs[:, 0], tobs[:, 1]

        def run():
            cams_ = tcams.clone().requires_grad_()
            X_ = tX.clone().requires_grad_()
            w_ = tw.clone().requires_grad_()
            cam = cams_[ci]
            Y = X_[pi] - cam[:, 3:6]
            rot = cam[:, 0:3]
            sq = torch.sum(rot * rot, dim=1)
            turning = (sq != 0.0)[:, None]
            theta = torch.sqrt(torch.where(turning[:, 0], sq, 1.0))[:, None]
            a = rot / theta
            ct, st = torch.cos(theta), torch.sin(theta)
            t = torch.sum(a * Y, dim=1, keepdim=True) * (1.0 - ct)
            Z = torch.where(turning, Y * ct + torch.linalg.cross(a, Y) * st + a * t,
                            Y + torch.linalg.cross(rot, Y))
            proj = Z[:, 0:2] / Z[:, 2:3]
            rsq = torch.sum(proj * proj, dim=1, keepdim=True)
            L = 1.0 + cam[:, 9:10] * rsq + cam[:, 10:11] * rsq * rsq
            e = w_[:, None] * (proj * L * cam[:, 6:7] + cam[:, 7:9] - tfeats)
            we = 1.0 - w_ * w_
            (torch.sum(e * e) + torch.sum(we * we)).backward()
            return cams_.grad, X_.grad, w_.grad
        return run

    return Benchmark(
        name="ba", title="bundle adjustment (ADBench BA), loop over observations",
        size=f"n={n}, m={m}, p={p:,}", problem=ba, args=args, wrt=("cams", "X", "w"),
        hand=lambda: hand_grad(*args), jax=jax_version, torch=torch_version,
        jax_form="vectorised over observations, rows gathered with jnp.take",
        torch_form="vectorised over observations, rows gathered by integer indexing")


@numba.njit(cache=True)
def _project_all(cams, X, obs, out):
    """The noise-free projections (for the synthetic feats)."""
    for j in range(obs.shape[0]):
        c, k = obs[j, 0], obs[j, 1]
        r0, r1, r2 = cams[c, 0], cams[c, 1], cams[c, 2]
        y0, y1, y2 = X[k, 0] - cams[c, 3], X[k, 1] - cams[c, 4], X[k, 2] - cams[c, 5]
        sq = r0 * r0 + r1 * r1 + r2 * r2
        if sq != 0.0:
            th = math.sqrt(sq)
            ct, st = math.cos(th), math.sin(th)
            a0, a1, a2 = r0 / th, r1 / th, r2 / th
            t = (a0 * y0 + a1 * y1 + a2 * y2) * (1.0 - ct)
            z0 = y0 * ct + (a1 * y2 - a2 * y1) * st + a0 * t
            z1 = y1 * ct + (a2 * y0 - a0 * y2) * st + a1 * t
            z2 = y2 * ct + (a0 * y1 - a1 * y0) * st + a2 * t
        else:
            z0 = y0 + (r1 * y2 - r2 * y1)
            z1 = y1 + (r2 * y0 - r0 * y2)
            z2 = y2 + (r0 * y1 - r1 * y0)
        u, v = z0 / z2, z1 / z2
        rsq = u * u + v * v
        L = 1.0 + cams[c, 9] * rsq + cams[c, 10] * rsq * rsq
        out[j, 0] = u * L * cams[c, 6] + cams[c, 7]
        out[j, 1] = v * L * cams[c, 6] + cams[c, 8]
