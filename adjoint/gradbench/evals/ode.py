"""GradBench ``ode``: an explicit Runge-Kutta (RK4) solution of a linear ODE system.

The system, for a parameter vector x of length n:

    y_0' = x_0,    y_i' = x_i * y_{i-1}  (i > 0),    y(0) = 0,

integrated with s equal RK4 steps over t in [0, 2]. Input ``{"x": [n floats],
"s": int}``; ``primal`` returns y(2), a list of n; ``gradient`` returns the
gradient of the last component y_{n-1}(2) with respect to x, a list of n.
"""
import numpy as np

import adjoint

from . import Function, floats


def rhs(x, y):
    """The right-hand side y' = f(y): x_0 for the first component, x_i * y_{i-1} after."""
    return np.concatenate((x[:1], x[1:] * y[:-1]))


def solve(x, s):
    """y(2) by s steps of classic RK4 from y(0) = 0."""
    h = 2.0 / s
    y = np.zeros_like(x)  # y(0) = 0
    for _ in range(s):
        k1 = rhs(x, y)
        k2 = rhs(x, y + h / 2.0 * k1)
        k3 = rhs(x, y + h / 2.0 * k2)
        k4 = rhs(x, y + h * k3)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def last_component(x, s):
    y = solve(x, s)
    return y[-1]


# The forward of a GradFunction is the compiled function itself, whatever it returns:
# ``solve_compiled.forward`` is the primal (an array), never differentiated.
solve_compiled = adjoint.grad(solve, background=False)
last_component_grad = adjoint.grad(last_component, background=False)


def prepare(input):
    return np.asarray(input["x"], dtype=np.float64), int(input["s"])


FUNCTIONS = {
    "primal": Function(prepare, solve_compiled.forward, floats),
    "gradient": Function(prepare, last_component_grad, floats),
}

TINY_INPUT = {"x": [0.5, -0.25, 1.5], "s": 2}
