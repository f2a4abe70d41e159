"""Random loop bodies of numbers that run a loop: forward mode (transform/tangent.py) against
reverse mode (``ADJOINT_TANGENT=0``) on the same program and arguments.

Hypothesis draws functions ``f(x, y, c)`` (float arrays x, y of length 4, a float c) of one
shape: a ``for`` loop over the elements carrying the numbers ``s`` and ``t``, whose body
reads ``x[i]`` (and maybe ``y[i]``), computes a few numbers, runs an inner loop on them (a
``for`` of 0 to 4 trips, one left by ``break`` on the data, or a contraction ``while``
whose trip count depends on the data), maybe branches on the data, and updates ``s`` and
``t``, or sums into ``s`` alone and returns it (where transform/eager.py adds each
iteration's cotangents as it ends). Values stay bounded (updates mix in tanh, sin, x / (1 + x * x) ...). Both modes run
the same primal code, so they take the same branches and trip counts: their gradients
must agree to rounding, with no finite-difference step to flip a comparison.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import adjoint

from .test_random_programs import load_source

TANGENT = re.compile(r"^\s+d[a-z]\w*_d[a-z]\w* = ", re.M)
WRTS = [(0,), (0, 2), (0, 1), (1,), (2,), (0, 1, 2)]


class _Writer:
    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.lines: list[str] = []

    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def leaf(self, names: list[str]) -> str:
        return self.pick(names + names + ["c", "0.7", "1.3"])

    def expr(self, names: list[str], depth: int = 2) -> str:
        if depth == 0 or self.draw(st.integers(0, 3)) == 0:
            return self.leaf(names)
        a, b = self.expr(names, depth - 1), self.expr(names, depth - 1)
        form = self.pick(["({a} + {b})", "({a} - {b})", "({a} * {b})", "{a} / (1.0 + {b} * {b})",
                          "math.sin({a})", "np.cos({a})", "np.tanh({a} * {b})", "math.exp(-{a} * {a})",
                          "math.sqrt(1.0 + {a} * {a})", "abs({a} - {b})", "max({a}, {b})",
                          "min({a}, {b})", "{a} ** 2", "({a} * 0.5) ** 3", "math.atan({a})"])
        return form.format(a=a, b=b)

    def bounded(self, target: str, names: list[str]) -> str:
        """``target = 0.5 * target + 0.4 * <a bounded function of an expression>``."""
        inner = self.expr(names)
        squash = self.pick(["np.tanh({})", "math.sin({})", "{0} / (1.0 + {0} * {0})"]).format(inner)
        keep = self.pick(["0.5 * ", "0.8 * ", ""])
        return f"{target} = {keep}{target} + 0.4 * {squash}" if target in names else f"{target} = {squash}"

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def program(self) -> str:
        # a plain sum (no t, s returned alone) is what transform/eager.py may run in the loop
        reduction = self.draw(st.booleans())
        self.emit(1, "s = 0.0")
        if not reduction:
            self.emit(1, "t = 0.5")
        self.emit(1, "for i in range(x.shape[0]):")
        names = ["u"] if reduction else ["s", "t", "u"]
        self.emit(2, "u = x[i]")
        if self.draw(st.booleans()):
            self.emit(2, self.pick(["v = y[i]", "v = y[(i + 1) % 4]", "v = y[i] * u"]))
            names.append("v")
        self.emit(2, self.bounded("q", names))
        names.append("q")
        kind = self.pick(["for", "break", "while"])
        if kind == "while":
            self.emit(2, "n = 0")
            self.emit(2, "while abs(q) > 0.05 and n < 20:")
            self.emit(3, f"q = q * {self.pick(['0.5', '0.6 * np.tanh(u * u + 0.5)', '(0.3 + 0.2 * math.sin(q))'])}")
            self.emit(3, "n = n + 1")
        else:
            self.emit(2, f"for j in range({self.pick(['3', '0', '1', '4'])}):")
            for target in self.draw(st.lists(st.sampled_from(["q", "u", "q"]), min_size=1, max_size=3)):
                self.emit(3, self.bounded(target, names + ["j * 0.1"]))
            if kind == "break":
                self.emit(3, "if q > 0.3:")
                self.emit(4, "break")
        if self.draw(st.booleans()):
            self.emit(2, "if u > 0.0:")
            self.emit(3, self.bounded("w", names))
            self.emit(2, "else:")
            self.emit(3, self.bounded("w", names))
            names.append("w")
        self.emit(2, f"s = s + {self.expr(names)}")
        if reduction:
            self.emit(1, "return s")
        else:
            self.emit(2, self.bounded("t", names))
            self.emit(1, "return s + t * c")
        return "import math\n\n\ndef f(x, y, c):\n" + "\n".join(self.lines) + "\n"


@st.composite
def cases(draw: Any) -> tuple[str, list[Any], tuple[int, ...]]:
    source = _Writer(draw).program()
    values = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False)
    x = np.array(draw(st.lists(values, min_size=4, max_size=4)))
    y = np.array(draw(st.lists(values, min_size=4, max_size=4)))
    c = draw(st.floats(0.2, 1.5))
    return source, [x, y, c], draw(st.sampled_from(WRTS))


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("random_tangents")


def _reverse_mode(f, wrt, args, jit):
    os.environ["ADJOINT_TANGENT"] = "0"
    try:
        return adjoint.value_and_grad(f, wrt=wrt, jit=jit, background=False)(*args)
    finally:
        del os.environ["ADJOINT_TANGENT"]


def check(case, directory: Path, jit: bool) -> bool:
    source, args, wrt = case
    f = load_source(source, directory)
    tangent = adjoint.value_and_grad(f, wrt=wrt, jit=jit, background=False)
    source_for = tangent.source_for(*args)
    forward_mode, eager = bool(TANGENT.search(source_for)), "# adjoint of this iteration" in source_for
    value, grads = tangent(*args)
    ref_value, ref_grads = _reverse_mode(f, wrt, args, jit)
    context = f"\n{source}\nat x={args[0].tolist()}, y={args[1].tolist()}, c={args[2]!r}, wrt={wrt}"
    assert value == ref_value, context
    for position, got, expected in zip(wrt, grads, ref_grads):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12,
                                   err_msg=f"d f / d {'xyc'[position]}: forward mode disagrees{context}")
    return forward_mode, eager


SETTINGS = dict(derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=120, **SETTINGS)
@given(case=cases())
def test_forward_mode_agrees_with_reverse_mode(case, program_dir: Path) -> None:
    forward_mode, eager = check(case, program_dir, jit=False)
    event("forward mode" if forward_mode else "reverse mode (declined)")
    if eager:
        event("adjoint in the loop (no reverse sweep)")


@settings(max_examples=3, **SETTINGS)
@given(case=cases())
def test_forward_mode_agrees_with_reverse_mode_compiled(case, program_dir: Path) -> None:
    check(case, program_dir, jit=True)
