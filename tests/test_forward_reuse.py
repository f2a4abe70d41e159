"""The adjoint of a function call reads a value the forward computed rather than call again:
``theta_bar += s_bar * c`` for ``s = math.sin(theta)`` beside ``c = math.cos(theta)``
(transform/control.py, ``Reverser._computed``; rules/elementwise.py, ``FUNCTION_OF``)."""
from __future__ import annotations

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference

from .test_random_programs import load_source, program_dir  # noqa: F401  (a fixture)

ROTATION = """
import math

def f(theta, x, y):
    c = math.cos(theta)
    s = math.sin(theta)
    return (x * c - y * s) * (x * s + y * c) + s
"""

ARRAYS = """
def f(x, w):
    c = np.cos(x)
    s = np.sin(x)
    e = np.exp(w * x)
    return np.sum(c * s * w) + np.sum(np.exp(w * x) * s)
"""

IN_A_LOOP = """
import math

def f(x, n):
    total = 0.0
    for i in range(n):
        a = x[i] * (i + 1.0)
        c = math.cos(a)
        s = math.sin(a)
        total = total + c * s * x[i] + s * total * 0.1
    return total
"""

WRITTEN = """
def f(x):
    c = np.cos(x)
    c[0] = 2.0
    s = np.sin(x)
    return np.sum(c * c) + np.sum(s * c)
"""

CASES = {
    "rotation": (ROTATION, lambda: (0.7, 1.3, -0.4), (0, 1, 2)),
    "arrays": (ARRAYS, lambda: (np.linspace(-1.0, 1.0, 5), np.linspace(0.5, 1.5, 5)), (0, 1)),
    "in_a_loop": (IN_A_LOOP, lambda: (np.linspace(0.1, 0.9, 6), 6), (0,)),
    "written": (WRITTEN, lambda: (np.linspace(-1.0, 1.0, 4),), (0,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_reading_forward_values_match_finite_differences(name, program_dir):
    source, make, wrt = CASES[name]
    f = load_source(source, program_dir)
    args = make()
    for jit in (True, False):
        got = adjoint.grad(f, wrt=wrt, jit=jit, background=False)(*args)
        got = got if isinstance(got, tuple) else (got,)
        for i, g in zip(wrt, got):
            np.testing.assert_allclose(g, finite_difference(f, list(args), i), rtol=1e-6, atol=1e-8)


def _adjoint_part(source: str) -> str:
    """The cotangent statements of a generated gradient."""
    grad = source[source.index("_grad("):] if "_grad(" in source else source
    return "\n".join(line for line in grad.splitlines() if "_bar" in line and not line.strip().startswith("#"))


def test_sin_and_cos_of_one_value_are_called_once_each(program_dir):
    f = load_source(ROTATION, program_dir)
    source = adjoint.grad(f, wrt=(0, 1, 2), jit=False).source_for(0.7, 1.3, -0.4)
    adjoint_part = _adjoint_part(source)
    assert "cos(" not in adjoint_part and "sin(" not in adjoint_part, adjoint_part
    assert "s_bar * c" in adjoint_part and "c_bar * s" in adjoint_part


def test_arrays_and_loop_bodies_read_the_forward_value(program_dir):
    f = load_source(ARRAYS, program_dir)
    source = adjoint.grad(f, wrt=(0, 1), jit=False).source_for(np.ones(3), np.ones(3))
    assert "np.cos(" not in _adjoint_part(source) and "np.sin(" not in _adjoint_part(source)
    f = load_source(IN_A_LOOP, program_dir)
    source = adjoint.grad(f, jit=False).source_for(np.ones(3), 3)
    assert "np.cos(" not in _adjoint_part(source) and "np.sin(" not in _adjoint_part(source)


def test_an_array_written_after_it_was_computed_is_not_read_for_its_function(program_dir):
    """c = cos(x) is written (c[0] = 2.0) before s = sin(x): where sin's adjoint runs, c
    holds the write, so the adjoint calls cos again."""
    f = load_source(WRITTEN, program_dir)
    source = adjoint.grad(f, jit=False).source_for(np.ones(3))
    assert "np.cos(x)" in _adjoint_part(source)
