"""codegen/fold.py: cotangent aliases are read through only where that reads the same value."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from adjoint.codegen.fold import _substitute, drop_round_trips, propagate_aliases


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
    "t5_bar = a_bar\na_bar[0] = 0.0\nb = t5_bar",
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
    # a cotangent with the user's name that does not only mirror another
    "s_1_bar = s_bar\nb = s_1_bar * 2.0",
    # ... the name changes in between by another line
    "s_1_bar = s_bar\ns_bar = s_bar + 1.0\ns_bar = s_1_bar\nb = s_1_bar",
    # ... it is made equal again only in a nested block
    "s_1_bar = s_bar\nb = s_1_bar * 2.0\nif c:\n    s_bar = s_1_bar",
    # ... nothing else would be left in the block
    "if c:\n    s_1_bar = s_bar\n    s_bar = s_1_bar",
])
def test_a_user_named_alias_that_is_not_a_round_trip_stays(source):
    assert _run(source) == source


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


@pytest.mark.parametrize("line, expr, expected", [
    ("y = -t1", "-a * b / c", "y = a * b / c"),
    ("y = -t1 * d", "-a", "y = a * d"),
    ("y = -t1", "-a ** 2", "y = a ** 2"),
    ("y = -t1", "-a + b", "y = -(-a + b)"),   # a sum: the flips do not meet
    ("y = -t1", "a * -b", "y = -(a * -b)"),   # only the leftmost factor's sign is taken
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
