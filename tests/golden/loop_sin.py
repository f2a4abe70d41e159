import math
import numpy as np
from adjoint.runtime.helpers import new_tape, unbroadcast, zero_like

def loop_sin(x, n):
    """The forward of loop_sin, as adjoint compiles it."""
    # line 26: for i in range(n):
    s = 0.0
    for i in range(n):
        # line 27: s = s + math.sin(x * i) * x
        s = s + math.sin(x * i) * x
    # line 28: return s
    return s


def loop_sin_vjp(x, n, s_bar):
    """loop_sin's value and the cotangents of x, given the cotangent s_bar of the value."""
    # line 26: for i in range(n):
    s = 0.0
    # tape: what the loop overwrites and the adjoint reads, with room for every iteration
    s_stack = new_tape(n)
    for i in range(n):
        # line 27: s = s + math.sin(x * i) * x
        s_1 = s + math.sin(x * i) * x
        # line 26: for i in range(n):
        s_stack.append(s)
        s = s_1
    s_value = s
    # adjoint: cotangents in reverse order
    s_top = len(s_stack)
    # line 26: for i in range(n):
    x_bar = zero_like(x)
    for i in range(n - 1, -1, -1):
        s_top -= 1
        s = s_stack[s_top]
        # line 27: s = s + math.sin(x * i) * x
        t1 = x * i
        t2 = math.sin(t1)
        # line 26: for i in range(n):
        s_1_bar = s_bar
        # line 27: s = s + math.sin(x * i) * x
        s_bar = unbroadcast(s_1_bar, s)
        t2_bar = unbroadcast(s_1_bar * x, t2)
        x_bar += unbroadcast(s_1_bar * t2, x)
        x_bar += unbroadcast(t2_bar * np.cos(t1) * i, x)
    return s_value, (x_bar,)
