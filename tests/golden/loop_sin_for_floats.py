import math
import numpy as np

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
    for i in range(n):
        # line 27: s = s + math.sin(x * i) * x
        s = s + math.sin(x * i) * x
    # adjoint: cotangents in reverse order
    # line 26: for i in range(n):
    x_bar = 0.0
    for i in range(n - 1, -1, -1):
        # line 27: s = s + math.sin(x * i) * x
        t1 = x * i
        t2_bar = s_bar * x
        x_bar += s_bar * math.sin(t1)
        x_bar += t2_bar * np.cos(t1) * i
    return s, (x_bar,)


def loop_sin_grad(x, n, s_bar):
    """The cotangents of x alone, given s_bar: loop_sin_vjp without the work that only its value needs (what adjoint.grad calls)."""
    # adjoint: cotangents in reverse order
    # line 26: for i in range(n):
    x_bar = 0.0
    for i in range(n - 1, -1, -1):
        # line 27: s = s + math.sin(x * i) * x
        t1 = x * i
        t2_bar = s_bar * x
        x_bar += s_bar * math.sin(t1)
        x_bar += t2_bar * np.cos(t1) * i
    return (x_bar,)
