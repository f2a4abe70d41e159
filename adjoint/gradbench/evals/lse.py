"""GradBench ``lse``: log-sum-exp of a vector, computed stably, and its gradient.

Input ``{"x": [n floats]}``; ``primal`` returns a float, ``gradient`` a list of n.
"""
import numpy as np

import adjoint

from . import Function, floats


def logsumexp(x):
    """log(sum(exp(x))), shifted by the maximum so that exp never overflows."""
    top = np.max(x)
    return top + np.log(np.sum(np.exp(x - top)))


logsumexp_grad = adjoint.grad(logsumexp, background=False)


def prepare(input):
    return (np.asarray(input["x"], dtype=np.float64),)


FUNCTIONS = {
    "primal": Function(prepare, logsumexp_grad.forward, float),
    "gradient": Function(prepare, logsumexp_grad, floats),
}

TINY_INPUT = {"x": [0.5, -1.0, 2.0, 0.25]}
