"""ode: RK4 integration of Lotka-Volterra; gradient of the sum of squared errors along the
trajectory with respect to the 4 parameters."""
from __future__ import annotations

import numba
import numpy as np

from harness import Benchmark
from problems import ode


@numba.njit(cache=True)
def hand_grad(p, u0, v0, dt, obs):
    """Store the states, then run each RK4 step backwards, recomputing its stages."""
    alpha, beta, gamma, delta = p[0], p[1], p[2], p[3]
    n = obs.shape[0]
    us = np.empty(n + 1)
    vs = np.empty(n + 1)
    u, v = u0, v0
    us[0], vs[0] = u, v
    h2 = 0.5 * dt
    for i in range(n):
        k1u = alpha * u - beta * u * v
        k1v = delta * u * v - gamma * v
        x, y = u + h2 * k1u, v + h2 * k1v
        k2u = alpha * x - beta * x * y
        k2v = delta * x * y - gamma * y
        x, y = u + h2 * k2u, v + h2 * k2v
        k3u = alpha * x - beta * x * y
        k3v = delta * x * y - gamma * y
        x, y = u + dt * k3u, v + dt * k3v
        k4u = alpha * x - beta * x * y
        k4v = delta * x * y - gamma * y
        u = u + dt / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
        us[i + 1], vs[i + 1] = u, v
    ga = gb = gg = gd = 0.0
    ub = vb = 0.0
    for i in range(n - 1, -1, -1):
        ub += 2.0 * (us[i + 1] - obs[i, 0])
        vb += 2.0 * (vs[i + 1] - obs[i, 1])
        u, v = us[i], vs[i]
        # recompute the stages of step i
        k1u = alpha * u - beta * u * v
        k1v = delta * u * v - gamma * v
        x2, y2 = u + h2 * k1u, v + h2 * k1v
        k2u = alpha * x2 - beta * x2 * y2
        k2v = delta * x2 * y2 - gamma * y2
        x3, y3 = u + h2 * k2u, v + h2 * k2v
        k3u = alpha * x3 - beta * x3 * y3
        k3v = delta * x3 * y3 - gamma * y3
        x4, y4 = u + dt * k3u, v + dt * k3v
        # u_next = u + dt/6 (k1 + 2 k2 + 2 k3 + k4)
        w1u, w1v = dt / 6.0 * ub, dt / 6.0 * vb
        w2u, w2v = dt / 3.0 * ub, dt / 3.0 * vb
        k3ub, k3vb = w2u, w2v
        k2ub, k2vb = w2u, w2v
        k1ub, k1vb = w1u, w1v
        # stage 4 at (x4, y4), with cotangents (w1u, w1v)
        xb = w1u * (alpha - beta * y4) + w1v * delta * y4
        yb = -w1u * beta * x4 + w1v * (delta * x4 - gamma)
        ga += w1u * x4
        gb -= w1u * x4 * y4
        gd += w1v * x4 * y4
        gg -= w1v * y4
        ub += xb
        vb += yb
        k3ub += dt * xb
        k3vb += dt * yb
        # stage 3 at (x3, y3)
        xb = k3ub * (alpha - beta * y3) + k3vb * delta * y3
        yb = -k3ub * beta * x3 + k3vb * (delta * x3 - gamma)
        ga += k3ub * x3
        gb -= k3ub * x3 * y3
        gd += k3vb * x3 * y3
        gg -= k3vb * y3
        ub += xb
        vb += yb
        k2ub += h2 * xb
        k2vb += h2 * yb
        # stage 2 at (x2, y2)
        xb = k2ub * (alpha - beta * y2) + k2vb * delta * y2
        yb = -k2ub * beta * x2 + k2vb * (delta * x2 - gamma)
        ga += k2ub * x2
        gb -= k2ub * x2 * y2
        gd += k2vb * x2 * y2
        gg -= k2vb * y2
        ub += xb
        vb += yb
        k1ub += h2 * xb
        k1vb += h2 * yb
        # stage 1 at (u, v)
        ub += k1ub * (alpha - beta * v) + k1vb * delta * v
        vb += -k1ub * beta * u + k1vb * (delta * u - gamma)
        ga += k1ub * u
        gb -= k1ub * u * v
        gd += k1vb * u * v
        gg -= k1vb * v
    return np.array([ga, gb, gg, gd])


def make(quick: bool = False) -> Benchmark:
    steps = 1_000 if quick else 10_000
    dt = 50.0 / steps
    u0, v0 = 10.0, 5.0
    true = np.array([1.1, 0.4, 0.4, 0.1])
    rng = np.random.default_rng(0)
    # observations: the state after each step for the true parameters, plus noise
    obs = _states(true, u0, v0, dt, steps) + 0.1 * rng.normal(size=(steps, 2))
    p = true * np.array([1.02, 0.97, 1.03, 0.98])
    args = (p, u0, v0, dt, obs)

    def jax_version():
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)

        def f(s, q):
            u, v = s[0], s[1]
            return jnp.stack([q[0] * u - q[1] * u * v, q[3] * u * v - q[2] * v])

        def loss(q, s0, obs):
            def step(s, _):
                k1 = f(s, q)
                k2 = f(s + 0.5 * dt * k1, q)
                k3 = f(s + 0.5 * dt * k2, q)
                k4 = f(s + dt * k3, q)
                s = s + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
                return s, s
            _, traj = jax.lax.scan(step, s0, None, length=steps)
            return jnp.sum((traj - obs) ** 2)
        g = jax.jit(jax.grad(loss))
        jp, js0, jobs = jnp.asarray(p), jnp.array([u0, v0]), jnp.asarray(obs)
        return lambda: g(jp, js0, jobs)

    def torch_version():
        import torch
        tobs = torch.from_numpy(obs)

        def f(u, v, q):
            return q[0] * u - q[1] * u * v, q[3] * u * v - q[2] * v

        def run():
            q = torch.tensor(p, requires_grad=True)
            u = torch.tensor(u0, dtype=torch.float64)
            v = torch.tensor(v0, dtype=torch.float64)
            us, vs = [], []
            for _ in range(steps):
                k1u, k1v = f(u, v, q)
                k2u, k2v = f(u + 0.5 * dt * k1u, v + 0.5 * dt * k1v, q)
                k3u, k3v = f(u + 0.5 * dt * k2u, v + 0.5 * dt * k2v, q)
                k4u, k4v = f(u + dt * k3u, v + dt * k3v, q)
                u = u + dt / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)
                v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
                us.append(u)
                vs.append(v)
            traj = torch.stack([torch.stack(us), torch.stack(vs)], dim=1)
            torch.sum((traj - tobs) ** 2).backward()
            return q.grad
        return run

    return Benchmark(
        name="ode", title="RK4 Lotka-Volterra, squared error along the trajectory",
        size=f"{steps:,} steps", problem=ode, args=args, wrt="p",
        hand=lambda: hand_grad(*args), jax=jax_version, torch=torch_version,
        jax_form="lax.scan over the steps", torch_form="eager Python loop over 0-d tensors")


@numba.njit(cache=True)
def _states(p, u0, v0, dt, steps):
    """The RK4 states after each step (for the synthetic observations)."""
    alpha, beta, gamma, delta = p[0], p[1], p[2], p[3]
    out = np.empty((steps, 2))
    u, v = u0, v0
    for i in range(steps):
        k1u, k1v = alpha * u - beta * u * v, delta * u * v - gamma * v
        x, y = u + 0.5 * dt * k1u, v + 0.5 * dt * k1v
        k2u, k2v = alpha * x - beta * x * y, delta * x * y - gamma * y
        x, y = u + 0.5 * dt * k2u, v + 0.5 * dt * k2v
        k3u, k3v = alpha * x - beta * x * y, delta * x * y - gamma * y
        x, y = u + dt * k3u, v + dt * k3v
        k4u, k4v = alpha * x - beta * x * y, delta * x * y - gamma * y
        u = u + dt / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
        out[i, 0], out[i, 1] = u, v
    return out
