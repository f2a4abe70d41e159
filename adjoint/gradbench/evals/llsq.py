"""GradBench ``llsq``: a linear least-squares fit of sign(t) by a polynomial.

With t_i = -1 + 2i/(n-1) for i < n and m = len(x) coefficients,

    primal(x) = 1/2 * sum_i (sign(t_i) - sum_j x_j * t_i**j)**2

Input ``{"x": [m floats], "n": int}``; ``primal`` returns a float, ``gradient``
d primal / dx, a list of m.
"""
import numpy as np

import adjoint

from . import Function, floats


def least_squares(x, n):
    m = x.shape[0]
    t = -1.0 + 2.0 * np.arange(n) / (n - 1.0)
    # powers[i, j] = t_i ** j, built column by column (t_i ** 0 = 1)
    powers = np.ones((n, m))
    for j in range(1, m):
        powers[:, j] = powers[:, j - 1] * t
    residual = np.sign(t) - powers @ x
    return 0.5 * np.sum(residual * residual)


least_squares_grad = adjoint.grad(least_squares, background=False)


def prepare(input):
    return np.asarray(input["x"], dtype=np.float64), int(input["n"])


FUNCTIONS = {
    "primal": Function(prepare, least_squares_grad.forward, float),
    "gradient": Function(prepare, least_squares_grad, floats),
}

TINY_INPUT = {"x": [0.1, -0.2, 0.3, 0.05], "n": 5}
