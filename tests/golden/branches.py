import numpy as np
from adjoint.runtime.helpers import unbroadcast, zero_like

def branches(x, y):
    """The forward of branches, as adjoint compiles it."""
    # line 10: if x > y:
    t1 = x > y
    if t1:
        # line 11: z = x * y
        z = x * y
        z_4 = z
    else:
        # line 12: elif x < 0.0:
        t2 = x < 0.0
        if t2:
            # line 13: z = x * x
            z_3 = x * x
        else:
            # line 15: z = y + 1.0
            z_3 = y + 1.0
        z_4 = z_3
    # line 16: w = z * 2.0 if z > 1.0 else z * 3.0
    t3 = z_4 > 1.0
    if t3:
        w = z_4 * 2.0
    else:
        # line 16: w = z * 2.0 if z > 1.0 else z * 3.0
        w = z_4 * 3.0
    # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
    t6 = x > 0.0
    if t6:
        t8 = y > 0.0
    else:
        t8 = t6
    # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
    if t8:
        t10 = t8
    else:
        # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
        t10 = x < -1.0
    # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
    if t10:
        # line 18: w = w + np.sin(x)
        w_2 = w + np.sin(x)
    else:
        w_2 = w
    # line 19: if not x > 0.5:
    t13 = not x > 0.5
    if t13:
        # line 20: w = w * y
        w_4 = w_2 * y
    else:
        w_4 = w_2
    # line 21: return w + x
    branches = w_4 + x
    return branches


def branches_vjp(x, y, branches_bar):
    """branches's value and the cotangents of x, y, given the cotangent branches_bar of the value."""
    # line 10: if x > y:
    t1 = x > y
    if t1:
        # line 11: z = x * y
        z = x * y
        z_4 = z
    else:
        # line 12: elif x < 0.0:
        t2 = x < 0.0
        if t2:
            # line 13: z = x * x
            z_3 = x * x
        else:
            # line 15: z = y + 1.0
            z_3 = y + 1.0
        z_4 = z_3
    # line 16: w = z * 2.0 if z > 1.0 else z * 3.0
    t3 = z_4 > 1.0
    if t3:
        w = z_4 * 2.0
    else:
        # line 16: w = z * 2.0 if z > 1.0 else z * 3.0
        w = z_4 * 3.0
    # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
    t6 = x > 0.0
    if t6:
        t8 = y > 0.0
    else:
        t8 = t6
    # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
    if t8:
        t10 = t8
    else:
        # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
        t10 = x < -1.0
    # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
    if t10:
        # line 18: w = w + np.sin(x)
        t11 = np.sin(x)
        w_2 = w + t11
    else:
        w_2 = w
    # line 19: if not x > 0.5:
    t13 = not x > 0.5
    if t13:
        # line 20: w = w * y
        w_4 = w_2 * y
    else:
        w_4 = w_2
    # line 21: return w + x
    branches = w_4 + x
    # adjoint: cotangents in reverse order
    # line 21: return w + x
    w_4_bar = unbroadcast(branches_bar, w_4)
    x_bar = unbroadcast(branches_bar, x)
    # line 19: if not x > 0.5:
    w_2_bar = zero_like(w_2)
    y_bar = zero_like(y)
    if t13:
        # line 20: w = w * y
        w_2_bar = w_2_bar + unbroadcast(w_4_bar * y, w_2)
        y_bar = y_bar + unbroadcast(w_4_bar * w_2, y)
    else:
        # line 19: if not x > 0.5:
        w_2_bar = w_2_bar + w_4_bar
    # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
    w_bar = zero_like(w)
    if t10:
        # line 18: w = w + np.sin(x)
        w_bar = w_bar + unbroadcast(w_2_bar, w)
        t11_bar = unbroadcast(w_2_bar, t11)
        x_bar = x_bar + t11_bar * np.cos(x)
    else:
        # line 17: if x > 0.0 and y > 0.0 or x < -1.0:
        w_bar = w_bar + w_2_bar
    # line 16: w = z * 2.0 if z > 1.0 else z * 3.0
    z_4_bar = zero_like(z_4)
    if t3:
        z_4_bar = z_4_bar + w_bar * 2.0
    else:
        # line 16: w = z * 2.0 if z > 1.0 else z * 3.0
        z_4_bar = z_4_bar + w_bar * 3.0
    # line 10: if x > y:
    if t1:
        z_bar = z_4_bar
        # line 11: z = x * y
        x_bar = x_bar + unbroadcast(z_bar * y, x)
        y_bar += unbroadcast(z_bar * x, y)
    else:
        # line 12: elif x < 0.0:
        if t2:
            # line 13: z = x * x
            x_bar = x_bar + unbroadcast(2.0 * z_4_bar * x, x)
        else:
            # line 15: z = y + 1.0
            y_bar += z_4_bar
    return branches, (x_bar, y_bar)
