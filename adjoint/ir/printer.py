"""A text dump of the IR, one statement a line, regions indented, for
``ADJOINT_DUMP=lower`` and ``python -m adjoint show --ir``."""
from __future__ import annotations

from ..codegen.render import render
from .nodes import Assign, For, Function, If, Index, Phi, Return, Stmt, While


def _arg(value) -> str:
    return f"[{render(value)}]" if isinstance(value, Index) else render(value)


def _phis(phis: tuple[Phi, ...], first: str, second: str) -> str:
    return "; ".join(f"{p.var.name} = phi({first}: {render(p.first)}, {second}: {render(p.second)})"
                     for p in phis)


def _lines(stmts: tuple[Stmt, ...], depth: int) -> list[str]:
    pad = "  " * depth
    out: list[str] = []
    for stmt in stmts:
        if isinstance(stmt, Assign):
            args = ", ".join(_arg(a) for a in stmt.op.args)
            out.append(f"{pad}{stmt.target.name} = {stmt.op.prim}({args})  # line {stmt.loc.line}")
        elif isinstance(stmt, Return):
            out.append(f"{pad}return {render(stmt.value)}  # line {stmt.loc.line}")
        elif isinstance(stmt, If):
            out.append(f"{pad}if {render(stmt.cond)}:  # line {stmt.loc.line}")
            out += _lines(stmt.then, depth + 1) or [f"{pad}  pass"]
            out.append(f"{pad}else:")
            out += _lines(stmt.orelse, depth + 1) or [f"{pad}  pass"]
            if stmt.phis:
                out.append(f"{pad}{_phis(stmt.phis, 'then', 'else')}")
        elif isinstance(stmt, For):
            bounds = ", ".join(render(b) for b in (stmt.start, stmt.stop, stmt.step))
            out.append(f"{pad}for {stmt.index.name} in range({bounds}):  # line {stmt.loc.line}")
            if stmt.carried:
                out.append(f"{pad}  {_phis(stmt.carried, 'entry', 'next')}")
            out += _lines(stmt.body, depth + 1)
        elif isinstance(stmt, While):
            out.append(f"{pad}while:  # line {stmt.loc.line}")
            out.append(f"{pad}  {_phis(stmt.carried, 'entry', 'next')}")
            out += _lines(stmt.cond, depth + 1)
            out.append(f"{pad}  test {render(stmt.test)}")
            out += _lines(stmt.body, depth + 1)
    return out


def format_function(fn: Function) -> str:
    head = f"function {fn.name}({', '.join(fn.param_names)})  # {fn.loc.filename}:{fn.loc.line}"
    return "\n".join([head, *_lines(fn.body, 1)])
