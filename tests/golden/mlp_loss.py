import numpy as np
from adjoint.runtime.helpers import expand_axis, extremum_axis_grad, fill_like, matmul_grad_a, matmul_grad_b, reduce_max, reduce_sum, reshape_like, unbroadcast

def mlp_loss(W1, b1, W2, b2, X, Y):
    """The forward of mlp_loss, as adjoint compiles it."""
    # line 27: h = np.tanh(X @ W1 + b1)
    h = np.tanh(X @ W1 + b1)
    # line 28: z = h @ W2 + b2
    z = h @ W2 + b2
    # line 29: z = z - np.max(z, axis=1).reshape(-1, 1)
    t4 = reduce_max(z, 1)
    z_1 = z - t4.reshape((-1, 1))
    # line 30: p = np.exp(z) / np.sum(np.exp(z), axis=1).reshape(-1, 1)
    t6 = np.exp(z_1)
    t7 = reduce_sum(t6, 1)
    p = t6 / t7.reshape((-1, 1))
    # line 31: return -np.sum(Y * np.log(p)) / X.shape[0]
    mlp_loss = -np.sum(Y * np.log(p)) / X.shape[0]
    return mlp_loss


def mlp_loss_vjp(W1, b1, W2, b2, X, Y, mlp_loss_bar):
    """mlp_loss's value and the cotangents of W1, b1, W2, b2, given the cotangent mlp_loss_bar of the value."""
    # line 27: h = np.tanh(X @ W1 + b1)
    t1 = X @ W1
    h = np.tanh(t1 + b1)
    # line 28: z = h @ W2 + b2
    t3 = h @ W2
    z = t3 + b2
    # line 29: z = z - np.max(z, axis=1).reshape(-1, 1)
    t4 = reduce_max(z, 1)
    t5 = t4.reshape((-1, 1))
    z_1 = z - t5
    # line 30: p = np.exp(z) / np.sum(np.exp(z), axis=1).reshape(-1, 1)
    t6 = np.exp(z_1)
    t7 = reduce_sum(t6, 1)
    t8 = t7.reshape((-1, 1))
    p = t6 / t8
    # line 31: return -np.sum(Y * np.log(p)) / X.shape[0]
    t9 = np.log(p)
    t10 = Y * t9
    t13 = X.shape[0]
    mlp_loss = -np.sum(t10) / t13
    # adjoint: cotangents in reverse order
    # line 31: return -np.sum(Y * np.log(p)) / X.shape[0]
    t10_bar = fill_like(-(mlp_loss_bar / t13), t10)
    t9_bar = unbroadcast(t10_bar * Y, t9)
    p_bar = t9_bar / p
    # line 30: p = np.exp(z) / np.sum(np.exp(z), axis=1).reshape(-1, 1)
    t14 = p_bar / t8
    t6_bar = unbroadcast(t14, t6)
    t8_bar = unbroadcast(-t14 * p, t8)
    t7_bar = reshape_like(t8_bar, t7)
    t6_bar += expand_axis(t7_bar, t6, 1)
    z_1_bar = t6_bar * t6
    # line 29: z = z - np.max(z, axis=1).reshape(-1, 1)
    z_bar = unbroadcast(z_1_bar, z)
    t5_bar = -unbroadcast(z_1_bar, t5)
    t4_bar = reshape_like(t5_bar, t4)
    z_bar = z_bar + extremum_axis_grad(z, t4, t4_bar, 1)
    # line 28: z = h @ W2 + b2
    t3_bar = unbroadcast(z_bar, t3)
    b2_bar = unbroadcast(z_bar, b2)
    h_bar = matmul_grad_a(t3_bar, h, W2)
    W2_bar = matmul_grad_b(t3_bar, h, W2)
    # line 27: h = np.tanh(X @ W1 + b1)
    t2_bar = h_bar * (1.0 - h * h)
    t1_bar = unbroadcast(t2_bar, t1)
    b1_bar = unbroadcast(t2_bar, b1)
    W1_bar = matmul_grad_b(t1_bar, X, W1)
    return mlp_loss, (W1_bar, b1_bar, W2_bar, b2_bar)
