import math
import numpy as np
from adjoint.runtime.helpers import unbroadcast, zero_like

def loop_sin(x, n):
    """The forward of loop_sin, as adjoint compiles it."""
    # line 26: for i in range(n):
    s = 0.0
    for i in range(n):
        # line 27: s = s + math.sin(x * i) * x
        t1 = x * i
        t2 = math.sin(t1)
        t3 = t2 * x
        s_1 = s + t3
        s = s_1
    # line 28: return s
    return s


def loop_sin_vjp(x, n, s_bar):
    """loop_sin's value and the cotangents of x, given the cotangent s_bar of the value."""
    # tape: values the loops overwrite and the adjoint reads
    i_stack = []
    s_stack = []
    t1_stack = []
    t2_stack = []
    t3_stack = []
    # line 26: for i in range(n):
    s = 0.0
    for i in range(n):
        i_stack.append(i)
        s_stack.append(s)
        # line 27: s = s + math.sin(x * i) * x
        t1 = x * i
        t1_stack.append(t1)
        t2 = math.sin(t1)
        t2_stack.append(t2)
        t3 = t2 * x
        t3_stack.append(t3)
        s_1 = s + t3
        s = s_1
    s_value = s
    # adjoint: cotangents in reverse order
    # line 26: for i in range(n):
    x_bar = zero_like(x)
    for _ in range(len(range(n))):
        i = i_stack.pop()
        s = s_stack.pop()
        t1 = t1_stack.pop()
        t2 = t2_stack.pop()
        t3 = t3_stack.pop()
        s_1_bar = s_bar
        # line 27: s = s + math.sin(x * i) * x
        s_bar = unbroadcast(s_1_bar, s)
        t3_bar = unbroadcast(s_1_bar, t3)
        t2_bar = unbroadcast(t3_bar * x, t2)
        x_bar += unbroadcast(t3_bar * t2, x)
        t1_bar = t2_bar * np.cos(t1)
        x_bar += unbroadcast(t1_bar * i, x)
    return s_value, (x_bar,)
