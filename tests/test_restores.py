"""Undoing element writes in the reverse sweep (transform/reverse.py): the overwritten
values are saved and written back only when the adjoint reads the array after that."""
from __future__ import annotations

import re

import numpy as np
import pytest

import adjoint
from tests import restores_sample as sample


def _vjp_section(g, *args):
    source = g.source_for(*args)
    return source[source.index("_vjp("):]


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("fn, args", [
    (sample.recurrence, (np.linspace(-1.0, 1.0, 7), 0.9)),
    (sample.whole_array_read_in_loop, (np.array([0.3, -0.7, 1.1]), np.array([0.5, 2.0, -1.5]))),
    (sample.overwritten_in_loop, (np.linspace(-1.0, 1.0, 8),)),
])
def test_gradients_match_finite_differences(fn, args, jit):
    wrt = tuple(range(len(args)))
    assert adjoint.check_grad(fn, *args, wrt=wrt, jit=jit) < 1e-6


def test_a_recurrence_saves_and_restores_nothing():
    g = adjoint.grad(sample.recurrence, wrt=(0, 1))
    args = (np.linspace(-1.0, 1.0, 7), 0.9)
    vjp = _vjp_section(g, *args)
    assert "copy_of(" not in vjp          # no overwritten value saved
    assert ".append(" not in vjp          # nor y[i - 1]: no later write changes it


def test_an_array_read_after_its_write_is_undone_keeps_the_restore():
    g = adjoint.grad(sample.whole_array_read_in_loop, wrt=(0, 1))
    args = (np.array([0.3, -0.7, 1.1]), np.array([0.5, 2.0, -1.5]))
    vjp = _vjp_section(g, *args)
    assert "copy_of(" in vjp
    _, gw = g(*args)
    np.testing.assert_allclose(gw, 2.0 * np.array([3 * 0.3, 2 * -0.7, 1.1]), rtol=1e-12)


def test_an_array_made_in_each_iteration_is_not_restored():
    """Each iteration's adjoint reads the q that iteration made, which no other iteration's
    restore touches: only y, one array for all iterations, has its writes undone."""
    args = (np.array([0.3, -0.7, 1.1]), np.array([0.5, 2.0, -1.5]))
    for jit in (False, True):
        assert adjoint.check_grad(sample.made_in_each_iteration, *args, wrt=(0, 1), jit=jit) < 1e-6
    vjp = _vjp_section(adjoint.grad(sample.made_in_each_iteration, wrt=(0, 1)), *args)
    reverse = vjp[vjp.index("# adjoint: cotangents"):vjp.index("\ndef ")]
    restores = re.findall(r"^\s*(\w+)\[[^]]*\] = (?!0\.0$)(.*)$", reverse, re.MULTILINE)
    undone = {name.rstrip("_0123456789") for name, _ in restores if not name.endswith("_bar")}
    assert undone == {"y"}, restores
    assert vjp[:vjp.index("\ndef ")].count("copy_of(") == 1  # y's overwritten element, not q's


def test_an_array_written_in_an_inner_loop_is_popped_not_computed_again():
    """The inner loop's reverse reads q as its writes left it (q_1 = q: the array on entry
    to the inner loop, updated in place); computing q = x * 0.5 again in the reverse would
    give a new array without those writes."""
    args = (np.array([0.3, -0.7, 1.1]), np.array([0.5, 2.0, -1.5]))
    for jit in (False, True):
        assert adjoint.check_grad(sample.allocated_in_loop_written_in_inner_loop, *args, wrt=(0, 1), jit=jit) < 1e-6
    vjp = _vjp_section(adjoint.grad(sample.allocated_in_loop_written_in_inner_loop, wrt=(0, 1)), *args)
    reverse = vjp[vjp.index("# adjoint: cotangents"):vjp.index("\ndef ")]
    assert not re.search(r"^\s*q = x \* 0\.5$", reverse, re.MULTILINE), reverse  # popped instead


def test_nothing_is_computed_again_from_a_view_of_a_written_array():
    """a[0:3] is a view that the inner loop's writes change: the outer loop's reverse, at its
    start (before it undoes any write), would compute a[0:3] + 1.0 from the values the loop
    left, not those the forward read; it pops it instead."""
    args = (np.array([0.31, -0.52, 0.77, 0.13]),)
    for jit in (False, True):
        assert adjoint.check_grad(sample.slice_read_then_written_in_loop, *args, jit=jit) < 1e-6
