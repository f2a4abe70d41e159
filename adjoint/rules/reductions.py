"""Rules for reductions: sum, mean, prod, max, min, over everything or one ``axis``.

Numba 0.68 cannot type ``np.max/min/mean/prod`` with ``axis=``, and takes over
a second to compile ``np.sum`` with one, so those forwards call runtime helpers
(``reduce_sum``, ``reduce_max`` ...) whose loops are compiled once and cached.
Ties in max/min share the cotangent equally, as in JAX.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from ..ir.nodes import Const, Tup, Value
from . import cases
from .registry import CALLS, Arg, BindError, Example, Rule, bind_params, const, register

_ALL = cases.arrays({"x": ()}, {"x": (3,)}, {"x": (2, 3)}, {"x": (2, 3, 2)})
_AXIS0 = cases.arrays({"x": (3,)}, {"x": (2, 3)}, {"x": (2, 3, 2)}, {"x": (1, 3)})
_AXIS1 = cases.arrays({"x": (2, 3)}, {"x": (2, 3, 2)})
# A run-time int axis, positional: negative, a middle axis, an axis of length 1.
_AXIS_K = cases.arrays({"x": (2, 3, 2), "k": const(-2)}, {"x": (3, 1), "k": const(1)})

# name: (forward without axis, forward with axis, vjp without axis, vjp with axis)
REDUCTIONS = {
    "sum": ("np.sum({x})", "reduce_sum({x}, {axis})",
            "fill_like({g}, {x})", "expand_axis({g}, {x}, {axis})"),
    "mean": ("np.mean({x})", "reduce_mean({x}, {axis})",
             "fill_like({g} / np.size({x}), {x})", "expand_axis({g} / {x}.shape[{axis}], {x}, {axis})"),
    "prod": ("np.prod({x})", "reduce_prod({x}, {axis})",
             "prod_grad({x}, {g})", "prod_axis_grad({x}, {g}, {axis})"),
    "max": ("np.max({x})", "reduce_max({x}, {axis})",
            "extremum_grad({x}, {out}, {g})", "extremum_axis_grad({x}, {out}, {g}, {axis})"),
    "min": ("np.min({x})", "reduce_min({x}, {axis})",
            "extremum_grad({x}, {out}, {g})", "extremum_axis_grad({x}, {out}, {g}, {axis})"),
}

_DOMAIN = {"prod": (0.5, 1.5)}


def _bind_reduction(name: str):
    def bind(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[str, tuple[Value, ...]]:
        x, axis = bind_params(("x", "axis"), args, kwargs, {"axis": None})
        if isinstance(axis, Const) and axis.value is None:
            return name, (x,)
        if isinstance(axis, Tup) or isinstance(axis, Const) and not isinstance(axis.value, int):
            raise BindError("takes axis=None or a single int axis (tuples of axes are not supported)")
        return f"{name}_axis", (x, axis)
    return bind


for _name, (_fwd, _fwd_axis, _vjp, _vjp_axis) in REDUCTIONS.items():
    _lo, _hi = _DOMAIN.get(_name, (-2.0, 2.0))
    _ranged = lambda cs: tuple({k: v if v.is_const else Arg(v.shape, _lo, _hi)  # noqa: E731
                                for k, v in c.items()} for c in cs)
    register(Rule(_name, ("x",), _fwd, {"x": _vjp},
                  (Example(f"np.{_name}(x)", _ranged(_ALL)), Example(f"x.{_name}()", _ranged(_ALL[2:]))),
                  rank="scalar"))
    register(Rule(f"{_name}_axis", ("x", "axis"), _fwd_axis, {"x": _vjp_axis},
                  (Example(f"np.{_name}(x, axis=0)", _ranged(_AXIS0)),
                   Example(f"x.{_name}(axis=1)", _ranged(_AXIS1)),
                   Example(f"np.{_name}(x, axis=-1)", _ranged(_AXIS1)),
                   Example(f"np.{_name}(x, k)", _ranged(_AXIS_K))), rank="reduced"))
    CALLS[f"numpy.{_name}"] = CALLS[f"method:{_name}"] = _bind_reduction(_name)

CALLS["numpy.amax"] = CALLS["numpy.max"]
CALLS["numpy.amin"] = CALLS["numpy.min"]

# Spread and size of the whole array (no axis, no ddof/ord: refused by the binder).
_WHOLE = cases.arrays({"x": (3,)}, {"x": (2, 3)}, {"x": (2, 3, 2)})
_VECTOR_OR_MATRIX = cases.arrays({"x": (3,)}, {"x": (2, 3)})
# var: the mean of the squared deviations, so 2 g (x - mean) / n. std = sqrt(var): g (x -
# mean) / (n std), and 0 where every element is the same (std = 0: 0 / 0 otherwise; 0 is a
# subgradient, where JAX gives nan).
register(Rule("var", ("x",), "np.var({x})", {"x": "2.0 * {g} * ({x} - np.mean({x})) / np.size({x})"},
              (Example("np.var(x)", _WHOLE), Example("x.var()", _WHOLE[1:2])), rank="scalar"),
         "numpy.var", "method:var")
register(Rule("std", ("x",), "np.std({x})",
              {"x": "{g} * ({x} - np.mean({x})) / (np.size({x}) * ({out} + ({out} == 0)))"},
              (Example("np.std(x)", _WHOLE), Example("x.std()", _WHOLE[1:2])), rank="scalar"),
         "numpy.std", "method:std")
# The 2-norm of a vector, the Frobenius norm of a matrix: g x / norm, and 0 at x = 0 (a
# subgradient; JAX gives nan there).
register(Rule("norm", ("x",), "np.linalg.norm({x})", {"x": "{g} * {x} / ({out} + ({out} == 0))"},
              (Example("np.linalg.norm(x)", _VECTOR_OR_MATRIX),), rank="scalar"),
         "numpy.linalg.norm")
# Running sums of the flattened array: each input element reaches every later output, so
# its cotangent is the sum of g from its position on, the running sum of g reversed.
register(Rule("cumsum", ("x",), "np.cumsum({x})", {"x": "reshape_like(np.cumsum({g}[::-1])[::-1], {x})"},
              (Example("np.cumsum(x)", _WHOLE), Example("x.cumsum()", _WHOLE[1:2]))),
         "numpy.cumsum", "method:cumsum")
