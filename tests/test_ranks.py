"""analysis/ranks.py: which values are numbers, from the ranks of the call's arguments."""
from __future__ import annotations

import numpy as np

import adjoint
from adjoint.analysis.ranks import ranks
from adjoint.pipeline import lower_function


def lengths(x, w):
    n, d = x.shape
    last = x.shape[n - n - 1]
    rest = x.shape[1:]
    z = np.zeros(rest)
    return np.sum(x * w) * n / (d + last) + np.sum(z)


def test_an_element_of_a_shape_is_a_number_and_a_slice_of_it_is_not():
    ir = lower_function(lengths, {})
    known = ranks(ir, {"x": 2, "w": 1})
    assert known["n"] == known["d"] == known["last"] == 0
    assert known.get("rest") is None and known.get("z") is None  # a tuple, and zeros of it


def test_a_sum_times_a_length_needs_no_unbroadcast():
    """n and d are numbers, so the value is a number and its cotangent reads like the math."""
    x, w = np.linspace(0.1, 0.9, 6).reshape(2, 3), np.array([0.5, -1.0, 2.0])
    g = adjoint.grad(lengths, wrt=(0, 1), jit=False)
    source = g.source_for(x, w)
    assert "unbroadcast(lengths_bar" not in source, source
    assert adjoint.check_grad(lengths, x, w, wrt=(0, 1), jit=False) < 1e-6
