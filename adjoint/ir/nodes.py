"""IR stage: the typed, immutable SSA graph that every later stage reads.

A function body is a tuple of statements. Straight-line code is a sequence of
``Assign`` (one SSA definition each, an application of one primitive of the
rule table) ending in a ``Return``. Control flow is structured: an ``If`` or a
``For`` holds its own statement tuples and the ``Phi`` merges of the values it
changes.
Every statement carries a ``Loc`` pointing at the user's source.
"""
from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import Iterator, Union


@dataclass(frozen=True)
class Loc:
    """Where a node came from: file, 1-based line, 0-based column, the line's text."""

    filename: str
    line: int
    col: int
    text: str = ""
    function: str = ""  # the inlined helper this line belongs to; "" for the function itself


@dataclass(frozen=True)
class Var:
    """An SSA value: defined exactly once, by a parameter or an ``Assign``."""

    name: str


@dataclass(frozen=True)
class Const:
    """A literal number, bool or None; ``text`` is how it is spelled in code."""

    value: object
    text: str = ""

    def spelling(self) -> str:
        if isinstance(self.value, float) and not math.isfinite(self.value):
            # repr gives inf, -inf, nan: names the generated module does not have (a folded
            # -np.inf, a default float("inf")). NumPy's spelling, bracketed where negative.
            if math.isnan(self.value):
                return "np.nan"
            return "np.inf" if self.value > 0 else "(-np.inf)"
        if self.text:
            return self.text
        if isinstance(self.value, float) and self.value < 0 or (
            isinstance(self.value, int) and not isinstance(self.value, bool) and self.value < 0
        ):
            return f"({self.value!r})"
        return repr(self.value)


@dataclass(frozen=True)
class Tup:
    """A tuple built in place, e.g. the shape in ``np.zeros((n, 3))``."""

    items: tuple["Value", ...]


@dataclass(frozen=True)
class Slice:
    """``lo:hi:step`` inside an index; missing parts are None."""

    lo: "Value | None"
    hi: "Value | None"
    step: "Value | None"


@dataclass(frozen=True)
class Index:
    """The index of a subscript: ints, slices and ``None`` (new axis)."""

    items: tuple["Value | Slice", ...]


Value = Union[Var, Const, Tup, Index]


@dataclass(frozen=True)
class Op:
    """An application of the primitive ``prim`` (a rule name) to ``args``."""

    prim: str
    args: tuple[Value, ...]


@dataclass(frozen=True)
class Assign:
    target: Var
    op: Op
    loc: Loc


@dataclass(frozen=True)
class Return:
    value: Value
    loc: Loc


@dataclass(frozen=True)
class Phi:
    """A merge. After an ``If``: ``var`` is ``first`` if the condition held, else ``second``.
    In a loop: ``var`` is ``first`` (the initial value) on entry and ``second`` (the
    update computed by the body) from one iteration to the next; after the loop it
    holds the last update. Generated code gives ``var`` one Python variable."""

    var: Var
    first: Value
    second: Value


@dataclass(frozen=True)
class If:
    cond: Value
    then: tuple["Stmt", ...]
    orelse: tuple["Stmt", ...]
    phis: tuple[Phi, ...]
    loc: Loc


@dataclass(frozen=True)
class For:
    """``for index in range(start, stop, step)`` with loop-carried ``carried`` values."""

    index: Var
    start: Value
    stop: Value
    step: Value
    body: tuple["Stmt", ...]
    carried: tuple[Phi, ...]
    loc: Loc


@dataclass(frozen=True)
class While:
    """``while test``: ``cond`` computes ``test`` from the carried values (before the loop
    and again after each iteration). ``count`` is carried too: the number of iterations
    run, which the adjoint loop repeats."""

    cond: tuple["Stmt", ...]
    test: Value
    body: tuple["Stmt", ...]
    carried: tuple[Phi, ...]
    count: Var
    loc: Loc


Stmt = Union[Assign, Return, If, For, While]


@dataclass(frozen=True)
class Param:
    var: Var
    source_name: str


@dataclass(frozen=True)
class Function:
    """A whole function in SSA form.

    ``names`` holds every name the user wrote and every SSA name, so later
    stages can make new names that collide with none. ``index_params`` are
    parameters used as indices: the caller must pass ints for them; ``index_arrays``
    are parameters whose elements are (``x[idx[j]]``): integer arrays. ``index_locs``: where
    each of them is first used in an index, for the error when a call passes a wrong type.
    """

    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    loc: Loc
    names: frozenset[str] = field(default=frozenset())
    index_params: frozenset[str] = field(default=frozenset())
    helpers: tuple[tuple[str, str], ...] = ()  # (name, file) of each inlined helper function
    index_arrays: frozenset[str] = field(default=frozenset())
    index_locs: tuple[tuple[str, Loc], ...] = ()
    # Values computed for their numbers only, never differentiated (transform/tangent.py: a
    # loop body whose derivative its tangents carry): activity never makes them active.
    passive: frozenset[str] = field(default=frozenset())

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.var.name for p in self.params)


def value_vars(value: "Value | Slice | None") -> list[Var]:
    """Every ``Var`` a value mentions (items of tuples and indices included)."""
    if value is None or isinstance(value, Const):
        return []
    if isinstance(value, Var):
        return [value]
    if isinstance(value, Slice):
        return value_vars(value.lo) + value_vars(value.hi) + value_vars(value.step)
    out: list[Var] = []
    for item in value.items:
        out.extend(value_vars(item))
    return out


def op_vars(op: Op) -> list[Var]:
    out: list[Var] = []
    for arg in op.args:
        out.extend(value_vars(arg))
    return out


def statement_reads(stmt: "Stmt") -> list[Var]:
    """The values one statement reads itself (a region's test, bounds and merges; not the
    statements nested in it)."""
    if isinstance(stmt, Assign):
        return op_vars(stmt.op)
    if isinstance(stmt, Return):
        return value_vars(stmt.value)
    phis = stmt.phis if isinstance(stmt, If) else stmt.carried
    out = [v for p in phis for v in value_vars(p.first) + value_vars(p.second)]
    if isinstance(stmt, If):
        return out + value_vars(stmt.cond)
    if isinstance(stmt, For):
        return out + value_vars(stmt.start) + value_vars(stmt.stop) + value_vars(stmt.step)
    return out + value_vars(stmt.test)


def defined_names(stmts: "tuple[Stmt, ...]") -> set[str]:
    """Every SSA name defined in ``stmts``, nested regions included."""
    out: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, Assign):
            out.add(stmt.target.name)
        elif isinstance(stmt, If):
            out |= defined_names(stmt.then) | defined_names(stmt.orelse) | {p.var.name for p in stmt.phis}
        elif isinstance(stmt, For):
            out |= defined_names(stmt.body) | {p.var.name for p in stmt.carried} | {stmt.index.name}
        elif isinstance(stmt, While):
            out |= defined_names(stmt.cond) | defined_names(stmt.body) | {p.var.name for p in stmt.carried}
    return out


def walk(stmts: "tuple[Stmt, ...]") -> "Iterator[Stmt]":
    """Every statement of a body, inside its branches and loops too (loop tests included)."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, If):
            yield from walk(stmt.then)
            yield from walk(stmt.orelse)
        elif isinstance(stmt, (For, While)):
            yield from walk(getattr(stmt, "cond", ()))
            yield from walk(stmt.body)


def written_arrays(stmts: "tuple[Stmt, ...]") -> frozenset[str]:
    """Every SSA name of an array that element writes update in place (all its versions:
    the write's input and output, and the merges that carry them)."""
    names: set[str] = set()
    merges: list[Phi] = []
    for stmt in walk(stmts):
        if isinstance(stmt, Assign) and stmt.op.prim == "setitem":
            names.add(stmt.target.name)
            names.update(v.name for v in value_vars(stmt.op.args[0]))
        elif isinstance(stmt, If):
            merges.extend(stmt.phis)
        elif isinstance(stmt, (For, While)):
            merges.extend(stmt.carried)
    while True:
        size = len(names)
        for phi in merges:
            group = {phi.var.name} | {v.name for v in value_vars(phi.first) + value_vars(phi.second)}
            if group & names:
                names |= group
        if len(names) == size:
            return frozenset(names)


def definitions(body: "tuple[Stmt, ...]") -> dict[str, object]:
    """What defines each name of ``body`` (nested blocks too): its ``Assign``, the ``Phi`` of
    an ``if`` that merges it, or ``(phi, loop)`` for a value a loop carries."""
    defs: dict[str, object] = {}
    for stmt in walk(body):
        if isinstance(stmt, Assign):
            defs[stmt.target.name] = stmt
        elif isinstance(stmt, If):
            defs.update({p.var.name: p for p in stmt.phis})
        elif isinstance(stmt, (For, While)):
            defs.update({p.var.name: (p, stmt) for p in stmt.carried})
    return defs


def trace_writes(start: "Value", body: "tuple[Stmt, ...]",
                 through_loops: bool = False) -> "tuple[frozenset[str], frozenset[str]]":
    """Trace an array value back through ``body``'s element writes and ``if`` merges (and,
    with ``through_loops``, through inner loops that update it in place): the names met on
    the way, and where the paths end: names ``body`` does not define (the array as it was
    before ``body``), or ``""`` for anything else (a new array, a loop's result, a literal)."""
    defs = definitions(body)
    versions: set[str] = set()
    ends: set[str] = set()
    todo = [start]
    while todo:
        value = todo.pop()
        if not isinstance(value, Var):
            ends.add("")
            continue
        if value.name in versions or value.name in ends:
            continue
        d = defs.get(value.name)
        if d is None:  # defined before body
            ends.add(value.name)
        elif isinstance(d, Assign) and d.op.prim == "setitem":
            versions.add(value.name)
            todo.append(d.op.args[0])
        elif isinstance(d, Phi):
            versions.add(value.name)
            todo += [d.first, d.second]
        elif isinstance(d, tuple) and through_loops:  # an inner loop's result: the array it
            inner, loop = d  # started from, if it updates that in place
            inner_versions, same = array_versions(inner, loop.body, True)
            versions |= inner_versions
            if same:
                todo.append(inner.first)
            else:
                ends.add("")
        else:  # a new array, a loop's result, anything else
            ends.add("")
    return frozenset(versions), frozenset(ends)


def array_versions(phi: Phi, body: "tuple[Stmt, ...]",
                   through_loops: bool = False) -> "tuple[frozenset[str], bool]":
    """A loop-carried array's versions in the loop body (``trace_writes`` of its update,
    the carried value included), and whether every path ends at the carried value itself
    (the same array, updated in place)."""
    versions, ends = trace_writes(phi.second, body, through_loops)
    return versions | {phi.var.name}, ends == {phi.var.name}


def int_literal(value: object) -> int | None:
    """The int a literal index or bound spells (``2``, ``-1``), or None (a bool is no int here)."""
    if isinstance(value, Const) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return None


def value_key(value: object) -> object:
    """A key that tells apart what ``==`` confuses: 2, 2.0 and True; 0.0 and -0.0."""
    if isinstance(value, Const):
        return ("const", type(value.value).__name__, repr(value.value), value.text)
    if isinstance(value, (tuple, list)):
        return tuple(value_key(v) for v in value)
    if isinstance(value, (Tup, Index)):
        return (type(value).__name__, value_key(value.items))
    if isinstance(value, Slice):
        return ("slice", value_key(value.lo), value_key(value.hi), value_key(value.step))
    return value
