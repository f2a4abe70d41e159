"""transform/views.py: the cotangent of a row read in parts goes straight into the
cotangent it was read from (``W_bar[i, :b] += ...``), instead of a zero row of its own
added at the end. Gradients against finite differences, under jit=False and jit=True,
and cases where it must not happen."""
from __future__ import annotations

import numpy as np
import pytest

import adjoint
from adjoint.gradbench.evals.lstm import lstm_objective


def rows_in_parts(W, x, n):
    total = 0.0
    for i in range(n):
        row = W[i]
        b = x.shape[0]
        total = total + np.sum(np.tanh(row[:b] * x + row[b:]))
    return total


def element_in_row(W, n):
    total = 0.0
    for i in range(n):
        row = W[i]
        for j in range(W.shape[1]):
            total = total + row[j] * row[j] * (i + 1.0)
    return total


def rows_then_reads(W, x):  # W_bar is read (W_bar * 2.0 through z) before the row's parts are done
    row = W[1]
    z = np.sum(W * W) + np.sum(np.sin(row[:2] * x) + row[2:] * row[2:])
    return z * z


def nested_rows(T, n):
    total = 0.0
    for i in range(n):
        plane = T[i]
        for j in range(plane.shape[0]):
            row = plane[j]
            total = total + np.sum(row[1:] * row[:-1])
    return total


def slice_then_parts(W):  # W[1:] is no element read: the sum of parts stays
    rows = W[1:]
    return np.sum(rows[0] * rows[1]) + np.sum(np.cos(rows[:, 0]))


RNG = np.random.default_rng(5)
CASES = {
    "rows_in_parts": (rows_in_parts, (RNG.normal(size=(3, 8)), RNG.normal(size=4), 3), (0, 1)),
    "element_in_row": (element_in_row, (RNG.normal(size=(3, 4)), 3), (0,)),
    "rows_then_reads": (rows_then_reads, (RNG.normal(size=(3, 4)), RNG.normal(size=2)), (0, 1)),
    "nested_rows": (nested_rows, (RNG.normal(size=(2, 3, 4)), 2), (0,)),
    "slice_then_parts": (slice_then_parts, (RNG.normal(size=(3, 4)),), (0,)),
}


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name, jit):
    fn, args, wrt = CASES[name]
    adjoint.check_grad(fn, *args, wrt=wrt, jit=jit)


def _reverse(fn, wrt, args):
    """The adjoint of ``fn``'s vjp: its reverse sweep, or the loop that runs it as each
    iteration ends (transform/eager.py)."""
    source = adjoint.grad(fn, wrt=wrt).source_for(*args)
    mark = "# adjoint: cotangents in reverse order" if "# adjoint: cotangents in reverse order" in source \
        else "# adjoint of this iteration"
    return source[source.index(mark):]


def test_parts_of_a_row_go_straight_into_the_matrix():
    reverse = _reverse(rows_in_parts, (0, 1), CASES["rows_in_parts"][1])
    assert "W_bar[i, :b] += " in reverse and "W_bar[i, b:] += " in reverse
    assert "row_bar" not in reverse


def test_parts_of_a_row_of_a_plane_go_straight_into_the_tensor():
    reverse = _reverse(nested_rows, (0,), CASES["nested_rows"][1])
    assert "T_bar[i, j, 1:] += " in reverse and "T_bar[i, j, :-1] += " in reverse
    assert "plane_bar" not in reverse and "row_bar" not in reverse


def test_no_direct_accumulation_through_a_slice():
    reverse = _reverse(slice_then_parts, (0,), CASES["slice_then_parts"][1])
    assert "rows_bar = zero_like(rows)" in reverse


def test_lstm_weights_take_their_parts_directly():
    args = (np.ones((4, 8)), np.ones((3, 2)), np.ones((4, 2)), np.eye(2)[[0, 1, 0]])
    reverse = _reverse(lstm_objective, (0, 1), args)
    assert "main_params_bar[t6, :b_1] += " in reverse
    assert "zero_like(t7)" not in reverse and "main_params_bar[t6] += " not in reverse


def test_a_row_read_only_for_its_zeros_is_not_computed_again():
    """gmm's precision_factor(q[j], l[j]) writes l[j]'s elements into Q: their cotangents go
    straight into l_bar[j, index_1], and the reverse loop no longer computes l[j] again
    (it was read only by zero_like(t3)). Its copies of Q's cotangent: one, for the two
    loops that write Q (the second takes the array the first leaves, ours)."""
    from adjoint.gradbench.evals.gmm import TINY_INPUT, gmm_objective, prepare
    source = adjoint.grad(gmm_objective, wrt=(0, 1, 2, 3)).source_for(*prepare(TINY_INPUT))
    reverse = source[source.index("# adjoint: cotangents in reverse order"):].split("\ndef ")[0]
    assert "l_bar[j, index_1] += " in reverse
    assert "= l[j]" not in reverse and "zero_like(t3)" not in reverse
    assert reverse.count("copy_of(Q_") == 1 and "Q_1_bar" not in reverse


def test_hessian_through_parts_of_a_row():
    """The generated gradient is differentiated again (hessian): its writes go into the
    array the adjoint made, not into a view of it."""
    W = RNG.normal(size=(2, 4))
    hess = adjoint.hessian(element_in_row, wrt=0)(W, 2)
    expected = np.zeros((8, 8))
    for i in range(2):
        for j in range(4):
            expected[4 * i + j, 4 * i + j] = 2.0 * (i + 1.0)
    np.testing.assert_allclose(np.reshape(hess, (8, 8)), expected, rtol=1e-10, atol=1e-12)
