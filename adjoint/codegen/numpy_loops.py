"""NumPy-loops stage: in the module Numba compiles, ``np.exp(a)`` of an array ``a`` becomes
``numpy_exp(a)``, which runs NumPy's own loop over a large float array (``.source`` keeps
``np.exp``).

Numba compiles ``np.exp`` of an array as a loop that calls libm once per element; NumPy's
loop for it is SIMD code, 4-8 times faster (``runtime/helpers.py``: ``NUMPY_LOOPS``, the
ufuncs and the sizes from which NumPy's loop wins). The 2-layer MLP of benchmarks/mlp_ce
spends half its gradient in ``np.tanh`` of a 256 x 128 array.

Assumes the source of a generated module (or of its fused twin, ``codegen/fuse.py``) and
the known ranks of its names (``analysis/ranks.py``). Promises the same module with such
calls renamed and the helpers imported, every line where it was (so an error in compiled
code is still traced to the user's line), or None when no call is renamed. A call is renamed when its one argument is arithmetic on names and numbers, some
name not known to be a number, and it is not in a fused loop (``np.exp(t7_e[k])``, scalars
that Numba compiles well); ``numpy_<name>`` of a number is the ufunc of the number.
"""
from __future__ import annotations

import ast
from typing import Mapping

from ..runtime.helpers import NUMPY_LOOPS

_ARITHMETIC = (ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Load, ast.operator, ast.unaryop)


def _maybe_array(arg: ast.expr, ranks: Mapping[str, int]) -> bool:
    nodes = list(ast.walk(arg))
    return all(isinstance(n, _ARITHMETIC) for n in nodes) and \
        any(isinstance(n, ast.Name) and ranks.get(n.id) != 0 for n in nodes)


def _renamed(node: ast.AST, ranks: Mapping[str, int]) -> str | None:
    """``numpy_<name>`` if ``node`` is ``np.<name>(array)`` for a ufunc of NUMPY_LOOPS."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "np"
            and node.func.attr in NUMPY_LOOPS and len(node.args) == 1 and not node.keywords):
        return None
    return f"numpy_{node.func.attr}" if _maybe_array(node.args[0], ranks) else None


def _calls(tree: ast.AST) -> list[ast.AST]:
    """The nodes of ``tree`` outside fused loops (``for k in range(n)``, n = loop_length(a))."""
    lengths = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
               and isinstance(n.value.func, ast.Name) and n.value.func.id == "loop_length"
               for t in n.targets if isinstance(t, ast.Name)}
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Call) and len(node.iter.args) == 1 \
                and isinstance(node.iter.args[0], ast.Name) and node.iter.args[0].id in lengths:
            continue
        found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def numpy_loops(source: str, ranks: Mapping[str, int]) -> str | None:
    """``source`` with its ``np.<ufunc>(array)`` calls made ``numpy_<ufunc>(array)``, or None."""
    lines = [line.encode() for line in source.split("\n")]  # ast's offsets count UTF-8 bytes
    edits: list[tuple[int, int, int, str]] = []
    for node in _calls(ast.parse(source)):
        name = _renamed(node, ranks)
        if name is not None:
            func = node.func
            assert func.lineno == func.end_lineno and func.end_col_offset is not None
            edits.append((func.lineno - 1, func.col_offset, func.end_col_offset, name))
    if not edits:
        return None
    for row, start, end, name in sorted(edits, reverse=True):  # right to left within a line
        lines[row] = lines[row][:start] + name.encode() + lines[row][end:]
    text = [line.decode() for line in lines]
    names = ", ".join(sorted({name for *_, name in edits}))
    # the import joins numpy's line: every line stays where it was
    numpy = text.index("import numpy as np")
    text[numpy] += f"; from adjoint.runtime.helpers import {names}"
    return "\n".join(text)
