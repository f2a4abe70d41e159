"""Codegen stage: the IR and its adjoint become one readable Python module.

Promises a ``GeneratedModule`` whose ``source`` is deterministic (the same
function gives the same bytes), defines ``<name>`` (the forward) and
``<name>_vjp`` (value and cotangents, given the result's cotangent), imports
only what it uses, and opens every group of statements with a
``# line N: <source>`` comment naming the user's line it comes from.
"""
from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass

from ..ir.nodes import Assign, For, Function, If, Loc, Return, Stmt, While, defined_names, walk
from ..rules import RULES
from ..transform.cleanup import names_in
from ..transform.control import direct_names, range_text, trip_count_text
from ..transform.eager import EagerLoop, eager_loop
from ..transform.reverse import AdjFor, AdjIf, AdjNode, Adjoint, AdjStmt, Tape
from .fold import REVERSE_MARK, fold
from .render import render

INDENT = "    "
# where a vjp whose last loop's adjoint runs in the loop (no reverse sweep) starts its cotangents
EAGER_MARK = "# adjoint: the last loop adds each iteration's cotangents as it ends (nothing after it changes them)"


@dataclass(frozen=True)
class GeneratedModule:
    source: str
    forward_name: str
    vjp_name: str
    params: tuple[str, ...]
    wrt: tuple[str, ...]
    index_params: frozenset[str]
    grad_name: str = ""  # "<name>_grad" when the module has one (see generate)
    tapes: bool = False  # a function of it pushes values on a tape (pipeline: hessian's gradient)


def tidy(expr: str) -> str:
    """One canonical spelling of an expression (redundant parentheses dropped)."""
    return ast.unparse(ast.parse(expr, mode="eval"))


class _Writer:
    """Lines at an indentation depth; each group of statements from one source line
    opens with its ``# line N:`` comment (again at the top of every nested block)."""

    def __init__(self, stacks: dict[str, str] | None = None, tops: dict[str, str] | None = None,
                 sized: dict[int, list[tuple[str, str, Loc | None]]] | None = None) -> None:
        self.lines: list[str] = []
        self.depth = 1
        self._line: tuple[str, int, str] | None = None
        self.stacks = stacks or {}
        self.tops = tops or {}
        # id of a loop -> the regions whose lists are made at its entry: (region, room, the
        # inner loop's place, or None for the loop's own region)
        self.sized = sized or {}

    def comment_for(self, loc: Loc) -> None:
        key = (loc.filename, loc.line, loc.function)
        if key != self._line:
            self._line = key
            where = f" (in {loc.function})" if loc.function else ""
            self.line(f"# line {loc.line}{where}: {loc.text.strip()}")

    def line(self, text: str) -> None:
        self.lines.append(INDENT * self.depth + text)

    def stmt(self, text: str, loc: Loc | None = None) -> None:
        if loc is not None:
            self.comment_for(loc)
        self.line(text)

    def reset(self) -> None:
        self._line = None

    def block(self, head: str, loc: Loc | None, emit) -> None:
        """``head:`` and an indented block (``pass`` if it comes out empty)."""
        self.stmt(head, loc)
        self.depth += 1
        self._line = (loc.filename, loc.line, loc.function) if loc else None
        before = len(self.lines)
        emit()
        if len(self.lines) == before:
            self.line("pass")
        self.depth -= 1
        self._line = None

    def push(self, names, loc: Loc) -> None:
        """Push a region's taped values, one tuple (or one value) onto the region's list,
        under the line of its loop or ``if``."""
        names = tuple(sorted(names))
        if names:
            item = names[0] if len(names) == 1 else f"({', '.join(names)})"
            self.stmt(f"{self.stacks[_region(names)]}.append({item})", loc)

    def make_sized(self, stmt: For) -> None:
        """Make the lists that ``sized`` names for the loop, with room for an entry per
        iteration: of the loop, and of an inner loop per iteration of both."""
        for key, room, inner in self.sized.get(id(stmt), ()):
            if inner is None:
                self.line("# tape: what the loop overwrites and the adjoint reads, with room for every iteration")
            else:
                self.line(f"# tape of the loop at line {inner.line} inside it, with room for every iteration of both")
            self.line(f"{self.stacks[key]} = new_tape({room})")


def _forward_block(w: _Writer, stmts: tuple[Stmt, ...], tape: Tape | None, in_loop: bool) -> None:
    for stmt in stmts:
        if isinstance(stmt, Assign):
            rule = RULES[stmt.op.prim]
            args = {p: render(a) for p, a in zip(rule.params, stmt.op.args)}
            if stmt.op.prim == "setitem":  # the write, in place; the new version is the same array
                w.stmt(f"{args['x']}[{args['index']}] = {tidy(args['value'])}", stmt.loc)
            w.stmt(f"{stmt.target.name} = {tidy(rule.render_forward(args))}", stmt.loc)
        elif isinstance(stmt, If):
            _forward_if(w, stmt, tape, in_loop)
        elif isinstance(stmt, (For, While)):
            _forward_loop(w, stmt, tape, in_loop)


def _merge(w: _Writer, targets: list[str], values: list[str]) -> None:
    pairs = [(t, v) for t, v in zip(targets, values) if t != v]
    if len(pairs) == 1:
        w.line(f"{pairs[0][0]} = {pairs[0][1]}")
    elif pairs:  # all at once: a carried value may be another's update (a, b = b, a)
        w.line(f"{', '.join(t for t, _ in pairs)} = {', '.join(v for _, v in pairs)}")


def _forward_if(w: _Writer, stmt: If, tape: Tape | None, in_loop: bool) -> None:
    targets = [p.var.name for p in stmt.phis]

    def then() -> None:
        _forward_block(w, stmt.then, tape, in_loop)
        if tape and in_loop:
            w.push(_taped(stmt.then, tape), stmt.loc)
        _merge(w, targets, [render(p.first) for p in stmt.phis])

    def orelse() -> None:
        _forward_block(w, stmt.orelse, tape, in_loop)
        if tape and in_loop:
            w.push(_taped(stmt.orelse, tape), stmt.loc)
        _merge(w, targets, [render(p.second) for p in stmt.phis])

    w.block(f"if {render(stmt.cond)}:", stmt.loc, then)
    if stmt.orelse or stmt.phis:
        w.block("else:", None, orelse)
    w.reset()


def _forward_loop(w: _Writer, stmt: For | While, tape: Tape | None, in_loop: bool,
                  eager: tuple[AdjNode, ...] = ()) -> None:
    """Carried values set before the loop and updated at the end of each iteration, where
    the tape pushes what the iteration taped (the carried values as it found them among
    them: they change only in that update), or where ``eager``, the iteration's adjoint,
    runs (transform/eager.py). A while loop computes its test before the loop and again
    after each iteration."""
    targets = [p.var.name for p in stmt.carried]
    cond = stmt.cond if isinstance(stmt, While) else ()
    w.comment_for(stmt.loc)
    _merge(w, targets, [render(p.first) for p in stmt.carried])
    _forward_block(w, cond, None, False)
    if isinstance(stmt, For):
        w.make_sized(stmt)

    def body() -> None:
        _forward_block(w, stmt.body, tape, True)
        if eager:
            w.reset()
            w.line("# adjoint of this iteration")
            _adjoint_block(w, eager)
        elif tape:
            w.push(_loop_taped(stmt, tape), stmt.loc)
        _merge(w, targets, [render(p.second) for p in stmt.carried])
        _forward_block(w, cond, None, False)

    head = f"while {render(stmt.test)}:" if isinstance(stmt, While) else \
        f"for {stmt.index.name} in {range_text(stmt)}:"
    w.block(head, stmt.loc, body)
    w.reset()


def _loop_taped(stmt: For | While, tape: Tape) -> set[str]:
    """What a loop's body pushes at the end of each iteration: what it taped of its own,
    and its carried values as the iteration found them."""
    return _taped(stmt.body, tape) | {p.var.name for p in stmt.carried if p.var.name in tape.iteration}


def _region(names) -> str:
    """The key of a region's list: the names it tapes, sorted (``"a, b"``)."""
    return ", ".join(sorted(names))


def _taped(stmts: tuple[Stmt, ...], tape: Tape) -> set[str]:
    """What a region taped of its own: values it defines, carried values of its loops."""
    values, exits = direct_names(stmts)
    return values & tape.values | exits & tape.exits


def _sign_and_term(expr: str) -> tuple[str, str]:
    """``("-", "e")`` for ``-e`` (added as ``x - e``, ``x -= e``), else ``("+", expr)``."""
    tree = ast.parse(expr, mode="eval").body
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
        return "-", ast.unparse(tree.operand)
    return "+", expr


def _sum_text(target: str, sign: str, term: str) -> str:
    if sign == "+":
        return f"{target} + {term}"
    return ast.unparse(ast.BinOp(ast.Name(target, ast.Load()), ast.Sub(), ast.parse(term, mode="eval").body))


def _adjoint_block(w: _Writer, nodes: tuple[AdjNode, ...]) -> None:
    for node in nodes:
        if isinstance(node, AdjStmt):
            if node.kind == "pop":  # read back down the tape (list.pop() would shrink it: slow)
                top = w.tops[node.target]
                w.stmt(f"{top} -= 1", node.loc)
                w.line(f"{node.target} = {w.stacks[node.target]}[{top}]")
                continue
            expr = tidy(node.expr)
            sign, term = _sign_and_term(expr) if node.kind in ("add", "accumulate", "scatter") else ("+", expr)
            text = {"assign": f"{node.target} = {expr}", "recompute": f"{node.target} = {expr}",
                    "add": f"{node.target} = {_sum_text(node.target, sign, term)}",
                    "accumulate": f"{node.target} {sign}= {term}",
                    "scatter": f"{node.target}[{node.index}] {sign}= {term}",
                    "store": f"{node.target}[{node.index}] = {expr}"}[node.kind]
            w.stmt(text, node.loc)
        elif isinstance(node, AdjIf):
            w.block(f"if {node.cond}:", node.loc, lambda n=node: _adjoint_block(w, n.then))
            if node.orelse:
                w.block("else:", None, lambda n=node: _adjoint_block(w, n.orelse))
            w.reset()
        elif isinstance(node, AdjFor):
            w.block(f"for {node.index} in {tidy(node.iterations)}:", node.loc,
                    lambda n=node: _adjoint_block(w, n.body))
            w.reset()


def _function(head: str, doc: str, body: list[str]) -> list[str]:
    return [head, f'{INDENT}"""{doc}"""', *fold(body), ""]


def fresh_name(name: str, taken: set[str]) -> str:
    """``name``, with ``_`` appended until no name in ``taken`` is the same."""
    while name in taken:
        name = f"{name}_"
    return name


def _stack_names(fn: Function, tape: Tape) -> tuple[dict[str, str], dict[str, str]]:
    """Each region's list (keyed by its names, ``"a, b"``) and the index of its last unread
    entry: ``a_stack`` and ``a_top`` for a region that tapes one value ``a``, ``tape_N`` and
    ``tape_N_top`` for one that tapes several (its pushes and pops name them)."""
    taken = set(fn.names)
    stacks, tops = {}, {}
    several = 0
    for names in sorted(tape.regions):
        if len(names) == 1:
            stack, top = f"{names[0]}_stack", f"{names[0]}_top"
        else:
            several += 1
            stack, top = f"tape_{several}", f"tape_{several}_top"
        key = _region(names)
        stacks[key] = fresh_name(stack, taken)
        taken.add(stacks[key])
        tops[key] = fresh_name(top, taken)
        taken.add(tops[key])
    return stacks, tops


def generate(fn: Function, forward: tuple[Stmt, ...], vjp_forward: tuple[Stmt, ...],
             adjoint: Adjoint, helpers: frozenset[str], header: str,
             grad_forward: tuple[Stmt, ...] | None = None, eager: bool = True) -> GeneratedModule:
    """``grad_forward``: the forward sweep of ``<name>_grad``, when the value costs loop work
    the cotangents do not need (``loop_sin``: the whole forward loop); None: no ``<name>_grad``.
    ``eager``: a last loop whose adjoint may run as each iteration ends does (transform/eager.py)."""
    params = list(fn.param_names)
    ret = forward[-1]
    assert isinstance(ret, Return)
    result = render(ret.value)

    w = _Writer()
    _forward_block(w, forward[:-1], None, False)
    w.stmt(f"return {result}", ret.loc)
    forward_name = f"{fn.name}_forward" if fn.name in helpers | {"np", "math"} else fn.name
    fwd_lines = _function(f"def {forward_name}({', '.join(params)}):",
                          f"The forward of {fn.name}, as adjoint compiles it.", w.lines)

    stacks, tops = _stack_names(fn, adjoint.tape)
    vjp_name = f"{fn.name}_vjp"
    loop = eager_loop(vjp_forward[:-1], adjoint, fn.param_names) if eager else None
    taped = bool(stacks) and loop is None
    vjp_lines = _function(
        f"def {vjp_name}({', '.join(params + [adjoint.seed])}):",
        f"{fn.name}'s value and the cotangents of {', '.join(adjoint.wrt)}, "
        f"given the cotangent {adjoint.seed} of the value.",
        _sweeps(fn, vjp_forward[:-1], adjoint, stacks, tops, result, loop))
    grad_name = ""
    if grad_forward is not None:  # the value costs work the cotangents do not need
        grad_name = f"{fn.name}_grad"
        loop = eager_loop(grad_forward, adjoint, fn.param_names) if eager else None
        taped = taped or bool(stacks) and loop is None
        vjp_lines += [""] + _function(
            f"def {grad_name}({', '.join(params + [adjoint.seed])}):",
            f"The cotangents of {', '.join(adjoint.wrt)} alone, given {adjoint.seed}: {vjp_name} "
            f"without the work that only its value needs (what adjoint.grad calls).",
            _sweeps(fn, grad_forward, adjoint, stacks, tops, None, loop))

    body = "\n".join(fwd_lines + [""] + vjp_lines)
    source = "\n".join([f'"""{header}"""', *_imports(body, helpers), *_custom_bindings(fn), "", ""]) + body
    return GeneratedModule(source, forward_name, vjp_name, tuple(params), adjoint.wrt, fn.index_params,
                           grad_name, taped)


def _sweeps(fn: Function, forward: tuple[Stmt, ...], adjoint: Adjoint, stacks: dict[str, str],
            tops: dict[str, str], result: str | None, eager: EagerLoop | None) -> list[str]:
    """The body of a vjp: the forward sweep (pushing the tape), then the adjoint (or, with
    ``eager``, the forward's last loop running it); it returns the value and the cotangents,
    or the cotangents alone when ``result`` is None."""
    if eager is not None:
        return _eager_sweep(forward, adjoint, eager, result)
    sized = _sized(forward, adjoint.tape, stacks)
    w = _Writer(stacks, tops, sized)
    growing = sorted(stacks.keys() - {key for made in sized.values() for key, _, _ in made})
    if growing:
        w.line("# tape: values the loops overwrite and the adjoint reads")
        for name in growing:
            w.line(f"{stacks[name]} = []")
    _forward_block(w, forward, adjoint.tape, False)
    w.reset()
    if result is not None and result in adjoint.tape.names:  # the reverse loops pop earlier values into it
        kept = fresh_name(f"{result}_value", set(fn.names) | set(stacks.values()) | set(tops.values()))
        w.line(f"{kept} = {result}")
        result = kept
    if adjoint.statements:
        w.line(REVERSE_MARK)
    for name in sorted(stacks):
        w.line(f"{tops[name]} = len({stacks[name]})")
    _adjoint_block(w, adjoint.statements)
    grads = ", ".join(adjoint.grads) + ("," if len(adjoint.grads) == 1 else "")
    w.line(f"return ({grads})" if result is None else f"return {result}, ({grads})")
    return w.lines


def _sized(forward: tuple[Stmt, ...], tape: Tape,
           stacks: dict[str, str]) -> dict[int, list[tuple[str, str, Loc | None]]]:
    """The lists made at the entry of a loop outside every loop and branch, with room for
    every push: the loop's own (it knows its trip count before it runs, and nothing before
    it pushes onto its region's list: the names a region tapes are defined in it; an inner
    loop may share the list, their pushes nest), and that of a loop directly in its body
    whose trip count the outer loop does not change (``new_tape(n, m)``; a list of its own,
    pushed once per iteration of both, at most)."""
    keys = [_region(_loop_taped(s, tape)) for s in walk(forward) if isinstance(s, (For, While))]
    keys += [_region(_taped(branch, tape)) for s in walk(forward) if isinstance(s, If)
             for branch in (s.then, s.orelse)]
    sized: dict[int, list[tuple[str, str, Loc | None]]] = {}
    for stmt in forward:
        if not isinstance(stmt, For):
            continue
        own, trip = _region(_loop_taped(stmt, tape)), trip_count_text(stmt)
        made = [(own, trip, None)] if own in stacks else []
        inside = defined_names((stmt,))
        for inner in stmt.body:
            key = _region(_loop_taped(inner, tape)) if isinstance(inner, For) else ""
            if key in stacks and keys.count(key) == 1 and not names_in([trip_count_text(inner)]) & inside:
                made.append((key, f"{trip}, {trip_count_text(inner)}", inner.loc))
        if made:
            sized[id(stmt)] = made
    return sized


def _eager_sweep(forward: tuple[Stmt, ...], adjoint: Adjoint, eager: EagerLoop,
                 result: str | None) -> list[str]:
    """A vjp whose last loop's adjoint runs as each iteration ends (transform/eager.py): the
    forward sweep, the cotangents started before that loop, the loop with its adjoint."""
    w = _Writer()
    _forward_block(w, forward[:-1], None, False)
    w.line(EAGER_MARK)
    _adjoint_block(w, eager.start)
    w.reset()
    _forward_loop(w, forward[-1], None, False, eager.body)
    grads = ", ".join(adjoint.grads) + ("," if len(adjoint.grads) == 1 else "")
    w.line(f"return ({grads})" if result is None else f"return {result}, ({grads})")
    return w.lines


def _imports(body: str, helpers: frozenset[str]) -> list[str]:
    lines = []
    if re.search(r"\bmath\.", body):
        lines.append("import math")
    if re.search(r"\bnp\.", body):
        lines.append("import numpy as np")
    used = sorted(h for h in helpers if re.search(rf"\b{h}\(", body))
    if used:
        lines.append(f"from adjoint.runtime.helpers import {', '.join(used)}")
    return lines


def _custom_bindings(fn: Function) -> list[str]:
    """The custom_vjp functions the code calls, bound by name (see adjoint/custom.py)."""
    found = {stmt.op.prim: RULES[stmt.op.prim].custom for stmt in walk(fn.body)
             if isinstance(stmt, Assign) and RULES[stmt.op.prim].custom}
    if not found:
        return []
    lines = ["from adjoint.custom import custom_function", ""]
    for key, primal, rule, digest in sorted(found.values()):
        lines += [f"# {primal}: a custom_vjp function, differentiated by its rule {rule} "
                  f"(sources: sha256 {digest})",
                  f'{primal} = custom_function("{key}", "primal")',
                  f'{rule} = custom_function("{key}", "rule")']
    return lines


def header_for(fn: Function, versions: str) -> str:
    return (f"Generated by adjoint from {fn.name} ({os.path.basename(fn.loc.filename)}, "
            f"line {fn.loc.line}); {versions}.\n\nRegenerated from the source on every change: do not edit.\n")
