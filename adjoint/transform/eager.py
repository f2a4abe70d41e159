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
start cotangents from the arguments and the seed; the reverse body is straight (no branch,
no loop), pops what the loop pushes, and nothing else is taped (a loop that tapes nothing
keeps its reverse sweep: there is no tape to save); every cotangent it
reads is either one it assigns before reading it in the same iteration or one it never
changes; every cotangent it adds into, it never reads. A recomputation of a value the forward
iteration computed goes (at its end the value is at hand); one of a value this sweep's
forward leaves out (``<name>_grad`` computes only what the adjoint reads) stays.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from ..ir.nodes import Assign, For, Stmt
from .control import direct_names
from .reverse import AdjFor, Adjoint, AdjStmt, Tape, node_reads


@dataclass(frozen=True)
class EagerLoop:
    """``start``: the adjoint statements before the loop's reverse (cotangents started);
    ``body``: the adjoint of one iteration, to run at its end in the forward loop."""

    start: tuple[AdjStmt, ...]
    body: tuple[AdjStmt, ...]


def eager_loop(forward: tuple[Stmt, ...], adjoint: Adjoint, params: tuple[str, ...]) -> EagerLoop | None:
    """The adjoint of ``forward``'s last loop as an ``EagerLoop``, or None where the reverse
    must run backwards (see the module's doc). ``forward``: the vjp's forward sweep, without
    its return."""
    if not forward or not isinstance(forward[-1], For) or not adjoint.statements:
        return None
    loop, start = adjoint.statements[-1], adjoint.statements[:-1]
    if not isinstance(loop, AdjFor) or loop.index != forward[-1].index.name:
        return None
    # cotangents started before the loop from what is at hand before it
    ready = set(params) | {adjoint.seed} | {s.target.name for s in forward[:-1] if isinstance(s, Assign)}
    for node in start:
        if not (isinstance(node, AdjStmt) and node.kind == "assign" and _values(node.expr) <= ready):
            return None
        ready.add(node.target)
    pops = [n for n in loop.body if isinstance(n, AdjStmt) and n.kind == "pop"]
    if not all(isinstance(n, AdjStmt) for n in loop.body) or loop.body[:len(pops)] != tuple(pops):
        return None
    if not pops or not _only_tape(adjoint.tape, {n.target for n in pops}):
        return None  # (a loop that tapes nothing keeps its reverse: nothing to save)
    values, exits = direct_names(forward[-1].body)  # what each forward iteration leaves bound
    body = tuple(n for n in loop.body[len(pops):] if n.kind != "recompute" or n.target not in values | exits)
    return EagerLoop(start, body) if _order_free(body, {n.target for n in start}) else None


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


def _order_free(body: tuple[AdjStmt, ...], started: set[str]) -> bool:
    """Whether iterations of ``body`` give the same cotangents in any order: a name it
    assigns is assigned before it is read in the iteration (its own), a cotangent it adds
    into is never read, and neither is one started before the loop that it reads."""
    local: set[str] = set()
    read_outside: set[str] = set()  # read before the iteration assigns it: from before the loop
    summed: set[str] = set()
    same: dict[str, str] = {}  # a name the iteration bound to a value from before it: that name
    for node in body:
        reads = node_reads(node)
        if reads & summed:
            return False
        read_outside |= reads - local
        if node.kind in ("assign", "recompute"):
            value = same.get(node.expr, node.expr if node.expr in read_outside else None)
            if value == node.target:  # s_bar = s_2_bar, where s_2_bar = s_bar: unchanged
                continue
            if node.target in read_outside or node.target in summed or node.target in started:
                return False
            local.add(node.target)
            if value is not None:
                same[node.target] = value
        elif node.kind in ("add", "accumulate", "scatter"):
            if node.target in local or node.target in read_outside:
                return False
            summed.add(node.target)
        else:  # a store overwrites: the last iteration to run wins
            return False
    return True
