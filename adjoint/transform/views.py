"""Direct accumulation: the cotangent of an element or row read that is itself indexed
goes straight into the cotangent it was read from.

Assumes the ``Adjoint`` that ``transform/reverse.py`` made (after ``transform/sums.py``),
the ``ir.Function`` it reverses and the known ranks (``analysis/ranks.py``). Promises an
``Adjoint`` that computes the same cotangents (up to the order of floating-point sums).

For ``row = W[i]`` (``i`` an int) read in parts, ``row[:b]`` and ``row[b:]``, the reverse
sweep writes

    row_bar = zero_like(row)
    row_bar[b:] += t2_bar
    row_bar[:b] += t1_bar
    W_bar[i] += row_bar

an array of zeros and a pass over it, for each row. When nothing reads ``W_bar`` from where
its array was made until that last line has run, its parts can be added where they go:

    W_bar[i, b:] += t2_bar
    W_bar[i, :b] += t1_bar

The conditions, on ``x_bar = zero_like(x)`` with ``x = W[I]`` (every item of I an int):

* ``x_bar`` is otherwise only updated in place (``x_bar[J] += e``, ``x_bar += e``) and
  read once, by ``W_bar[I] += x_bar``, in the block of ``x_bar = zero_like(x)``, and
  nothing between them rebinds a name of I;
* ``W_bar`` was last bound to a new array (``zero_like``, ``copy_of``, ``.copy()`` or an
  operator's result) before ``x_bar = zero_like(x)``, and from there until the end of the
  block, loop or branch holding ``W_bar[I] += x_bar`` (the outermost one inside the block
  of that binding), nothing reads ``W_bar`` and nothing but in-place updates writes it.
  So no other name holds its array while the parts are added, and whatever reads it
  later sees every part added, as before.

``W_bar[I][J]`` is ``W_bar[I, J]`` because I's items are ints (they take the leading
axes); one subscript keeps the code a write into an array the adjoint made, which the
generated code may be differentiated again through (``hessian``).

A loop's reverse that computed the row again only for ``x_bar = zero_like(x)`` (``t3 = l[j]``
in ``gmm``) no longer does (as ``transform/sums.py`` drops recomputations nothing reads).
"""
from __future__ import annotations

import ast
from dataclasses import replace

from ..codegen.render import render
from ..ir.nodes import Assign, Function, Index, Var, int_literal, walk
from .reverse import AdjFor, AdjIf, AdjNode, Adjoint, AdjStmt
from .cleanup import names_in
from .reverse import node_reads
from .sums import _targets, _unread_recomputations_dropped

_IN_PLACE = ("scatter", "accumulate")


def _fresh(node: AdjNode, name: str) -> bool:
    """``node`` binds ``name`` to an array made there."""
    if not (isinstance(node, AdjStmt) and node.target == name):
        return False
    if node.kind == "add":
        return True
    if node.kind != "assign":
        return False
    tree = ast.parse(node.expr, mode="eval").body
    if isinstance(tree, ast.BinOp):
        return True
    return isinstance(tree, ast.Call) and (
        isinstance(tree.func, ast.Name) and tree.func.id in ("zero_like", "copy_of")
        or isinstance(tree.func, ast.Attribute) and tree.func.attr == "copy" and not tree.args)


def _in_place(order: list, k: int, name: str) -> bool:
    """Node k (with the nodes nested in it) writes ``name`` only in place."""
    return all(not (isinstance(order[t][0], AdjStmt) and name in order[t][0].target.split(", "))
               or order[t][0].kind in _IN_PLACE for t in range(k, order[k][2]))


def _int_index(index, ranks: dict[str, int]) -> bool:
    items = index.items if isinstance(index, Index) else (index,)
    return bool(items) and all(
        isinstance(i, Var) and ranks.get(i.name) == 0
        or int_literal(i) is not None
        for i in items)


def _preorder(nodes: tuple[AdjNode, ...], out: list, parent: int) -> None:
    """(node, index of the node whose block holds it or -1, index past its subtree)."""
    for node in nodes:
        k = len(out)
        out.append([node, parent, 0])
        if isinstance(node, AdjIf):
            _preorder(node.then, out, k)
            _preorder(node.orelse, out, k)
        elif isinstance(node, AdjFor):
            _preorder(node.body, out, k)
        out[k][2] = len(out)


def accumulate_directly(adjoint: Adjoint, fn: Function, ranks: dict[str, int]) -> Adjoint:
    defs = {s.target.name: s for s in walk(fn.body) if isinstance(s, Assign)}
    order: list = []
    _preorder(adjoint.statements, order, -1)
    position = {id(entry[0]): k for k, entry in enumerate(order)}
    if len(position) != len(order):
        return adjoint
    targets: dict[str, list[int]] = {}
    readers: dict[str, list[int]] = {}
    for k, (node, _, _) in enumerate(order):
        if isinstance(node, AdjStmt):
            for name in node.target.split(", "):
                targets.setdefault(name, []).append(k)
        for name in node_reads(node):
            readers.setdefault(name, []).append(k)

    def siblings(k: int) -> list[int]:
        """The nodes of k's block, in order."""
        parent = order[k][1]
        start = parent + 1 if parent >= 0 else 0
        out, j = [], start
        end = order[parent][2] if parent >= 0 else len(order)
        while j < end:
            if order[j][1] == parent:
                out.append(j)
            j = order[j][2]
        return out

    def direct(k: int) -> tuple[str, str, int] | None:
        """(W_bar, I, the line W_bar[I] += x_bar) if x_bar = zero_like(x) at k qualifies."""
        node = order[k][0]
        if not (isinstance(node, AdjStmt) and node.kind == "assign"):
            return None
        stmt = defs.get(node.expr[len("zero_like("):-1]) if node.expr.startswith("zero_like(") else None
        if stmt is None or stmt.op.prim != "getitem" or not _int_index(stmt.op.args[1], ranks) \
                or not isinstance(stmt.op.args[0], Var):
            return None
        bar = node.target
        reads = readers.get(bar, [])
        if len(reads) != 1:
            return None
        s = reads[0]
        last = order[s][0]
        index = render(stmt.op.args[1])
        if not (isinstance(last, AdjStmt) and last.kind == "scatter" and last.expr == bar
                and last.index == index and order[s][1] == order[k][1] and s > k):
            return None
        for t in targets[bar]:
            if t != k and not (k < t < s and order[t][0].kind in _IN_PLACE
                               and bar not in node_reads(order[t][0])):
                return None
        names = names_in([f"_[{index}]"])
        for t in range(k + 1, s):  # the index means the same from x_bar = zero_like(x) on
            node_t = order[t][0]
            if isinstance(node_t, AdjFor) and node_t.index in names or \
                    isinstance(node_t, AdjStmt) and names & set(node_t.target.split(", ")):
                return None
        w_bar = last.target
        # where W_bar's array was made: walk back from x_bar = zero_like(x), out block by block
        j = k
        while True:
            block = siblings(j)
            before = [b for b in block if b < j]
            found = None
            for b in reversed(before):
                if w_bar in _targets(order[b][0]) and not _in_place(order, b, w_bar):
                    found = b
                    break
            if found is not None:
                break
            if order[j][1] < 0:
                return None
            j = order[j][1]
        if not _fresh(order[found][0], w_bar):
            return None
        # the node of the binding's block that holds W_bar[I] += x_bar
        n = s
        while order[n][1] != order[found][1]:
            n = order[n][1]
        for t in range(found + 1, order[n][2]):
            if w_bar in node_reads(order[t][0]):
                return None
            if isinstance(order[t][0], AdjStmt) and w_bar in order[t][0].target.split(", ") \
                    and order[t][0].kind not in _IN_PLACE:
                return None
        return w_bar, index, s

    plan: dict[int, tuple[str, str, int]] = {}
    for k in range(len(order)):
        found = direct(k)
        if found is not None:
            plan[k] = found
    if not plan:
        return adjoint
    dropped = {id(order[k][0]) for k in plan} | {id(order[s][0]) for _, _, s in plan.values()}
    into = {order[k][0].target: (w_bar, index) for k, (w_bar, index, _) in plan.items()}

    def rewrite(nodes: tuple[AdjNode, ...]) -> tuple[AdjNode, ...]:
        out: list[AdjNode] = []
        for node in nodes:
            if id(node) in dropped:
                continue
            if isinstance(node, AdjIf):
                node = replace(node, then=rewrite(node.then), orelse=rewrite(node.orelse))
            elif isinstance(node, AdjFor):
                node = replace(node, body=rewrite(node.body))
            elif isinstance(node, AdjStmt) and node.kind in _IN_PLACE and node.target in into:
                target, kind, part = node.target, node.kind, node.index
                while target in into:  # x_bar's array was itself a part of another
                    target, index = into[target]
                    part, kind = (f"{index}, {part}" if kind == "scatter" else index), "scatter"
                node = replace(node, kind=kind, target=target, index=part)
            out.append(node)
        return tuple(out)

    # a row's values that only its zeros' shape read (``t3 = l[j]`` for ``zero_like(t3)``) go too
    return replace(adjoint, statements=_unread_recomputations_dropped(rewrite(adjoint.statements)))
