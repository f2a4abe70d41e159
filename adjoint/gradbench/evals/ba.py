"""GradBench ``ba``: ADBench bundle adjustment, the reprojection errors of p observations
of m points by n cameras, and their sparse Jacobian.

A camera has 11 parameters: a Rodrigues rotation (0:3), its centre (3:6), the focal
length (6), the principal point (7:9) and two radial distortion coefficients (9:11).
Observation j sees point ``obs[j, 1]`` from camera ``obs[j, 0]`` at ``feats[j]`` with
weight ``w[j]``; its reprojection error is ``w[j] * (project(cam, X) - feats[j])`` (two
numbers) and its weight error ``1 - w[j]**2``.

The functions below work on all observations at once, one row per observation (the
camera and point of each observation gathered into rows). Since row j of the errors
depends only on row j of the inputs, the gradient of the sum of the errors' column r
holds, in row j, the derivatives of observation j's error r: two gradients give every
2 x 15 block of the Jacobian.

Input ``{"n", "m", "p", "cam": [11], "x": [3], "w": float, "feat": [2]}``, expanded
as ADBench does (every camera is ``cam``, every point ``x``; observation i pairs
camera i mod n with point i mod m). ``objective`` returns
``{"reproj_error": {"elements": [2], "repeated": p}, "w_err": {"element", "repeated": p}}``
and ``jacobian`` the compressed sparse row matrix of size 3p x (11n + 3m + p) as
GradBench's reference writes it: ``{"rows", "cols", "vals"}``, each its first 30
entries and its last one.
"""
import numpy as np

import adjoint

from . import Function

N_CAM_PARAMS = 11


def cross(a, b):
    """Row-wise cross products of two (p, 3) arrays."""
    return np.stack((a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
                     a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                     a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]), axis=1)


def rodrigues_rotate(rot, X):
    """Rotate each row of X by the angle-axis vector in the same row of rot."""
    sqtheta = np.sum(rot * rot, axis=1)
    turning = sqtheta != 0.0
    # sqrt(1.0) stands in where there is no rotation, so that no NaN reaches the gradient
    theta = np.sqrt(np.where(turning, sqtheta, 1.0)).reshape(-1, 1)
    costheta = np.cos(theta)
    sintheta = np.sin(theta)
    axis = rot / theta
    along = np.sum(axis * X, axis=1).reshape(-1, 1) * (1.0 - costheta)
    rotated = X * costheta + cross(axis, X) * sintheta + axis * along
    # no rotation: the first-order formula, as ADBench
    return np.where(turning.reshape(-1, 1), rotated, X + cross(rot, X))


def project(cam, X):
    """Project the points X (rows) through the cameras cam (rows)."""
    Xcam = rodrigues_rotate(cam[:, 0:3], X - cam[:, 3:6])
    proj = Xcam[:, 0:2] / Xcam[:, 2:3]
    rsq = np.sum(proj * proj, axis=1).reshape(-1, 1)
    distortion = 1.0 + cam[:, 9:10] * rsq + cam[:, 10:11] * rsq * rsq
    return proj * distortion * cam[:, 6:7] + cam[:, 7:9]


def reprojection_errors(cam, X, w, feat):
    """The (p, 2) weighted reprojection errors."""
    return w.reshape(-1, 1) * (project(cam, X) - feat)


def weight_errors(w):
    return 1.0 - w * w


def reprojection_error_sum(cam, X, w, feat, r):
    """The sum over observations of error component r (0 or 1)."""
    return np.sum(reprojection_errors(cam, X, w, feat)[:, r])


def weight_error_sum(w):
    return np.sum(weight_errors(w))


reprojection_grad = adjoint.grad(reprojection_error_sum, wrt=("cam", "X", "w"), background=False)
weight_grad = adjoint.grad(weight_error_sum, background=False)
# the compiled forwards of the array-valued functions
reprojection_compiled = adjoint.grad(reprojection_errors, background=False)
weight_compiled = adjoint.grad(weight_errors, background=False)


def prepare(input):
    n, m, p = int(input["n"]), int(input["m"]), int(input["p"])
    cams = np.tile(np.asarray(input["cam"], dtype=np.float64), (n, 1))
    X = np.tile(np.asarray(input["x"], dtype=np.float64), (m, 1))
    w = np.full(p, float(input["w"]))
    feats = np.tile(np.asarray(input["feat"], dtype=np.float64), (p, 1))
    i = np.arange(p)
    obs = np.stack((i % n, i % m), axis=1)
    return cams, X, w, obs, feats


def objective(cams, X, w, obs, feats):
    reproj = reprojection_compiled.forward(cams[obs[:, 0]], X[obs[:, 1]], w, feats)
    return reproj, weight_compiled.forward(w)


def jacobian(cams, X, w, obs, feats):
    """The sparse Jacobian as (rows, cols, vals) in compressed sparse row form."""
    n, m, p = cams.shape[0], X.shape[0], w.shape[0]
    cam_rows, X_rows = cams[obs[:, 0]], X[obs[:, 1]]
    # blocks[j, r]: the 15 nonzeros of row 2j + r: 11 camera, 3 point and 1 weight derivatives
    blocks = np.empty((p, 2, N_CAM_PARAMS + 4))
    for r in range(2):
        d_cam, d_X, d_w = reprojection_grad(cam_rows, X_rows, w, feats, r)
        blocks[:, r, :N_CAM_PARAMS] = d_cam
        blocks[:, r, N_CAM_PARAMS:N_CAM_PARAMS + 3] = d_X
        blocks[:, r, N_CAM_PARAMS + 3] = d_w
    d_w_err = weight_grad(w)

    columns = np.empty((p, 2, N_CAM_PARAMS + 4), dtype=np.int64)
    columns[:, :, :N_CAM_PARAMS] = (N_CAM_PARAMS * obs[:, 0])[:, None, None] + np.arange(N_CAM_PARAMS)
    columns[:, :, N_CAM_PARAMS:N_CAM_PARAMS + 3] = (N_CAM_PARAMS * n + 3 * obs[:, 1])[:, None, None] + np.arange(3)
    columns[:, :, N_CAM_PARAMS + 3] = (N_CAM_PARAMS * n + 3 * m + np.arange(p))[:, None]
    w_columns = N_CAM_PARAMS * n + 3 * m + np.arange(p)

    row_lengths = np.concatenate((np.full(2 * p, N_CAM_PARAMS + 4), np.ones(p, dtype=np.int64)))
    rows = np.concatenate(([0], np.cumsum(row_lengths)))
    cols = np.concatenate((columns.ravel(), w_columns))
    vals = np.concatenate((blocks.ravel(), d_w_err))
    return rows, cols, vals


def objective_output(result):
    reproj, w_err = result
    return {"reproj_error": {"elements": reproj[0].tolist(), "repeated": int(reproj.shape[0])},
            "w_err": {"element": float(w_err[0]), "repeated": int(w_err.shape[0])}}


def jacobian_output(result):
    """GradBench's compressed form: the first two rows' 30 entries and the last entry."""
    return {name: np.concatenate((values[:30], values[-1:])).tolist()
            for name, values in zip(("rows", "cols", "vals"), result)}


FUNCTIONS = {
    "objective": Function(prepare, objective, objective_output),
    "jacobian": Function(prepare, jacobian, jacobian_output),
}

TINY_INPUT = {
    "n": 2, "m": 3, "p": 4,
    "cam": [0.1, -0.2, 0.05, 0.3, 0.2, -1.0, 100.0, 0.5, -0.4, 0.01, -0.001],
    "x": [0.2, -0.1, 4.0],
    "w": 0.9,
    "feat": [0.5, -0.25],
}
