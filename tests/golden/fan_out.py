import math
import numpy as np
from adjoint.runtime.helpers import concat_part, extremum_grad, fill_like, prod_grad, stack_part, unbroadcast, zero_like

def fan_out(x, s):
    """The forward of fan_out, as adjoint compiles it."""
    # line 48: s = s * 2.0
    s_1 = s * 2.0
    # line 49: y = np.sin(x) * x + s
    y = np.sin(x) * x + s_1
    # line 50: y = y * y + np.cos(x) * s
    y_1 = y * y + np.cos(x) * s_1
    # line 51: z = np.concatenate((y, x[1:], x[:1] * s))
    z = np.concatenate((y_1, x[1:], x[:1] * s_1), axis=0)
    # line 52: w = np.stack((x, y))
    w = np.stack((x, y_1), axis=0)
    # line 53: q, r = w[0], w[1]
    q = w[0]
    r = w[1]
    # line 54: return np.sum(z * z) + np.sum(q * r) + math.exp(s) + np.prod(x[:2]) + np.min(y) * np.max(x)
    fan_out = np.sum(z * z) + np.sum(q * r) + math.exp(s_1) + np.prod(x[:2]) + np.min(y_1) * np.max(x)
    return fan_out


def fan_out_vjp(x, s, fan_out_bar):
    """fan_out's value and the cotangents of x, s, given the cotangent fan_out_bar of the value."""
    # line 48: s = s * 2.0
    s_1 = s * 2.0
    # line 49: y = np.sin(x) * x + s
    t1 = np.sin(x)
    y = t1 * x + s_1
    # line 50: y = y * y + np.cos(x) * s
    t4 = np.cos(x)
    y_1 = y * y + t4 * s_1
    # line 51: z = np.concatenate((y, x[1:], x[:1] * s))
    t6 = x[1:]
    t7 = x[:1]
    t8 = t7 * s_1
    z = np.concatenate((y_1, t6, t8), axis=0)
    # line 52: w = np.stack((x, y))
    w = np.stack((x, y_1), axis=0)
    # line 53: q, r = w[0], w[1]
    q = w[0]
    r = w[1]
    # line 54: return np.sum(z * z) + np.sum(q * r) + math.exp(s) + np.prod(x[:2]) + np.min(y) * np.max(x)
    t9 = z * z
    t11 = q * r
    t13 = np.sum(t9) + np.sum(t11)
    t14 = math.exp(s_1)
    t16 = x[:2]
    t17 = np.prod(t16)
    t19 = np.min(y_1)
    t20 = np.max(x)
    t21 = t19 * t20
    fan_out = t13 + t14 + t17 + t21
    # adjoint: cotangents in reverse order
    # line 54: return np.sum(z * z) + np.sum(q * r) + math.exp(s) + np.prod(x[:2]) + np.min(y) * np.max(x)
    t21_bar = unbroadcast(fan_out_bar, t21)
    x_bar = extremum_grad(x, t20, t21_bar * t19)
    y_1_bar = extremum_grad(y_1, t19, t21_bar * t20)
    t17_bar = unbroadcast(fan_out_bar, t17)
    t16_bar = prod_grad(t16, t17_bar)
    x_bar = x_bar.copy()
    x_bar[:2] += t16_bar
    t13_bar = unbroadcast(fan_out_bar, t13)
    t14_bar = unbroadcast(fan_out_bar, t14)
    s_1_bar = t14_bar * t14
    t11_bar = fill_like(t13_bar, t11)
    q_bar = unbroadcast(t11_bar * r, q)
    r_bar = unbroadcast(t11_bar * q, r)
    t9_bar = fill_like(t13_bar, t9)
    z_bar = unbroadcast(2.0 * t9_bar * z, z)
    # line 53: q, r = w[0], w[1]
    w_bar = zero_like(w)
    w_bar[1] += r_bar
    w_bar[0] += q_bar
    # line 52: w = np.stack((x, y))
    x_bar += stack_part(w_bar, 0, x, 0)
    y_1_bar = y_1_bar + stack_part(w_bar, 1, y_1, 0)
    # line 51: z = np.concatenate((y, x[1:], x[:1] * s))
    y_1_bar += concat_part(z_bar, 0, y_1, 0)
    t6_bar = concat_part(z_bar, y_1.shape[0], t6, 0)
    t8_bar = concat_part(z_bar, y_1.shape[0] + t6.shape[0], t8, 0)
    t7_bar = unbroadcast(t8_bar * s_1, t7)
    s_1_bar += unbroadcast(t8_bar * t7, s_1)
    x_bar[:1] += t7_bar
    x_bar[1:] += t6_bar
    # line 50: y = y * y + np.cos(x) * s
    t4_bar = unbroadcast(y_1_bar * s_1, t4)
    s_1_bar += unbroadcast(y_1_bar * t4, s_1)
    x_bar += -t4_bar * t1
    y_bar = 2.0 * y_1_bar * y
    # line 49: y = np.sin(x) * x + s
    s_1_bar += unbroadcast(y_bar, s_1)
    t1_bar = unbroadcast(y_bar * x, t1)
    x_bar += unbroadcast(y_bar * t1, x)
    x_bar += t1_bar * t4
    # line 48: s = s * 2.0
    s_bar = s_1_bar * 2.0
    return fan_out, (x_bar, s_bar)
