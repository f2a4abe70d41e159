"""Random programs with control flow: adjoint's gradient against finite differences.

Hypothesis draws functions ``f(x, y, w, n, m)`` (floats x, y, a float64 array w of shape
(5,), ints n, m in 0..4) whose bodies nest, up to three deep:

- ``if``/``elif``/``else`` on run-time floats and ints, conditional expressions, and
  ``and``/``or``/``not`` (short-circuiting);
- ``for`` loops over ``range(...)`` with run-time bounds: 0 and 1 trips, negative steps,
  steps of 2, bounds that depend on the loop variables around them;
- ``while`` loops that always end: counter-driven (``while c < n and s < 2.0``),
  ``while True`` with a counted ``break``, and contractions (``while abs(u) > 0.05:
  u = 0.5 * u``) whose trip count depends on the data;
- ``break``, ``continue`` and early ``return`` at the end of branches and loop bodies;
- loop-carried scalars (``s``, ``t``, tuple swaps, ``+=``, ``*=``), a carried array ``h``,
  element writes ``z[i] = ...`` / ``z[(i + 1) % 5] += ...`` into an array made in the
  function, ``h[i] = ...`` into the computed ``h`` (which makes every ``h = ...`` a new
  array of its own), names first assigned in a block, and elementwise functions of NumPy
  and math.

Every program is run first as an instrumented copy (the same source with each float
comparison and each assigned value wrapped in a recording call): a program is kept only if
its values stay moderate and every float comparison it makes is at least 1e-3 from flipping,
and it makes the very same comparisons, with the same outcomes, at every point the finite
differences evaluate. Then the program is written to its own file (adjoint reads the source)
and imported, and the gradient with respect to x, y and w, as plain Python and under Numba,
must match central differences of the original.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import adjoint
from adjoint.check import finite_difference

from .test_random_programs import load_source

N = 5  # the length of w, z and h; loop variables and ints stay in 0..N-1
PARAMS = ["x", "y", "w", "n", "m"]
WRT = (0, 1, 2)

# -- expressions, each spelt twice: plain, and instrumented --------------------------------


@dataclass(frozen=True)
class E:
    code: str    # what adjoint sees
    icode: str   # the same, with float comparisons and assigned values recorded


def same(code: str) -> E:
    return E(code, code)


def combine(fmt: str, *parts: E) -> E:
    return E(fmt.format(*(p.code for p in parts)), fmt.format(*(p.icode for p in parts)))


UNARY = [
    "np.sin({0})", "np.cos({0})", "np.tanh({0})", "math.sin({0})", "math.cos({0})", "math.tanh({0})",
    "np.exp(0.5 * np.sin({0}))", "math.exp(-({0}) * ({0}))", "({0} * {0})", "(-{0})", "(0.5 * {0})",
    "np.sqrt(1.0 + {0} * {0})", "np.log(1.0 + {0} * {0})",
]
BINARY = ["({0} + {1})", "({0} - {1})", "({0} * {1})", "({0} / (1.0 + {1} * {1}))"]
CONSTANTS = ["0.5", "1.5", "-0.75", "2.0", "0.25"]
REDUCTIONS = ["np.sum(h * w)", "np.mean(z)", "np.sum(np.sin(h))", "np.sum(z * h)", "h[0] * z[1]"]
CMP = [">", "<", ">=", "<="]
VARIABLE = re.compile(r"(?<![.\w])(x|y|w|s|t|z|h|u\d+|[ijkl])\b")


@dataclass
class Scope:
    loop_vars: list[str] = field(default_factory=list)   # ints in 0..N-1, innermost last
    temps: list[str] = field(default_factory=list)       # floats first assigned in an enclosing block
    loop: str = ""                                        # "for" / "while" / "" (innermost loop)
    top: bool = True                                      # the function's own body

    def inner(self, **changes: Any) -> "Scope":
        new = Scope(list(self.loop_vars), list(self.temps), self.loop, self.top)
        for k, v in changes.items():
            setattr(new, k, v)
        return new


class Generator:
    """Draws one program as lines (indent, plain code, instrumented code)."""

    def __init__(self, draw: Callable[[Any], Any], jit: bool = False) -> None:
        self.draw = draw
        self.jit = jit
        self.lines: list[tuple[int, str, str]] = []
        self.budget = draw(st.integers(4, 9 if jit else 14))  # statements left (Numba compiles slowly)
        self.names = 0
        self.features: set[str] = set()
        # z[i] and h[i] are numbers (adjoint builds the gradient for the arguments' ranks), so
        # element writes into z and `h += ...` may follow element reads anywhere.

    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 999)) < int(p * 1000)

    def fresh(self, base: str) -> str:
        self.names += 1
        return f"{base}{self.names}"

    def emit(self, indent: int, code: str, icode: str | None = None) -> None:
        self.lines.append((indent, code, code if icode is None else icode))

    # -- expressions ---------------------------------------------------------------------

    def index(self, sc: Scope) -> str:
        options = [str(k) for k in range(N)]
        for v in sc.loop_vars:
            options += [v, v, f"({v} + 1) % {N}", f"{N - 1} - {v}"]
        return self.pick(options)

    def leaf(self, sc: Scope) -> E:
        kind = self.pick(["arg", "arg", "local", "local", "temp", "w", "z", "h", "loopvar", "const"])
        if kind == "temp" and sc.temps:
            return same(self.pick(sc.temps))
        if kind in ("w", "z", "h"):
            self.features.add(f"read_{kind}")
            return same(f"{kind}[{self.index(sc)}]")
        if kind == "loopvar" and sc.loop_vars:
            return same(f"(0.3 * {self.pick(sc.loop_vars)})")
        if kind == "const":
            return same(self.pick(CONSTANTS))
        if kind == "local":
            return same(self.pick(["s", "t"]))
        return same(self.pick(["x", "y"]))

    def expr(self, sc: Scope, depth: int) -> E:
        if depth <= 0 or self.chance(0.25):
            return self.leaf(sc)
        kind = self.pick(["unary", "unary", "unary", "binary", "binary", "binary", "ifexp", "reduce"])
        if kind == "unary":
            return combine(self.pick(UNARY), self.expr(sc, depth - 1))
        if kind == "binary":
            return combine(self.pick(BINARY), self.expr(sc, depth - 1), self.expr(sc, depth - 1))
        if kind == "ifexp":
            self.features.add("ifexp")
            return combine("({0} if {1} else {2})", self.expr(sc, depth - 1), self.cond(sc, 1),
                           self.expr(sc, depth - 1))
        self.features.add("reduction")
        return same(self.pick(REDUCTIONS))

    def cond(self, sc: Scope, depth: int) -> E:
        kinds = ["float", "float", "float", "int"] + (["and", "or", "not"] if depth > 0 else [])
        kind = self.pick(kinds)
        if kind == "float":
            a = self.expr(sc, 2)
            b = self.expr(sc, 1) if self.chance(0.5) else same(self.pick(["0.0", "0.5", "-0.3", "1.0"]))
            op = self.pick(CMP)
            if self.jit and not (VARIABLE.search(a.code) or VARIABLE.search(b.code)):
                a = combine("({0} + x)", a)  # see test_constant_condition_under_numba below
            return E(f"{a.code} {op} {b.code}", f"_cmp({a.icode}, {b.icode}, {op!r})")
        if kind == "int":
            self.features.add("int_condition")
            ints = sc.loop_vars + ["n", "m"]
            options = [f"{self.pick(ints)} % 2 == 0", f"{self.pick(ints)} > {self.pick(ints)}",
                       f"{self.pick(ints)} == {self.pick(['0', '1', '2'])}", f"{self.pick(ints)} != 3"]
            return same(self.pick(options))
        if kind == "not":
            self.features.add("not")
            return combine("not ({0})", self.cond(sc, depth - 1))
        self.features.add(kind)
        return combine(f"({{0}}) {kind} ({{1}})", self.cond(sc, depth - 1), self.cond(sc, depth - 1))

    # -- statements ----------------------------------------------------------------------

    def assign(self, indent: int, target: str, value: E, op: str = "=") -> None:
        self.emit(indent, f"{target} {op} {value.code}", f"{target} {op} _v({value.icode})")

    def simple(self, sc: Scope, indent: int) -> None:
        kind = self.pick(["scalar", "scalar", "scalar", "augment", "swap", "temp", "temp",
                          "zwrite", "zwrite", "harray", "hwrite"])
        if kind == "scalar":
            target = self.pick(["s", "t"] + sc.temps)
            form = self.pick(["np.tanh({0})", "0.5 * {1} + 0.5 * np.sin({0})", "{1} + 0.2 * {0}", "{0}",
                              "{1} * np.cos({0})"])
            self.assign(indent, target, combine(form, self.expr(sc, 3), same(target)))
        elif kind == "augment":
            # Only on acc: `s += e` is refused where s might share its value with another name
            # (s = t, s = x, a swap), as it would be in place for arrays.
            self.features.add("augassign")
            op, form = self.pick([("+=", "0.2 * np.cos({0})"), ("-=", "0.1 * {0}"), ("*=", "0.9"),
                                  ("*=", "np.tanh({0})"), ("+=", "{0}")])
            self.assign(indent, "acc", combine(form, self.expr(sc, 3)), op)
        elif kind == "swap":
            self.features.add("tuple_assign")
            if self.chance(0.5):
                self.emit(indent, "s, t = t, s")
            else:
                e, f = self.expr(sc, 3), self.expr(sc, 2)
                self.emit(indent, f"s, t = {e.code}, {f.code}", f"s, t = _v({e.icode}), _v({f.icode})")
        elif kind == "temp":
            self.features.add("block_local")
            name = self.fresh("u")
            self.assign(indent, name, self.expr(sc, 3))
            sc.temps.append(name)
        elif kind == "zwrite":
            self.features.add("element_write")
            i = self.index(sc)
            op, form = self.pick([("=", "{0}"), ("+=", "{0}"), ("=", "0.5 * z[{1}] + {0}"),
                                  ("=", "np.sin(z[{1}]) * {0}")])
            self.assign(indent, f"z[{i}]", combine(form, self.expr(sc, 3), same(self.index(sc))), op)
        elif kind == "hwrite":
            # h is computed (w * 0.5, np.tanh(0.9 * h + ...)): a write makes each of them a
            # new array of its own, never one value with an equal computation
            self.features.add("computed_write")
            i = self.index(sc)
            op, form = self.pick([("=", "{0}"), ("+=", "{0}"), ("=", "0.5 * h[{1}] + {0}"),
                                  ("*=", "np.cos({0})"), ("=", "np.tanh(h[{1}]) * {0}")])
            self.assign(indent, f"h[{i}]", combine(form, self.expr(sc, 3), same(self.index(sc))), op)
        else:
            self.features.add("array_carry")
            form = self.pick(["np.tanh(0.9 * h + {0})", "0.5 * h + np.sin(w * {0})", "h * np.cos({0})",
                              "h + 0.1 * z", "np.tanh(h * z + w) * {0}"])
            if form == "h + 0.1 * z" and self.chance(0.5):
                self.features.add("array_augassign")
                self.assign(indent, "h", same("0.1 * z"), "+=")
            else:
                self.assign(indent, "h", combine(form, self.expr(sc, 3)))

    def jump(self, sc: Scope, indent: int) -> None:
        options = ["return"] + (["break", "continue"] * 2 if sc.loop else [])
        kind = self.pick(options)
        self.features.add(kind + ("_in_loop" if kind == "return" and sc.loop else ""))
        if kind == "return":
            value = self.expr(sc, 2)
            self.emit(indent, f"return {value.code}", f"return _v({value.icode})")
        else:
            self.emit(indent, kind)

    def block(self, sc: Scope, indent: int, jump_chance: float) -> None:
        """At least one statement; possibly a jump at the end (never at the function's top)."""
        count = self.draw(st.integers(1, 3))
        for k in range(count):
            if k > 0 and self.budget <= 0:
                break
            self.statement(sc, indent)
        if not sc.top and self.chance(jump_chance):
            self.jump(sc, indent)

    def statement(self, sc: Scope, indent: int) -> None:
        self.budget -= 1
        nest = indent < 4 and self.budget > 0
        kinds = ["simple"] * 4 + (["if", "if", "for", "for", "while"] if nest else [])
        kind = self.pick(kinds)
        if kind == "simple":
            self.simple(sc, indent)
        elif kind == "if":
            self.if_statement(sc, indent)
        elif kind == "for":
            self.for_loop(sc, indent)
        else:
            self.while_loop(sc, indent)

    def if_statement(self, sc: Scope, indent: int) -> None:
        inner = sc.inner(top=False)
        c = self.cond(sc, 2)
        self.emit(indent, f"if {c.code}:", f"if {c.icode}:")
        self.block(inner.inner(), indent + 1, 0.35)
        for _ in range(self.draw(st.integers(0, 2))):
            self.features.add("elif")
            c = self.cond(sc, 1)
            self.emit(indent, f"elif {c.code}:", f"elif {c.icode}:")
            self.block(inner.inner(), indent + 1, 0.35)
        if self.chance(0.5):
            self.features.add("else")
            self.emit(indent, "else:")
            self.block(inner.inner(), indent + 1, 0.35)

    def range_of(self, sc: Scope) -> str:
        ints = ["n", "m"]
        options = ["n", "m", "n", "1", "0", "2", "1, n", "n - 1, -1, -1", "n, 0, -1", "0, n, 2", "m, n",
                   "n, m, -1", "m - 1, -1, -2"]
        for v in sc.loop_vars:
            other = self.pick(ints)
            options += [v, f"{v}, {other}", f"{v} + 1", f"{other} - 1, {v}, -1", f"{v}, -1, -1"]
        bounds = self.pick(options)
        if "-1" in bounds.split(", ")[-1:] or ", -" in bounds:
            self.features.add("negative_step")
        if any(v in bounds for v in sc.loop_vars):
            self.features.add("bounds_from_outer_index")
        return f"range({bounds})"

    def for_loop(self, sc: Scope, indent: int) -> None:
        var = "ijkl"[len(sc.loop_vars)]
        self.features.add("nested_loops" if sc.loop_vars else "for")
        self.emit(indent, f"for {var} in {self.range_of(sc)}:")
        self.loop_body(sc.inner(loop_vars=sc.loop_vars + [var], loop="for", top=False), indent + 1)

    def loop_body(self, sc: Scope, indent: int) -> None:
        self.block(sc, indent, 0.15)

    def while_loop(self, sc: Scope, indent: int) -> None:
        kind = self.pick(["counter", "counter_and", "true_break", "contraction"])
        self.features.add(f"while_{kind}")
        body = sc.inner(loop="while", top=False)
        if kind == "contraction":
            u = self.fresh("u")
            self.assign(indent, u, self.expr(sc, 2))
            threshold = self.pick(["0.05", "0.2"])
            self.emit(indent, f"while abs({u}) > {threshold}:", f"while _cmp(abs({u}), {threshold}, '>'):")
            self.emit(indent + 1, f"{u} = {self.pick(['0.5', '0.7', '-0.6'])} * {u}")
            body.temps.append(u)
            self.loop_body(body, indent + 1)
            return
        c = self.fresh("c")
        bound = self.pick(["n", "m", "3"] + [f"{v} + 1" for v in sc.loop_vars])
        self.emit(indent, f"{c} = 0")
        if kind == "true_break":
            self.emit(indent, "while True:")
            self.emit(indent + 1, f"{c} = {c} + 1")
            self.emit(indent + 1, f"if {c} > {bound}:")
            self.emit(indent + 2, "break")
        else:
            test = same(f"{c} < {bound}")
            if kind == "counter_and":
                test = combine(f"{{0}} {self.pick(['and', 'or'])} ({{1}})", test, self.cond(sc, 0))
                if " or " in test.code:  # `or` with a data test could loop for ever: bound it
                    test = combine("{0} < 6 and ({1})", same(c), test)
            self.emit(indent, f"while {test.code}:", f"while {test.icode}:")
            self.emit(indent + 1, f"{c} = {c} + 1")
        self.loop_body(body, indent + 1)

    # -- the whole function --------------------------------------------------------------

    def program(self) -> "Program":
        self.emit(1, f"s = {self.pick(['x', 'np.sin(x)', 'x * y', '0.0'])}")
        self.emit(1, f"t = {self.pick(['0.5 * y', 'y', 'np.cos(x) + y'])}")
        self.emit(1, f"z = {self.pick(['np.zeros(5)', 'np.zeros_like(w)', 'w.copy()', 'np.ones(5)'])}")
        # not h = w.copy(): see test_carried_copy_replaced_in_a_loop below
        self.emit(1, f"h = {self.pick(['w * 1.0', 'w * 0.5', 'np.tanh(w)'])}")
        self.emit(1, f"acc = {self.pick(['0.0', '0.5 * x', 'np.sin(y)'])}")
        sc = Scope()
        while self.budget > 0:
            self.statement(sc, 1)
        result = E("s + 0.5 * t + acc + np.sum(z * w) + 0.3 * np.sum(np.sin(h))",
                   "_v(s + 0.5 * t + acc + np.sum(z * w) + 0.3 * np.sum(np.sin(h)))")
        if self.chance(0.2):  # end in an if whose two branches return
            self.features.add("final_if_else_return")
            c = self.cond(sc, 1)
            self.emit(1, f"if {c.code}:", f"if {c.icode}:")
            self.emit(2, f"return {result.code}", f"return {result.icode}")
            self.emit(1, "else:")
            self.emit(2, "return s * t - acc + np.sum(h)", "return _v(s * t - acc + np.sum(h))")
        else:
            self.emit(1, f"return {result.code}", f"return {result.icode}")
        return Program(self.lines, sorted(self.features))


@dataclass
class Program:
    lines: list[tuple[int, str, str]]
    features: list[str]

    def source(self, instrumented: bool = False) -> str:
        body = "\n".join("    " * indent + (icode if instrumented else code) for indent, code, icode in self.lines)
        return f"import math\n\n\ndef f({', '.join(PARAMS)}):\n{body}\n"


@st.composite
def programs(draw: Any, jit: bool = False) -> Program:
    return Generator(draw, jit).program()


@st.composite
def cases(draw: Any, jit: bool = False) -> tuple[Program, list[Any]]:
    prog = draw(programs(jit))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    args = [float(rng.uniform(-1.5, 1.5)), float(rng.uniform(-1.5, 1.5)), rng.uniform(-1.0, 1.0, N),
            draw(st.integers(0, N - 1)), draw(st.integers(0, N - 1))]
    return prog, args


# -- the instrumented run: moderate values, and comparisons that do not flip ----------------

MARGIN = 1e-3
LIMIT = 50.0


class Rejected(Exception):
    pass


class Recorder:
    def __init__(self) -> None:
        self.trace: list[bool] = []

    def cmp(self, a: Any, b: Any, op: str) -> bool:
        a, b = float(a), float(b)
        if not (math.isfinite(a) and math.isfinite(b)) or abs(a - b) < MARGIN:
            raise Rejected(f"{a} {op} {b} is within {MARGIN} of flipping")
        result = {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]
        self.trace.append(result)
        if len(self.trace) > 10_000:
            raise Rejected("too many comparisons")
        return result

    def value(self, v: Any) -> Any:
        with np.errstate(all="ignore"):
            big = float(np.max(np.abs(v), initial=0.0))
        if not math.isfinite(big) or big > LIMIT:
            raise Rejected(f"a value of magnitude {big}")
        return v


def instrumented(prog: Program) -> Callable[..., tuple[float, list[bool]]]:
    namespace: dict[str, Any] = {"np": np}
    exec(compile(prog.source(instrumented=True), "<instrumented>", "exec"), namespace)  # noqa: S102
    fn = namespace["f"]

    def run(*args: Any) -> tuple[float, list[bool]]:
        rec = Recorder()
        fn.__globals__["_cmp"], fn.__globals__["_v"] = rec.cmp, rec.value
        with np.errstate(all="raise"):
            value = fn(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args])
        return float(value), rec.trace

    return run


def stable(prog: Program, args: list[Any]) -> bool:
    """The program's values stay moderate, and at every point the central differences visit
    (the same steps as ``finite_difference``) it takes the same branches, with margin."""
    run = instrumented(prog)
    try:
        _, base = run(*args)
        for position in WRT:
            x = np.array(args[position], dtype=np.float64)
            flat = x.reshape(-1)
            for i in range(flat.size):
                h = 1e-6 * max(1.0, abs(flat[i]))
                for sign in (1.0, -1.0):
                    shifted = flat.copy()
                    shifted[i] += sign * h
                    trial = list(args)
                    trial[position] = shifted.reshape(x.shape) if x.ndim else float(shifted[0])
                    if run(*trial)[1] != base:
                        return False
    except (Rejected, FloatingPointError):
        return False
    return True


# -- checking a program ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("random_control")


def describe(prog: Program, args: list[Any]) -> str:
    shown = ", ".join(f"{p}={np.array2string(np.asarray(a), precision=17, separator=', ')}"
                      for p, a in zip(PARAMS, args))
    return f"\n{prog.source()}\nat {shown}"


def check(prog: Program, args: list[Any], directory: Path, jit: bool) -> None:
    f = load_source(prog.source(), directory)
    context = describe(prog, args)
    before = [np.copy(a) for a in args]
    value, grads = adjoint.value_and_grad(f, wrt=WRT, jit=jit)(*args)  # no refusal: all is supported
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b, err_msg=f"the arguments were modified{context}")
    truth = f(*args)
    assert value == pytest.approx(truth, rel=1e-12, abs=1e-12), f"value {value} != {truth}{context}"
    assert isinstance(grads[0], float) and isinstance(grads[1], float), context
    assert grads[2].shape == (N,) and grads[2].dtype == np.float64, context
    for position, got in zip(WRT, grads):
        expected = finite_difference(f, list(args), position)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6,
                                   err_msg=f"d f / d {PARAMS[position]} disagrees with finite "
                                           f"differences{context}")


SETTINGS = dict(derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])


@settings(max_examples=250, **SETTINGS)
@given(case=cases())
def test_random_control_flow_gradient(case: tuple[Program, list[Any]], program_dir: Path) -> None:
    prog, args = case
    assume(stable(prog, args))
    for feature in prog.features:
        event(feature)
    check(prog, args, program_dir, jit=False)


@settings(max_examples=6, **SETTINGS)
@given(case=cases(jit=True))
def test_random_control_flow_gradient_jit(case: tuple[Program, list[Any]], program_dir: Path) -> None:
    prog, args = case
    assume(len(prog.features) >= 6)  # spend the few Numba compiles on programs with much in them
    assume(stable(prog, args))
    check(prog, args, program_dir, jit=True)


# -- found by the generator above (and by reading the refusals it ran into) ------------------
#
# Each test is the smallest program that showed one defect, kept as a regression test: two
# wrong gradients (now refused: an alias the lowering cannot follow is an error, never a
# wrong answer), three refusals of valid code and a Numba compile failure (now accepted).

def _grad_matches_python(body: str, args: list[Any], directory: Path, jit: bool = False) -> None:
    """adjoint's value and gradient wrt the first argument are those of Python running the
    function (on copies: some of these programs update arrays in place)."""
    f = load_source(body, directory)

    def python(*a: Any) -> float:
        return float(f(*[np.copy(v) if isinstance(v, np.ndarray) else v for v in a]))

    value, got = adjoint.value_and_grad(f, jit=jit)(*args)
    assert value == pytest.approx(python(*args), rel=1e-12)
    np.testing.assert_allclose(got, finite_difference(python, list(args), 0), rtol=1e-6, atol=1e-9)


def test_tuple_assignment_keeps_the_alias(program_dir: Path) -> None:
    """`a, c = e, a` gives c the array a named before the statement, which d shares: `c += 1.0`
    would update d in place, so it is refused (it was lowered as c = c + 1.0: a wrong value
    and gradient)."""
    f = load_source("""
def f(x):
    a = x * 1.0
    d = a
    a, c = x * 2.0, a
    a = x * 3.0
    c += 1.0
    return np.sum(d * x)
""", program_dir)
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="c is the same array as d"):
        adjoint.grad(f, jit=False)(np.array([0.3, 0.7, 1.1]))


def test_a_view_carried_into_the_next_iteration_is_refused(program_dir: Path) -> None:
    """r = z[0] would see the next iteration's write into z (it was a wrong gradient)."""
    f = load_source("""
def f(x, n):
    z = np.zeros((1, 2))
    r = x * 0.0
    acc = 0.0
    for i in range(n):
        z[0, 0] = x[0] * i
        acc = acc + np.sum(r * x)
        r = z[0]
    return acc
""", program_dir)
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="view of an array this loop writes into"):
        adjoint.grad(f, jit=False)(np.array([0.3, 0.7]), 2)


def test_swap_then_augmented_assignment(program_dir: Path) -> None:
    _grad_matches_python("""
def f(x, y):
    s = x * 1.0
    t = y * 1.0
    s, t = t, s
    s += 1.0
    return s * t
""", [0.3, 0.7], program_dir)


def test_carried_copy_replaced_in_a_loop(program_dir: Path) -> None:
    _grad_matches_python("""
def f(w, n):
    h = w.copy()
    for i in range(n):
        h = np.tanh(h)
    return np.sum(h)
""", [np.array([0.3, 0.7, 1.1]), 2], program_dir)


def test_element_read_then_write(program_dir: Path) -> None:
    _grad_matches_python("""
def f(x):
    z = np.zeros(2)
    s = z[0]
    z[1] = x
    return s + z[1]
""", [0.3], program_dir)


@pytest.mark.parametrize("test", ["0.5 > 1.0", "FLAG > 0.5"])
def test_constant_condition_under_numba(program_dir: Path, test: str) -> None:
    """A test decided before run time keeps only its branch (Numba would drop the other,
    and with it tape pushes the adjoint names)."""
    _grad_matches_python(f"""
FLAG = 0.0


def f(x, n):
    s = x
    if {test}:
        for i in range(n):
            s = np.tanh(s * x)
    return s * x
""", [0.7, 3], program_dir, jit=True)


@pytest.mark.parametrize("side", ["x", "0.25"])
def test_rank_of_a_conditional_expression(program_dir: Path, side: str) -> None:
    """`h = w * (x if y < 1.0 else ...)` of a 1-D w is 1-D, so h[0] is a number and `h += ...`
    updates no view (it was refused: a conditional expression's merge had no known rank)."""
    _grad_matches_python(f"""
def f(x, w, y):
    h = w * ({side} if y < 1.0 else x)
    s = h[0]
    h += 0.1 * w
    return np.sum(h) * s * x
""", [0.3, np.array([0.3, -0.2, 0.7]), 0.2], program_dir)
