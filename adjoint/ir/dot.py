"""The SSA graph of a function as Graphviz DOT text.

One node per SSA value (each parameter, each statement), labelled with the
operation and the user's source line; an edge per use. Values used more than
once (fan-out: their cotangents are summed) have a bold border and say how
many uses; active values (those that get a cotangent) are filled.
"""
from __future__ import annotations

from collections import Counter

from .nodes import Assign, Function, Return, op_vars, value_vars


def _quote(text: str) -> str:
    """A DOT string; ``\\n`` in labels is DOT's own line break and is kept."""
    return '"' + text.replace('"', '\\"') + '"'


def to_dot(fn: Function, active: frozenset[str]) -> str:
    uses: Counter[str] = Counter()
    result: set[str] = set()
    for stmt in fn.body:
        if isinstance(stmt, Assign):
            uses.update(v.name for v in op_vars(stmt.op))
        elif isinstance(stmt, Return):
            result = {v.name for v in value_vars(stmt.value)}
            uses.update(result)
    lines = [f"digraph {_quote(fn.name)} {{", "  rankdir=TB;",
             '  node [fontname="monospace", fontsize=10];',
             f"  label={_quote(f'{fn.name}: filled = active (gets a cotangent), bold = fan-out')};"]

    def node(name: str, label: str, shape: str) -> None:
        attrs = [f"label={_quote(label)}", f"shape={shape}"]
        if name in active:
            attrs += ["style=filled", 'fillcolor="#ffd8a8"']
        if uses[name] > 1:
            attrs += ["penwidth=2.5"]
        if name in result:
            attrs += ["peripheries=2"]
        lines.append(f"  {_quote(name)} [{', '.join(attrs)}];")

    def fan(name: str) -> str:
        return f"\\nfan-out: {uses[name]} uses" if uses[name] > 1 else ""

    for param in fn.param_names:
        node(param, f"{param}\\nparameter{fan(param)}", "ellipse")
    for stmt in fn.body:
        if isinstance(stmt, Assign):
            name = stmt.target.name
            node(name, f"{name} = {stmt.op.prim}\\nline {stmt.loc.line}{fan(name)}", "box")
    for stmt in fn.body:
        if isinstance(stmt, Assign):
            for var in op_vars(stmt.op):
                lines.append(f"  {_quote(var.name)} -> {_quote(stmt.target.name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
