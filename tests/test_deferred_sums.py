"""transform/sums.py: a single-use elementwise intermediate's cotangent is not summed down
to its shape (its operands' sums do it), so the intermediate is not computed again just
for its shape. Gradients against finite differences where the deferred sums really sum
(operands broadcast), under jit=False and jit=True."""
from __future__ import annotations

import re

import numpy as np
import pytest

import adjoint
from adjoint.gradbench.evals.lstm import lstm_objective
from adjoint.transform.sums import DEFERRED


def product_into_matrix(a, b, M):
    return np.sum(np.tanh(a * b + M))


def chain(a, b, c, d):
    return np.sum(np.sin((a * b - c) / d + 0.5 * d))


def scaled(a, M):  # a * 2.0: the sum into a is left out by reverse itself, so kept here
    return np.sum(np.tanh(a * 2.0 + M) * (a + 1.0))


def loop_broadcast(w, b, x, n):
    h = x
    total = 0.0
    for i in range(n):
        h = np.tanh(h * 0.5 + w * b + i)
        total = total + np.sum(h * h)
    return total


def squares_in_a_loop(x, mu):
    total = 0.0
    for j in range(mu.shape[0]):
        total = total + np.sum(np.sum((x - mu[j]) ** 2, axis=1) * 0.5)
    return total


def setitem_broadcast(a, b, n):
    out = np.zeros((n, 3))
    for i in range(n):
        out[i] = a * b + i  # a row from a scalar product: the write broadcasts it
    return np.sum(np.sin(out))


def centered_product(X, mu, W):
    """gmm's pattern: the cotangent of X - mu through a matrix product, summed into mu."""
    z = (X - mu) @ W
    return np.sum(z * z)


RNG = np.random.default_rng(3)
CASES = {
    "rows": (product_into_matrix, (RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=(4, 3))), (0, 1)),
    "column": (product_into_matrix, (RNG.normal(size=(4, 1)), RNG.normal(size=(4, 1)), RNG.normal(size=(4, 3))),
               (0, 1, 2)),
    "numbers": (product_into_matrix, (0.7, -1.3, RNG.normal(size=(2, 3))), (0, 1, 2)),
    "chain": (chain, (RNG.normal(size=(3, 1)), RNG.normal(size=4), 0.4, RNG.uniform(1.0, 2.0, size=(2, 3, 4))),
              (0, 1, 2, 3)),
    "scaled": (scaled, (RNG.normal(size=3), RNG.normal(size=(2, 3))), (0, 1)),
    "loop": (loop_broadcast, (RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=(2, 3)), 4), (0, 1, 2)),
    "loop_numbers": (loop_broadcast, (0.3, -0.8, RNG.normal(size=(2, 3)), 3), (0, 1, 2)),
    "setitem": (setitem_broadcast, (0.6, 1.1, 3), (0, 1)),
    "shape_twin": (squares_in_a_loop, (RNG.normal(size=(4, 3)), RNG.normal(size=(2, 3))), (0, 1)),
    "row_sums": (centered_product, (RNG.normal(size=(5, 3)), RNG.normal(size=3), RNG.normal(size=(3, 2))), (1, 2)),
    "row_sums_of_one": (centered_product, (RNG.normal(size=(5, 3)), RNG.normal(size=1), RNG.normal(size=(3, 2))),
                        (1, 2)),
    "row_sums_read_twice": (centered_product, (RNG.normal(size=(5, 3)), RNG.normal(size=3),
                                               RNG.normal(size=(3, 2))), (0, 1, 2)),
}


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name, jit):
    fn, args, wrt = CASES[name]
    adjoint.check_grad(fn, *args, wrt=wrt, jit=jit)


def test_a_witness_is_not_recomputed():
    """The reverse loop no longer computes w * b apart (it only gave the shape of a sum):
    it sums into the parameters, and into the taped t1 (h * 0.5, whose own sum into h
    reverse leaves out), nothing else."""
    source = adjoint.grad(loop_broadcast, wrt=(0, 1)).source_for(*CASES["loop"][1])
    reverse = source[source.index("# adjoint: cotangents in reverse order"):]
    assert not re.search(r"^ *t\d+ = w \* b$", reverse, re.M)
    assert set(re.findall(r"unbroadcast\(.*, (\w+)\)$", reverse, re.M)) == {"h_1", "t1", "w", "b"}


def test_lstm_reverse_computes_no_product_for_its_shape():
    """In the LSTM's reverse loop, no gate's pre-activation is computed again: not as a
    product kept for its shape (the sums into its operands are deferred), and not at all,
    as the gates' arrays of exp and tanh are taped rather than computed again (a libm call
    per element): the sigmoids themselves (rule logistic, transform/idioms.py)."""
    args = (np.ones((4, 8)), np.ones((3, 2)), np.ones((4, 2)), np.eye(2)[[0, 1, 0]])
    source = adjoint.grad(lstm_objective, wrt=(0, 1)).source_for(*args)
    start = source.index("# adjoint: cotangents in reverse order")
    reverse = source[start:source.index("\ndef ", start)]
    assert "unbroadcast(t15_bar, t13)" not in reverse
    assert not re.search(r"^ *\w+ = .*(layer_input_1 \* t12|np\.exp\(|np\.tanh\()", reverse, re.M)
    assert not re.search(r"^ *forget = ", reverse, re.M)
    assert re.search(r"^ *(\w+, )*forget(, \w+)* = tape_\d+\[", reverse, re.M)
    assert re.search(r"^ *t15_bar = forget_bar \* forget \* \(1\.0 - forget\)$", reverse, re.M)


def test_a_loop_reverse_computes_no_square_for_its_shape(monkeypatch):
    """(x - mu[j]) ** 2 was computed again in the reverse loop only to give expand_axis
    the shape of the rows it repeats a cotangent along: x - mu[j] has that shape. (In the
    reverse sweep: the last loop's adjoint would otherwise run in it, transform/eager.py.)"""
    monkeypatch.setenv("ADJOINT_EAGER", "0")
    source = adjoint.grad(squares_in_a_loop, wrt=(0, 1)).source_for(*CASES["shape_twin"][1])
    start = source.index("# adjoint: cotangents in reverse order")
    reverse = source[start:source.index("\ndef ", start)]
    assert not re.search(r"^ *\w+ = .*\*\* 2", reverse, re.M)
    assert re.search(r"expand_view\(.*, t\d+, 1\)", reverse)  # (its copy is not made either)
    assert "-unbroadcast(" in reverse and "unbroadcast(-" not in reverse  # negate the sum


def _reverse_of(fn, wrt, args) -> str:
    source = adjoint.grad(fn, wrt=wrt).source_for(*args)
    start = source.index("# adjoint: cotangents in reverse order")
    end = source.find("\ndef ", start)
    return source[start:end if end >= 0 else None]


def test_a_product_s_cotangent_summed_over_rows_is_never_made():
    """The n x k cotangent of X - mu was made only to be summed over its rows into mu:
    the rows of the product's cotangent are summed first (gmm: 1000 x 10 per component
    for 10 numbers). Where X needs that cotangent too, it is made."""
    args = CASES["row_sums"][1]
    reverse = _reverse_of(centered_product, (1, 2), args)
    assert "matmul_grad_a(t1_bar, t1, W)" not in reverse, reverse
    assert re.search(r"mu_bar = -unbroadcast\(matmul_grad_a\(reduce_sum\(\w+, 0\), mu, W\), mu\)", reverse), reverse
    assert "reduce_sum(" not in _reverse_of(centered_product, (0, 1, 2), args)


def test_two_products_summed_in_one_statement_are_both_rewritten():
    """Each product's cotangent read in one statement: the second rewrite starts from the
    statement as the first left it (it once started from the original, which read the
    first product's cotangent after its definition was dropped)."""
    from adjoint.ir.nodes import Loc
    from adjoint.transform.reverse import AdjStmt
    from adjoint.transform.sums import _rows_summed
    loc = Loc("f.py", 1, 0)
    nodes = (AdjStmt("assign", "N1", "matmul_grad_a(G1, A1, B1)", loc),
             AdjStmt("assign", "N2", "matmul_grad_a(G2, A2, B2)", loc),
             AdjStmt("assign", "x_bar", "unbroadcast(N1, x) + unbroadcast(N2, x)", loc))
    ranks = {"A1": 2, "B1": 2, "A2": 2, "B2": 2, "x": 1}
    (node,) = _rows_summed(nodes, ranks)
    assert node.expr == ("unbroadcast(matmul_grad_a(reduce_sum(G1, 0), x, B1), x)"
                         " + unbroadcast(matmul_grad_a(reduce_sum(G2, 0), x, B2), x)"), node.expr


def test_no_rows_sum_to_zeros():
    X, mu, W = np.empty((0, 3)), np.array([0.5, -1.0, 2.0]), np.ones((3, 2))
    for jit in (False, True):
        g_mu, g_W = adjoint.grad(centered_product, wrt=(1, 2), jit=jit, background=False)(X, mu, W)
        assert (g_mu == 0.0).all() and (g_W == 0.0).all() and g_mu.shape == (3,)


def test_a_row_written_into_a_copy_is_copied_under_its_own_name():
    """lstm's reverse: state[2 * i + 1] = cell, undone in place in the incoming cotangent,
    which the loop owns (no copy of it, no state_5_bar_kept passed on under another name)."""
    args = (np.ones((4, 8)), np.ones((3, 2)), np.ones((4, 2)), np.eye(2)[[0, 1, 0]])
    source = adjoint.grad(lstm_objective, wrt=(0, 1)).source_for(*args)
    assert "_kept" not in source and "_bar.copy()" not in source
    assert re.search(r"^ *cell_bar = unbroadcast\(copy_of\((state_\d+_bar)\[t8\]\), cell\)\n *\1\[t8\] = 0\.0$",
                     source, re.M)


def test_deferred_rules_are_elementwise_sums_into_their_operands():
    assert {"add", "sub", "mul", "truediv", "pow", "maximum", "where"} <= DEFERRED
    assert not DEFERRED & {"exp", "tanh", "neg", "matmul", "sum", "getitem", "helper.unbroadcast"}
