"""Reverse transform: the adjoint of an SSA function, control flow included.

Assumes an ``ir.Function`` and its active set. Promises an ``Adjoint``: a tree
of adjoint statements that computes every ``wrt`` cotangent, forward
statements reversed in topological order, each tagged with the location of the
forward statement it reverses. The first contribution to a cotangent assigns
it, later ones add to it (the sum at fan-out); an index read scatters its
cotangent into a zero-initialised array. A cotangent is only updated in place
once adjoint owns its array (it allocated it: ``zero_like``, or arithmetic such as
``g * y``, whose result is a new array), so no contribution can write into another
cotangent that happens to share its memory. An element write (``x_bar[i] += e``) still
goes only into an array from ``zero_like`` or a copy: the generated code stays in the
subset adjoint differentiates again (``hessian``), where only such arrays take element
writes, so a cotangent made by arithmetic is copied before its first one.

Regions (``transform/control.py``) reverse ``if`` and ``for``; values a loop
overwrites and the adjoint reads are taped (``Adjoint.tape``).
"""
from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from typing import Literal, Mapping, Union

from ..analysis.groups import array_groups
from ..analysis.overwrites import final_reads
from ..analysis.ranks import index_rank
from ..codegen.naming import Names
from ..codegen.render import render
from ..ir.nodes import (Assign, Const, For, Function, If, Loc, Phi, Return, Tup, Value, Var, While,
                        value_vars, walk, written_arrays)
from ..rules import RULES, SCATTER
from ..rules.registry import VjpContext
from .cleanup import names_in

Kind = Literal["assign", "add", "accumulate", "scatter", "store", "pop", "recompute"]


@dataclass(frozen=True)
class AdjStmt:
    """``target = expr`` / ``target = target + expr`` / ``target += expr`` /
    ``target[index] += expr`` / ``target[index] = expr`` / ``target = expr`` recomputing a
    forward value instead of popping it / a pop, ``a, b = tape_1[tape_1_top]``, reading back
    the values one forward iteration of a region taped (``target`` names them: ``"a, b"``)."""

    kind: Kind
    target: str
    expr: str
    loc: Loc
    index: str = ""


@dataclass(frozen=True)
class AdjIf:
    cond: str
    then: tuple["AdjNode", ...]
    orelse: tuple["AdjNode", ...]
    loc: Loc


@dataclass(frozen=True)
class AdjFor:
    """The loop run backwards, ``for index in iterations:``: a ``for`` loop's index runs
    through its range reversed; a ``while`` loop repeats its trip count. Each iteration
    first pops the values the forward iteration taped and recomputes the cheap ones."""

    index: str
    iterations: str
    body: tuple["AdjNode", ...]
    loc: Loc
    scope: frozenset[str] = frozenset()  # what the forward body defines: new in each iteration


AdjNode = Union[AdjStmt, AdjIf, AdjFor]


def node_reads(node: AdjNode) -> set[str]:
    """The names one adjoint node reads itself, not those of the nodes nested in it (a pop
    reads nothing; an element store also reads the array it writes into)."""
    if isinstance(node, AdjStmt):
        if node.kind == "pop":
            return set()
        out = names_in([node.expr] + ([f"_[{node.index}]"] if node.index else []))
        return out | {node.target} if node.kind == "store" else out
    return names_in([node.cond if isinstance(node, AdjIf) else node.iterations])


@dataclass(frozen=True)
class Tape:
    """What the forward sweep pushes: of each region (a loop body, or a branch inside a
    loop), the ``values`` it defines, the ``exits`` (carried values) of the loops it holds,
    and, for a loop body, the ``iteration`` values (carried values as the iteration found
    them). Each region pushes its taped values together, one tuple at the end of each run
    of it, onto its own list (two regions that tape the same names, a loop's carried value
    as each iteration found it and as the loop left it, share one: their pushes nest, so
    their pops mirror them); ``regions`` lists each region's names, sorted. Only values
    defined inside a loop are ever taped."""

    values: frozenset[str] = frozenset()
    iteration: frozenset[str] = frozenset()
    exits: frozenset[str] = frozenset()
    regions: frozenset[tuple[str, ...]] = frozenset()

    @property
    def names(self) -> frozenset[str]:
        return self.values | self.iteration | self.exits


@dataclass(frozen=True)
class Adjoint:
    wrt: tuple[str, ...]
    seed: str
    statements: tuple[AdjNode, ...]
    grads: tuple[str, ...]
    tape: Tape = Tape()
    cotangent_of: Mapping[str, str] = field(default_factory=dict)  # x_bar -> x


@dataclass
class Cotangents:
    """The cotangent variables known at one point of the reverse sweep.

    ``defined`` are the primal names whose region this scope reverses: their cotangents
    start fresh here. A contribution to any other name goes to a cotangent that an
    enclosing scope holds (``outer``), created there before the region if needed; inside a
    loop (``outer_owned``) those are made arrays the adjoint owns, so they grow in place.
    Every primal name has one cotangent name for the whole function (``registry``)."""

    names: Names
    bars: dict[str, str] = field(default_factory=dict)
    owned: set[str] = field(default_factory=set)
    out: list[AdjNode] = field(default_factory=list)
    defined: frozenset[str] | None = None  # None: the whole function
    outer: dict[str, bool] = field(default_factory=dict)  # outer name -> must be owned
    outer_owned: bool = False
    registry: dict[str, str] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)  # analysis/ranks.py
    # owned arrays that arithmetic made (``g * y``): added to in place, but copied before an
    # element write (user code, and so hessian, writes elements only into np.zeros or copies)
    computed: set[str] = field(default_factory=set)
    parent: "Cotangents | None" = None

    def child(self, defined: frozenset[str], in_loop: bool) -> "Cotangents":
        return Cotangents(self.names, dict(self.bars), set(self.owned), [], defined, {}, in_loop,
                          self.registry, self.ranks, set(self.computed), self)

    def _owned_by_loop(self, var: str) -> bool:
        """``var``'s cotangent is outer to the nearest enclosing loop, which makes it an array
        of its own before it starts (a branch in a loop adds into it in place, as the loop
        does, instead of copying it at each iteration: w_bar[i] += ... under an if)."""
        scope = self.parent
        while scope is not None and not scope.outer_owned:
            scope = scope.parent
        return scope is not None and scope.is_outer(var)

    def writable(self, bar: str) -> bool:
        """``bar`` is ours, from ``zero_like`` or a copy: an element write may go into it."""
        return bar in self.owned and bar not in self.computed

    def disown(self, bar: str) -> None:
        self.owned.discard(bar)
        self.computed.discard(bar)

    def zero(self, var: str) -> str:
        """A zero cotangent for ``var``: ``0.0`` for a known scalar (nothing to read)."""
        return "0.0" if self.ranks.get(var) == 0 else f"zero_like({var})"

    def bar(self, var: str) -> str:
        if var not in self.registry:
            self.registry[var] = self.names.cotangent(var)
        self.bars[var] = self.registry[var]
        return self.bars[var]

    def is_outer(self, var: str) -> bool:
        return self.defined is not None and var not in self.defined

    def add(self, var: str, expr: str, loc: Loc, index: str | None = None, made: str = "") -> None:
        """Add ``expr`` into ``var``'s cotangent; ``made``: a temporary array that ``expr``
        is (or sums down) and that nothing reads after it (``_shared_quotients``)."""
        known = var in self.bars
        bar = self.bar(var)
        if self.is_outer(var):
            self.outer[var] = self.outer.get(var, False) or self.outer_owned
            known = True  # the enclosing scope creates it before the region
            if self.outer_owned or self._owned_by_loop(var):  # made ours before the loop: each
                # iteration may write into it
                self.owned.add(bar)
                self.computed.discard(bar)
        if index is not None:
            if not known:
                self.out.append(AdjStmt("assign", bar, self.zero(var), loc))
            elif not self.writable(bar):
                self.out.append(AdjStmt("assign", bar, f"{bar}.copy()", loc))
            self.owned.add(bar)
            self.computed.discard(bar)
            self.out.append(AdjStmt("scatter", bar, expr, loc, index))
        elif not known:
            self.out.append(AdjStmt("assign", bar, expr, loc))
            if _fresh(expr):
                self.owned.add(bar)
            elif _allocates(expr, made):
                self.owned.add(bar)
                self.computed.add(bar)
        elif bar in self.owned:
            self.out.append(AdjStmt("accumulate", bar, expr, loc))
        else:
            self.out.append(AdjStmt("add", bar, expr, loc))
            self.owned.add(bar)


def _call_of(expr: str, names: tuple[str, ...]) -> bool:
    tree = ast.parse(expr, mode="eval").body
    return isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id in names


def _fresh(expr: str) -> bool:
    """``expr`` makes new zeros of its primal's shape (or a number): a cotangent that an
    element write may go into as it is (``zero_like(x)``; the subset that hessian
    differentiates writes elements into it, as into np.zeros)."""
    return _call_of(expr, ("zero_like",))


def _allocates(expr: str, made: str = "") -> bool:
    """``expr`` makes a new array (or a number): arithmetic on arrays, the sum of one
    down to a shape (``unbroadcast`` returns its argument or a new sum of it), the
    temporary ``made`` as it is or summed, or ``fill_like(g, x)``. Such a cotangent is added
    to in place, but an element write goes into a copy: hessian refuses element writes into
    ``fill_like``'s result."""
    if _call_of(expr, ("fill_like",)):
        return True
    tree = _summed(ast.parse(expr, mode="eval").body)
    return isinstance(tree, (ast.BinOp, ast.UnaryOp)) and not isinstance(tree.op, ast.UAdd) or \
        made != "" and isinstance(tree, ast.Name) and tree.id == made


def _summed(tree: ast.expr) -> ast.expr:
    """What ``unbroadcast(e, x)`` sums down (e), as many times as it is wrapped."""
    while isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "unbroadcast" \
            and len(tree.args) == 2:
        tree = tree.args[0]
    return tree


def reverse(fn: Function, wrt: tuple[str, ...], active: frozenset[str],
            ranks: dict[str, int] | None = None, libm_taped: bool = True) -> Adjoint:
    """``libm_taped=False``: a loop's reverse computes arrays of libm results again rather
    than tape them, and a branch's reverse the values of the branch it reads (for
    adjoint.hessian, which differentiates the gradient: no tape, and no value read across
    two ifs)."""
    written = written_arrays(fn.body)
    families = _families(fn, written, ranks or {})
    # Views of the written arrays see their writes: like the arrays, nothing is computed
    # again from them (a loop's reverse computes at its start, before undoing any write).
    views = frozenset().union(*families) - written
    sweep = functools.partial(_sweep, libm_taped=libm_taped, views=views)
    adjoint = sweep(fn, wrt, active, ranks, written, restore=written)
    needs_undo = frozenset().union(*(family for family in families
                                     if _reads_undone(adjoint.statements, family)))
    restore = written & needs_undo
    if restore != written:
        # Nothing reads these arrays once their writes are undone: the overwritten values
        # need not be saved (nor taped in loops), and the writes need not be undone. The
        # arrays then keep their last values, so an element no later write changes is read
        # again from its array instead of taped.
        final = final_reads(fn, ranks or {})
        final = frozenset(stmt.target.name for stmt in walk(fn.body) if isinstance(stmt, Assign)
                          and stmt.target.name in final and stmt.op.args[0].name not in restore)
        adjoint = sweep(fn, wrt, active, ranks, written, restore=restore, final=final)
    return adjoint


def _sweep(fn: Function, wrt: tuple[str, ...], active: frozenset[str], ranks: dict[str, int] | None,
           written: frozenset[str], restore: frozenset[str], final: frozenset[str] = frozenset(),
           libm_taped: bool = True, views: frozenset[str] = frozenset()) -> Adjoint:
    from .control import Reverser

    names = Names(set(fn.names), set())
    cot = Cotangents(names, ranks=dict(ranks or {}))
    ret = fn.body[-1]
    assert isinstance(ret, Return)
    if isinstance(ret.value, Var):
        seed = cot.bar(ret.value.name)
    else:
        seed = names.cotangent(fn.name)
    reverser = Reverser(active, written, restore, final, ranks if libm_taped else None, views,
                        recompute_branches=not libm_taped)
    reverser.block(fn.body[:-1], cot)
    grads = []
    for p in wrt:
        if p not in cot.bars:
            cot.out.append(AdjStmt("assign", cot.bar(p), cot.zero(p), fn.loc))
        grads.append(cot.bars[p])
    return Adjoint(wrt, seed, tuple(cot.out), tuple(grads), reverser.tape(),
                   {bar: var for var, bar in cot.registry.items()})


def _families(fn: Function, written: frozenset[str], ranks: dict[str, int]) -> list[frozenset[str]]:
    """The written arrays, one family per array: the versions element writes and merges make
    of it, and every name that may share its memory (views of them, merges of those)."""
    groups = array_groups(fn.body)  # a merge of written arrays is written (written_arrays)
    members: dict[str, set[str]] = {}
    for name in written:
        members.setdefault(groups.find(name), set()).add(name)
    return [_aliases(fn, frozenset(array), ranks) for array in members.values()]


def _aliases(fn: Function, written: frozenset[str], ranks: dict[str, int]) -> frozenset[str]:
    """The written arrays and every name that may share their memory: views of them
    (an element read known to be a number is a copy) and merges of those."""
    from ..frontend.control import VIEWS

    family = set(written)
    stmts = list(walk(fn.body))
    grew = True
    while grew:
        grew = False
        for stmt in stmts:
            if isinstance(stmt, Assign):
                new = [stmt.target.name] if stmt.op.prim in VIEWS and ranks.get(stmt.target.name) != 0 \
                    and any(v.name in family for v in value_vars(stmt.op.args[0])) else []
            elif isinstance(stmt, If):
                new = [p.var.name for p in stmt.phis if _merges(p, family)]
            elif isinstance(stmt, (For, While)):
                new = [p.var.name for p in stmt.carried if _merges(p, family)]
            else:
                new = []
            for name in new:
                if name not in family:
                    family.add(name)
                    grew = True
    return frozenset(family)


def _merges(phi: Phi, family: set[str]) -> bool:
    return any(isinstance(v, Var) and v.name in family for v in (phi.first, phi.second))


def _reads_undone(nodes: tuple[AdjNode, ...], family: frozenset[str]) -> bool:
    """Whether an adjoint statement reads one of ``family`` (a written array and its
    aliases) after a write into it has been undone (a loop's body runs again after itself,
    unless the array is made anew in each iteration: then an earlier iteration reads its
    own). Passing an array on under another name (``y_2 = y_1``) reads nothing."""
    undone = False

    def visit(nodes: tuple[AdjNode, ...]) -> bool:
        nonlocal undone
        for node in nodes:
            if isinstance(node, AdjStmt):
                if node.kind == "pop" or node.kind in ("assign", "recompute") and node.expr in family:
                    continue
                if node.kind == "store" and node.target in family:  # a write undone
                    undone = True
                    continue
                if undone and node_reads(node) & family:
                    return True
            elif isinstance(node, AdjIf):
                if undone and node_reads(node) & family or visit(node.then) or visit(node.orelse):
                    return True
            elif isinstance(node, AdjFor):
                # Made anew in each iteration (the frontend writes only into arrays made in
                # the function that no other name sees, and refuses to read a view after a
                # write into its array, so every name of the family is one of this
                # iteration's): the next reverse iteration, an earlier forward one, reads its
                # own array, as the first pass through the body did.
                before = undone
                if visit(node.body):
                    return True
                if family <= node.scope:
                    undone = before
                elif visit(node.body):
                    return True
        return False
    return visit(nodes)


def reverse_setitem(stmt: Assign, active: frozenset[str], cot: Cotangents, restore: bool = True) -> None:
    """``out = x`` after ``x[index] = value``: value gets ``out_bar[index]``, x gets out_bar
    with that part zeroed (it was overwritten), and the overwritten ``old`` is written back,
    so that the adjoint of every earlier statement reads x as that statement did."""
    x, index, value, old = stmt.op.args
    idx = render(index)
    g = cot.bars.get(stmt.target.name) if stmt.target.name in active else None
    if g is not None and isinstance(value, Var) and value.name in active:
        if cot.ranks.get(value.name) == 0 and index_rank(x, index, cot.ranks) == 0:
            cot.add(value.name, f"{g}[{idx}]", stmt.loc)  # a number: read before it is zeroed
        else:
            cot.add(value.name, f"unbroadcast(copy_of({g}[{idx}]), {value.name})", stmt.loc)
    if g is not None and isinstance(x, Var) and x.name in active:
        if x.name not in cot.bars and not cot.is_outer(x.name) and cot.writable(g):
            cot.out.append(AdjStmt("store", g, "0.0", stmt.loc, idx))  # g is ours: reuse it
            cot.add(x.name, g, stmt.loc)
            cot.owned.add(cot.bars[x.name])
        else:
            fresh = x.name not in cot.bars and not cot.is_outer(x.name)
            # the copy is x_bar itself when x has no cotangent yet (ours), else a part added to it
            kept = cot.bar(x.name) if fresh else cot.names.fresh(f"{g}_kept")
            cot.out.append(AdjStmt("assign", kept, f"{g}.copy()", stmt.loc))
            cot.out.append(AdjStmt("store", kept, "0.0", stmt.loc, idx))
            if fresh:
                cot.owned.add(kept)
                cot.computed.discard(kept)
            else:
                cot.add(x.name, kept, stmt.loc)
    if restore:
        cot.out.append(AdjStmt("store", render(x), render(old), stmt.loc, idx))  # the write, undone


def _reuse(expr: str, computed: Mapping[tuple[str, str], str]) -> str:
    """``expr`` with each call ``np.f(x)`` that the forward computed as a value (``computed``,
    (f, x) -> its name) read from that value."""
    if not computed or "np." not in expr:
        return expr
    tree = ast.parse(expr, mode="eval")
    found = False

    class Reuse(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            nonlocal found
            self.generic_visit(node)
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "np" \
                    and len(node.args) == 1 and not node.keywords:
                name = computed.get((f.attr, ast.unparse(node.args[0])))
                if name is not None:
                    found = True
                    return ast.Name(name, ast.Load())
            return node

    tree = Reuse().visit(tree)
    return ast.unparse(tree) if found else expr


def reverse_assign(stmt: Assign, active: frozenset[str], cot: Cotangents, restore: bool = True,
                   computed: Mapping[tuple[str, str], str] | None = None) -> None:
    """The adjoint of one statement, its rule's formulas read with ``computed``'s values
    (``_reuse``)."""
    if stmt.op.prim == "setitem":
        reverse_setitem(stmt, active, cot, restore)
        return
    rule = RULES[stmt.op.prim]
    args = dict(zip(rule.params, stmt.op.args))
    rendered = {p: render(a) for p, a in args.items()}
    items = {p: tuple(render(i) for i in a.items) for p, a in args.items() if isinstance(a, Tup)}
    g = cot.bars[stmt.target.name]
    parts = []
    for param, vjp in rule.vjp.items():
        arg = args[param]
        if vjp == SCATTER:
            if isinstance(arg, Var) and arg.name in active:
                cot.add(arg.name, g, stmt.loc, index=rendered["index"])
            continue
        if callable(vjp):
            exprs = vjp(VjpContext(rendered, items, stmt.target.name, g))
        else:
            template = _drop_unbroadcast(vjp, param, args, stmt.target.name, cot.ranks,
                                         elementwise=rule.rank == "broadcast")
            exprs = template.format(**rendered, out=stmt.target.name, g=g)
        targets = arg.items if isinstance(arg, Tup) else (arg,)
        exprs = exprs if isinstance(exprs, list) else [exprs]
        parts += [(target.name, _reuse(expr, computed or {})) for target, expr in zip(targets, exprs)
                  if isinstance(target, Var) and target.name in active]
    for name, expr, made in _shared_quotients(parts, cot, stmt.loc):
        cot.add(name, expr, stmt.loc, made=made)


def _shared_quotients(parts: list[tuple[str, str]], cot: Cotangents,
                      loc: Loc) -> list[tuple[str, str, str]]:
    """The cotangents of one statement's operands, a quotient that several of them divide
    (``g / y`` of ``x / y``: ``x_bar = g / y``, ``y_bar = -(g / y) * out``) computed once,
    into a temporary, before them. A division costs several multiplications (bundle
    adjustment's adjoint divided twice by each of z2 and theta: 7% of its gradient). With
    each cotangent, the temporary it may keep as its own array (``Cotangents.add``): the
    first that is the temporary itself, as the others only read it before it."""
    if len(parts) < 2:
        return [(name, expr, "") for name, expr in parts]
    trees = [ast.parse(expr, mode="eval") for _, expr in parts]
    owners: dict[str, set[int]] = {}
    nodes: dict[str, ast.BinOp] = {}
    for i, tree in enumerate(trees):
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                key = ast.dump(node)
                owners.setdefault(key, set()).add(i)
                nodes.setdefault(key, node)
    shared = {key for key, where in owners.items() if len(where) > 1}
    inner = {ast.dump(n) for key in shared for n in ast.walk(nodes[key]) if n is not nodes[key]}
    names = {}
    for key in sorted(shared - inner, key=list(nodes).index):
        names[key] = cot.names.temp()
        cot.out.append(AdjStmt("assign", names[key], ast.unparse(nodes[key]), loc))
    if not names:
        return [(name, expr, "") for name, expr in parts]

    class Share(ast.NodeTransformer):
        def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
            name = names.get(ast.dump(node))
            return ast.Name(name, ast.Load()) if name else self.generic_visit(node)

    out, kept = [], set()
    for (name, _), tree in zip(parts, trees):
        tree = Share().visit(tree)
        summed = _summed(tree.body)
        made = summed.id if isinstance(summed, ast.Name) and summed.id in names.values() else ""
        if made in kept:
            made = ""
        kept.add(made)
        out.append((name, ast.unparse(tree), made))
    return out


def _drop_unbroadcast(template: str, param: str, args: dict[str, Value], out: str,
                      ranks: dict[str, int], elementwise: bool) -> str:
    """``unbroadcast(e, x)`` is just ``e`` when the rule is elementwise and every other
    operand is a literal number (then the output already has x's shape), or when x and the
    output are both scalars. Not for a constructor: np.full(4, v)'s other operands are
    literals too (the shape, the dtype), and v's cotangent is the sum of g."""
    head, tail = "unbroadcast(", f", {{{param}}})"
    others = [a for p, a in args.items() if p != param]
    arg = args[param]
    scalars = isinstance(arg, Var) and ranks.get(arg.name) == 0 and ranks.get(out) == 0
    if template.startswith(head) and template.endswith(tail) and (
            scalars or elementwise and others and all(isinstance(a, Const) for a in others)):
        return template[len(head):-len(tail)]
    return template

