"""codegen/disjoint.py: which views of one array are proved to share no element where a
fused run starts. Every "apart" claimed here is checked against NumPy: the views of an
actual array, for every value the ints can take in the function."""
from __future__ import annotations

import ast
import itertools

import numpy as np
import pytest

from adjoint.codegen.disjoint import Ints


def _point(source: str) -> Ints:
    """What is known at the statement ``point()`` of the function in ``source``."""
    fn = ast.parse(source).body[0]

    def find(block, frames):
        for index, stmt in enumerate(block):
            if isinstance(stmt, ast.Expr) and ast.unparse(stmt) == "point()":
                return frames, block[:index]
            for attr in ("body", "orelse"):
                inner = getattr(stmt, attr, None)
                if isinstance(inner, list) and inner:
                    found = find(inner, frames + ((block, index, stmt),))
                    if found:
                        return found
        return None

    frames, last = find(fn.body, ())
    return Ints(frames, last)


def _shares(source: str, a: str, b: str, x: np.ndarray, **args) -> bool:
    """Whether the views a and b of x share an element when the function runs with args,
    at each time it reaches point()."""
    shared = []

    def point():
        frame = __import__("sys")._getframe(1).f_locals
        va, vb = eval(a, {}, frame), eval(b, {}, frame)
        shared.append(np.shares_memory(va, vb))

    scope = {"point": point, "np": np}
    exec(compile(source, "<f>", "exec"), scope)
    try:
        scope["f"](x, **args)
    except IndexError:
        pass  # a view out of range is never made
    return any(shared)


ROWS = """
def f(x, n):
    for i in range(n):
        t6 = 2 * i
        t8 = t6 + 1
        point()
"""

SLICES = """
def f(x, n):
    b = x.shape[1] // 4
    t19 = 2 * b
    t27 = 3 * b
    for i in range(n - 1, -1, -1):
        r = i
        point()
"""

CASES = [
    # (source, a, b, proved apart)
    (ROWS, "x[t6]", "x[t8]", True),
    (ROWS, "x[t6, 1:]", "x[t8, :2]", True),
    (ROWS, "x[t6]", "x[t6]", False),
    (ROWS, "x[i]", "x[t6]", False),  # i = 0: the same row
    (SLICES, "x[r, :b]", "x[r, b:t19]", True),
    (SLICES, "x[r, :b]", "x[r, t19:t27]", True),
    (SLICES, "x[r, t27:]", "x[r, :b]", True),
    (SLICES, "x[r, t27:]", "x[r, t19:]", False),
    (SLICES, "x[r, :t19]", "x[r, b:]", False),
    (SLICES, "x[r, b]", "x[r, b + 1:]", True),
    (SLICES, "x[r, ::2]", "x[r, 1::2]", False),  # (strides are not compared)
    ("""
def f(x, n):
    for i in range(-1, n):
        j = i + 1
        point()
""", "x[i]", "x[j]", False),  # i = -1 is the last row, j = 0 the first: one row of one
    ("""
def f(x, n):
    for i in range(n, -2, -1):
        j = i + 1
        point()
""", "x[i]", "x[j]", False),  # counting down to -1
    ("""
def f(x, n):
    j = 0
    for i in range(n):
        point()
        j = i + 1
""", "x[i]", "x[j]", False),  # j as the last iteration left it: i
    ("""
def f(x, n):
    m = -n
    point()
""", "x[:m]", "x[m:]", True),  # a shared bound, whatever its sign
    ("""
def f(x, n):
    m = -n
    point()
""", "x[:m]", "x[m + 1:]", False),
    ("""
def f(x, n):
    k = n
    while k > 0:
        k = k - 1
        point()
""", "x[k]", "x[k + 1]", False),  # k's sign is not known
    ("""
def f(x, n):
    a, b = n, n + 1
    point()
""", "x[a, :]", "x[b]", False),  # n may be negative
    ("""
def f(x, n):
    s = x.shape
    a = s[0] - 1
    point()
""", "x[a]", "x[a + 1:]", False),  # (a may be -1)
    ("""
def f(x, n):
    m = x.shape[1]
    k = m + 9223372036854775807
    k = k + 9223372036854775807
    k = k + 3
    point()
""", "x[0, k:k + 3]", "x[0, m + 2:m + 5]", False),  # compiled, k wraps around to m + 1
    ("""
def f(x, n):
    i = -1
    for i in range(n):
        pass
    else:
        point()
""", "x[i, 1:]", "x[i + 1, :2]", False),  # no iteration: i is -1
    ("""
def f(x, n):
    s = x.shape
    m = s[0]
    a = m + 1
    point()
""", "x[:m]", "x[a:]", True),
]


@pytest.mark.parametrize("source, a, b, proved", CASES)
def test_views_proved_apart_share_no_element(source, a, b, proved):
    ints = _point(source)
    assert ints.apart(a, b, 2) is proved and ints.apart(b, a, 2) is proved
    for rows, cols, n in itertools.product((1, 2, 5), (1, 4, 8), (-3, -1, 0, 1, 2, 3)):
        x = np.zeros((rows, cols))
        if proved:
            assert not _shares(source, a, b, x, n=n), (rows, cols, n)


def test_some_claims_that_would_be_wrong_do_share():
    """The refused cases above are refused for a reason: for some values they overlap."""
    assert _shares(CASES[11][0], "x[i]", "x[j]", np.zeros((1, 3)), n=1)
    assert _shares(CASES[3][0], "x[i]", "x[t6]", np.zeros((3, 3)), n=1)
    assert _shares(CASES[13][0], "x[i]", "x[j]", np.zeros((3, 3)), n=3)
