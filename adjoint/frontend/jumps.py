"""Jump elimination: ``break``, ``continue`` and early ``return`` become structured code.

Assumes a fenced ``ast.FunctionDef``; promises an equivalent one without ``break`` or
``continue`` and with one ``return``, the last statement, so the lowering and the IR only
know ``if``, ``for`` and ``while``. Every new node carries the location of the jump or
loop it comes from, so errors and ``# line N:`` comments still point at the user's lines.

- The statements after an ``if`` that jumps move into the branches that fall through
  (``if c: continue`` + rest  ->  ``if c: pass  else: rest``): ``continue`` and a return
  outside loops need no flag.
- ``break`` becomes ``broke = True`` and ends the iteration; the loop stops on the flag: a
  ``for`` body runs under ``if not broke:`` (the remaining iterations do nothing, so the
  loop keeps its ``range`` and its adjoint its reversed ``range``); a ``while`` test
  becomes ``not broke and (test)``.
- ``return e`` inside a loop becomes ``result = e; returned = True`` and ends the
  iteration; ``returned`` stops every loop around it, and after the outermost one
  ``if returned: return result`` rejoins the code above.
- Finally every ``return e`` becomes ``result = e`` and the function ends in
  ``return result``. A function without early returns is left as it was.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
from typing import Iterator

from .source import Parsed

_LOOPS = (ast.For, ast.While)


def _walk_no_loops(stmts: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of the statements, not descending into nested loops."""
    todo: list[ast.AST] = list(stmts)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _LOOPS):
            todo.extend(ast.iter_child_nodes(node))


def _jumps(stmts: list[ast.stmt], kind: type) -> bool:
    return any(isinstance(n, kind) for n in _walk_no_loops(stmts))


def ends(stmts: list[ast.stmt], kind: type) -> bool:
    """Every path through the statements ends in a ``kind`` jump (for a return, a ``while
    True:`` loop that returns and has no ``break`` counts: it leaves only by returning)."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, kind):
        return True
    if kind is ast.Return and isinstance(last, ast.While) and _always(last.test) \
            and not _jumps(last.body, ast.Break) and any(isinstance(n, ast.Return) for n in ast.walk(last)):
        return True
    return isinstance(last, ast.If) and ends(last.body, kind) and ends(last.orelse, kind)


def _always(test: ast.expr) -> bool:
    """``True``, ``1``: a test decided before run time, always true."""
    return isinstance(test, ast.Constant) and not isinstance(test.value, str) and bool(test.value)


def _absorb(stmts: list[ast.stmt], kind: type) -> list[ast.stmt]:
    """The statements with each ``kind`` jump last on its path: what follows an ``if``
    that jumps moves into its branches that fall through; what follows a jump is dropped."""
    out: list[ast.stmt] = []
    for k, stmt in enumerate(stmts):
        if isinstance(stmt, kind):
            out.append(stmt)
            return out
        if isinstance(stmt, ast.If) and _jumps([stmt], kind):
            rest = stmts[k + 1:]
            body = stmt.body + ([] if ends(stmt.body, kind) else copy.deepcopy(rest))
            orelse = stmt.orelse + ([] if ends(stmt.orelse, kind) else copy.deepcopy(rest))
            out.append(ast.copy_location(ast.If(stmt.test, _absorb(body, kind), _absorb(orelse, kind)), stmt))
            return out
        out.append(stmt)
    return out


def _replace(stmts: list[ast.stmt], kind: type, make) -> list[ast.stmt]:
    """Replace each ``kind`` jump (outside nested loops) by the statements ``make(jump)``."""
    out: list[ast.stmt] = []
    for stmt in stmts:
        if isinstance(stmt, kind):
            out.extend(make(stmt))
        elif isinstance(stmt, ast.If):
            stmt.body = _replace(stmt.body, kind, make) or [ast.copy_location(ast.Pass(), stmt)]
            stmt.orelse = _replace(stmt.orelse, kind, make)
            out.append(stmt)
        else:
            out.append(stmt)
    return out


def _name(name: str, node: ast.AST, store: bool = False) -> ast.Name:
    return ast.copy_location(ast.Name(name, ast.Store() if store else ast.Load()), node)


def _set(name: str, value: ast.expr, node: ast.AST) -> ast.Assign:
    return ast.copy_location(ast.Assign([_name(name, node, True)], value), node)


LOOP_RETURN = "adjoint_loop_return"  # marks ``result = e`` made of a return inside a loop


def _loop_return(assign: ast.Assign) -> ast.Assign:
    """The lowering checks that e is a number: ``result`` starts as ``0``, and compiled code
    gives a variable one type."""
    setattr(assign, LOOP_RETURN, True)
    return assign


def _const(value, node: ast.AST) -> ast.Constant:
    return ast.copy_location(ast.Constant(value), node)


def _none_of(flags: list[str], node: ast.AST) -> ast.expr:
    """``not a and not b``."""
    tests = [ast.copy_location(ast.UnaryOp(ast.Not(), _name(f, node)), node) for f in flags]
    return tests[0] if len(tests) == 1 else ast.copy_location(ast.BoolOp(ast.And(), tests), node)


class _Eliminate:
    def __init__(self, tree: ast.FunctionDef) -> None:
        self.taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        self.taken |= {a.arg for a in tree.args.args}
        self.result = self.fresh("result")
        self.returned = self.fresh("returned")
        self.returns_in_loops = False

    def fresh(self, base: str) -> str:
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def block(self, stmts: list[ast.stmt], in_loop: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            if isinstance(stmt, _LOOPS):
                out.extend(self.loop(stmt, in_loop))
            elif isinstance(stmt, ast.If):
                stmt.body = self.block(stmt.body, in_loop)
                stmt.orelse = self.block(stmt.orelse, in_loop)
                out.append(stmt)
            else:
                out.append(stmt)
        return out

    def loop(self, stmt: ast.For | ast.While, in_loop: bool) -> list[ast.stmt]:
        has_return = any(isinstance(n, ast.Return) for n in ast.walk(stmt))
        body = self.block(stmt.body, True)  # inner loops first: their jumps are theirs
        has_break = _jumps(body, ast.Break)
        broke = self.fresh("broke") if has_break else ""
        if has_break:
            body = _replace(body, ast.Break, lambda j: [_set(broke, _const(True, j), j), ast.copy_location(ast.Continue(), j)])
        if has_return:
            self.returns_in_loops = True
            body = _replace(body, ast.Return, lambda j: [_loop_return(_set(self.result, j.value, j)),
                                                         _set(self.returned, _const(True, j), j),
                                                         ast.copy_location(ast.Continue(), j)])
        body = _replace(_absorb(body, ast.Continue), ast.Continue, lambda j: [])
        flags = [f for f in (broke, self.returned if has_return else "") if f]
        if flags and isinstance(stmt, ast.For):
            body = [ast.copy_location(ast.If(_none_of(flags, stmt), body or [ast.Pass()], []), stmt)]
        elif flags and _always(stmt.test):  # while True: until a flag is set
            stmt.test = ast.copy_location(_none_of(flags, stmt), stmt.test)
        elif flags:
            stmt.test = ast.copy_location(ast.BoolOp(ast.And(), [_none_of(flags, stmt), stmt.test]), stmt.test)
        stmt.body = body or [ast.copy_location(ast.Pass(), stmt)]
        out: list[ast.stmt] = [_set(broke, _const(False, stmt), stmt)] if has_break else []
        out.append(stmt)
        if has_return:
            jump = ast.Continue() if in_loop else ast.Return(_name(self.result, stmt))
            out.append(ast.copy_location(ast.If(_name(self.returned, stmt), [ast.copy_location(jump, stmt)], []), stmt))
        return out

    def function(self, tree: ast.FunctionDef) -> ast.FunctionDef:
        tree = copy.deepcopy(tree)
        last = tree.body[-1]  # the final return, where the single return stands
        body = self.block(tree.body, False)
        if self.returns_in_loops:
            first = body[0]
            body = [_set(self.result, _const(0, first), first), _set(self.returned, _const(False, first), first)] + body
        body = _absorb(body, ast.Return)
        tree.body = _replace(body, ast.Return, lambda j: [_set(self.result, j.value, j)])
        tree.body.append(ast.copy_location(ast.Return(_name(self.result, last)), last))
        return tree


def _plain(tree: ast.FunctionDef) -> bool:
    """No jump but the final return."""
    jumps = [n for n in ast.walk(tree) if isinstance(n, (ast.Break, ast.Continue, ast.Return))]
    return len(jumps) == 1 and jumps[0] is tree.body[-1]


def eliminate_jumps(parsed: Parsed) -> Parsed:
    """``parsed`` with its function's jumps turned into structured code (see the module doc)."""
    if _plain(parsed.tree):
        return parsed
    return dataclasses.replace(parsed, tree=_Eliminate(parsed.tree).function(parsed.tree))
