"""Rules for the runtime helpers that generated adjoints call, so that a generated
gradient is itself in the subset and can be differentiated again (``adjoint.hessian``).

Each helper is linear in its cotangent-like argument, so each rule's derivative is
another helper: ``unbroadcast`` sums down, so its adjoint broadcasts back up;
``fill_like`` broadcasts a scalar, so its adjoint sums; ``matmul_grad_a(g, a, b) = g @ bᵀ``
is bilinear in (g, b). Arguments that only give a shape (``like``) get no cotangent.
Written with ``grad`` for the parameter that the other rules call ``g``, since ``{g}``
in a template is the output's cotangent. The spellings are ``helpers.<name>``: the
helpers of ``adjoint.runtime.helpers``, which generated code imports by name.
"""
from __future__ import annotations

from . import cases
from .registry import CALLS, Arg, Example, Rule, positional_binder, register, unbroadcast

_LIKE = cases.arrays({"x": (2, 3), "y": (3,)}, {"x": (2, 3), "y": (2, 1)}, {"x": (3,), "y": ()},
                     {"x": (2, 3), "y": (2, 3)})

register(Rule("helper.unbroadcast", ("grad", "like"), "unbroadcast({grad}, {like})",
              {"grad": "broadcast_like({g}, {grad})"},
              (Example("unbroadcast(x, y)", _LIKE),), recompute=True), "helpers.unbroadcast")
register(Rule("helper.broadcast_like", ("grad", "like"), "broadcast_like({grad}, {like})",
              {"grad": "unbroadcast({g}, {grad})"},
              (Example("broadcast_like(y, x)", _LIKE),), recompute=True), "helpers.broadcast_like")
register(Rule("helper.fill_like", ("grad", "like"), "fill_like({grad}, {like})",
              {"grad": "unbroadcast({g}, {grad})"},
              (Example("fill_like(y, x)", cases.arrays({"x": (2, 3), "y": ()}, {"x": (), "y": ()})),),
              recompute=True), "helpers.fill_like")
register(Rule("helper.expand_axis", ("grad", "like", "axis"), "expand_axis({grad}, {like}, {axis})",
              {"grad": "reduce_sum({g}, {axis})"},
              (Example("expand_axis(y, x, 1)", cases.arrays({"x": (2, 3), "y": (2,)})),
               Example("expand_axis(y, x, 0)", cases.arrays({"x": (3,), "y": ()})))), "helpers.expand_axis")
# expand_axis without the copy: g with a length-1 axis, which its reader broadcasts.
register(Rule("helper.expand_view", ("grad", "like", "axis"), "expand_view({grad}, {like}, {axis})",
              {"grad": "reshape_like({g}, {grad})"},
              (Example("expand_view(y, x, 1) * x", cases.arrays({"x": (2, 3), "y": (2,)})),
               Example("x - expand_view(y, x, 0)", cases.arrays({"x": (3, 2), "y": (2,)}, {"x": (3,), "y": ()})))),
         "helpers.expand_view")
register(Rule("helper.reshape_like", ("grad", "like"), "reshape_like({grad}, {like})",
              {"grad": "reshape_like({g}, {grad})"},
              (Example("reshape_like(y, x)", cases.arrays({"x": (2, 3), "y": (6,)}, {"x": (), "y": (1,)})),),
              recompute=True), "helpers.reshape_like")
register(Rule("helper.copy_of", ("x",), "copy_of({x})", {"x": "{g}"},
              (Example("copy_of(x)", cases.unary()),), recompute=True, rank="broadcast"), "helpers.copy_of")
# A fresh array of zeros (element writes may update it); no derivative.
register(Rule("helper.zero_like", ("like",), "zero_like({like})",
              examples=(Example("x * zero_like(x)", cases.unary()),), rank="like"), "helpers.zero_like")
# select(c, a, b) = np.where(c, a, b) (where's adjoint): linear in a and b, as where is.
register(Rule.cheap("helper.select", ("c", "a", "b"), "select({c}, {a}, {b})",
                    {"a": unbroadcast("select({c}, {g}, 0.0)", "{a}"),
                     "b": unbroadcast("select({c}, 0.0, {g})", "{b}")},
                    (Example("select(x > 0.5, x * y, y)", cases.binary()),)), "helpers.select")
# Piecewise constant: zero derivative.
for _name in ("sign_nonneg", "maximum_grad_weight", "minimum_grad_weight"):
    _params = ("x",) if _name == "sign_nonneg" else ("x", "y")
    _call = f"{_name}({', '.join(_params)})"
    register(Rule(f"helper.{_name}", _params, f"{_name}({', '.join('{%s}' % p for p in _params)})",
                  examples=(Example(f"x * {_call}", cases.unary() if _name == "sign_nonneg" else cases.binary()),),
                  recompute=True, rank="broadcast"), f"helpers.{_name}")

_MATMUL = cases.arrays({"g": (2, 4), "a": (2, 3), "b": (3, 4)}, {"g": (2,), "a": (2, 3), "b": (3,)},
                       {"g": (4,), "a": (3,), "b": (3, 4)}, {"g": (), "a": (3,), "b": (3,)})
# matmul_grad_a(g, a, b) = g @ bᵀ in a's shape (a only gives the shape): bilinear in (g, b).
register(Rule("helper.matmul_grad_a", ("grad", "a", "b"), "matmul_grad_a({grad}, {a}, {b})",
              {"grad": "dot_promoted({g}, {b})", "b": "matmul_grad_b({grad}, {g}, {b})"},
              (Example("matmul_grad_a(g, a, b)", _MATMUL),)), "helpers.matmul_grad_a")
# matmul_grad_b(g, a, b) = aᵀ @ g in b's shape: bilinear in (g, a).
register(Rule("helper.matmul_grad_b", ("grad", "a", "b"), "matmul_grad_b({grad}, {a}, {b})",
              {"grad": "dot_promoted({a}, {g})", "a": "matmul_grad_a({grad}, {a}, {g})"},
              (Example("matmul_grad_b(g, a, b)", _MATMUL),)), "helpers.matmul_grad_b")

_OUTER = cases.arrays({"g": (3, 2), "a": (3,), "b": (2,)})
# outer_grad_a(g, a, b) = g @ b and outer_grad_b(g, a, b) = a @ g: bilinear.
register(Rule("helper.outer_grad_a", ("grad", "a", "b"), "outer_grad_a({grad}, {a}, {b})",
              {"grad": "matmul_grad_a({g}, {grad}, {b})", "b": "outer_grad_b({grad}, {g}, {b})"},
              (Example("outer_grad_a(g, a, b)", _OUTER),)), "helpers.outer_grad_a")
register(Rule("helper.outer_grad_b", ("grad", "a", "b"), "outer_grad_b({grad}, {a}, {b})",
              {"grad": "matmul_grad_b({g}, {a}, {grad})", "a": "outer_grad_a({grad}, {a}, {g})"},
              (Example("outer_grad_b(g, a, b)", _OUTER),)), "helpers.outer_grad_b")

# The cotangent of max/min: linear in g, with weights (1/count where x is the extremum)
# that are piecewise constant in x: no derivative for x and the extremum.
register(Rule("helper.extremum_grad", ("x", "extremum", "grad"), "extremum_grad({x}, {extremum}, {grad})",
              {"grad": "np.sum({g} * extremum_grad({x}, {extremum}, 1.0))"},
              (Example("extremum_grad(x, np.max(x), y)", cases.arrays({"x": (4,), "y": ()}, {"x": (2, 3), "y": ()})),)),
         "helpers.extremum_grad")
register(Rule("helper.extremum_axis_grad", ("x", "extremum", "grad", "axis"),
              "extremum_axis_grad({x}, {extremum}, {grad}, {axis})",
              {"grad": "reduce_sum({g} * extremum_axis_grad({x}, {extremum}, fill_like(1.0, {grad}), {axis}), {axis})"},
              (Example("extremum_axis_grad(x, np.max(x, axis=1), y, 1)", cases.arrays({"x": (2, 3), "y": (2,)})),
               Example("extremum_axis_grad(x, np.min(x, axis=0), y, 0)", cases.arrays({"x": (3,), "y": ()})))),
         "helpers.extremum_axis_grad")

# Helpers that are the forward of a rule of the table already: the same rule.
for _helper, _rule in (("reduce_sum", "sum_axis"), ("reduce_mean", "mean_axis"), ("reduce_max", "max_axis"),
                       ("reduce_min", "min_axis"), ("reduce_prod", "prod_axis"), ("clip", "clip"),
                       ("power", "pow")):
    from .registry import RULES
    CALLS[f"helpers.{_helper}"] = positional_binder(RULES[_rule])

del Arg
