"""The SSA graph of a function as Graphviz DOT text.

One node per SSA value (each parameter, each statement), labelled with the
operation and the user's source line; an edge per use. Values used more than
once (fan-out: their cotangents are summed) have a bold border and say how
many uses; active values (those that get a cotangent) are filled.
"""
from __future__ import annotations

from collections import Counter

from .nodes import Assign, For, Function, If, Return, Stmt, While, op_vars, value_vars


def _flatten(stmts: tuple[Stmt, ...]) -> list:
    """Assigns, merges and returns of all regions, in order (a graph has no nesting)."""
    out: list = []
    for stmt in stmts:
        if isinstance(stmt, If):
            out += _flatten(stmt.then) + _flatten(stmt.orelse) + [("phi", p, stmt) for p in stmt.phis]
        elif isinstance(stmt, (For, While)):
            out += [("phi", p, stmt) for p in stmt.carried]
            out += _flatten(stmt.cond) if isinstance(stmt, While) else []
            out += _flatten(stmt.body)
        else:
            out.append(stmt)
    return out


def _quote(text: str) -> str:
    """A DOT string; ``\\n`` in labels is DOT's own line break and is kept."""
    return '"' + text.replace('"', '\\"') + '"'


def to_dot(fn: Function, active: frozenset[str]) -> str:
    uses: Counter[str] = Counter()
    result: set[str] = set()
    flat = _flatten(fn.body)
    for stmt in flat:
        if isinstance(stmt, Assign):
            uses.update(v.name for v in op_vars(stmt.op))
        elif isinstance(stmt, Return):
            result = {v.name for v in value_vars(stmt.value)}
            uses.update(result)
        elif isinstance(stmt, tuple):
            uses.update(v.name for v in value_vars(stmt[1].first) + value_vars(stmt[1].second))
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
    for stmt in flat:
        if isinstance(stmt, Assign):
            name = stmt.target.name
            node(name, f"{name} = {stmt.op.prim}\\nline {stmt.loc.line}{fan(name)}", "box")
        elif isinstance(stmt, tuple):
            name = stmt[1].var.name
            node(name, f"{name} = merge\\nline {stmt[2].loc.line}{fan(name)}", "diamond")
    for stmt in flat:
        if isinstance(stmt, Assign):
            for var in op_vars(stmt.op):
                lines.append(f"  {_quote(var.name)} -> {_quote(stmt.target.name)};")
        elif isinstance(stmt, tuple):
            for var in value_vars(stmt[1].first) + value_vars(stmt[1].second):
                lines.append(f"  {_quote(var.name)} -> {_quote(stmt[1].var.name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
