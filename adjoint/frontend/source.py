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
import os
import sysconfig
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


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(sorted(root + os.sep for root in roots))


_LIBRARY_ROOTS = _library_roots()


def library_file(fn: Callable[..., Any]) -> str | None:
    """The source file of ``fn`` when it belongs to an installed package or the standard
    library (not to the user's own code, nor to a package installed in editable mode), else None."""
    try:
        path = inspect.getsourcefile(fn) or inspect.getfile(fn)
    except TypeError:
        return None
    real = os.path.realpath(path)
    parts = real.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts or real.startswith(_LIBRARY_ROOTS):
        return real
    return None


def parse_function(fn: Callable[..., Any], helper: str = "") -> Parsed:
    """Read ``fn``'s source and parse it; a function without a source file is a TypeError."""
    if not inspect.isfunction(fn):
        raise TypeError(f"adjoint differentiates Python functions, not {type(fn).__name__} objects")
    if fn.__name__ == "<lambda>":
        raise TypeError(f"cannot differentiate {fn.__qualname__}: lambdas are not supported; write a def")
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise TypeError(f"cannot read the source of {fn.__qualname__}: adjoint differentiates "
                        f"functions defined in a .py file ({exc})") from None
    raw = "".join(lines)
    indented = lines[0][:1].isspace()
    # An indented def (a method, a nested function) parses under an `if 1:`, which keeps its
    # real columns; textwrap.dedent would fail on a multi-line string at column 0 inside it.
    try:
        module = ast.parse("if 1:\n" + raw if indented else raw)
    except SyntaxError as exc:
        raise TypeError(f"cannot differentiate {fn.__qualname__}: the source inspect finds for it does not "
                        f"parse ({exc.msg}); adjoint differentiates functions defined by a def in a .py "
                        f"file") from None
    ast.increment_lineno(module, start - 2 if indented else start - 1)
    tree = module.body[0].body[0] if indented else module.body[0]
    filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    if isinstance(tree, ast.AsyncFunctionDef):
        raise UnsupportedSyntaxError("an async function is not supported by adjoint: use a plain def",
                                     filename, tree.lineno, tree.col_offset + 1,
                                     linecache.getline(filename, tree.lineno).rstrip("\n"))
    if not isinstance(tree, ast.FunctionDef) or tree.name != fn.__name__:
        raise TypeError(f"cannot differentiate {fn.__qualname__}: the source inspect finds for it, at "
                        f"{filename}:{start}, is not its def statement; adjoint differentiates functions "
                        f"defined by a def in a .py file")
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
