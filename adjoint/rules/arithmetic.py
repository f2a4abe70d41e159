"""Rules for Python's operators: + - * / ** // %, unary minus, comparisons, not."""
from __future__ import annotations

import ast
from typing import Mapping, Sequence

import numpy as np

from ..ir.nodes import Const, Value, Var
from . import cases
from .registry import BindError, Example, Rule, VjpContext, const, register, unbroadcast


def _binary(name: str, symbol: str, vjp: dict, examples: tuple[Example, ...]) -> Rule:
    return register(Rule.cheap(name, ("x", "y"), "{x} %s {y}" % symbol, vjp, examples), f"op:{name}")


# Int arguments (arrays and numbers) mixed with floats: k is never differentiated.
_INTS = cases.arrays({"x": (2, 3), "k": const(np.arange(3))}, {"x": (), "k": const(np.arange(6).reshape(2, 3))},
                     {"x": (3,), "k": const(2)})
_binary("add", "+", {"x": unbroadcast("{g}", "{x}"), "y": unbroadcast("{g}", "{y}")},
        (Example("x + y", cases.binary()), Example("k + x", _INTS), Example("np.add(x, y)", cases.binary()[:1])))
_binary("sub", "-", {"x": unbroadcast("{g}", "{x}"), "y": unbroadcast("-{g}", "{y}")},
        (Example("x - y", cases.binary()), Example("np.subtract(x, y)", cases.binary()[:1])))
_binary("mul", "*", {"x": unbroadcast("{g} * {y}", "{x}"), "y": unbroadcast("{g} * {x}", "{y}")},
        (Example("x * y", cases.binary()), Example("x * k", _INTS), Example("np.multiply(x, y)", cases.binary()[:1])))
_binary("truediv", "/", {"x": unbroadcast("{g} / {y}", "{x}"),
                         "y": unbroadcast("-({g} / {y}) * {out}", "{y}")},
        (Example("x / y", cases.binary(-2.0, 2.0, 0.5, 2.0)),
         Example("np.divide(x, y) + np.true_divide(y, x)", cases.binary(0.5, 2.0)[:1]),
         Example("k / x + x / (k + 1)", tuple({**c, "x": cases.Arg(c["x"].shape, 0.5, 2.0)} for c in _INTS))))


def _float_literal(text: str) -> bool:
    try:
        return isinstance(ast.literal_eval(text), float)
    except (ValueError, SyntaxError):
        return False


def _pow_forward(args: Mapping[str, str]) -> str:
    """``x ** y`` with a run-time exponent is ``power(x, y)`` (runtime/helpers.py) unless an
    operand is a float literal: both may be ints, and Numba computes an int to a negative
    int power as 0 (Python gives a float, NumPy raises); ``power`` raises as NumPy does."""
    if _float_literal(args["x"]) or _float_literal(args["y"]):
        return f"{args['x']} ** {args['y']}"
    return f"power({args['x']}, {args['y']})"


# x ** y with a run-time exponent; d/dy needs log(x), so the test samples x > 0.
# As JAX: where y == 0, d/dx is 0 (x ** (y - 1) would make 0 * inf = nan at x = 0, e.g.
# x ** np.arange(4) at x = 0.0), and where x == 0, d/dy is 0 (out * log(0) = 0 * -inf):
# the exponent y - (y != 0) and the log of x + (x == 0) avoid them, and are y - 1 and
# log(x) everywhere else.
register(Rule.cheap("pow", ("x", "y"), _pow_forward,
                    {"x": unbroadcast("{g} * {y} * {x} ** ({y} - ({y} != 0))", "{x}"),
                     "y": unbroadcast("{g} * {out} * np.log({x} + ({x} == 0))", "{y}")},
                    (Example("x ** y", cases.binary(0.5, 2.0)),
                     Example("np.power(x, y)", cases.binary(0.5, 2.0)),
                     Example("pow(x, y)", cases.scalar(0.5, 2.0, "x y")),
                     # int exponents (0 among them), also of a zero base; a zero base with a float exponent
                     Example("x ** k + (x * 0.0) ** k", cases.arrays(
                         {"x": cases.Arg((2, 4), 0.5, 2.0), "k": const(np.arange(4))},
                         {"x": cases.Arg((), 0.5, 2.0), "k": const(np.array([0, 1, 2]))})),
                     Example("b ** y", cases.arrays({"b": const(np.array([0.0, 1.5, 2.0])), "y": cases.Arg((3,), 0.5, 2.0)},
                                                    {"b": const(np.array([0, 1, 2])), "y": cases.Arg((), 0.5, 2.0)})))))
# Floor division is piecewise constant: zero derivative almost everywhere.
_binary("floordiv", "//", {}, (Example("x // y", cases.binary(0.1, 5.0, 0.7, 2.0)),
                              Example("x * np.floor_divide(x, y)", cases.binary(0.1, 5.0, 0.7, 2.0)[:1])))
# x % y = x - y * floor(x / y), differentiated away from the jumps.
_binary("mod", "%", {"x": unbroadcast("{g}", "{x}"),
                     "y": unbroadcast("-{g} * np.floor({x} / {y})", "{y}")},
        (Example("x % y", cases.binary(0.1, 0.9, 1.1, 2.0)),
         Example("np.mod(x, y) + np.remainder(x, y)", cases.binary(0.1, 0.9, 1.1, 2.0)[:1])))


def _pow_const_vjp(ctx: VjpContext) -> "str | list[str]":
    """d(x ** n)/dx = n x ** (n - 1), folded for a literal n so it reads like the math."""
    n = ast.literal_eval(ctx.args["n"])
    if n == 0:
        return []  # x ** 0 is constant: no contribution
    if n == 2:
        return f"2.0 * {ctx.g} * {ctx.args['x']}"
    factor = f"{ctx.g} * {ctx.args['n']}"
    if n == 1:
        return ctx.g
    return f"{factor} * {ctx.args['x']} ** {Const(n - 1).spelling()}"


def _pow_const_forward(args: Mapping[str, str]) -> str:
    """``x ** n``; a negative int n is spelled as a float (``k ** -1.0``): Numba computes an
    int to a negative int power as an int (``2 ** -1`` is 0, where Python gives 0.5)."""
    n = ast.literal_eval(args["n"])
    if isinstance(n, int) and not isinstance(n, bool) and n < 0:
        return f"{args['x']} ** {float(n)!r}"
    return f"{args['x']} ** {args['n']}"


POW_CONST = register(Rule.cheap("pow_const", ("x", "n"), _pow_const_forward, {"x": _pow_const_vjp},
                          (Example("x ** 3", cases.unary(-2.0, 2.0)),
                           Example("x ** 2", cases.unary(-2.0, 2.0)),
                           Example("x ** -1.5", cases.unary(0.5, 2.0)),
                           Example("x ** -2", cases.unary(0.5, 2.0)),
                           Example("x ** 0.5", cases.unary(0.5, 2.0)))))


def bind_pow(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[str, tuple[Value, ...]]:
    """``x ** <number literal>`` becomes pow_const: the exponent is not differentiated."""
    if len(args) != 2 or kwargs:
        raise BindError("takes exactly two positional arguments, the base and the exponent")
    x, y = args
    if isinstance(y, Const) and isinstance(y.value, (int, float)) and not isinstance(y.value, bool):
        return "pow_const", (x, y)
    return "pow", (x, y)


from .registry import CALLS  # noqa: E402

CALLS["op:pow"] = CALLS["numpy.power"] = CALLS["builtins.pow"] = bind_pow

# x * x of one value: a single contribution 2 g x, as a person writes it, instead of
# g x added to g x (the same number: doubling is exact). The forward still reads x * x.
MUL_SELF = register(Rule.cheap("mul_self", ("x",), "{x} * {x}", {"x": unbroadcast("2.0 * {g} * {x}", "{x}")},
                             (Example("x * x", cases.unary()),)))


def bind_mul(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[str, tuple[Value, ...]]:
    """``x * x`` of one SSA value is ``mul_self``; any other product is ``mul``."""
    if len(args) != 2 or kwargs:
        raise BindError("takes exactly two positional arguments")
    x, y = args
    return ("mul_self", (x,)) if isinstance(x, Var) and x == y else ("mul", (x, y))


CALLS["op:mul"] = bind_mul

register(Rule.cheap("neg", ("x",), "-{x}", {"x": "-{g}"}, (Example("-x", cases.unary()),
                                                          Example("np.negative(x)", cases.unary()[:1]))), "op:neg")
# Comparisons and `not` carry no derivative: their results are never active.
# Their examples check that a gradient flows through the arithmetic around them.
register(Rule.cheap("not", ("x",), "not {x}", examples=(Example("x * (not (x > 3.0))", cases.scalar()),)),
         "op:not")
for _name, _sym in (("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="), ("ne", "!=")):
    register(Rule.cheap(_name, ("x", "y"), "{x} %s {y}" % _sym,
                  examples=(Example(f"x * (x {_sym} y) + y", cases.binary()),)), f"op:{_name}")

# The ufunc spellings of the operators: the operators' rules.
for _ufunc, _op in (("add", "add"), ("subtract", "sub"), ("multiply", "mul"), ("divide", "truediv"),
                    ("true_divide", "truediv"), ("floor_divide", "floordiv"), ("mod", "mod"),
                    ("remainder", "mod"), ("negative", "neg")):
    CALLS[f"numpy.{_ufunc}"] = CALLS[f"op:{_op}"]
