"""Benchmark problems written once in adjoint's subset (plain Python and NumPy)."""
import math


def loop_sin(x, n):
    """sum over i < n of sin(x * i) * x: a scalar loop."""
    s = 0.0
    for i in range(n):
        s = s + math.sin(x * i) * x
    return s
