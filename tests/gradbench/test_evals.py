"""Each eval's primal against an independent loop implementation (references.py), its
derivative against central differences of that reference, and, when JAX is installed,
both against JAX. Small sizes; each eval's functions compile once per session (the
GradFunctions live at module level in adjoint.gradbench.evals.*)."""
from __future__ import annotations

import numpy as np
import pytest

from adjoint.gradbench.evals import ba, gmm, llsq, lse, lstm, ode

from . import references as ref

RNG = np.random.default_rng(20240608)


def close(a, b, rtol=1e-6, atol=1e-8):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=atol)


def gradbench_close(a, b):
    """GradBench's own criterion: |a - b| / max(1, |a| + |b|) <= 1e-4 per number."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    assert np.all(np.abs(a - b) / np.maximum(1.0, np.abs(a) + np.abs(b)) <= 1e-4)


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# -- lse ---------------------------------------------------------------------------------
LSE_INPUT = {"x": RNG.normal(size=20).tolist()}


def test_lse():
    x = np.array(LSE_INPUT["x"])
    close(lse.FUNCTIONS["primal"](LSE_INPUT), ref.lse(x))
    close(lse.FUNCTIONS["gradient"](LSE_INPUT), ref.central_differences(ref.lse, x), rtol=1e-6)


def test_lse_large_values_do_not_overflow():
    x = np.array([1000.0, 999.0, -5.0])
    assert lse.FUNCTIONS["primal"]({"x": x.tolist()}) == pytest.approx(1000.0 + np.log1p(np.exp(-1.0) + np.exp(-1005.0)))
    assert np.all(np.isfinite(lse.FUNCTIONS["gradient"]({"x": x.tolist()})))


def test_lse_jax(jax):
    import jax.numpy as jnp
    x = np.array(LSE_INPUT["x"])
    close(lse.FUNCTIONS["gradient"](LSE_INPUT), jax.grad(lambda v: jnp.log(jnp.sum(jnp.exp(v))))(x), rtol=1e-12)


# -- llsq --------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [7, 16])  # odd n has t = 0 (sign 0) in the middle
def test_llsq(n):
    input = {"x": RNG.normal(size=8).tolist(), "n": n}
    x = np.array(input["x"])
    close(llsq.FUNCTIONS["primal"](input), ref.llsq(x, n), rtol=1e-10)
    close(llsq.FUNCTIONS["gradient"](input), ref.central_differences(lambda v: ref.llsq(v, n), x), rtol=1e-5, atol=1e-6)


def test_llsq_jax(jax):
    import jax.numpy as jnp
    x, n = RNG.normal(size=8), 16
    t = -1.0 + 2.0 * np.arange(n) / (n - 1)
    powers = t[:, None] ** np.arange(8)
    expected = jax.grad(lambda v: 0.5 * jnp.sum((jnp.sign(t) - powers @ v) ** 2))(x)
    close(llsq.FUNCTIONS["gradient"]({"x": x.tolist(), "n": n}), expected, rtol=1e-10)


# -- ode ---------------------------------------------------------------------------------
@pytest.mark.parametrize("s", [1, 3])
def test_ode(s):
    input = {"x": RNG.uniform(0.2, 1.5, size=6).tolist(), "s": s}
    x = np.array(input["x"])
    close(ode.FUNCTIONS["primal"](input), ref.ode(x, s), rtol=1e-12)
    close(ode.FUNCTIONS["gradient"](input), ref.central_differences(lambda v: ref.ode(v, s)[-1], x), rtol=1e-6)


def test_ode_exact_polynomial():
    # RK4 is exact here for n <= 4: y_i(2) = prod(x[:i+1]) 2^(i+1) / (i+1)!
    x = np.array([0.5, -0.25, 1.5, 2.0])
    y = ode.FUNCTIONS["primal"]({"x": x.tolist(), "s": 1})
    close(y, [np.prod(x[:i + 1]) * 2.0 ** (i + 1) / np.prod(np.arange(1, i + 2)) for i in range(4)])
    g = ode.FUNCTIONS["gradient"]({"x": x.tolist(), "s": 1})
    close(g, np.prod(x) / x * 16.0 / 24.0)


def test_ode_jax(jax):
    import jax.numpy as jnp
    x, s = RNG.uniform(0.2, 1.5, size=6), 3

    def last(x):
        f = lambda y: jnp.concatenate((x[:1], x[1:] * y[:-1]))  # noqa: E731
        y, h = jnp.zeros_like(x), 2.0 / s
        for _ in range(s):
            k1 = f(y); k2 = f(y + h / 2 * k1); k3 = f(y + h / 2 * k2); k4 = f(y + h * k3)  # noqa: E702
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return y[-1]
    close(ode.FUNCTIONS["gradient"]({"x": x.tolist(), "s": s}), jax.grad(last)(x), rtol=1e-12)


# -- gmm ---------------------------------------------------------------------------------
def gmm_input(d, k, n, m=2, gamma=1.3):
    return {"d": d, "k": k, "n": n, "m": m, "gamma": gamma,
            "x": RNG.normal(size=(n, d)).tolist(), "alpha": RNG.normal(size=k).tolist(),
            "mu": RNG.uniform(size=(k, d)).tolist(), "q": (0.3 * RNG.normal(size=(k, d))).tolist(),
            "l": (0.3 * RNG.normal(size=(k, d * (d - 1) // 2))).tolist()}


GMM_INPUT = gmm_input(d=3, k=4, n=10)
GMM_KEYS = ("alpha", "mu", "q", "l")


def test_gmm_objective_matches_the_definition():
    alpha, mu, q, l, x, gamma, m, _ = gmm.prepare(GMM_INPUT)
    close(gmm.FUNCTIONS["objective"](GMM_INPUT), ref.gmm(alpha, mu, q, l, x, gamma, m), rtol=1e-10)


def test_gmm_jacobian_against_central_differences():
    alpha, mu, q, l, x, gamma, m, _ = gmm.prepare(GMM_INPUT)
    params = dict(zip(GMM_KEYS, (alpha, mu, q, l)))
    jac = gmm.FUNCTIONS["jacobian"](GMM_INPUT)
    assert list(jac) == ["alpha", "mu", "q", "l"]
    for key in GMM_KEYS:
        def f(v, key=key):
            return ref.gmm(**{**params, key: v}, x=x, gamma=gamma, m=m)
        close(jac[key], ref.central_differences(f, params[key]), rtol=1e-5, atol=1e-6)


def test_gmm_jax(jax):
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp, multigammaln
    input = gmm_input(d=4, k=3, n=12, m=0, gamma=1.0)
    alpha, mu, q, l, x, gamma, m, _ = gmm.prepare(input)
    d, k, n = 4, 3, 12
    rows, cols = zip(*[(r, c) for c in range(d) for r in range(c + 1, d)])

    def objective(alpha, mu, q, l):
        Q = jnp.zeros((k, d, d)).at[:, np.array(rows), np.array(cols)].set(l) + jax.vmap(jnp.diag)(jnp.exp(q))
        Qx = jnp.einsum("kab,ikb->ika", Q, x[:, None, :] - mu[None])
        beta = alpha + jnp.sum(q, 1) - 0.5 * jnp.sum(Qx ** 2, 2)
        n_w = d + m + 1
        prior = (-jnp.sum(0.5 * gamma ** 2 * (jnp.sum(jnp.exp(q) ** 2, 1) + jnp.sum(l ** 2, 1)) - m * jnp.sum(q, 1))
                 + k * (n_w * d * jnp.log(gamma / jnp.sqrt(2.0)) - multigammaln(0.5 * n_w, d)))
        return jnp.sum(logsumexp(beta, 1)) - n * logsumexp(alpha) + prior - n * d * 0.5 * jnp.log(2 * jnp.pi)

    gradbench_close(gmm.FUNCTIONS["objective"](input), objective(alpha, mu, q, l))
    expected = jax.grad(objective, argnums=(0, 1, 2, 3))(alpha, mu, q, l)
    jac = gmm.FUNCTIONS["jacobian"](input)
    for key, e in zip(GMM_KEYS, expected):
        close(jac[key], e, rtol=1e-10, atol=1e-12)


# -- lstm --------------------------------------------------------------------------------
def lstm_input(l=2, b=3, c=5):
    return {"main_params": RNG.normal(size=(2 * l, 4 * b)).tolist(),
            "extra_params": RNG.normal(size=(3, b)).tolist(),
            "state": RNG.normal(size=(2 * l, b)).tolist(),
            "sequence": RNG.normal(size=(c, b)).tolist()}


LSTM_INPUT = lstm_input()


def test_lstm():
    main, extra, state, sequence = lstm.prepare(LSTM_INPUT)
    close(lstm.FUNCTIONS["objective"](LSTM_INPUT), ref.lstm(main, extra, state, sequence), rtol=1e-12)
    jac = np.array(lstm.FUNCTIONS["jacobian"](LSTM_INPUT))
    assert jac.shape == (main.size + extra.size,)
    d_main = ref.central_differences(lambda v: ref.lstm(v, extra, state, sequence), main)
    d_extra = ref.central_differences(lambda v: ref.lstm(main, v, state, sequence), extra)
    close(jac, np.concatenate((d_main.ravel(), d_extra.ravel())), rtol=1e-5, atol=1e-8)


def test_lstm_one_layer():
    input = lstm_input(l=1, b=2, c=3)
    main, extra, state, sequence = lstm.prepare(input)
    close(lstm.FUNCTIONS["objective"](input), ref.lstm(main, extra, state, sequence), rtol=1e-12)


def test_lstm_jax(jax):
    import jax.numpy as jnp
    main, extra, state, sequence = lstm.prepare(LSTM_INPUT)
    b = sequence.shape[1]

    def objective(main, extra):
        st = [state[i] for i in range(state.shape[0])]
        total = 0.0
        for t in range(sequence.shape[0] - 1):
            inp = sequence[t] * extra[0]
            for i in range(main.shape[0] // 2):
                W, B = main[2 * i], main[2 * i + 1]
                f = jax.nn.sigmoid(inp * W[:b] + B[:b])
                ig = jax.nn.sigmoid(st[2 * i] * W[b:2 * b] + B[b:2 * b])
                o = jax.nn.sigmoid(inp * W[2 * b:3 * b] + B[2 * b:3 * b])
                ch = jnp.tanh(st[2 * i] * W[3 * b:] + B[3 * b:])
                st[2 * i + 1] = st[2 * i + 1] * f + ig * ch
                st[2 * i] = o * jnp.tanh(st[2 * i + 1])
                inp = st[2 * i]
            ypred = inp * extra[1] + extra[2]
            total += jnp.sum(sequence[t + 1] * (ypred - jnp.log(2.0 + jnp.sum(jnp.exp(ypred)))))
        return -total / ((sequence.shape[0] - 1) * b)

    d_main, d_extra = jax.grad(objective, argnums=(0, 1))(main, extra)
    close(lstm.FUNCTIONS["jacobian"](LSTM_INPUT), np.concatenate((np.ravel(d_main), np.ravel(d_extra))),
          rtol=1e-10, atol=1e-14)


# -- ba ----------------------------------------------------------------------------------
def random_ba(n=3, m=4, p=7):
    cams = np.column_stack((RNG.normal(scale=0.3, size=(n, 3)), RNG.normal(size=(n, 3)) + [0, 0, -5.0],
                            RNG.uniform(50, 150, size=(n, 1)), RNG.normal(size=(n, 2)),
                            RNG.normal(scale=0.01, size=(n, 2))))
    X = RNG.normal(size=(m, 3))
    w = RNG.uniform(0.5, 1.5, size=p)
    obs = np.column_stack((RNG.integers(0, n, size=p), RNG.integers(0, m, size=p)))
    feats = RNG.normal(size=(p, 2))
    return cams, X, w, obs, feats


def ba_errors(cams, X, w, obs, feats):
    """All residuals in the Jacobian's row order: 2 per observation, then the weights'."""
    reproj = [ref.ba_reprojection(cams[c], X[pt], w[j], feats[j]) for j, (c, pt) in enumerate(obs)]
    return np.concatenate((np.ravel(reproj), 1.0 - w * w))


def dense(rows, cols, vals, shape):
    J = np.zeros(shape)
    for r in range(shape[0]):
        for i in range(rows[r], rows[r + 1]):
            J[r, cols[i]] += vals[i]
    return J


def test_ba_objective():
    cams, X, w, obs, feats = random_ba()
    reproj, w_err = ba.objective(cams, X, w, obs, feats)
    close(np.concatenate((reproj.ravel(), w_err)), ba_errors(cams, X, w, obs, feats), rtol=1e-12)


def test_ba_zero_rotation_branch():
    cams, X, w, obs, feats = random_ba()
    cams[1, 0:3] = 0.0
    obs[:, 0] = 1
    reproj, _ = ba.objective(cams, X, w, obs, feats)
    close(reproj.ravel(), ba_errors(cams, X, w, obs, feats)[:2 * len(w)], rtol=1e-12)
    rows, cols, vals = ba.jacobian(cams, X, w, obs, feats)
    assert np.all(np.isfinite(vals))


def test_ba_jacobian_against_central_differences():
    cams, X, w, obs, feats = random_ba()
    n, m, p = len(cams), len(X), len(w)
    rows, cols, vals = ba.jacobian(cams, X, w, obs, feats)
    assert len(rows) == 3 * p + 1 and rows[-1] == len(cols) == len(vals) == 31 * p
    params = np.concatenate((cams.ravel(), X.ravel(), w))

    def errors(v):
        return ba_errors(v[:11 * n].reshape(n, 11), v[11 * n:11 * n + 3 * m].reshape(m, 3), v[11 * n + 3 * m:],
                         obs, feats)
    expected = ref.central_differences(errors, params)
    close(dense(rows, cols, vals, expected.shape), expected, rtol=1e-5, atol=1e-5)


def test_ba_json_form():
    objective = ba.FUNCTIONS["objective"](ba.TINY_INPUT)
    cam, x, w, feat = (np.array(ba.TINY_INPUT[k]) for k in ("cam", "x", "w", "feat"))
    close(objective["reproj_error"]["elements"], ref.ba_reprojection(cam, x, float(w), feat), rtol=1e-12)
    assert objective["reproj_error"]["repeated"] == objective["w_err"]["repeated"] == 4
    assert objective["w_err"]["element"] == pytest.approx(1 - 0.81)
    jac = ba.FUNCTIONS["jacobian"](ba.TINY_INPUT)
    full = ba.jacobian(*ba.prepare(ba.TINY_INPUT))
    for key, values in zip(("rows", "cols", "vals"), full):
        assert jac[key] == np.concatenate((values[:30], values[-1:])).tolist()


def test_ba_jax(jax):
    import jax.numpy as jnp
    cams, X, w, obs, feats = random_ba()

    def reproj(cam, x, w, feat):
        rot, xo = cam[0:3], x - cam[3:6]
        theta = jnp.sqrt(rot @ rot)
        axis = rot / theta
        xcam = xo * jnp.cos(theta) + jnp.cross(axis, xo) * jnp.sin(theta) + axis * (axis @ xo) * (1 - jnp.cos(theta))
        proj = xcam[:2] / xcam[2]
        rsq = proj @ proj
        return w * (proj * (1 + cam[9] * rsq + cam[10] * rsq * rsq) * cam[6] + cam[7:9] - feat)

    J = jax.vmap(jax.jacrev(reproj, argnums=(0, 1, 2)))(cams[obs[:, 0]], X[obs[:, 1]], w, feats)
    blocks = np.concatenate((J[0], J[1], np.asarray(J[2])[:, :, None]), axis=2)  # (p, 2, 15)
    rows, cols, vals = ba.jacobian(cams, X, w, obs, feats)
    close(vals[:30 * len(w)], blocks.ravel(), rtol=1e-10, atol=1e-12)
    close(vals[30 * len(w):], -2 * w, rtol=1e-12)
