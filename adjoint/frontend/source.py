"""Parse stage: the user's function as an AST with true file lines and columns.

Promises: ``Parsed.tree`` is the ``ast.FunctionDef`` of the function, with line
numbers of the real file and columns of the real (un-dedented) line, and
``namespace`` resolves every global and closure name the body may use.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import textwrap
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import UnsupportedSyntaxError
from ..ir.nodes import Loc


@dataclass(frozen=True)
class Parsed:
    fn: Callable[..., Any]
    tree: ast.FunctionDef
    filename: str
    source: str
    namespace: dict[str, Any]
    helper: str = ""  # the helper's name when this function is inlined into another

    def loc(self, node: ast.AST) -> Loc:
        line = getattr(node, "lineno", self.tree.lineno)
        col = getattr(node, "col_offset", 0)
        text = linecache.getline(self.filename, line).rstrip("\n")
        return Loc(self.filename, line, col, text, self.helper)

    def error(self, node: ast.AST, msg: str) -> UnsupportedSyntaxError:
        loc = self.loc(node)
        return UnsupportedSyntaxError(msg, loc.filename, loc.line, loc.col + 1, loc.text)


def parse_function(fn: Callable[..., Any], helper: str = "") -> Parsed:
    """Read ``fn``'s source and parse it; a function without a source file is a TypeError."""
    if not inspect.isfunction(fn):
        raise TypeError(f"adjoint differentiates Python functions, not {type(fn).__name__} objects")
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise TypeError(f"cannot read the source of {fn.__qualname__}: adjoint differentiates "
                        f"functions defined in a .py file ({exc})") from None
    raw = "".join(lines)
    indent = len(lines[0]) - len(lines[0].lstrip())
    module = ast.parse(textwrap.dedent(raw))
    ast.increment_lineno(module, start - 1)
    if indent:
        for node in ast.walk(module):
            if hasattr(node, "col_offset"):
                node.col_offset += indent
    tree = module.body[0]
    if not isinstance(tree, ast.FunctionDef):
        raise TypeError(f"cannot differentiate {fn.__qualname__}: it is not defined by a def statement "
                        "(lambdas are not supported; write a def)")
    filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    return Parsed(fn, tree, filename, raw, _namespace(fn), helper)


def _namespace(fn: Callable[..., Any]) -> dict[str, Any]:
    namespace: dict[str, Any] = dict(vars(builtins))
    namespace.update(fn.__globals__)
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                namespace[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is not bound yet
                pass
    return namespace
