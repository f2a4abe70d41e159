"""Fence stage: a whitelist of the Python syntax adjoint differentiates.

Assumes a parsed function; promises that every node of the body is one the
lowering to IR handles, or raises ``UnsupportedSyntaxError`` at the first one
that is not, naming it and the supported alternative.
"""
from __future__ import annotations

import ast

from .jumps import ends
from .source import Parsed

# Refused constructs: what to call them, and what to do instead.
REFUSED: dict[type, tuple[str, str]] = {
    ast.Lambda: ("a lambda", "define a module-level function instead"),
    ast.ListComp: ("a list comprehension", "use NumPy array operations"),
    ast.SetComp: ("a set comprehension", "use NumPy array operations"),
    ast.DictComp: ("a dict comprehension", "use NumPy array operations"),
    ast.GeneratorExp: ("a generator expression", "use NumPy array operations"),
    ast.Dict: ("a dict", "use separate variables or arrays"),
    ast.Set: ("a set", "use separate variables or arrays"),
    ast.JoinedStr: ("an f-string", "strings are not numbers; remove it"),
    ast.Try: ("try/except", "check the inputs before calling instead"),
    ast.With: ("a with statement", "move it outside the differentiated function"),
    ast.ClassDef: ("a class definition", "define classes outside the differentiated function"),
    ast.FunctionDef: ("a nested function", "define it at module level"),
    ast.AsyncFunctionDef: ("an async function", "use a plain def"),
    ast.Global: ("a global statement", "pass the value as an argument"),
    ast.Nonlocal: ("a nonlocal statement", "pass the value as an argument"),
    ast.Import: ("an import", "import at module level"),
    ast.ImportFrom: ("an import", "import at module level"),
    ast.Delete: ("del", "simply stop using the variable"),
    ast.Assert: ("assert", "check the inputs before calling"),
    ast.Raise: ("raise", "check the inputs before calling"),
    ast.Yield: ("yield", "return a value instead"),
    ast.YieldFrom: ("yield from", "return a value instead"),
    ast.Await: ("await", "use a plain function"),
    ast.NamedExpr: ("an assignment expression (:=)", "assign on its own line"),
    ast.Starred: ("a starred expression (*args)", "pass the arguments one by one"),
    ast.Match: ("a match statement", "use if/elif/else"),
    ast.List: ("a list", "use a NumPy array, or a tuple where a shape is meant"),
    ast.AugAssign: ("this augmented assignment", "write it as a plain assignment"),
    ast.AnnAssign: ("an annotation without a value", "assign a value (y: float = 0.0) or remove it"),
}
if hasattr(ast, "TryStar"):  # Python 3.11
    REFUSED[ast.TryStar] = ("try/except*", "check the inputs before calling instead")

_JUMPS = {ast.Return: "return", ast.Break: "break", ast.Continue: "continue"}
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod, ast.MatMult)
_BITWISE = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
_CMP = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def check_function(parsed: Parsed) -> None:
    """Raise ``UnsupportedSyntaxError`` at the first construct outside the subset."""
    tree = parsed.tree
    _check_arguments(parsed, tree.args)
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    _check_block(parsed, body)  # first: a yield, a raise... is named, not the missing return
    if not ends(body, ast.Return):
        last = body[-1] if body else tree
        raise parsed.error(last, f"{tree.name} must end with a return statement on every path "
                                 "(falling off the end returns None)")


def _check_arguments(parsed: Parsed, args: ast.arguments) -> None:
    if args.vararg or args.kwarg:
        node = args.vararg or args.kwarg
        raise parsed.error(node, "*args and **kwargs are not supported; name each argument")
    if args.kwonlyargs or args.posonlyargs:
        node = (args.kwonlyargs or args.posonlyargs)[0]
        raise parsed.error(node, "keyword-only and positional-only arguments are not supported; "
                                 "use plain arguments")


def _refuse(parsed: Parsed, node: ast.AST) -> None:
    what, instead = REFUSED.get(type(node), ("this statement", "see docs/subset.md for the supported ones"))
    raise parsed.error(node, f"{what} is not supported by adjoint: {instead}")


def _check_statement(parsed: Parsed, stmt: ast.stmt) -> None:
    if isinstance(stmt, ast.Return):
        if stmt.value is None:
            raise parsed.error(stmt, "return a scalar value")
        _check_expr(parsed, stmt.value)
    elif isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            _check_target(parsed, target)
            if isinstance(target, ast.Subscript) and len(stmt.targets) > 1 or isinstance(target, ast.Tuple):
                _one_write_per_statement(parsed, target)
        _check_expr(parsed, stmt.value)
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        _check_target(parsed, stmt.target)
        if isinstance(stmt.target, ast.Subscript):
            _one_write_per_statement(parsed, stmt.target)
        _check_expr(parsed, stmt.value)
    elif isinstance(stmt, ast.AugAssign):
        _check_target(parsed, stmt.target)
        if not isinstance(stmt.op, _OPERATORS):
            _refuse(parsed, stmt)
        _check_expr(parsed, stmt.value)
    elif isinstance(stmt, ast.If):
        _check_expr(parsed, stmt.test)
        _check_block(parsed, stmt.body)
        _check_block(parsed, stmt.orelse)
    elif isinstance(stmt, ast.For):
        _check_for(parsed, stmt)
    elif isinstance(stmt, ast.While):
        if stmt.orelse:
            raise parsed.error(stmt.orelse[0], "while ... else is not supported; move the else block after the loop")
        _check_expr(parsed, stmt.test)
        _check_block(parsed, stmt.body)
    elif isinstance(stmt, (ast.Pass, ast.Break, ast.Continue)):
        pass
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, (ast.Yield, ast.YieldFrom, ast.Await)):
        _refuse(parsed, stmt.value)
    elif isinstance(stmt, ast.Expr):
        raise parsed.error(stmt, "an expression statement has no effect on the result "
                                 "(print and other side effects are not supported); remove it")
    else:
        _refuse(parsed, stmt)


def _check_block(parsed: Parsed, body: list[ast.stmt]) -> None:
    for k, stmt in enumerate(body):
        if isinstance(stmt, tuple(_JUMPS)) and k + 1 < len(body):
            what = _JUMPS[type(stmt)]
            raise parsed.error(stmt, f"the statements after this {what} can never run; remove them")
        _check_statement(parsed, stmt)


def _check_for(parsed: Parsed, stmt: ast.For) -> None:
    it = stmt.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
            and 1 <= len(it.args) <= 3 and not it.keywords):
        raise parsed.error(it, "a for loop must run over range(...) (with 1 to 3 arguments); "
                               "loop over indices instead: for i in range(len(x))")
    if not isinstance(stmt.target, ast.Name):
        raise parsed.error(stmt.target, "the loop variable must be a single name")
    if stmt.orelse:
        raise parsed.error(stmt.orelse[0], "for ... else is not supported; move the else block after the loop")
    _children(parsed, *it.args)
    _check_block(parsed, stmt.body)


def _check_target(parsed: Parsed, target: ast.expr) -> None:
    if isinstance(target, ast.Name):
        return
    if isinstance(target, ast.Tuple):
        for elt in target.elts:
            _check_target(parsed, elt)
        return
    if isinstance(target, ast.Subscript):
        if not isinstance(target.value, ast.Name):
            raise parsed.error(target, "write into a named array with one index: y[i, j] = ..., "
                                       "not y[i][j] = ...")
        _subscript(parsed, target)
        return
    raise parsed.error(target, f"assigning to {type(target).__name__.lower()} is not supported; "
                               "assign to a plain variable")


def _one_write_per_statement(parsed: Parsed, target: ast.expr) -> None:
    """``y[0], y[1] = a, b``, ``a = y[0] = b`` and ``y[0]: float = b``: an element write has a
    plain statement of its own."""
    for node in ast.walk(target):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            name = ast.unparse(node)
            raise parsed.error(node, f"writing into {name} as part of a tuple, chained or annotated assignment "
                                     f"is not supported; write each element in a statement of its own: {name} = ...")


def _check_expr(parsed: Parsed, node: ast.expr) -> None:
    check = _EXPR.get(type(node))
    if check is None:
        _refuse(parsed, node)
    check(parsed, node)


def _children(parsed: Parsed, *nodes: ast.expr | None) -> None:
    for child in nodes:
        if child is not None:
            _check_expr(parsed, child)


def _binop(parsed: Parsed, node: ast.BinOp) -> None:
    if not isinstance(node.op, _OPERATORS):
        symbol = _BITWISE.get(type(node.op), type(node.op).__name__)
        raise parsed.error(node, f"the bitwise operator {symbol} is not supported; "
                                 "use + - * / ** // % or @")
    _children(parsed, node.left, node.right)


def _compare(parsed: Parsed, node: ast.Compare) -> None:
    if len(node.ops) != 1:
        raise parsed.error(node, "chained comparisons (a < b < c) are not supported; compare twice")
    if not isinstance(node.ops[0], _CMP):
        spelled = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
        none = isinstance(node.comparators[0], ast.Constant) and node.comparators[0].value is None
        hint = ("; for an optional argument, give it a number as its default (w=0.0) or decide "
                "outside, calling one of two functions") if none else ""
        raise parsed.error(node, f"the comparison `{spelled.get(type(node.ops[0]), 'used here')}` is not "
                                 f"supported; compare numbers with < <= > >= == !={hint}")
    _children(parsed, node.left, node.comparators[0])


def _unary(parsed: Parsed, node: ast.UnaryOp) -> None:
    if isinstance(node.op, ast.Invert):
        raise parsed.error(node, "bitwise ~ is not supported by adjoint; use `not` on a scalar "
                                 "condition, or 1.0 - mask for a 0/1 array")
    _children(parsed, node.operand)


def _constant(parsed: Parsed, node: ast.Constant) -> None:
    if node.value is Ellipsis:
        raise parsed.error(node, "... (Ellipsis) is not supported; write the slices out, e.g. x[:, 0]")
    if not (node.value is None or isinstance(node.value, (bool, int, float))):
        raise parsed.error(node, f"a {type(node.value).__name__} constant is not supported; "
                                 f"adjoint computes with numbers only{_dtype_hint(node.value)}")


def _dtype_hint(value: object) -> str:
    """``dtype="float32"``: name the dtype object to write instead."""
    import warnings

    import numpy as np
    if not isinstance(value, str):
        return ""
    try:  # any string: np.dtype("i,i->") is a ValueError, np.dtype(",") a SyntaxError
        with warnings.catch_warnings():  # np.dtype("a,b"): a DeprecationWarning
            warnings.simplefilter("ignore")
            dtype = np.dtype(value)
    except Exception:
        return ""
    if dtype.kind not in "fiub":
        return ""
    return f" (for a dtype, write np.{dtype.name})"


def _call(parsed: Parsed, node: ast.Call) -> None:
    for arg in node.args:
        if isinstance(arg, ast.List):  # np.concatenate([a, b])
            _children(parsed, *arg.elts)
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _dtype_hint(arg.value) == "":
            # np.einsum("ij,jk->ik", a, b), x.astype("float32") is taken below
            name = ast.unparse(node.func)
            hint = " (write the product with @, * and np.sum)" if name.endswith("einsum") else ""
            raise parsed.error(node, f"{name}() with a string argument is not supported: adjoint computes "
                                     f"with numbers only{hint}")
        else:
            _check_expr(parsed, arg)
    for kw in node.keywords:
        if kw.arg is None:
            raise parsed.error(kw.value, "**kwargs in a call is not supported; name each argument")
        _check_expr(parsed, kw.value)
    _check_expr(parsed, node.func)


def _subscript(parsed: Parsed, node: ast.Subscript) -> None:
    _check_expr(parsed, node.value)
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if not items:
        raise parsed.error(node, f"the empty index {ast.unparse(node)} is not supported: a 0-d array is used "
                                 f"as a number as it is ({ast.unparse(node.value)} * 2.0), or "
                                 f"float({ast.unparse(node.value)})")
    for item in items:
        if isinstance(item, ast.Slice):
            _children(parsed, item.lower, item.upper, item.step)
        else:
            _check_expr(parsed, item)


def _ifexp(parsed: Parsed, node: ast.IfExp) -> None:
    _children(parsed, node.test, node.body, node.orelse)


_EXPR = {
    ast.IfExp: _ifexp,
    ast.BoolOp: lambda p, n: _children(p, *n.values),
    ast.BinOp: _binop,
    ast.UnaryOp: lambda p, n: _unary(p, n),
    ast.Compare: _compare,
    ast.Call: _call,
    ast.Attribute: lambda p, n: _children(p, n.value),
    ast.Subscript: _subscript,
    ast.Name: lambda p, n: None,
    ast.Constant: _constant,
    ast.Tuple: lambda p, n: _children(p, *n.elts),
}
