"""Rules for elementwise functions: NumPy ufuncs, their ``math`` twins, where and clip.

The unary table below is the one place a derivative of an elementwise function
is written; each entry registers ``np.<name>`` and, where it exists,
``math.<name>`` (scalars only) from the same formula.
"""
from __future__ import annotations

from . import cases
import numpy as np

from .registry import Arg, Example, Rule, register, unbroadcast

# name: (math spelling or None, cotangent of x, test domain (low, high))
UNARY: dict[str, tuple[str | None, str, tuple[float, float]]] = {
    "sin": ("sin", "{g} * np.cos({x})", (-3.0, 3.0)),
    "cos": ("cos", "-{g} * np.sin({x})", (-3.0, 3.0)),
    "tan": ("tan", "{g} * (1.0 + {out} * {out})", (-1.2, 1.2)),
    "arcsin": ("asin", "{g} / np.sqrt(1.0 - {x} * {x})", (-0.9, 0.9)),
    "arccos": ("acos", "-{g} / np.sqrt(1.0 - {x} * {x})", (-0.9, 0.9)),
    "arctan": ("atan", "{g} / (1.0 + {x} * {x})", (-3.0, 3.0)),
    "sinh": ("sinh", "{g} * np.cosh({x})", (-2.0, 2.0)),
    "cosh": ("cosh", "{g} * np.sinh({x})", (-2.0, 2.0)),
    "tanh": ("tanh", "{g} * (1.0 - {out} * {out})", (-2.0, 2.0)),
    "arcsinh": ("asinh", "{g} / np.sqrt({x} * {x} + 1.0)", (-2.0, 2.0)),
    "arccosh": ("acosh", "{g} / np.sqrt({x} * {x} - 1.0)", (1.2, 3.0)),
    "arctanh": ("atanh", "{g} / (1.0 - {x} * {x})", (-0.9, 0.9)),
    "exp": ("exp", "{g} * {out}", (-2.0, 2.0)),
    "exp2": ("exp2", "{g} * {out} * np.log(2.0)", (-2.0, 2.0)),
    "expm1": ("expm1", "{g} * ({out} + 1.0)", (-2.0, 2.0)),
    "log": ("log", "{g} / {x}", (0.2, 3.0)),
    "log1p": ("log1p", "{g} / (1.0 + {x})", (-0.5, 3.0)),
    "log2": ("log2", "{g} / ({x} * np.log(2.0))", (0.2, 3.0)),
    "log10": ("log10", "{g} / ({x} * np.log(10.0))", (0.2, 3.0)),
    # sqrt'(0) = inf, as in JAX.
    "sqrt": ("sqrt", "{g} / (2.0 * {out})", (0.2, 3.0)),
    "cbrt": ("cbrt", "{g} / (3.0 * {out} * {out})", (0.2, 3.0)),
    "square": (None, "2.0 * {g} * {x}", (-2.0, 2.0)),
    "reciprocal": (None, "-{g} * {out} * {out}", (0.5, 2.0)),
    # abs'(0) = 1, as JAX's grad(abs)(0.0).
    "abs": ("fabs", "{g} * sign_nonneg({x})", (-2.0, 2.0)),
    "deg2rad": ("radians", "{g} * (np.pi / 180.0)", (-2.0, 2.0)),
    "rad2deg": ("degrees", "{g} * (180.0 / np.pi)", (-2.0, 2.0)),
}

# Piecewise-constant functions: zero derivative, so their results are never active.
ZERO = {"floor": "floor", "ceil": "ceil", "trunc": "trunc", "sign": None, "rint": None}

# math functions Numba cannot compile, computed by their NumPy twin instead.
_MATH_FORWARD = {"cbrt": "np.cbrt({x})"}

# Computed by a call into libm for each element: a loop's reverse tapes an array of them
# rather than compute it again (Numba calls libm once per element: no SIMD).
LIBM = {"sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
        "arctanh", "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "cbrt"}

# the function each unary primitive computes, by its NumPy name: np.cos and math.cos are
# one function, so the adjoint reuses a forward value of either (transform/control.py)
FUNCTION_OF: dict[str, str] = {**{name: name for name in UNARY},
                               **{f"math.{m}": name for name, (m, _, _) in UNARY.items() if m is not None}}

for _name, (_math, _vjp, (_lo, _hi)) in UNARY.items():
    register(Rule(_name, ("x",), f"np.{_name}({{x}})", {"x": _vjp},
                  (Example(f"np.{_name}(x)", cases.unary(_lo, _hi)),),
                  recompute="numbers" if _name in LIBM else True, rank="broadcast"), f"numpy.{_name}")
    if _math is not None:
        register(Rule.cheap(f"math.{_math}", ("x",), _MATH_FORWARD.get(_math, f"math.{_math}({{x}})"), {"x": _vjp},
                      (Example(f"math.{_math}(x)", cases.scalar(_lo, _hi)),)), f"math.{_math}")

for _name, _math in ZERO.items():
    register(Rule.cheap(_name, ("x",), f"np.{_name}({{x}})",
                  examples=(Example(f"x * np.{_name}(x)", cases.unary(0.1, 2.9)),)), f"numpy.{_name}")
    if _math is not None:
        register(Rule.cheap(f"math.{_math}", ("x",), f"math.{_math}({{x}})",
                      examples=(Example(f"x * math.{_math}(x)", cases.scalar(0.1, 2.9)),)),
                 f"math.{_math}")

CALLS_ALIASES = {"numpy.absolute": "abs", "numpy.radians": "deg2rad", "numpy.degrees": "rad2deg"}

register(Rule.cheap("builtin_abs", ("x",), "np.abs({x})", {"x": "{g} * sign_nonneg({x})"},
              (Example("abs(x)", cases.unary()),)), "builtins.abs")
register(Rule.cheap("math.erf", ("x",), "math.erf({x})",
              {"x": "{g} * (2.0 / math.sqrt(math.pi)) * math.exp(-{x} * {x})"},
              (Example("math.erf(x)", cases.scalar()),)), "math.erf")
register(Rule.cheap("math.erfc", ("x",), "math.erfc({x})",
              {"x": "-{g} * (2.0 / math.sqrt(math.pi)) * math.exp(-{x} * {x})"},
              (Example("math.erfc(x)", cases.scalar()),)), "math.erfc")
register(Rule.cheap("math.log_base", ("x", "base"), "math.log({x}) / math.log({base})",
              {"x": "{g} / ({x} * math.log({base}))",
               "base": "-{g} * {out} / ({base} * math.log({base}))"},
              (Example("math.log(x, y)", cases.scalar(0.5, 3.0, "x y")),)))
# As x ** y (arithmetic.py): d/dx is 0 where y == 0 and d/dy is 0 where x == 0 (math.pow(0.0,
# -1.0) and math.log(0.0) raise ValueError in Python). d/dy of a negative x (math.pow(-2.0,
# 3.0)) is nan, as in JAX and in compiled code: np.log, not math.log, which raises there.
register(Rule.cheap("math.pow", ("x", "y"), "math.pow({x}, {y})",
              {"x": "{g} * {y} * math.pow({x}, {y} - ({y} != 0))", "y": "{g} * {out} * np.log({x} + ({x} == 0))"},
              (Example("math.pow(x, y)", cases.scalar(0.5, 2.0, "x y")),
               Example("math.pow(x * 0.0, y) + math.pow(x * 0.0, y * 0.0)",
                       ({"x": cases.Arg((), 0.5, 2.0), "y": cases.Arg((), 1.1, 2.0)},)))), "math.pow")
# copysign(x, y) = |x| with y's sign bit: d/dx is sign_nonneg(x) (abs'(0) = 1) times y's sign,
# read from its sign bit (math.copysign(1.0, y)), so that y = -0.0 counts as negative.
register(Rule.cheap("math.copysign", ("x", "y"), "math.copysign({x}, {y})",
              {"x": "{g} * sign_nonneg({x}) * math.copysign(1.0, {y})"},
              (Example("math.copysign(x, y)", cases.scalar(-2.0, 2.0, "x y")),
               # y = -0.0 (and 0.0): the sign of a zero
               Example("math.copysign(x, -(y * 0.0)) + math.copysign(x, y * 0.0)",
                       ({"x": cases.Arg((), -2.0, 2.0), "y": cases.Arg((), 0.5, 2.0)},)))), "math.copysign")
register(Rule.cheap("math.fmod", ("x", "y"), "np.fmod({x}, {y})",
              {"x": "{g}", "y": "-{g} * math.trunc({x} / {y})"},
              (Example("math.fmod(x, y)", ({"x": cases.Arg((), 0.1, 0.9), "y": cases.Arg((), 1.1, 2.0)},)),)),
         "math.fmod")

# Two-argument elementwise functions with broadcasting.
_ATAN2 = {"x": unbroadcast("{g} * {y} / ({x} * {x} + {y} * {y})", "{x}"),
          "y": unbroadcast("-{g} * {x} / ({x} * {x} + {y} * {y})", "{y}")}
register(Rule.cheap("arctan2", ("x", "y"), "np.arctan2({x}, {y})", _ATAN2,
              (Example("np.arctan2(x, y)", cases.binary(0.5, 2.0)),)), "numpy.arctan2")
register(Rule.cheap("math.atan2", ("x", "y"), "math.atan2({x}, {y})", _ATAN2,
              (Example("math.atan2(x, y)", cases.scalar(0.5, 2.0, "x y")),)), "math.atan2")
_HYPOT = {"x": unbroadcast("{g} * {x} / {out}", "{x}"), "y": unbroadcast("{g} * {y} / {out}", "{y}")}
register(Rule.cheap("hypot", ("x", "y"), "np.hypot({x}, {y})", _HYPOT,
              (Example("np.hypot(x, y)", cases.binary(0.5, 2.0)),)), "numpy.hypot")
register(Rule.cheap("math.hypot", ("x", "y"), "math.hypot({x}, {y})", _HYPOT,
              (Example("math.hypot(x, y)", cases.scalar(0.5, 2.0, "x y")),)), "math.hypot")

# log(exp(x) + exp(y)), computed without overflow: each side gets g times its softmax weight.
register(Rule.cheap("logaddexp", ("x", "y"), "np.logaddexp({x}, {y})",
                    {"x": unbroadcast("{g} * np.exp({x} - {out})", "{x}"),
                     "y": unbroadcast("{g} * np.exp({y} - {out})", "{y}")},
                    (Example("np.logaddexp(x, y)", cases.binary()),)), "numpy.logaddexp")

# The logistic sigmoid as users write it, 1.0 / (1.0 + np.exp(-x)): no callee spells it;
# transform/idioms.py makes the four primitives of that expression this one rule, whose
# adjoint needs no division and is 0, not nan, where exp(-x) overflows. An array of it
# costs a libm call per element, so a loop tapes it, as it tapes np.exp.
_LOGISTIC = {"x": "{g} * {out} * (1.0 - {out})"}
register(Rule("logistic", ("x",), "1.0 / (1.0 + np.exp(-{x}))", _LOGISTIC,
              (Example("1.0 / (1.0 + np.exp(-x))", cases.unary(-4.0, 4.0)),
               Example("1 / (np.exp(-x) + 1)", cases.unary(-4.0, 4.0)),
               Example("1.0 / (1.0 + np.exp(-(x * y)))", cases.binary())),
              recompute="numbers", rank="broadcast"))
register(Rule.cheap("math.logistic", ("x",), "1.0 / (1.0 + math.exp(-{x}))", _LOGISTIC,
                    (Example("1.0 / (1.0 + math.exp(-x))", cases.scalar(-4.0, 4.0)),)))

# maximum/minimum: at a tie each side gets half the cotangent, as in JAX.
_MAX = {"x": unbroadcast("{g} * maximum_grad_weight({x}, {y})", "{x}"),
        "y": unbroadcast("{g} * maximum_grad_weight({y}, {x})", "{y}")}
_MIN = {"x": unbroadcast("{g} * minimum_grad_weight({x}, {y})", "{x}"),
        "y": unbroadcast("{g} * minimum_grad_weight({y}, {x})", "{y}")}
register(Rule.cheap("maximum", ("x", "y"), "np.maximum({x}, {y})", _MAX,
              (Example("np.maximum(x, y)", cases.binary()),
               Example("np.maximum(x, k)", cases.arrays({"x": (2, 3), "k": Arg(const=np.array([0, 1, -1]), is_const=True)},
                                                        {"x": (3,), "k": Arg(const=1, is_const=True)})))), "numpy.maximum")
register(Rule.cheap("minimum", ("x", "y"), "np.minimum({x}, {y})", _MIN,
              (Example("np.minimum(x, y)", cases.binary()),)), "numpy.minimum")
register(Rule.cheap("builtin_max2", ("x", "y"), "max({x}, {y})", _MAX,
              (Example("max(x, y)", cases.scalar(-2.0, 2.0, "x y")),)))
register(Rule.cheap("builtin_min2", ("x", "y"), "min({x}, {y})", _MIN,
              (Example("min(x, y)", cases.scalar(-2.0, 2.0, "x y")),)))

# where(c, x, y): the cotangent goes to the side that was selected.
register(Rule.cheap("where", ("c", "x", "y"), "np.where({c}, {x}, {y})",
              {"x": unbroadcast("select({c}, {g}, 0.0)", "{x}"), "y": unbroadcast("select({c}, 0.0, {g})", "{y}")},
              (Example("np.where(x > 0.5, x * y, y)", cases.binary()),
               Example("np.where(x > 0.5, x, k) + np.where(x < 0.0, 1, x)",
                       cases.arrays({"x": (2, 3), "k": Arg(const=np.arange(3), is_const=True)})))), "numpy.where")
# clip(x, lo, hi) = minimum(maximum(x, lo), hi), differentiated as that composition (JAX's convention).
register(Rule.cheap("clip", ("x", "lo", "hi"), "clip({x}, {lo}, {hi})",
              {"x": unbroadcast("{g} * minimum_grad_weight(np.maximum({x}, {lo}), {hi})"
                                " * maximum_grad_weight({x}, {lo})", "{x}"),
               "lo": unbroadcast("{g} * minimum_grad_weight(np.maximum({x}, {lo}), {hi})"
                                 " * maximum_grad_weight({lo}, {x})", "{lo}"),
               "hi": unbroadcast("{g} * minimum_grad_weight({hi}, np.maximum({x}, {lo}))", "{hi}")},
              (Example("np.clip(x, -0.5, 0.7)", cases.unary()), Example("np.clip(x, -1, 1)", cases.unary()),
               Example("np.clip(x, y, 1.5)", cases.binary(-2.0, 2.0, -1.0, 1.0)))), "numpy.clip")


from ..ir.nodes import Const  # noqa: E402
from .registry import CALLS, BindError, bind_params  # noqa: E402


def _bind_clip(args, kwargs):
    """np.clip(x, None, hi) is np.minimum(x, hi), np.clip(x, lo, None) np.maximum(x, lo) (the
    clip rule's code cannot compare with None)."""
    x, lo, hi = bind_params(("x", "lo", "hi"), args, kwargs, {})
    no_lo, no_hi = (isinstance(v, Const) and v.value is None for v in (lo, hi))
    if no_lo and no_hi:
        raise BindError("needs a lower or an upper bound (both are None)")
    return ("minimum", (x, hi)) if no_lo else ("maximum", (x, lo)) if no_hi else ("clip", (x, lo, hi))


CALLS["numpy.clip"] = _bind_clip

for _alias, _target in CALLS_ALIASES.items():
    CALLS[_alias] = CALLS[f"numpy.{_target}"]


def _bind_builtin(name: str):
    def bind(args, kwargs):
        if len(args) != 2 or kwargs:
            raise BindError(f"is supported with exactly two scalar arguments; "
                            f"use np.{name}(x) to reduce an array")
        return f"builtin_{name}2", tuple(args)
    return bind


def _bind_math_log(args, kwargs):
    if kwargs:
        raise BindError("takes no keyword arguments")
    if len(args) == 1:
        return "math.log", tuple(args)
    if len(args) == 2:
        return "math.log_base", tuple(args)
    raise BindError("takes one or two arguments")


CALLS["math.log"] = _bind_math_log
CALLS["builtins.max"] = _bind_builtin("max")
CALLS["builtins.min"] = _bind_builtin("min")
