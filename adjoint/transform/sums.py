"""Deferred sums: the cotangent of an elementwise intermediate keeps its reader's shape.

Assumes the ``Adjoint`` that ``transform/reverse.py`` made of an ``ir.Function``. Promises
an ``Adjoint`` that computes the same cotangents (up to the order of floating-point sums)
and reads fewer forward values.

For ``t1 = a * b`` read once, by ``t2 = t1 + c``, the reverse sweep writes

    t1_bar = unbroadcast(t2_bar, t1)
    a_bar = unbroadcast(t1_bar * b, a)
    b_bar = unbroadcast(t1_bar * a, b)

The first sum (over the axes along which ``t1`` was broadcast to ``t2``'s shape) is not
needed: the sums into ``a`` and ``b`` cover those axes too, and ``b`` and ``a`` are
constant along them, since they broadcast to ``t1``'s shape. So ``t1_bar = t2_bar``, and
``t1`` itself, which that sum read only for its shape, is no longer read: a loop's reverse
no longer computes it again (a whole array, for a shape), and the arithmetic around it
folds into one statement, which Numba compiles into one loop (``codegen/fold.py``).

A cotangent ``x_bar = unbroadcast(e, x)`` becomes ``x_bar = e`` when

* it is the only contribution to ``x_bar`` (x is read once, in the same region);
* x is defined by an elementwise rule (``rank == "broadcast"``) each of whose cotangents
  is ``unbroadcast(f, operand)``, with f elementwise and linear in the output's cotangent
  (``DEFERRED``): the rules of + - * / ** %, np.maximum, np.where, ...;
* every statement that reads ``x_bar`` is such a sum into an operand of x, in the same
  block (a statement whose sum ``reverse._drop_unbroadcast`` left out, ``x * 2.0``'s
  ``x_bar * 2.0``, keeps ``x_bar`` as it was).

All are decided on the statements as ``reverse`` wrote them, then applied together: a sum
deferred through a chain (``a * b + c`` read by ``... * d``) is done once, at the end.
Where ``e`` is another cotangent assigned once, earlier in the same block, ``x_bar``'s
readers read that one instead (no ``x_bar = y_bar`` line). Recomputations that nothing
reads any more are dropped. The tape is left as it is: a value that a loop tapes is popped
whether or not it is read (forward values outside loops are dropped by ``cleanup``).
"""
from __future__ import annotations

import ast
from dataclasses import replace

from ..ir.nodes import Assign, Function, op_vars, walk
from ..rules import RULES
from .cleanup import names_in
from .reverse import AdjFor, AdjIf, AdjNode, Adjoint, AdjStmt, node_reads


def _sums_into_operands(rule) -> bool:
    return rule.rank == "broadcast" and bool(rule.vjp) and all(
        isinstance(t, str) and t.startswith("unbroadcast(") and t.endswith(f", {{{p}}})")
        for p, t in rule.vjp.items())


DEFERRED = frozenset(name for name, rule in RULES.items() if _sums_into_operands(rule))


def _sum(expr: str) -> tuple[ast.expr, str] | None:
    """``(e, x)`` if ``expr`` is ``unbroadcast(e, x)`` with x a name."""
    tree = ast.parse(expr, mode="eval").body
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "unbroadcast" \
            and len(tree.args) == 2 and not tree.keywords and isinstance(tree.args[1], ast.Name):
        return tree.args[0], tree.args[1].id
    return None


def _targets(node: AdjNode) -> set[str]:
    """Names a node (with the nodes nested in it) assigns or updates."""
    if isinstance(node, AdjStmt):
        return set(node.target.split(", "))
    nested = (node.then + node.orelse) if isinstance(node, AdjIf) else node.body
    return set().union(*(_targets(n) for n in nested))


def _blocks(nodes: tuple[AdjNode, ...]):
    """Every block (a tuple of nodes) of the adjoint, outermost first."""
    yield nodes
    for node in nodes:
        if isinstance(node, AdjIf):
            yield from _blocks(node.then)
            yield from _blocks(node.orelse)
        elif isinstance(node, AdjFor):
            yield from _blocks(node.body)


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.new, node.ctx) if node.id == self.old else node


def _renamed(expr: str, old: str, new: str) -> str:
    return ast.unparse(_Rename(old, new).visit(ast.parse(expr, mode="eval")))


def defer_sums(adjoint: Adjoint, fn: Function) -> Adjoint:
    defs = {s.target.name: s for s in walk(fn.body) if isinstance(s, Assign)}
    blocks = list(_blocks(adjoint.statements))
    targets: dict[str, list[AdjStmt]] = {}
    readers: dict[str, list[AdjNode]] = {}
    where: dict[int, tuple[int, int]] = {}  # id(node) -> (block, position)
    for b, block in enumerate(blocks):
        for k, node in enumerate(block):
            if id(node) in where:
                return adjoint  # one node in two places: not what reverse makes
            where[id(node)] = (b, k)
            if isinstance(node, AdjStmt):
                for name in node.target.split(", "):
                    targets.setdefault(name, []).append(node)
            for name in node_reads(node):
                readers.setdefault(name, []).append(node)

    def deferred(node: AdjStmt) -> ast.expr | None:
        """e, if ``node`` is ``x_bar = unbroadcast(e, x)`` and its sum can be left out."""
        found = _sum(node.expr) if node.kind == "assign" else None
        if found is None or len(targets[node.target]) != 1:
            return None
        e, x = found
        stmt = defs.get(x)
        if stmt is None or stmt.op.prim not in DEFERRED or node.target in names_in([ast.unparse(e)]):
            return None
        operands = {v.name for v in op_vars(stmt.op)}
        reads = readers.get(node.target, [])
        block, position = where[id(node)]
        for reader in reads:
            summed = _sum(reader.expr) if isinstance(reader, AdjStmt) and \
                reader.kind in ("assign", "add", "accumulate", "scatter") else None
            if summed is None or summed[1] not in operands or reader.target == node.target \
                    or reader.index and node.target in names_in([f"_[{reader.index}]"]) \
                    or where[id(reader)] <= (block, position) or where[id(reader)][0] != block:
                return None
        return e if reads else None

    plain = {id(n): e for block in blocks for n in block if isinstance(n, AdjStmt)
             for e in [deferred(n)] if e is not None}
    if not plain:
        return adjoint

    # Apply, block by block in order: x_bar = e; or, for e a name that nothing rebinds or
    # updates before x_bar's last reader, x_bar's readers read e itself (no x_bar = y_bar line).
    renames: dict[str, str] = {}  # x_bar -> the name its readers read instead

    def rewrite(nodes: tuple[AdjNode, ...]) -> tuple[AdjNode, ...]:
        out: list[AdjNode] = []
        for k, node in enumerate(nodes):
            if isinstance(node, AdjIf):
                node = replace(node, then=rewrite(node.then), orelse=rewrite(node.orelse))
            elif isinstance(node, AdjFor):
                node = replace(node, body=rewrite(node.body))
            elif id(node) in plain:
                expr = ast.unparse(plain[id(node)])
                for old, new in renames.items():
                    expr = _renamed(expr, old, new) if old in names_in([expr]) else expr
                last = max(where[id(r)][1] for r in readers[node.target])
                if expr.isidentifier() and not any(expr in _targets(n) for n in nodes[k + 1:last]):
                    renames[node.target] = expr
                    continue
                node = replace(node, expr=expr)
            elif isinstance(node, AdjStmt) and node.kind != "pop":
                for old, new in renames.items():
                    if old in names_in([node.expr]):
                        node = replace(node, expr=_renamed(node.expr, old, new))
            out.append(node)
        return tuple(out)

    return replace(adjoint, statements=_unread_recomputations_dropped(rewrite(adjoint.statements)))


def _unread_recomputations_dropped(nodes: tuple[AdjNode, ...]) -> tuple[AdjNode, ...]:
    while True:
        read: set[str] = set()
        for block in _blocks(nodes):
            for node in block:
                read |= node_reads(node)

        def drop(nodes: tuple[AdjNode, ...]) -> tuple[AdjNode, ...]:
            out: list[AdjNode] = []
            for node in nodes:
                if isinstance(node, AdjStmt) and node.kind == "recompute" and node.target not in read:
                    continue
                if isinstance(node, AdjIf):
                    node = replace(node, then=drop(node.then), orelse=drop(node.orelse))
                elif isinstance(node, AdjFor):
                    node = replace(node, body=drop(node.body))
                out.append(node)
            return tuple(out)

        kept = drop(nodes)
        if kept == nodes:
            return nodes
        nodes = kept
