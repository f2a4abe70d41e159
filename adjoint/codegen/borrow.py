"""Borrow stage: in the modules Numba compiles, what the reverse sweep reads back from a tape is
the tape's own reference, not one more, and a view of an argument is the caller's (``.source``
keeps ``x = tape[top]`` and ``v = p[i]``).

Numba counts the references to each array: reading a tuple of arrays from a list adds one to
each array's count, and the count drops again where the name dies; each of these is a call
and an atomic add: 15% of lstm's gradient went to counting, and its reverse sweep reads back
six arrays per layer and step, and three more per step. A tape keeps what it holds until it
dies, so what it gives back needs no count of its own:

- ``x, y = tape[top]`` becomes ``x, y = tape_peek(tape, top)``: the arrays with no owner
  (Numba's meminfo NULL), whose counts Numba leaves alone (``runtime/_numba_tape.py``).
- ``v = p[i, a:b]``, a view of an argument by ints and slices, becomes ``v = unowned(p[i,
  a:b])``: the caller holds the argument for the whole call (not where the function rebinds
  ``p``, nor of an array of indices, whose copy must keep its owner).
- the return becomes ``keep_alive(tape, ...); return owned(a), ...``: the tapes live until
  the function returns (Numba would drop a tape after its last read), and an array returned
  that has no owner (one read back, a view of an argument, or a view of either) is returned
  as a copy, so that nothing outlives what holds its memory.

Assumes the source of a generated module (``codegen/python.py``) or of its fused twin: tapes
made at the top level of a function (``new_tape(...)`` or ``[]``), read back as ``name =
tape[top]`` or ``a, b = tape[top]`` on one line, and one ``return``, the function's last
statement, on one line. Promises the same module with those lines rewritten, every line where
it was (so an error in compiled code is still traced to the user's line), or None when
nothing is borrowed. A function with another shape is left as it is.
"""
from __future__ import annotations

import ast
from typing import Mapping

from .fuse import makes_tape
from .numba_calls import ARITHMETIC


def _reads_back(node: ast.stmt, tapes: set[str]) -> bool:
    """``name = tape[top]`` or ``a, b = tape[top]``."""
    return isinstance(node, ast.Assign) and len(node.targets) == 1 \
        and isinstance(node.targets[0], (ast.Name, ast.Tuple)) \
        and isinstance(node.value, ast.Subscript) and isinstance(node.value.value, ast.Name) \
        and node.value.value.id in tapes and isinstance(node.value.slice, ast.Name)


def _owned(value: ast.expr) -> ast.expr:
    """``value`` with each item of its tuples (the value, the cotangents) through ``owned``."""
    if isinstance(value, ast.Tuple):
        return ast.Tuple([_owned(item) for item in value.elts], ast.Load())
    return ast.Call(ast.Name("owned", ast.Load()), [value], [])


def _number(expr: ast.expr | None, ranks: Mapping[str, int]) -> bool:
    """``expr`` is arithmetic on ints and names known to be numbers (an index, not an array)."""
    return expr is not None and all(
        isinstance(n, ARITHMETIC) and (not isinstance(n, ast.Name) or ranks.get(n.id) == 0)
        and (not isinstance(n, ast.Constant) or type(n.value) is int) for n in ast.walk(expr))


def _view(index: ast.expr, ranks: Mapping[str, int]) -> bool:
    """Indexing by ``index`` gives a view (or one number): ints and slices, no array."""
    items = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(all(part is None or _number(part, ranks) for part in (item.lower, item.upper, item.step))
               if isinstance(item, ast.Slice) else _number(item, ranks) for item in items)


def _argument_views(fn: ast.FunctionDef, ranks: Mapping[str, int]) -> list[ast.Assign]:
    """``v = p[index]`` on one line: a view of an argument ``p`` the function never rebinds."""
    bound = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    arguments = {a.arg for a in fn.args.args} - bound
    return [node for node in ast.walk(fn) if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and ranks.get(node.targets[0].id) != 0
            and isinstance(node.value, ast.Subscript) and isinstance(node.value.value, ast.Name)
            and node.value.value.id in arguments and _view(node.value.slice, ranks)
            and node.lineno == node.end_lineno]


def _borrow(fn: ast.FunctionDef, lines: list[str], ranks: Mapping[str, int]) -> bool:
    """Rewrite ``fn``'s lines in ``lines``; whether anything is borrowed."""
    tapes = sorted(node.targets[0].id for node in fn.body if isinstance(node, ast.Assign)
                   and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                   and makes_tape(node.value))
    reads = [node for node in ast.walk(fn) if isinstance(node, ast.stmt) and _reads_back(node, set(tapes))]
    views = _argument_views(fn, ranks)
    returns = [node for node in ast.walk(fn) if isinstance(node, ast.Return)]
    last = fn.body[-1]
    if not (reads or views) or returns != [last] or last.value is None or last.lineno != last.end_lineno \
            or any(node.lineno != node.end_lineno for node in reads):
        return False
    for node in reads:
        peek = ast.Call(ast.Name("tape_peek", ast.Load()), [node.value.value, node.value.slice], [])
        _rewrite(lines, node, ast.unparse(ast.Assign(node.targets, peek, lineno=node.lineno)))
    for node in views:
        view = ast.Call(ast.Name("unowned", ast.Load()), [node.value], [])
        _rewrite(lines, node, ast.unparse(ast.Assign(node.targets, view, lineno=node.lineno)))
    kept = f"keep_alive({', '.join(tapes)}); " if reads else ""
    _rewrite(lines, last, kept + ast.unparse(ast.Return(_owned(last.value))))
    return True


def _rewrite(lines: list[str], node: ast.stmt, text: str) -> None:
    """Replace the line of ``node`` with ``text``, at its indentation."""
    row = node.lineno - 1
    lines[row] = lines[row][:len(lines[row]) - len(lines[row].lstrip())] + text


def borrow_tapes(source: str, ranks: Mapping[str, int]) -> str | None:
    """``source`` with its functions' tape reads and views of arguments borrowed (``ranks``:
    the known ranks of its names), or None when nothing is."""
    tree = ast.parse(source)
    lines = source.split("\n")
    if not any(isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno == node.end_lineno
               for node in tree.body):
        return None  # (a module that imports nothing: no place for the import on a line of its own)
    borrowed = [_borrow(fn, lines, ranks) for fn in tree.body if isinstance(fn, ast.FunctionDef)]
    if not any(borrowed):
        return None
    # the import joins the first import's line: every line stays where it was
    first = next(node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 and node.lineno == node.end_lineno)
    lines[first.lineno - 1] += "; from adjoint.runtime.helpers import keep_alive, owned, tape_peek, unowned"
    return "\n".join(lines)
