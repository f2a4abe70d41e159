"""An eager reverse: a loop whose adjoint can run as each iteration ends, with no tape.

The reverse sweep runs a loop's iterations backwards because an iteration's adjoint reads
cotangents that later iterations change. Where nothing does, the order does not matter: in
``while_newton`` (after ``transform/tangent.py``) the last loop of the function sums into
``s``, which the function returns, and the reverse of an iteration is
``b_bar[k] += s_bar * dz_1_db``: ``s_bar`` is the seed all along, and each iteration adds into
cotangents of its own. Such an iteration's adjoint can then run right after the iteration,
reading its values where they are, instead of taping them and reading them back (the
hand-written gradient does exactly this).

``eager_loop`` finds that case, conservatively: the forward sweep ends with a ``for`` loop
(only the return after it); the adjoint is that loop's reverse, after statements that only
start cotangents from the arguments and the seed; the reverse body has no loop (a branch is
fine: the forward's test, read where the iteration left it, takes the same branch) and no
pop but those of what the loop pushes, and nothing else is taped (a loop that tapes nothing
keeps its reverse sweep: there is no tape to save); every cotangent it reads is either one
it assigns before reading it in the same iteration (on every path) or one it never
changes; every cotangent it adds into, it never reads. A recomputation of a value the forward
iteration computed goes (at its end the value is at hand, also in the branch of an ``if``
that ran); one of a value this sweep's forward leaves out (``<name>_grad`` computes only
what the adjoint reads) stays.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace

from ..codegen.render import render
from ..ir.nodes import Assign, For, If, Stmt
from .control import direct_names
from .reverse import AdjFor, AdjIf, AdjNode, Adjoint, AdjStmt, Tape, node_reads


@dataclass(frozen=True)
class EagerLoop:
    """``start``: the adjoint statements before the loop's reverse (cotangents started);
    ``body``: the adjoint of one iteration, to run at its end in the forward loop."""

    start: tuple[AdjStmt, ...]
    body: tuple[AdjNode, ...]


def eager_loop(forward: tuple[Stmt, ...], adjoint: Adjoint, params: tuple[str, ...]) -> EagerLoop | None:
    """The adjoint of ``forward``'s last loop as an ``EagerLoop``, or None where the reverse
    must run backwards (see the module's doc). ``forward``: the vjp's forward sweep, without
    its return."""
    if not forward or not isinstance(forward[-1], For) or not adjoint.statements:
        return None
    loop, start = adjoint.statements[-1], adjoint.statements[:-1]
    if not isinstance(loop, AdjFor) or loop.index != forward[-1].index.name or loop.loc != forward[-1].loc:
        return None  # (the reverse of another loop: its own index and line)
    # cotangents started before the loop from what is at hand before it
    ready = set(params) | {adjoint.seed} | {s.target.name for s in forward[:-1] if isinstance(s, Assign)}
    for node in start:
        if not (isinstance(node, AdjStmt) and node.kind == "assign" and _values(node.expr) <= ready):
            return None
        ready.add(node.target)
    pops = [n for n in loop.body if isinstance(n, AdjStmt) and n.kind == "pop"]
    if loop.body[:len(pops)] != tuple(pops) or any(
            isinstance(n, AdjFor) or isinstance(n, AdjStmt) and n.kind == "pop" for n in _walk(loop.body[len(pops):])):
        return None  # an inner loop's reverse, or pops inside a branch: its own order
    if not pops or not _only_tape(adjoint.tape, {n.target for n in pops}):
        return None  # (a loop that tapes nothing keeps its reverse: nothing to save)
    body = _without_recomputed(loop.body[len(pops):], forward[-1].body, set())
    return EagerLoop(start, body) if _order_free(body, {n.target for n in start}) else None


def _without_recomputed(nodes: tuple[AdjNode, ...], stmts: tuple[Stmt, ...], bound: set[str]) -> tuple[AdjNode, ...]:
    """``nodes`` without recomputing what the forward iteration left bound: the values of its
    body ``stmts`` (and, inside the reverse of one of its ``if``s, of the branch that ran:
    the same test)."""
    values, exits = direct_names(stmts)
    bound = bound | values | exits
    ifs = {render(s.cond): s for s in stmts if isinstance(s, If)}
    out: list[AdjNode] = []
    for node in nodes:
        if isinstance(node, AdjStmt) and node.kind == "recompute" and node.target in bound:
            continue
        if isinstance(node, AdjIf) and node.cond in ifs:
            branch = ifs[node.cond]
            node = replace(node, then=_without_recomputed(node.then, branch.then, bound),
                           orelse=_without_recomputed(node.orelse, branch.orelse, bound))
        out.append(node)
    return tuple(out)


def _walk(nodes: tuple[AdjNode, ...]):
    for node in nodes:
        yield node
        if isinstance(node, AdjIf):
            yield from _walk(node.then + node.orelse)
        elif isinstance(node, AdjFor):
            yield from _walk(node.body)


def _values(expr: str) -> set[str]:
    """The names an expression reads as values (not ``zero_like`` of ``zero_like(b)``, nor
    ``np`` of ``np.sum``)."""
    tree = ast.parse(expr, mode="eval")
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)} | \
        {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def _only_tape(tape: Tape, popped: set[str]) -> bool:
    """Whether the loop's pops read every list there is (nothing else was taped)."""
    return {", ".join(names) for names in tape.regions} == popped


@dataclass
class _Scan:
    """What an iteration's adjoint has done so far (``_order_free``)."""

    local: set[str] = field(default_factory=set)  # assigned in this iteration before any read
    outside: set[str] = field(default_factory=set)  # read before assigned: from before the loop
    summed: set[str] = field(default_factory=set)  # added into, from before the loop
    half: set[str] = field(default_factory=set)  # assigned by one branch of an if only
    same: dict[str, str] = field(default_factory=dict)  # bound to a value from before the loop

    def copy(self) -> "_Scan":
        return _Scan(set(self.local), set(self.outside), set(self.summed), set(self.half), dict(self.same))


def _order_free(body: tuple[AdjNode, ...], started: set[str]) -> bool:
    """Whether iterations of ``body`` give the same cotangents in any order: a name it
    assigns is assigned before it is read in the iteration (its own), a cotangent from before
    the loop that it adds into is never read, and one that it reads is never changed."""
    return _scan(body, _Scan(), started)


def _scan(nodes: tuple[AdjNode, ...], scan: _Scan, started: set[str]) -> bool:
    for node in nodes:
        reads = node_reads(node)
        if reads & (scan.summed | scan.half):
            return False
        scan.outside |= reads - scan.local
        if isinstance(node, AdjIf):
            then, orelse = scan.copy(), scan.copy()
            if not (_scan(node.then, then, started) and _scan(node.orelse, orelse, started)):
                return False
            both = then.local & orelse.local
            scan.half |= (then.local | orelse.local) - both
            scan.local = both
            scan.outside, scan.summed = then.outside | orelse.outside, then.summed | orelse.summed
            scan.half |= then.half | orelse.half
            scan.same = {k: v for k, v in then.same.items() if orelse.same.get(k) == v}
        elif not isinstance(node, AdjStmt):
            return False  # a loop: its own reverse order
        elif node.kind in ("assign", "recompute"):
            value = scan.same.get(node.expr, node.expr if node.expr in scan.outside else None)
            if value == node.target:  # s_bar = s_2_bar, where s_2_bar = s_bar: unchanged
                continue
            if node.target in scan.outside | scan.summed or node.target in started:
                return False
            scan.local.add(node.target)
            scan.half.discard(node.target)
            scan.same.pop(node.target, None)
            if value is not None:
                scan.same[node.target] = value
        elif node.target in scan.local:  # += / x[i] += / x[i] = into the iteration's own
            scan.same.pop(node.target, None)
        elif node.kind in ("add", "accumulate", "scatter") and node.target not in scan.outside | scan.half:
            scan.summed.add(node.target)
        else:  # a store into a cotangent from before the loop: the last iteration would win
            return False
    return True
