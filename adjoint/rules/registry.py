"""The rule table: one record per primitive, and the map from user calls to records.

A ``Rule`` holds everything adjoint knows about a primitive:

* ``forward``: a template of the generated forward code, over ``{param}``;
* ``vjp``: for each differentiable parameter, the cotangent it receives, a
  template over the parameters, ``{out}`` (the primal output) and ``{g}`` (the
  output's cotangent). A parameter without an entry gets no cotangent; a rule
  with no entry at all is non-differentiable and its output is never active;
* ``recompute``: cheap enough that a loop's adjoint recomputes it rather than tape it
  (``"numbers"``: only a number; an array of libm results is taped);
* ``examples``: how a user spells the primitive, with the domain and shapes
  its finite-difference test samples. The rule tests are generated from them.

``CALLS`` maps a callee (``numpy.sin``, ``method:sum``, ``attr:T``, ``op:Add``)
to a binder that turns the user's arguments into ``(rule name, args)``.
"""
from __future__ import annotations

import ast
import string
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from ..ir.nodes import Const, Value

# A scatter vjp: the cotangent is added into ``x_bar[index]`` instead of replacing x_bar.
SCATTER = "scatter"
# The vjp of an element write: see transform/reverse.py (reverse_setitem).
OVERWRITE = "overwrite"

VjpFn = Callable[["VjpContext"], "str | list[str]"]

# Python's operators and comparisons, by the rule name their ``op:<name>`` spelling binds to.
OPERATORS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv", ast.Pow: "pow",
             ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.MatMult: "matmul"}
COMPARISONS = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}


@dataclass(frozen=True)
class Arg:
    """A sampled test argument: ``shape`` () is a number (a Python float, or an np.float32 in
    the float32 run); ``const`` is passed as is (an int, an int array ...)."""

    shape: tuple[int, ...] = ()
    low: float = -2.0
    high: float = 2.0
    const: object = None
    is_const: bool = False


def const(value: object) -> Arg:
    return Arg(const=value, is_const=True)


@dataclass(frozen=True)
class Example:
    """A user spelling of a rule, e.g. ``np.max(x, axis=1)``, with test argument cases.

    ``cases`` is a tuple of cases; each case maps the names in ``code`` to an ``Arg``.
    ``numba=False`` marks spellings that only plain Python runs (``jit=False``): NumPy
    accepts them and Numba does not (a ``CompileError``), e.g. ``np.full`` of an array.
    """

    code: str
    cases: tuple[Mapping[str, Arg], ...]
    numba: bool = True


@dataclass(frozen=True)
class Rule:
    name: str
    params: tuple[str, ...]
    forward: "str | Callable[[Mapping[str, str]], str]"
    vjp: Mapping[str, "str | VjpFn"] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    # Parameters whose derivative is not implemented: an active value there is an error,
    # never a silent zero (ChainRules' "not implemented", as opposed to "zero derivative").
    refuses: tuple[str, ...] = ()
    # Cheap and pure (arithmetic, elementwise functions, indexing reads, shape queries,
    # int() and float()): the reverse sweep of a loop recomputes such a value from values
    # it still has instead of taping it.
    # "numbers": only where the value is a number; an array of it is taped (by reference)
    # instead, as each of its elements costs a call into libm (exp, tanh, sin, ...).
    recompute: "bool | str" = False
    # The rank of the result, for analysis/ranks.py: "broadcast" (the highest rank of the
    # operands: elementwise rules), "scalar" (always a number), "index" (getitem), "shape"
    # (an array of the shape given first: np.zeros), "like" (the first operand's: copies,
    # np.zeros_like, element writes), "matrix" (2-D: np.eye), "reduced" (one axis fewer than
    # the first operand: a reduction along an axis), "product" (x @ y of vectors and
    # matrices: rank x + rank y - 2), or "" (not known before run time).
    rank: str = ""
    # A custom_vjp function (adjoint/custom.py): (key, name of the function, name of its
    # rule, digest of their sources); the generated module binds both names.
    custom: tuple[str, str, str, str] | None = None
    # Made by a transform, never spelled by a user (transform/tangent.py's link): no
    # examples, no spelling in docs/subset.md; its own tests check it.
    internal: bool = False

    @classmethod
    def cheap(cls, *args, rank: str = "broadcast", **kwargs) -> "Rule":
        """A cheap elementwise rule (or an indexing read, with ``rank="index"``)."""
        return cls(*args, recompute=True, rank=rank, **kwargs)

    def render_forward(self, args: Mapping[str, str]) -> str:
        if isinstance(self.forward, str):
            return self.forward.format(**args)
        return self.forward(args)

    @property
    def differentiable(self) -> bool:
        return bool(self.vjp)

    def uses_out(self) -> bool:
        return any(isinstance(t, str) and "{out}" in t for t in self.vjp.values())


@dataclass(frozen=True)
class VjpContext:
    """What a callable vjp sees: the rendered arguments, output and cotangent."""

    args: Mapping[str, str]
    items: Mapping[str, tuple[str, ...]]
    out: str
    g: str


Binder = Callable[[Sequence[Value], Mapping[str, Value]], tuple[str, tuple[Value, ...]]]

RULES: dict[str, Rule] = {}
CALLS: dict[str, Binder] = {}


class BindError(Exception):
    """The user's arguments do not fit a rule; the front end turns it into a located error."""


def register(rule: Rule, *callees: str, binder: Binder | None = None) -> Rule:
    """Add ``rule`` to the table and make each callee spelling resolve to it."""
    if rule.name in RULES:
        raise ValueError(f"rule {rule.name!r} registered twice")
    RULES[rule.name] = rule
    for callee in callees:
        CALLS[callee] = binder or positional_binder(rule)
    return rule


def positional_binder(rule: Rule, defaults: Mapping[str, object] | None = None) -> Binder:
    """Bind positional then keyword arguments to ``rule.params``, like a Python signature."""
    defaults = dict(defaults or {})

    def bind(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[str, tuple[Value, ...]]:
        return rule.name, bind_params(rule.params, args, kwargs, defaults)

    return bind


def bind_params(params: Sequence[str], args: Sequence[Value], kwargs: Mapping[str, Value],
                defaults: Mapping[str, object]) -> tuple[Value, ...]:
    if len(args) > len(params):
        raise BindError(f"takes at most {len(params)} positional arguments, got {len(args)}")
    bound: dict[str, Value] = dict(zip(params, args))
    for key, value in kwargs.items():
        if key not in params:
            hint = (": reshape the result instead (.reshape(-1, 1) after axis=1 of a matrix)"
                    if key == "keepdims" else "")
            raise BindError(f"has no supported keyword argument {key!r}{hint}")
        if key in bound:
            raise BindError(f"got argument {key!r} twice")
        bound[key] = value
    out = []
    for p in params:
        if p in bound:
            out.append(bound[p])
        elif p in defaults:
            out.append(Const(defaults[p]))
        else:
            raise BindError(f"is missing the argument {p!r}")
    return tuple(out)


def template_fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def unbroadcast(expr: str, like: str) -> str:
    return f"unbroadcast({expr}, {like})"
