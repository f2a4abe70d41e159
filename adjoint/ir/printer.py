"""A text dump of the IR, one statement a line, for ``ADJOINT_DUMP=lower`` and ``--ir``."""
from __future__ import annotations

from ..codegen.render import render
from .nodes import Assign, Function, Return


def format_function(fn: Function) -> str:
    lines = [f"function {fn.name}({', '.join(fn.param_names)})  # {fn.loc.filename}:{fn.loc.line}"]
    for stmt in fn.body:
        if isinstance(stmt, Assign):
            args = ", ".join(render(a) if not hasattr(a, "items") or a.__class__.__name__ == "Tup"
                             else f"[{render(a)}]" for a in stmt.op.args)
            lines.append(f"  {stmt.target.name} = {stmt.op.prim}({args})  # line {stmt.loc.line}")
        elif isinstance(stmt, Return):
            lines.append(f"  return {render(stmt.value)}  # line {stmt.loc.line}")
    return "\n".join(lines)
