"""Numba-calls stage: in the modules Numba compiles, the calls that Numba compiles slower or
wrong become calls of runtime helpers that do not (``.source`` keeps the NumPy calls).

- ``np.exp(a)`` of an array becomes ``numpy_exp(a)``: Numba compiles ``np.exp`` of an array
  as a loop that calls libm once per element, while NumPy's loop is SIMD code, 4-8 times
  faster (``runtime/helpers.py``: ``NUMPY_LOOPS``, the ufuncs and the sizes from which
  NumPy's loop wins). The MLP of benchmarks/mlp_ce spent half its gradient in ``np.tanh``.
  ``ADJOINT_NUMPY_LOOPS=0`` leaves these calls alone.
- ``np.linalg.norm(x)`` becomes ``norm_of(x)``: Numba 0.68's norm of a vector with a
  negative stride (``v[::-1]``) reads outside it (a wrong value).
- ``x.reshape(shape)`` becomes ``reshape_of(x, shape)``: Numba reshapes only contiguous
  arrays (``X.T.reshape(-1)`` raises), where NumPy copies.
- ``np.where(c, a, b)`` becomes ``select(c, a, b)`` (the helper np.where's adjoint calls): of
  three numbers, a number. NumPy's and Numba's np.where are a 0-d array, which NumPy adds to a
  number and Numba does not (``s_bar += select(t1, t_bar, 0.0)`` failed to compile).

Assumes the source of a generated module (or of its fused twin, ``codegen/fuse.py``) and
the known ranks of its names (``analysis/ranks.py``). Promises the same module with such
calls renamed and the helpers imported, every line where it was (so an error in compiled
code is still traced to the user's line), or None when nothing is renamed. Only statements
on one line change, each written anew from its AST. ``np.exp(a)`` is renamed when ``a`` is
arithmetic on names and numbers, some name not known to be a number, and not in a fused
loop (``np.exp(t7_e[k])``: numbers, which Numba compiles well); ``numpy_exp`` of a number
is ``np.exp`` of it.
"""
from __future__ import annotations

import ast
import os
from typing import Mapping

from ..runtime.helpers import NUMPY_LOOPS

ARITHMETIC = (ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Load, ast.operator, ast.unaryop)
_COMPOUND = (ast.For, ast.While, ast.If, ast.FunctionDef, ast.With, ast.Try)


def _maybe_array(arg: ast.expr, ranks: Mapping[str, int]) -> bool:
    nodes = list(ast.walk(arg))
    return all(isinstance(n, ARITHMETIC) for n in nodes) and \
        any(isinstance(n, ast.Name) and ranks.get(n.id) != 0 for n in nodes)


def _np_call(node: ast.Call, *path: str, args: int = 1) -> bool:
    """``node`` calls ``np.<path>`` with ``args`` arguments and no keywords."""
    func: ast.expr = node.func
    for attr in reversed(path):
        if not (isinstance(func, ast.Attribute) and func.attr == attr):
            return False
        func = func.value
    return isinstance(func, ast.Name) and func.id == "np" and len(node.args) == args and not node.keywords


class _Rename(ast.NodeTransformer):
    def __init__(self, ranks: Mapping[str, int], loops: bool) -> None:
        self.ranks, self.loops = ranks, loops
        self.names: set[str] = set()
        self.renamed = 0

    def _helper_for(self, node: ast.Call) -> str | None:
        """The helper a call is renamed to, or None."""
        if self.loops and isinstance(node.func, ast.Attribute) and node.func.attr in NUMPY_LOOPS \
                and _np_call(node, node.func.attr) and _maybe_array(node.args[0], self.ranks):
            return f"numpy_{node.func.attr}"
        if _np_call(node, "linalg", "norm"):
            return "norm_of"
        if isinstance(node.func, ast.Attribute) and node.func.attr == "reshape" \
                and len(node.args) == 1 and not node.keywords:
            return "reshape_of"
        if _np_call(node, "where", args=3):
            return "select"
        return None

    def visit_Call(self, node: ast.Call) -> ast.expr:
        name = self._helper_for(node)  # of the call as written: its arguments' calls are renamed next
        self.generic_visit(node)
        if name is None:
            return node
        self.names.add(name)
        self.renamed += 1
        args = [node.func.value, *node.args] if name == "reshape_of" else node.args
        return ast.Call(ast.Name(name, ast.Load()), args, [])


def _fused_loop(node: ast.AST, lengths: set[str]) -> bool:
    """``for k in range(n)`` with n = loop_length(a): a fused loop (codegen/fuse.py)."""
    return isinstance(node, ast.For) and isinstance(node.iter, ast.Call) and len(node.iter.args) == 1 \
        and isinstance(node.iter.args[0], ast.Name) and node.iter.args[0].id in lengths


def _statements(tree: ast.Module) -> list[ast.stmt]:
    """The simple statements on one line of ``tree``, outside fused loops."""
    lengths = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
               and isinstance(n.value.func, ast.Name) and n.value.func.id == "loop_length"
               for t in n.targets if isinstance(t, ast.Name)}
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, _COMPOUND):
            if not _fused_loop(node, lengths):
                todo += [s for field in ("body", "orelse", "finalbody") for s in getattr(node, field, [])]
                todo += [s for h in getattr(node, "handlers", []) for s in h.body]
        elif node.lineno == node.end_lineno:
            found.append(node)
    return found


def numba_calls(source: str, ranks: Mapping[str, int]) -> str | None:
    """``source`` with the calls above renamed, or None when none is."""
    tree = ast.parse(source)
    lines = source.split("\n")
    rename = _Rename(ranks, os.environ.get("ADJOINT_NUMPY_LOOPS") != "0")
    for stmt in _statements(tree):
        before = rename.renamed
        new = rename.visit(stmt)  # in place: the tree is only read for its lines
        if rename.renamed != before:
            row = stmt.lineno - 1
            indent = lines[row][:len(lines[row]) - len(lines[row].lstrip())]
            lines[row] = indent + ast.unparse(ast.fix_missing_locations(new))
    if not rename.names:
        return None
    # the import joins numpy's line: every line stays where it was
    numpy = lines.index("import numpy as np")
    lines[numpy] += f"; from adjoint.runtime.helpers import {', '.join(sorted(rename.names))}"
    return "\n".join(lines)
