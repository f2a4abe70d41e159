import numpy as np
from adjoint.runtime.helpers import fill_like, matmul_grad_a, matmul_grad_b, unbroadcast

def ridge(w, X, y, lam):
    """The forward of ridge, as adjoint compiles it."""
    # line 42: r = X @ w - y
    r = X @ w - y
    # line 43: return 0.5 * np.dot(r, r) + lam * np.sum(w ** 2)
    ridge = 0.5 * np.dot(r, r) + lam * np.sum(w ** 2)
    return ridge


def ridge_vjp(w, X, y, lam, ridge_bar):
    """ridge's value and the cotangents of w, given the cotangent ridge_bar of the value."""
    # line 42: r = X @ w - y
    t1 = X @ w
    r = t1 - y
    # line 43: return 0.5 * np.dot(r, r) + lam * np.sum(w ** 2)
    t3 = 0.5 * np.dot(r, r)
    t4 = w ** 2
    t5 = np.sum(t4)
    ridge = t3 + lam * t5
    # adjoint: cotangents in reverse order
    # line 43: return 0.5 * np.dot(r, r) + lam * np.sum(w ** 2)
    t3_bar = unbroadcast(ridge_bar, t3)
    t5_bar = unbroadcast(ridge_bar * lam, t5)
    t4_bar = fill_like(t5_bar, t4)
    w_bar = 2.0 * t4_bar * w
    t2_bar = t3_bar * 0.5
    r_bar = matmul_grad_a(t2_bar, r, r)
    r_bar = r_bar + matmul_grad_b(t2_bar, r, r)
    # line 42: r = X @ w - y
    t1_bar = unbroadcast(r_bar, t1)
    w_bar += matmul_grad_b(t1_bar, X, w)
    return ridge, (w_bar,)
