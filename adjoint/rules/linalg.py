"""Rules for products: ``@``, ``np.dot``, ``np.matmul``, ``np.outer``, ``np.inner``-free.

``matmul_grad_a/b`` choose the formula from the operands' ranks (vector and
matrix in each position) when the generated code is compiled.
"""
from __future__ import annotations

from . import cases
from .registry import Example, Rule, register

_MATMUL_CASES = cases.arrays({"x": (3,), "y": (3,)}, {"x": (2, 3), "y": (3,)},
                             {"x": (3,), "y": (3, 2)}, {"x": (2, 3), "y": (3, 4)})
_VJP = {"x": "matmul_grad_a({g}, {x}, {y})", "y": "matmul_grad_b({g}, {x}, {y})"}

register(Rule("matmul", ("x", "y"), "{x} @ {y}", _VJP, (Example("x @ y", _MATMUL_CASES),), rank="product"),
         "op:matmul", "numpy.matmul")
register(Rule("dot", ("x", "y"), "np.dot({x}, {y})", _VJP,
              (Example("np.dot(x, y)", _MATMUL_CASES), Example("x.dot(y)", _MATMUL_CASES)), rank="product"),
         "numpy.dot", "method:dot")
register(Rule("outer", ("x", "y"), "np.outer({x}, {y})",
              {"x": "outer_grad_a({g}, {x}, {y})", "y": "outer_grad_b({g}, {x}, {y})"},
              (Example("np.outer(x, y)", cases.arrays({"x": (3,), "y": (2,)})),), rank="matrix"), "numpy.outer")
