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

Four more rewrites of the sums that remain, applied everywhere:

* ``unbroadcast(-e, x)`` is ``-unbroadcast(e, x)``: the negation comes after the sum, on
  fewer numbers (``gmm``'s ``-unbroadcast(centered_bar, t10)``: 10 numbers, not 10,000);
* a value that a loop's reverse computes again only to give a shape reader
  (``unbroadcast``, ``expand_axis``, ``reshape_like``) its shape, and that is an
  elementwise function of one array and literal numbers (``t4 = t3 ** 2``), is replaced
  there by that array, which has its shape: the recomputation goes (``gmm``'s square of
  a 1000 x 10 array, in each of its 25 iterations);
* a matrix product's cotangent ``matmul_grad_a(G, A, B)`` read only summed over its rows
  into a vector x is never made: the rows of G are summed first,
  ``unbroadcast(matmul_grad_a(reduce_sum(G, 0), x, B), x)`` (``gmm``'s ``centered_bar``,
  1000 x 10 in each iteration, for the 10 numbers of ``mu_bar[j]``; its gradient 9 to 13%
  faster). Decided with the ranks of A, B and x (``_rows_summed``);
* a reduction's cotangent along an axis, ``N = expand_axis(g, x, a)`` (g repeated to x's
  shape), read once by arithmetic that reads x too, is never made: the arithmetic reads
  ``expand_view(g, x, a)``, g with a length-1 axis, and broadcasts it
  (``_expanded_in_place``).
"""
from __future__ import annotations

import ast
from dataclasses import replace

from ..ir.nodes import Assign, Const, Function, Var, op_vars, walk
from ..rules import RULES
from .cleanup import call_name, names_in
from .reverse import AdjFor, AdjIf, AdjNode, Adjoint, AdjStmt, node_reads


def _sums_into_operands(rule) -> bool:
    return rule.rank == "broadcast" and bool(rule.vjp) and all(
        isinstance(t, str) and t.startswith("unbroadcast(") and t.endswith(f", {{{p}}})")
        for p, t in rule.vjp.items())


DEFERRED = frozenset(name for name, rule in RULES.items() if _sums_into_operands(rule))


def _sum(expr: str) -> tuple[ast.expr, str] | None:
    """``(e, x)`` if ``expr`` is ``unbroadcast(e, x)`` with x a name."""
    tree = ast.parse(expr, mode="eval").body
    if call_name(tree) == "unbroadcast" and len(tree.args) == 2 and not tree.keywords and isinstance(tree.args[1], ast.Name):
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


def _counted(nodes: tuple[AdjNode, ...]) -> tuple[dict[str, int], dict[str, int]]:
    """How many nodes read each name, and how many statements assign or update it."""
    reads: dict[str, int] = {}
    targets: dict[str, int] = {}
    for block in _blocks(nodes):
        for node in block:
            for name in node_reads(node):
                reads[name] = reads.get(name, 0) + 1
            for name in _targets(node) if isinstance(node, AdjStmt) else ():
                targets[name] = targets.get(name, 0) + 1
    return reads, targets


def _next_reader(block: list, k: int, name: str, depends: set[str]) -> int | None:
    """The position of the first node after ``block[k]`` that reads ``name``; None when
    there is none, or when a node before it changes ``name`` or one of ``depends`` (what
    the value of ``block[k]`` was made of)."""
    for j in range(k + 1, len(block)):
        if name in node_reads(block[j]):
            return j
        if (depends | {name}) & _targets(block[j]):
            return None
    return None


def _blockwise(nodes: tuple[AdjNode, ...], rewrite) -> tuple[AdjNode, ...]:
    """``rewrite`` applied to each block, the outer block first."""
    nodes = rewrite(nodes)
    return tuple(replace(n, then=_blockwise(n.then, rewrite), orelse=_blockwise(n.orelse, rewrite))
                 if isinstance(n, AdjIf) else replace(n, body=_blockwise(n.body, rewrite)) if isinstance(n, AdjFor)
                 else n for n in nodes)


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.new, node.ctx) if node.id == self.old else node


def _renamed(expr: str, old: str, new: str) -> str:
    return ast.unparse(_Rename(old, new).visit(ast.parse(expr, mode="eval")))


def _rows_summed(nodes: tuple[AdjNode, ...], ranks: dict[str, int]) -> tuple[AdjNode, ...]:
    """``N = matmul_grad_a(G, A, B)`` (``G @ B.T``, A and B matrices) read only as
    ``unbroadcast(N, x)`` for a vector x, later in the same block: the sum of N's rows is
    the row sums of G through the product, ``matmul_grad_a(reduce_sum(G, 0), x, B)``, a
    vector, and N, an n x k matrix, is never made (``gmm``'s ``centered_bar``, 1000 x 10 in
    each of its 25 iterations, for 10 numbers). The outer ``unbroadcast(..., x)`` stays:
    x of length 1 sums those k numbers too."""
    reads, targets = _counted(nodes)

    def product(node: AdjNode) -> tuple[str, str, str] | None:
        """(G, A, B) of ``N = matmul_grad_a(G, A, B)`` of matrices, N assigned once."""
        if not (isinstance(node, AdjStmt) and node.kind == "assign" and targets.get(node.target) == 1):
            return None
        call = ast.parse(node.expr, mode="eval").body
        if not (call_name(call) == "matmul_grad_a" and len(call.args) == 3 and not call.keywords and all(isinstance(a, ast.Name) for a in call.args)):
            return None
        g, a, b = (arg.id for arg in call.args)
        return (g, a, b) if ranks.get(a) == 2 and ranks.get(b) == 2 else None

    class Summed(ast.NodeTransformer):
        def __init__(self, n: str, g: str, b: str) -> None:
            self.n, self.g, self.b, self.done = n, g, b, False

        def visit_Call(self, node: ast.Call) -> ast.expr:
            first = node.args[0] if node.args else None
            if call_name(node) == "unbroadcast" and len(node.args) == 2 \
                    and isinstance(first, ast.Name) and first.id == self.n and isinstance(node.args[1], ast.Name) \
                    and ranks.get(node.args[1].id) == 1:
                x = node.args[1].id
                self.done = True
                return ast.parse(f"unbroadcast(matmul_grad_a(reduce_sum({self.g}, 0), {x}, {self.b}), {x})",
                                 mode="eval").body
            self.generic_visit(node)
            return node

    def rewrite(block: tuple[AdjNode, ...]) -> tuple[AdjNode, ...]:
        out = list(block)
        for k, node in enumerate(block):
            found = product(node)
            if found is None or reads.get(node.target) != 1:
                continue
            g, _, b = found
            j = _next_reader(out, k, node.target, {g, b})
            reader = out[j] if j is not None else None
            if not isinstance(reader, AdjStmt) or reader.kind == "pop" or node.target in names_in(
                    [f"_[{reader.index}]"] if reader.index else []):
                continue
            summed = Summed(node.target, g, b)
            expr = ast.unparse(summed.visit(ast.parse(reader.expr, mode="eval")))
            if summed.done and node.target not in names_in([expr]) and (
                    reader.kind not in ("add", "accumulate") or reader.target != g):
                out[k] = None
                out[j] = replace(reader, expr=expr)
        return tuple(n for n in out if n is not None)

    return _blockwise(nodes, rewrite)


def defer_sums(adjoint: Adjoint, fn: Function, ranks: dict[str, int] | None = None) -> Adjoint:
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

    nodes = rewrite(adjoint.statements) if plain else adjoint.statements
    nodes = _unread_recomputations_dropped(_rows_summed(_polished(nodes, {}), ranks or {}))
    while True:  # t2 = t1 ** 2 recomputed for a shape: read t1's (and t1 may go next)
        twins = _shape_twins(fn, nodes)
        polished = _unread_recomputations_dropped(_polished(nodes, twins)) if twins else nodes
        if polished == nodes:
            break
        nodes = polished
    nodes = _expanded_in_place(nodes, _same_shape(fn))
    return adjoint if nodes == adjoint.statements else replace(adjoint, statements=nodes)


class _Viewed(ast.NodeTransformer):
    """``expand_axis(g, x, a)`` as an operand of arithmetic that reads x itself too (or an
    array that x is an elementwise function of, ``_same_shape``) becomes ``expand_view(g,
    x, a)``: the arithmetic broadcasts g along the axis to x's shape, as expand_axis
    repeated it, in the same operations, so the same numbers, without the copy.
    expand_view checks g's shape as expand_axis does."""

    def __init__(self, twins: dict[str, str]) -> None:
        self.twins, self.done = twins, False

    def _shaped_as(self, x: str, names: set[str]) -> bool:
        """Whether one of ``names`` is x or has x's shape (x = t1 ** 2 and t1 is there)."""
        seen = set()
        while x not in names and x in self.twins and x not in seen:
            seen.add(x)
            x = self.twins[x]
        return x in names

    def visit_BinOp(self, node: ast.AST) -> ast.AST:
        leaves = list(_operands(node))
        if leaves == [node]:  # (a matrix product, a unary not)
            self.generic_visit(node)
            return node
        names = {leaf.id for leaf in leaves if isinstance(leaf, ast.Name)}
        for leaf in leaves:
            if call_name(leaf) == "expand_axis" and len(leaf.args) == 3 and not leaf.keywords and isinstance(leaf.args[1], ast.Name) \
                    and self._shaped_as(leaf.args[1].id, names):
                leaf.func = ast.Name("expand_view", ast.Load())
                self.done = True
        for leaf in leaves:  # (arithmetic inside a call's arguments is a tree of its own)
            self.generic_visit(leaf)
        return node

    visit_UnaryOp = visit_BinOp


_ELEMENTWISE = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.USub, ast.UAdd)


def _operands(node: ast.AST):
    """The operands of a tree of elementwise arithmetic (+ - * / ** % // and unary - +),
    left to right (a matrix product is an operand)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ELEMENTWISE):
        yield from _operands(node.left)
        yield from _operands(node.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _ELEMENTWISE):
        yield from _operands(node.operand)
    else:
        yield node


def _expanded_in_place(nodes: tuple[AdjNode, ...], twins: dict[str, str]) -> tuple[AdjNode, ...]:
    """A reduction's cotangent along an axis, ``N = expand_axis(g, x, a)``, read once, by
    arithmetic later in the same block that reads x too (``t12_bar = 2.0 * N * t12``, x
    being t12): the arithmetic reads ``expand_view(g, x, a)`` instead, and N, a copy of g
    repeated along the axis, is never made (``gmm``'s mahalanobis_bar, 1000 x 10 in each
    of 25 iterations; 11 us -> 4 us each). Also for an ``expand_axis`` written inside the
    arithmetic. Nothing between may rebind N or what its expression reads."""
    reads, targets = _counted(nodes)

    def viewed(expr: str) -> str | None:
        tree = ast.parse(expr, mode="eval")
        viewer = _Viewed(twins)
        viewer.visit(tree)
        return ast.unparse(tree) if viewer.done else None

    def rewrite(block: tuple[AdjNode, ...]) -> tuple[AdjNode, ...]:
        out = list(block)
        for k, node in enumerate(block):
            if not isinstance(node, AdjStmt) or node.kind == "pop":
                continue
            if "expand_axis(" in node.expr and (expr := viewed(out[k].expr)) is not None:
                out[k] = replace(out[k], expr=expr)
                continue
            call = ast.parse(node.expr, mode="eval").body
            if not (node.kind == "assign" and targets.get(node.target) == 1 and reads.get(node.target) == 1
                    and call_name(call) == "expand_axis"):
                continue
            j = _next_reader(out, k, node.target, names_in([node.expr]))
            reader = out[j] if j is not None else None
            if isinstance(reader, AdjStmt) and reader.kind in ("assign", "add", "accumulate") \
                    and reader.target != node.target and not (reader.index and node.target in names_in(
                        [f"_[{reader.index}]"])):
                expr = viewed(ast.unparse(_Substitute(node.target, call).visit(
                    ast.parse(reader.expr, mode="eval"))))
                if expr is not None and "expand_axis(" not in expr:
                    out[k] = None
                    out[j] = replace(reader, expr=expr)
        return tuple(n for n in out if n is not None)

    return _blockwise(nodes, rewrite)


class _Substitute(ast.NodeTransformer):
    def __init__(self, name: str, expr: ast.expr) -> None:
        self.name, self.expr = name, expr

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.expr if node.id == self.name else node


# Runtime helpers that read their second argument only for its shape (and rank).
_SHAPE_READERS = frozenset({"unbroadcast", "expand_axis", "expand_view", "reshape_like"})


def _shape_twins(fn: Function, nodes: tuple[AdjNode, ...]) -> dict[str, str]:
    """Values a loop's reverse computes again only for their shape, when they are an
    elementwise function of one array and literal numbers (``t2 = t1 ** 2``, ``-t1``,
    ``np.exp(t1)``): the array, which has their shape (and which the reverse has, as it
    computes them from it)."""
    recomputed = {n.target for block in _blocks(nodes) for n in block
                  if isinstance(n, AdjStmt) and n.kind == "recompute"}
    other_reads: set[str] = set()
    for block in _blocks(nodes):
        for node in block:
            if isinstance(node, AdjStmt) and node.kind not in ("recompute", "pop"):
                tree = ast.parse(node.expr, mode="eval")
                _Polish({}, drop_shapes=True).visit(tree)
                other_reads |= names_in([ast.unparse(tree)] + ([f"_[{node.index}]"] if node.index else []))
                other_reads |= {node.target} if node.kind == "store" else set()
            else:  # a recomputation, a branch's test, a loop's range (a pop reads nothing)
                other_reads |= node_reads(node)
    return {name: array for name, array in _same_shape(fn).items() if name in recomputed - other_reads}


def _same_shape(fn: Function) -> dict[str, str]:
    """Values that are an elementwise function of one array and literal numbers
    (``t2 = t1 ** 2``, ``-t1``, ``np.exp(t1)``): the array, which has their shape."""
    twins: dict[str, str] = {}
    assigned: dict[str, int] = {}
    for stmt in walk(fn.body):
        if isinstance(stmt, Assign):
            assigned[stmt.target.name] = assigned.get(stmt.target.name, 0) + 1
    for stmt in walk(fn.body):
        if isinstance(stmt, Assign) and assigned[stmt.target.name] == 1 and RULES[stmt.op.prim].rank == "broadcast":
            arrays = [a for a in stmt.op.args if not isinstance(a, Const)]
            if len(arrays) == 1 and isinstance(arrays[0], Var) and all(
                    isinstance(a.value, (int, float)) for a in stmt.op.args if isinstance(a, Const)):
                twins[stmt.target.name] = arrays[0].name
    return twins


class _Polish(ast.NodeTransformer):
    """``unbroadcast(-e, x)`` is ``-unbroadcast(e, x)``: negate after summing (fewer
    numbers); a shape reader reads the shape of a twin (see ``_shape_twins``), or, with
    ``drop_shapes``, nothing (to find what else an expression reads)."""

    def __init__(self, twins: dict[str, str], drop_shapes: bool = False) -> None:
        self.twins, self.drop_shapes = twins, drop_shapes

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id in _SHAPE_READERS and len(node.args) >= 2):
            return node
        like = node.args[1]
        if isinstance(like, ast.Name) and (like.id in self.twins or self.drop_shapes):
            node.args[1] = ast.Constant(None) if self.drop_shapes else ast.Name(self.twins[like.id], ast.Load())
        first = node.args[0]
        if node.func.id == "unbroadcast" and isinstance(first, ast.UnaryOp) and isinstance(first.op, ast.USub):
            node.args[0] = first.operand
            return ast.UnaryOp(ast.USub(), node)
        return node


def _polished(nodes: tuple[AdjNode, ...], twins: dict[str, str]) -> tuple[AdjNode, ...]:
    out: list[AdjNode] = []
    for node in nodes:
        if isinstance(node, AdjIf):
            node = replace(node, then=_polished(node.then, twins), orelse=_polished(node.orelse, twins))
        elif isinstance(node, AdjFor):
            node = replace(node, body=_polished(node.body, twins))
        elif node.kind != "pop" and any(f"{name}(" in node.expr for name in _SHAPE_READERS):
            before = ast.unparse(ast.parse(node.expr, mode="eval"))
            expr = ast.unparse(_Polish(twins).visit(ast.parse(node.expr, mode="eval")))
            if expr != before:
                node = replace(node, expr=expr)
        out.append(node)
    return tuple(out)


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
