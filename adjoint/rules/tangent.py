"""The rules of tangent regions (``transform/tangent.py``), never a user's spelling.

``tangent_link(value, (d1, ..., dn), (x1, ..., xn))`` is ``value``, a number the region
computed without cotangents, whose derivative with respect to each input ``xi`` its
tangents found: ``di``. Its adjoint is that row of the Jacobian: ``xi_bar += g * di``.
The forward code reads ``value`` alone (``s_2 = s_1``).
"""
from __future__ import annotations

from .registry import Rule, VjpContext, register


def _link_vjp(ctx: VjpContext) -> list[str]:
    return [ctx.g if d == "1.0" else f"{ctx.g} * {d}" for d in ctx.items["derivatives"]]


LINK = register(Rule("tangent_link", ("value", "derivatives", "inputs"), "{value}",
                     {"inputs": _link_vjp}, recompute=True, rank="like", internal=True))

# ``dz_1_db = t22``: a tangent that another statement computed (a temporary's), under the
# name of the value it is the derivative of; codegen folds the temporary into it.
NAMED = register(Rule("tangent_named", ("x",), "{x}", {"x": "{g}"}, recompute=True, rank="like",
                      internal=True))
