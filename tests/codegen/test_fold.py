"""codegen/fold.py: cotangent aliases are read through only where that reads the same value."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference
from adjoint.codegen.fold import (_substitute, drop_repeated_bindings, drop_round_trips, fold_updates,
                                  propagate_aliases, tidy_bindings)

from tests.test_random_programs import load_source


def _run(source: str) -> str:
    lines = textwrap.dedent(source).strip("\n").split("\n")
    return "\n".join(propagate_aliases(lines))


def test_an_alias_is_read_through():
    assert _run("""
        t5_bar = a_bar
        b = t5_bar * 2.0
        c = t5_bar + b
    """) == "b = a_bar * 2.0\nc = a_bar + b"


@pytest.mark.parametrize("source", [
    # the aliased name changes before the alias's last read
    "t5_bar = a_bar\na_bar = a_bar + 1.0\nb = t5_bar",
    "t5_bar = a_bar\na_bar += 1.0\nb = t5_bar",
    "t5_bar = a_bar\na_bar, c = 1.0, 2.0\nb = t5_bar",
    # ... in a loop that reads the alias again after it
    "t5_bar = a_bar\nfor k in range(3):\n    b += t5_bar\n    a_bar = a_bar + 1.0",
    # the alias itself is bound again
    "t5_bar = a_bar\nt5_bar += 1.0\nb = t5_bar",
    # read after its block ends, or before it is bound
    "if c:\n    t5_bar = a_bar\n    b = t5_bar\nd = t5_bar",
    "for k in range(3):\n    d = t5_bar\n    t5_bar = a_bar",
])
def test_an_alias_that_may_read_another_value_stays(source):
    assert _run(source) == source


def test_a_loop_carried_cotangent_is_read_through():
    # s_1 = s + e in a loop: its reverse reads s_1_bar, then makes it s_bar again
    assert _run("""
        for i in range(n - 1, -1, -1):
            # line 26: for i in range(n):
            s_1_bar = s_bar
            # line 27: s = s + e
            s_bar = s_1_bar
            e_bar = s_1_bar * x
    """) == "for i in range(n - 1, -1, -1):\n    # line 27: s = s + e\n    e_bar = s_bar * x"


@pytest.mark.parametrize("source", [
    # a cotangent with the user's own name (a loop's exit hands it the cotangent)
    "s_bar = s_1_bar\nb = s_bar * 2.0",
    "z_bar = z_1_bar\nz_bar = z_bar + f_bar * c\nt2_bar = z_bar / t3",
    # two variables, not two versions of one
    "a_bar = b_1_bar\nc = a_bar * 2.0",
    # ... the name changes in between by another line
    "s_1_bar = s_bar\ns_bar = s_bar + 1.0\ns_bar = s_1_bar\nb = s_1_bar",
    # ... it is made equal again only in a nested block
    "s_1_bar = s_bar\nb = s_1_bar * 2.0\nif c:\n    s_bar = s_1_bar",
    # ... nothing else would be left in the block
    "if c:\n    s_1_bar = s_bar\n    s_bar = s_1_bar",
])
def test_a_user_named_alias_that_is_not_a_round_trip_stays(source):
    assert _run(source) == source


def test_an_element_write_changes_the_alias_alike():
    """alias = name binds one object: a write into either's elements is seen by both."""
    assert _run("t5_bar = a_bar\na_bar[0] = 0.0\nb = t5_bar") == "a_bar[0] = 0.0\nb = a_bar"
    assert _run("""
        beta_2_bar = beta_1_bar
        t18_bar = copy_of(beta_2_bar[:, j])
        beta_2_bar[:, j] = 0.0
    """) == "t18_bar = copy_of(beta_1_bar[:, j])\nbeta_1_bar[:, j] = 0.0"


def test_versions_of_one_variable_are_one_name():
    """gmm's reverse: a loop's carried cotangent handed to its update, in each loop of a nest."""
    assert _run("""
        for col in range(d_1 - 1, -1, -1):
            t7 = col + 1
            Q_4_bar = Q_3_bar
            for row in range(d_1 - 1, t7 - 1, -1):
                Q_5_bar = Q_4_bar
                t8_bar = Q_5_bar[row, col]
                Q_5_bar[row, col] = 0.0
                Q_4_bar = Q_5_bar
                l_bar[j, index_1] += t8_bar
            Q_3_bar = Q_4_bar
    """) == textwrap.dedent("""
        for col in range(d_1 - 1, -1, -1):
            t7 = col + 1
            for row in range(d_1 - 1, t7 - 1, -1):
                t8_bar = Q_3_bar[row, col]
                Q_3_bar[row, col] = 0.0
                l_bar[j, index_1] += t8_bar""").strip("\n")
    # the forward: an element write's new version, then the loop's update (lstm)
    assert _run("""
        for i in range(n):
            state_3[t6] = hidden
            state_4 = state_3
            state_4[t8] = cell
            state_5 = state_4
            state_3, layer_input_1 = state_5, hidden
    """) == "for i in range(n):\n    state_3[t6] = hidden\n    state_3[t8] = cell\n    layer_input_1 = hidden"


def test_a_rebound_version_takes_the_name_it_came_from():
    """while_newton's reverse: z_2_bar, bound again and again, then handed back to z_1_bar."""
    assert _run("""
        for _ in range(n):
            z_2_bar = z_1_bar
            z_2_bar = z_2_bar + f_1_bar * c
            z_2_bar += 2.0 * z_2
            z_1_bar = z_2_bar
            t13_bar = -z_2_bar
            z_1_bar = z_1_bar + t13_bar
    """) == textwrap.dedent("""
        for _ in range(n):
            z_1_bar = z_1_bar + f_1_bar * c
            z_1_bar += 2.0 * z_2
            t13_bar = -z_1_bar
            z_1_bar = z_1_bar + t13_bar""").strip("\n")


@pytest.mark.parametrize("source", [
    # the name is read between the two lines (it holds another value there)
    "z_2_bar = z_1_bar\nz_2_bar += 1.0\nw = z_1_bar\nz_1_bar = z_2_bar",
    # the alias is read after the name is bound anew
    "z_2_bar = z_1_bar\nz_2_bar += 1.0\nz_1_bar = z_2_bar\nz_1_bar += 1.0\nw = z_2_bar",
    # ... or bound again after the second line
    "z_2_bar = z_1_bar\nz_2_bar += 1.0\nz_1_bar = z_2_bar\nz_2_bar += 1.0",
    # read before it is bound
    "for k in range(3):\n    w = z_2_bar\n    z_2_bar = z_1_bar\n    z_2_bar += 1.0\n    z_1_bar = z_2_bar",
])
def test_a_rebound_version_that_may_hold_another_value_stays(source):
    assert _run(source) == source


def test_a_repeated_binding_goes():
    """writes: the reverse loop binds y_2 = y_1 again, as the forward did; y_1 never changes."""
    lines = ["y_1 = y", "y_2 = y_1", "for i in range(n):", "    y_2[i] = 1.0", "for i in range(n):",
             "    y_2 = y_1", "    t4 = y_2[i]"]
    assert drop_repeated_bindings(lines) == lines[:5] + lines[6:]
    assert tidy_bindings(lines) == ["for i in range(n):", "    y[i] = 1.0", "for i in range(n):", "    t4 = y[i]"]
    for kept in (["y_2 = y_1", "y_1 = z", "for i in range(n):", "    y_2 = y_1"],   # y_1 bound anew
                 ["for i in range(n):", "    y_2 = y_1", "    y_2 = y_1"],          # not the body's own
                 ["y_2 = y_1", "y_2 = z", "y_2 = y_1"]):                             # another binding
        assert drop_repeated_bindings(kept) == kept


def test_a_comment_left_without_statements_goes_unless_it_maps_the_next_line():
    assert _run("""
        for i in range(3):
            # line 5: s = s + e
            e_bar = s_bar * x
            # line 4: for i in range(3):
        # line 7: return s
        x_bar = s_bar
    """) == "for i in range(3):\n    # line 5: s = s + e\n    e_bar = s_bar * x\n# line 7: return s\nx_bar = s_bar"
    kept = "if c:\n    # line 5: y = x\n    x_bar = y_bar\n    # line 4: if c:\nelse:\n    x_bar = 0.0"
    assert _run(kept) == kept  # else: is mapped by the comment above it
    # the last line of a loop body, whose statement went (a loop's carried cotangent, read through)
    assert _run("""
        for t in range(3):
            for i in range(2):
                x_bar[i] += s_bar
            # line 6: for i in range(2):
        return (x_bar,)
    """) == "for t in range(3):\n    for i in range(2):\n        x_bar[i] += s_bar\nreturn (x_bar,)"


@pytest.mark.parametrize("line, expr, expected", [
    ("y = -t1", "-a * b / c", "y = a * b / c"),
    ("y = -t1 * d", "-a", "y = a * d"),
    ("y = -t1", "-a ** 2", "y = a ** 2"),
    ("y = -t1", "-a + b", "y = -(-a + b)"),   # a sum: the flips do not meet
    ("y = -t1", "a * -b", "y = -(a * -b)"),   # only the leftmost factor's sign is taken
    ("y = -t1", "-a", "y = --a"),             # y = a would be a's array itself (or a view's)
])
def test_folding_cancels_a_pair_of_minus_signs(line, expr, expected):
    folded = _substitute(line, "t1", expr)
    assert folded == expected
    rng = np.random.default_rng(0)
    for a, b, c, d in rng.normal(size=(50, 4)):  # the very same floats
        assert eval(folded[4:]) == eval(line[4:].replace("t1", f"({expr})"))


def _trips(source: str) -> str:
    lines = textwrap.dedent(source).strip("\n").split("\n")
    return "\n".join(drop_round_trips(lines))


def test_an_element_writes_round_trip_goes():
    """y_2 = y_1 after a write into y_1, and the loop's y_1 = y_2: one array all along."""
    assert _trips("""
        for i in range(n):
            y_1[i] = x[i] * 2.0
            y_2 = y_1
            if c:
                y_1[0] = 1.0
            y_1 = y_2
    """) == "for i in range(n):\n    y_1[i] = x[i] * 2.0\n    if c:\n        y_1[0] = 1.0"
    assert _trips("y_2 = y_1\ns = s_1\ny_1, i = y_2, i_2") == "s = s_1\ni = i_2"
    assert _trips("y_2 = y_1\nz = y_2 * 2.0\ny_1 = y_2") == "y_2 = y_1\nz = y_2 * 2.0"  # y_2 read: kept


@pytest.mark.parametrize("source", [
    "y_2 = y_1\ny_1 = y_1 * 2.0\ny_1 = y_2",          # y_1 bound anew between
    "y_2 = y_1\nif c:\n    y_2 = z\ny_1 = y_2",       # y_2 bound anew in a nested block
    "y_2 = y_1\nfor y_1 in r:\n    pass\ny_1 = y_2",  # a loop variable
    "y_2 = y_1\nif c:\n    y_1 = y_2",               # not in the same block
    "y_2 = y_1\nreturn y_2\ny_1 = y_2",
    "y_2 = y_1\ny_1, i = y_3, i_2",                   # another value
    # the whole body of a loop (a reverse loop passing a cotangent on): dropped, it left
    # `for` without a block, an IndentationError
    "for i in range(n - 1, -1, -1):\n    acc_2_bar = acc_1_bar\n    acc_1_bar = acc_2_bar",
])
def test_a_binding_that_may_change_something_stays(source):
    assert _trips(source) == source


def test_a_loop_update_is_written_as_the_user_wrote_it():
    """net_1 = net + ... read only by the loop's update net = net_1: net = net + ... (mazur)."""
    lines = ["for i in range(2):", "    net_1 = net + W1[j, i] * x[i]", "    t10_stack.append(t10)",
             "    net = net_1"]
    assert fold_updates(lines) == ["for i in range(2):", "    net = net + W1[j, i] * x[i]",
                                   "    t10_stack.append(t10)"]
    lines = ["while t9:", "    f_2 = z_2 * z_2 - t2", "    n_1 = n + 1", "    z_1, f_1, n = z_2, f_2, n_1"]
    assert fold_updates(lines) == ["while t9:", "    f_1 = z_2 * z_2 - t2", "    n = n + 1", "    z_1 = z_2"]


@pytest.mark.parametrize("source", [
    "s_1 = s + x\nt = s * 2.0\ns = s_1",              # s read between: it would see the new value
    "s_1 = s + x\ntape.append((s, x))\ns = s_1",      # ... by a push of the value as it was
    "s_1 = s + x\nw = s_1 * 2.0\ns = s_1",            # s_1 read by another line too
    "s_1 = s + x\ns, t = s_1, s",                      # the update reads s itself
    "s_1 = s + x\nif c:\n    s = s_1",                 # not in the same block
    "t1 = s + x\ns = t1",                              # not a version of s
    "t_1 = t + 0.5\nt_2, s = t_1, t_1",                # t_1 is another value of the tuple too
])
def test_a_loop_update_that_may_change_something_stays(source):
    lines = source.split("\n")
    assert fold_updates(lines) == lines


def test_an_update_whose_version_another_value_of_the_tuple_reads_runs(tmp_path):
    """s, t = t, t before a loop that carries both (the forward's t_2, s = t_1, t_1): the
    update of t took t_1's expression and left s = t_1, t_1 no longer bound (NameError)."""
    f = load_source(
        "def f(x, y):\n"
        "    t = y * x\n"
        "    t = t + 0.5\n"
        "    s, t = t, t\n"
        "    for i in range(2):\n"
        "        t = t + s * t\n"
        "        s = s + x\n"
        "    return t + s\n", tmp_path)
    got = adjoint.grad(f, wrt=(0, 1), jit=False)(0.7, -0.3)
    expected = [finite_difference(f, [0.7, -0.3], k) for k in (0, 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
