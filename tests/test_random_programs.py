"""Random straight-line programs: adjoint's gradient against finite differences.

Hypothesis draws small expression DAGs over float64 arrays of shape (3,) (two or
three of them), a float scalar and an int index; values are reassigned (inputs
included), reused (fan-out) and broadcast between shapes (), (1,), (2,) and (3,).
Each program is written to its own .py file (adjoint reads the source), imported,
and its gradient with respect to every float argument is compared with central
finite differences of the original Python function, entrywise and along a random
direction.
"""
from __future__ import annotations

import importlib.util
import itertools
import re
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import adjoint
from adjoint.check import finite_difference

Shape = tuple

# -- expressions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    """An expression node: ``code`` is its fully parenthesised Python spelling; ``canon``
    spells it with variables as ``<name>`` and one spelling per computation (np.sum(e),
    not e.sum()), so that equal canons mean the same computation to adjoint's lowering."""
    code: str
    shape: Shape
    canon: str = ""
    children: tuple["Expr", ...] = ()
    kinked: bool = False  # max/min/where: non-differentiable where its two children tie
    name: bool = False    # a bare variable name
    view: bool = False    # a NumPy view of its only child (a subscript, .T, np.transpose)


def leaf(code: str, shape: Shape, name: bool = False) -> Expr:
    return Expr(code, shape, f"<{code}>" if name else code, name=name)


def node(make: Callable[..., str], children: tuple[Expr, ...], shape: Shape, canon: Callable[..., str] | None = None,
         **flags: bool) -> Expr:
    return Expr(make(*(c.code for c in children)), shape, (canon or make)(*(c.canon for c in children)),
                children, **flags)


def _broadcast(a: Shape, b: Shape) -> Shape | None:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


UNARY: list[tuple[str, Callable[[str], str]]] = [
    ("sin", lambda e: f"np.sin({e})"),
    ("cos", lambda e: f"np.cos({e})"),
    ("tanh", lambda e: f"np.tanh({e})"),
    ("exp_sin", lambda e: f"np.exp(np.sin({e}))"),       # exp on bounded inputs
    ("exp_tanh", lambda e: f"np.exp(np.tanh({e}))"),
    ("exp_gauss", lambda e: f"np.exp(-({e} * {e}))"),
    ("log1p_sq", lambda e: f"np.log(1.0 + {e} * {e})"),
    ("sqrt1p_sq", lambda e: f"np.sqrt(1.0 + {e} * {e})"),
    ("neg", lambda e: f"(-{e})"),
    ("square", lambda e: f"({e} ** 2)"),
    ("cube_scaled", lambda e: f"(0.25 * {e} ** 3)"),
    ("scale", lambda e: f"(0.5 * {e})"),
    ("int_scale", lambda e: f"({e} * 2)"),
]

BINARY: list[tuple[str, Callable[[str, str], str], bool]] = [
    ("add", lambda a, b: f"({a} + {b})", False),
    ("sub", lambda a, b: f"({a} - {b})", False),
    ("mul", lambda a, b: f"({a} * {b})", False),
    ("div", lambda a, b: f"({a} / (1.0 + {b} * {b}))", False),  # a denominator >= 1
    ("maximum", lambda a, b: f"np.maximum({a}, {b})", True),
    ("minimum", lambda a, b: f"np.minimum({a}, {b})", True),
    ("where", lambda a, b: f"np.where({a} > {b}, {a} * {b}, {b})", True),
]

# Reductions of a 1-D value to a scalar: (spelling, canonical spelling).
REDUCE = [
    (lambda e: f"np.sum({e})", lambda e: f"np.sum({e})"),
    (lambda e: f"np.mean({e})", lambda e: f"np.mean({e})"),
    (lambda e: f"{e}.sum()", lambda e: f"np.sum({e})"),
    (lambda e: f"{e}.mean()", lambda e: f"np.mean({e})"),
]
TRANSPOSE = [
    (lambda e: f"{e}.T", lambda e: f"np.transpose({e})"),
    (lambda e: f"np.transpose({e})", lambda e: f"np.transpose({e})"),
]


def reduced(e: Expr, which: int = 0) -> Expr:
    make, canon = REDUCE[which]
    return node(make, (e,), (), canon)

CONSTANTS = ["0.5", "2.0", "1.5", "3", "-0.75"]


def _index_options(shape: Shape) -> list[tuple[str, Shape]]:
    """The subscripts this test uses on a 1-D value of ``shape``, with the result's shape."""
    n = shape[0]
    out: list[tuple[str, Shape]] = [("[0]", ()), ("[-1]", ()), ("[::-1]", shape)]
    if n >= 2:
        out += [("[1]", ()), ("[k]", ()), ("[1:]", (n - 1,)), ("[:-1]", (n - 1,)), ("[::2]", ((n + 1) // 2,))]
    if n >= 3:
        out += [("[:2]", (2,)), ("[1:3]", (2,))]
    return out


@st.composite
def expressions(draw: Any, live: dict[str, Shape], depth: int, top: bool = False) -> Expr:
    """An expression over the currently bound names ``live`` (rarely a bare leaf at the top)."""
    names = sorted(live)
    if depth <= 0 or draw(st.integers(0, 15 if top else 3)) == 0:
        if draw(st.integers(0, 7)) == 0:
            return leaf(draw(st.sampled_from(CONSTANTS)), ())
        name = draw(st.sampled_from(names))
        return leaf(name, live[name], name=True)
    kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce", "index", "transpose"]))
    if kind == "unary":
        _, make = draw(st.sampled_from(UNARY))
        e = draw(expressions(live, depth - 1))
        return node(make, (e,), e.shape)
    if kind == "binary":
        _, make, kinked = draw(st.sampled_from(BINARY))
        a = draw(expressions(live, depth - 1))
        b = draw(expressions(live, depth - 1))
        shape = _broadcast(a.shape, b.shape)
        if shape is None:  # incompatible (3,) with (2,): reduce the right operand first
            b = reduced(b)
            shape = a.shape
        return node(make, (a, b), shape, kinked=kinked)
    e = draw(expressions(live, depth - 1))
    if e.shape == ():
        return e
    if kind == "reduce":
        return reduced(e, draw(st.integers(0, len(REDUCE) - 1)))
    if kind == "transpose":
        make, canon = draw(st.sampled_from(TRANSPOSE))
        return node(make, (e,), e.shape, canon, view=True)
    sub, shape = draw(st.sampled_from(_index_options(e.shape)))
    # x[0] of a 1-D array is a scalar, not a view; adjoint still refuses `op=` on it (it
    # cannot tell at build time), so the generator treats every subscript as a view.
    return node(lambda c: f"{c}{sub}", (e,), shape, view=True)


# -- programs ------------------------------------------------------------------------

@dataclass
class Program:
    params: list[str]              # float arrays, then the float scalar s, then the int k
    statements: list[tuple[str, list[Expr]]] = field(default_factory=list)  # (line, its RHS exprs)
    result: str = ""

    def source(self, name: str) -> str:
        lines = [f"def {name}({', '.join(self.params)}):"]
        lines += [f"    {line}" for line, _ in self.statements]
        lines.append(f"    return np.sum(np.sin({self.result}))")
        return "import numpy as np\n\n\n" + "\n".join(lines) + "\n"

    @property
    def float_params(self) -> list[str]:
        return [p for p in self.params if p != "k"]


TARGETS = ["v", "w", "h", "t", "a", "b", "s"]  # reassigning inputs is part of the test; k never


@st.composite
def programs(draw: Any) -> Program:
    """A straight-line program.

    ``x op= e`` is in place in Python when x holds an array, so it is written as such only
    where that cannot be observed, and where adjoint (which refuses it whenever it could be)
    accepts it: x is not an argument, not a view, no other variable holds the same value,
    and no view of it was ever taken; elsewhere it is spelled ``x = x op e``. adjoint's
    lowering reuses a repeated pure computation (``v = np.sin(a)``; ``w = np.sin(a)`` give
    one value), so "the same value" is decided by numbering computations likewise (``ids``).
    """
    n_arrays = draw(st.integers(2, 3))
    arrays = ["a", "b", "c"][:n_arrays]
    prog = Program(arrays + ["s", "k"])
    live: dict[str, Shape] = {p: (3,) for p in arrays}
    live["s"] = ()
    value_id = {p: f"@{p}" for p in live}     # each live variable's value
    ids: dict[str, str] = {}                   # computation (canon over value ids) -> value
    not_in_place = set(value_id.values())      # arguments, views, values a view was taken of

    def identify(canon: str) -> str:
        canon = re.sub(r"(?<![\w.@])(\d+)(?![\w.])", r"\1.0", canon)  # 2 == 2.0 to the lowering
        canon = re.sub(r"<(\w+)>", lambda m: value_id[m.group(1)], canon)
        return canon if re.fullmatch(r"@\w+", canon) else ids.setdefault(canon, f"@{len(ids)}")

    def note_views(e: Expr) -> None:
        if e.view:
            not_in_place.add(identify(e.children[0].canon))
            not_in_place.add(identify(e.canon))
        for c in e.children:
            note_views(c)

    def in_place_ok(target: str) -> bool:
        vid = value_id[target]
        return vid not in not_in_place and all(value_id[n] != vid for n in live if n != target)

    def bind(targets: list[str], exprs: list[Expr]) -> None:
        new_ids = [identify(e.canon) for e in exprs]
        for target, e, vid in zip(targets, exprs, new_ids):
            live[target] = e.shape
            value_id[target] = vid

    last = arrays[0]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["assign", "assign", "assign", "augassign", "unpack"]))
        if kind == "augassign":
            target = draw(st.sampled_from([t for t in TARGETS if t in live]))
            op = draw(st.sampled_from(["+", "-", "*"]))
            e = draw(expressions(live, 2, top=True))
            shape = _broadcast(live[target], e.shape)
            if shape is None:
                e = reduced(e, 1)
                shape = live[target]
            note_views(e)
            if in_place_ok(target) and shape == live[target]:
                prog.statements.append((f"{target} {op}= {e.code}", [e]))
            else:
                prog.statements.append((f"{target} = {target} {op} {e.code}", [e]))
            live[target] = shape
            value_id[target] = identify(f"(<{target}> {op} {e.canon})")
            last = target
        elif kind == "unpack":
            t1, t2 = draw(st.lists(st.sampled_from(TARGETS), min_size=2, max_size=2, unique=True))
            e1, e2 = draw(expressions(live, 2, top=True)), draw(expressions(live, 2, top=True))
            prog.statements.append((f"{t1}, {t2} = {e1.code}, {e2.code}", [e1, e2]))
            note_views(e1)
            note_views(e2)
            bind([t1, t2], [e1, e2])
            last = draw(st.sampled_from([t1, t2]))
        else:
            target = draw(st.sampled_from(TARGETS))
            e = draw(expressions(live, 3, top=True))
            prog.statements.append((f"{target} = {e.code}", [e]))
            note_views(e)
            bind([target], [e])
            last = target
    prog.result = last
    return prog


@st.composite
def cases(draw: Any) -> tuple[Program, dict[str, Any]]:
    prog = draw(programs())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values: dict[str, Any] = {}
    for p in prog.params:
        if p == "k":
            values[p] = draw(st.integers(0, 1))
        elif p == "s":
            values[p] = float(rng.uniform(-1.5, 1.5))
        else:
            values[p] = rng.uniform(-1.5, 1.5, size=3)
    return prog, values


# -- running -------------------------------------------------------------------------

_COUNTER = itertools.count()


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("random_programs")


def load(prog: Program, directory: Path) -> Callable[..., Any]:
    """Write the program to its own module file and import it (adjoint reads the file)."""
    module_name = f"adjoint_random_program_{next(_COUNTER)}_{uuid.uuid4().hex[:8]}"
    path = directory / f"{module_name}.py"
    path.write_text(prog.source("f"))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module.f


def well_conditioned(prog: Program, values: dict[str, Any]) -> bool:
    """Run the program step by step: every intermediate is finite and moderate, and every
    max/min/where is away from its kink, so that finite differences are trustworthy."""
    env: dict[str, Any] = {"np": np, **{p: np.copy(v) if isinstance(v, np.ndarray) else v
                                        for p, v in values.items()}}

    def ok(e: Expr) -> bool:
        with np.errstate(all="ignore"):
            value = np.asarray(eval(e.code, env))  # noqa: S307 - our own generated code
        if not np.all(np.isfinite(value)) or np.max(np.abs(value), initial=0.0) > 50.0:
            return False
        if e.kinked:
            a, b = (np.asarray(eval(c.code, env)) for c in e.children)  # noqa: S307
            if np.min(np.abs(a - b)) < 1e-3:
                return False
        return all(ok(c) for c in e.children)

    for line, exprs in prog.statements:
        if not all(ok(e) for e in exprs):
            return False
        exec(line, env)  # noqa: S102 - our own generated code
    return True


def describe(prog: Program, values: dict[str, Any]) -> str:
    args = ", ".join(f"{p}={np.array2string(np.asarray(v), precision=17)}" for p, v in values.items())
    return f"\n{prog.source('f')}\nat {args}"


def check_program(prog: Program, values: dict[str, Any], directory: Path, jit: bool) -> None:
    f = load(prog, directory)
    wrt = tuple(prog.float_params)
    args = [values[p] for p in prog.params]
    before = [np.copy(a) for a in args]
    context = describe(prog, values)

    g = adjoint.grad(f, wrt=wrt, jit=jit)
    grads = g(*args)
    for a, b in zip(args, before):  # calling a gradient never modifies its arguments
        np.testing.assert_array_equal(a, b, err_msg=context)
    assert isinstance(grads, tuple) and len(grads) == len(wrt), context

    positions = [prog.params.index(p) for p in wrt]
    for name, position, got in zip(wrt, positions, grads):
        if name == "s":
            assert isinstance(got, float), f"gradient for the scalar s is {type(got).__name__}{context}"
        else:
            assert isinstance(got, np.ndarray) and got.shape == (3,) and got.dtype == np.float64, context
        expected = finite_difference(f, list(args), position)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6,
                                   err_msg=f"d f / d {name} disagrees with finite differences{context}")

    # Along a random direction, with a step independent of adjoint.check.
    rng = np.random.default_rng(len(context))
    direction = [rng.standard_normal(np.shape(values[p])) for p in wrt]
    if np.ndim(direction[wrt.index("s")]) == 0:
        direction[wrt.index("s")] = float(direction[wrt.index("s")])
    h = 1e-5

    def shifted(sign: float) -> float:
        trial = dict(values)
        for p, u in zip(wrt, direction):
            trial[p] = values[p] + sign * h * u
        return float(f(*[trial[p] for p in prog.params]))

    fd = (shifted(1.0) - shifted(-1.0)) / (2 * h)
    ad = sum(float(np.sum(np.asarray(gr) * u)) for gr, u in zip(grads, direction))
    assert abs(ad - fd) <= 1e-4 * (1.0 + abs(fd)), f"directional derivative {ad} vs {fd}{context}"

    # The value, by value_and_grad and by the compiled forward, is the original's.
    truth = float(f(*args))
    value, grads2 = adjoint.value_and_grad(f, wrt=wrt, jit=jit)(*args) if not jit else (truth, grads)
    assert value == pytest.approx(truth, rel=1e-12, abs=1e-12), context
    for a, b in zip(grads, grads2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=context)
    assert float(g.forward(*args)) == pytest.approx(truth, rel=1e-12, abs=1e-12), context


@settings(deadline=None, max_examples=40, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_random_program_gradient(case: tuple[Program, dict[str, Any]], program_dir: Path) -> None:
    prog, values = case
    assume(well_conditioned(prog, values))
    check_program(prog, values, program_dir, jit=False)


@settings(deadline=None, max_examples=3, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_random_program_gradient_jit(case: tuple[Program, dict[str, Any]], program_dir: Path) -> None:
    prog, values = case
    assume(len(prog.statements) >= 2)  # spend the few slow Numba compiles on non-trivial programs
    assume(well_conditioned(prog, values))
    check_program(prog, values, program_dir, jit=True)


# -- found by the generator above: in-place augmented assignment on shared arrays -------------
#
# In Python ``y += e`` on an array mutates it in place, so every other name sharing the
# array (``z = y``, a view ``z = y[1:]``, or the caller's argument) sees the change. The
# generator above only writes ``op=`` where nothing shares the value; these programs do.

ALIASED = {
    "alias_local": """
def f(x):
    y = x * 2.0
    z = y
    y += 1.0
    return np.sum(z * y)
""",
    "alias_view": """
def f(x):
    y = x * 2.0
    z = y[1:]
    y *= x
    return np.sum(z)
""",
    "alias_argument": """
def f(x):
    v = x
    x += 1.0
    return np.sum(v * x)
""",
}


def load_source(body: str, directory: Path) -> Callable[..., Any]:
    module_name = f"adjoint_aliased_program_{next(_COUNTER)}_{uuid.uuid4().hex[:8]}"
    path = directory / f"{module_name}.py"
    path.write_text("import numpy as np\n\n" + body)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module.f


@pytest.mark.parametrize("name", sorted(ALIASED))
def test_augmented_assignment_on_a_shared_array(name: str, program_dir: Path) -> None:
    """Either refused with a clear error, or differentiated with Python's meaning."""
    f = load_source(ALIASED[name], program_dir)
    x = np.array([1.0, 2.0, 3.0])
    try:
        got = adjoint.grad(f, jit=False)(x.copy())
    except (adjoint.UnsupportedSyntaxError, TypeError):
        return
    expected = finite_difference(lambda a: f(np.array(a)), [x], 0)  # f mutates: give it copies
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=ALIASED[name])


# -- found by the generator above: the lowering's reuse of repeated computations ---------------
#
# to_ir.Lowering.emit reuses an earlier (prim, args) computation. Its key compares constants
# with ==, where 2 == 2.0 == True and 0.0 == -0.0, and the reuse makes two distinct arrays
# one value for the in-place check.

def test_in_place_update_of_a_recomputed_value(program_dir: Path) -> None:
    f = load_source("""
def f(x):
    v = np.sin(x)
    w = np.sin(x)
    v += 0.5
    return np.sum(v * w)
""", program_dir)
    x = np.array([1.0, 2.0, 3.0])
    got = adjoint.grad(f, jit=False)(x)
    np.testing.assert_allclose(got, finite_difference(f, [x], 0), rtol=1e-5, atol=1e-7)


def test_int_and_float_constants_are_different_computations(program_dir: Path) -> None:
    f = load_source("""
def f(x, k):
    i = k * 2
    y = k * 2.0
    return np.sum(x) * y ** -1
""", program_dir)
    x = np.array([1.0, 2.0])
    value, got = adjoint.value_and_grad(f, jit=True)(x, 3)
    assert value == pytest.approx(f(x, 3))
    np.testing.assert_allclose(got, [1.0 / 6.0, 1.0 / 6.0], rtol=1e-12)


def test_signed_zero_constants_are_different_computations(program_dir: Path) -> None:
    f = load_source("""
def f(x):
    a = x * 0.0
    b = x * -0.0
    return np.sum(np.arctan2(b, -1.0) + x)
""", program_dir)
    x = np.array([1.0, 2.0])
    value, got = adjoint.value_and_grad(f, jit=False)(x)
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(got, [1.0, 1.0])
