"""Lowering stage: a fenced function AST becomes an SSA ``ir.Function``.

Assumes ``fence.check_function`` passed. Promises: every value is defined once;
every ``Assign`` applies a rule of the table to values defined before it; the
body ends with one ``Return``; names follow the user's (``h``, then ``h_1``
where ``h`` is reassigned, ``t1`` for unnamed intermediates).
"""
from __future__ import annotations

import ast
import inspect
import operator

from ..analysis.ranks import index_rank
from ..codegen.naming import Names
from ..ir.nodes import (Assign, Const, Function, Index, Loc, Op, Param, Return, Slice, Stmt, Tup, Value, Var,
                        int_literal, value_key)
from ..custom import CustomVjp
from ..errors import NonDifferentiableError, UnsupportedSyntaxError
from ..rules import CALLS, RULES, BindError
from ..rules.registry import COMPARISONS, OPERATORS
from .control import VIEWS, ControlLowering
from .fence import check_function
from .jumps import LOOP_RETURN, eliminate_jumps
from .resolve import NOT_STATIC, Resolver, constant_value
from .source import library_file, parse_function

_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
# Rules whose result is an integer when their arguments are (so it may index an array:
# x[i + 1], x[min(i + 1, n - 1)], x[abs(i - 2)]). An element read (getitem) is an int when
# what it reads from holds ints: see emit.
INT_OF_INTS = {"add", "sub", "mul", "mul_self", "floordiv", "mod", "neg",
               "builtin_abs", "abs", "builtin_max2", "builtin_min2", "maximum", "minimum"}
# Rules whose result is an int whatever their arguments (x[int(v)], x[math.floor(v)]).
INT_RESULT = {"shape", "dim", "size", "np_size", "ndim", "len", "int", "math.floor", "math.ceil", "math.trunc"}

_OP_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//",
              ast.Mod: "%", ast.MatMult: "@"}

# Rules that return a new array each time: never merged by common-subexpression reuse.
_FRESH = {"zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
          "eye", "identity", "copy", "flatten", "astype", "astype_int", "arange", "save", "setitem",
          "helper.zero_like"}

# max(a, b) and min(a, b): one of the arguments itself, where they are arrays (Lowering.picks)
_PICKS = frozenset({"builtin_max2", "builtin_min2"})

# Rules whose result holds booleans: a number written into it becomes True or False (see write).
BOOL_RESULT = {"lt", "le", "gt", "ge", "eq", "ne", "not"}

# Names generated code uses besides the user's: modules and runtime helpers.
RESERVED = frozenset({"np", "math", "numpy"})


def _number(value: Value) -> bool:
    return isinstance(value, Const) and isinstance(value.value, (bool, int, float))


def _name_pairs(target: ast.expr, value: ast.expr) -> list[tuple[ast.Name, ast.Name]]:
    """(target, value) name pairs an assignment binds: ``w = y``; ``a, b = b, a`` item by item."""
    if isinstance(target, ast.Name) and isinstance(value, ast.Name):
        return [(target, value)]
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        return [pair for t, v in zip(target.elts, value.elts) for pair in _name_pairs(t, v)]
    return []


# Ranks of the rules whose result is a new array of its own in NumPy (elementwise, np.outer,
# an axis reduction): an element write into one, where the lowering may share its value with
# an equal computation, goes into a copy of it (write, emit's ``made``).
_NEW_ARRAYS = frozenset({"broadcast", "matrix", "reduced"})


class Lowering(ControlLowering):
    def __init__(self, parsed, reserved: frozenset[str], param_ranks: tuple[int | None, ...] = ()) -> None:
        self.parsed = parsed
        self.param_ranks = param_ranks  # of the arguments of a call, where known
        self.resolver = Resolver(parsed)
        user = {n.id for n in ast.walk(parsed.tree) if isinstance(n, ast.Name)}
        user |= {a.arg for a in parsed.tree.args.args}
        self.names = Names(user, set(reserved))
        self.env: dict[str, Value] = {}
        self.body: list[Stmt] = []
        # Values that are ints if the parameters in their set are: (p, False) where p itself
        # must be an int, (p, True) where p must be an integer array (an element of it is read).
        self.int_sources: dict[str, frozenset[tuple[str, bool]]] = {}
        self.index_params: set[str] = set()  # parameters used in an index: ints
        self.index_arrays: set[str] = set()  # parameters whose elements are: integer arrays
        self.index_locs: dict[str, Loc] = {}  # where each of those is first used in an index
        self.param_source: dict[str, str] = {}
        self.computed: dict[tuple, Var] = {}
        self.identity: dict[str, object] = {}  # user name -> the array object it names
        self.inlining: list[object] = [parsed.fn.__code__]  # the chain of calls being inlined
        self.defined_by: dict[str, str] = {}  # SSA name -> the rule that computed it
        # Memory: the arrays (roots: SSA names) each array value's memory may belong to (by
        # default its own), and the values that may be views (a slice, reshape, .T) with the
        # roots they may show. A user name that holds a view when its array is written into
        # is stale until bound again: reading it is refused (``_Name``), as NumPy's view
        # would show the write and the graph's value would not.
        self.roots: dict[str, frozenset[str]] = {}
        self.views: dict[str, frozenset[str]] = {}
        self.stale: dict[str, tuple[str, int, str]] = {}  # name -> (array, line of the write, note)
        self.writes: list[tuple[frozenset[str], str, int]] = []  # each write: its roots, array, line
        # (control._lower_loop) carried names holding a view of an array the body writes into:
        # the name, the write, and where an iteration may first read it (or None)
        self.carried_views: list[tuple[str, tuple[frozenset[str], str, int], ast.Name | None]] = []
        self.arguments: set[str] = set()  # the function's parameters: never written into
        self.view_index: dict[str, Index] = {}  # a view y[i - 1] of an array (not of a view): its index
        # ints as a base plus a constant (i - 1: (i, -1); a literal 3: (None, 3)), and the least
        # value of a for loop's index, where its range shows it (range(1, n): 1)
        self.offsets: dict[str, tuple[str | None, int]] = {}
        self.int_min: dict[str, int] = {}
        self.array_rank: dict[str, int] = {}  # ranks of arrays made here, where known
        self.shape_len: dict[str, int] = {}  # x.shape of an x of known rank: its length
        self.partial: set[str] = set()  # names defined on some paths only (one branch, a loop body)
        self.loop_index_lines: dict[str, int] = {}  # of those, for loop indices: the loop's line
        self.writable: set[str] = set()  # arrays made here that element writes may update
        self.boolean: set[str] = set()  # values that hold booleans
        self._written_names: dict[ast.AST, frozenset[str]] = {}
        # helper calls that may return an argument's array: the arguments it may be
        self.returned_argument: dict[ast.AST, frozenset[Var]] = {}
        # `y if 1 > 0 else x`: the side a condition decided before run time selects, by the
        # expression (its value is that side's: `z = y if DEBUG else x` names y's array)
        self.selected: dict[ast.AST, ast.expr] = {}
        # max(a, b) / min(a, b): the argument itself, not a new array (of one-element arrays
        # NumPy compares, and keeps the array it picks), and `a if c else b` (the side it
        # chooses, control.py select): the values it may be, by its name
        self.picks: dict[str, frozenset[Var]] = {}
        # t[0] of a tuple built here: the expressions that read an item itself (bind shares it)
        self.tuple_reads: dict[ast.AST, Value] = {}
        self.helpers: dict[str, str] = {}

    # -- statements -------------------------------------------------------
    def function(self) -> Function:
        tree = self.parsed.tree
        params = []
        for k, arg in enumerate(tree.args.args):
            var = Var(self.names.user(arg.arg))  # renamed only if it shadows a helper
            if k < len(self.param_ranks) and self.param_ranks[k] is not None:
                self.array_rank[var.name] = self.param_ranks[k]  # x[i] of a 1-D x is a number
            self.env[arg.arg] = var
            self.identity[arg.arg] = object()
            self.param_source[var.name] = arg.arg
            self.arguments.add(var.name)
            self.int_sources[var.name] = frozenset({(arg.arg, False)})  # an int if used as an index
            params.append(Param(var, arg.arg))
        for stmt in tree.body:
            self.statement(stmt)
        taken = frozenset(self.names._taken | self.names._user)
        return Function(tree.name, tuple(params), tuple(self.body), self.parsed.loc(tree),
                        taken, frozenset(self.index_params), tuple(sorted(self.helpers.items())),
                        frozenset(self.index_arrays), tuple(self.index_locs.items()))

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign) and not isinstance(stmt.targets[0], ast.Subscript):
            self.assign(stmt.targets, stmt.value)
            returned = self.env[stmt.targets[0].id] if getattr(stmt, LOOP_RETURN, False) else None
            if returned is not None and (isinstance(returned, Tup) or self._rank_of(returned)):
                what = "a tuple" if isinstance(returned, Tup) else "an array"
                raise self.parsed.error(stmt, f"a return inside a loop must give a number, and this one gives "
                                              f"{what}: keep it in a variable, break, and return it after the loop")
        elif isinstance(stmt, ast.AnnAssign):
            self.assign([stmt.target], stmt.value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript):
            read = ast.copy_location(ast.Subscript(stmt.target.value, stmt.target.slice, ast.Load()), stmt)
            self.write(stmt.target, ast.copy_location(ast.BinOp(read, stmt.op, stmt.value), stmt), stmt)
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Subscript):
            if len(stmt.targets) != 1:
                raise self.parsed.error(stmt, "write into one array element at a time")
            self.write(stmt.targets[0], stmt.value, stmt)
        elif isinstance(stmt, ast.AugAssign):
            self._check_in_place(stmt)
            before = self.env.get(stmt.target.id)
            binop = ast.copy_location(ast.BinOp(ast.Name(stmt.target.id, ast.Load()), stmt.op, stmt.value), stmt)
            self.assign([stmt.target], binop)
            if self._rank_of(before) != 0:  # NumPy updates the array in place: the same memory
                self.roots[self.env[stmt.target.id].name] = self._roots(before)
        elif isinstance(stmt, ast.Return):
            hint = None if isinstance(stmt.value, ast.Name) else self.parsed.tree.name
            self.body.append(Return(self.expr(stmt.value, hint), self.parsed.loc(stmt)))
        elif isinstance(stmt, ast.If):
            self.lower_if(stmt)
        elif isinstance(stmt, ast.For):
            self.lower_for(stmt)
        elif isinstance(stmt, ast.While):
            self.lower_while(stmt)
        # pass and the docstring lower to nothing

    def write(self, target: ast.Subscript, value_node: ast.expr, stmt: ast.stmt) -> None:
        """``y[index] = value``: a new version of y, written in place. Only into arrays made
        here (np.zeros, np.empty, np.ones, *_like, np.full, .copy(), or an elementwise rule's
        result of a known array rank, kept apart from equal computations: see emit) that no
        other name sees: anything else would change what another value means. The names that
        hold a view of it are stale afterwards (``_stale_views``)."""
        name = target.value.id
        current = array = self.env.get(name)
        if isinstance(current, Var) and current.name in self.param_source and len(self.inlining) > 1:
            # a helper's parameter: the caller's array, even one the caller made
            raise self.parsed.error(target, f"writing into {name} here is not supported: {name} is a parameter of "
                                            f"this helper, so the write would change the caller's array; write "
                                            f"into a copy ({name} = {name}.copy() first) and return it")
        if not isinstance(current, Var) or current.name not in self.writable:
            if self._rank_of(current) == 0:
                raise self.parsed.error(target, f"{name} is a number here, not an array: it has no elements to write")
            computed = isinstance(current, Var) and RULES[self.defined_by.get(current.name, "copy")].rank in _NEW_ARRAYS
            if not (computed and self.array_rank.get(current.name, 0) >= 1) or current.name in self.param_source:
                # (a helper's parameter names the caller's array: the caller would see the write)
                self._refuse_write(target, name, current, computed)
            if not self._sharing(name):
                # a new array in NumPy (a helper's np.tanh(z), +(x * 2.0)) whose value the
                # lowering may share with an equal computation: the write goes into a copy
                current = self.emit("copy", (current,), stmt, name)
                self.env[name], self.identity[name] = current, object()
        shared = self._sharing(name)
        if shared:
            raise self.parsed.error(target, f"writing into {name} here is not supported: "
                                            f"{self._shared_why(name, shared)}, and it would see the write; "
                                            f"take a .copy() instead")
        value = self.expr(value_node)
        if current.name in self.boolean and not (isinstance(value, Const) and isinstance(value.value, bool)
                                                 or isinstance(value, Var) and value.name in self.boolean):
            raise self.parsed.error(target, f"writing a number into {name} is not supported: {name} holds "
                                            f"booleans (a comparison), and the number would become True or "
                                            f"False, which has no derivative; write into {name} * 1.0 instead")
        items = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
        index = Index(tuple(self._index_item(item) for item in items))
        self._stale_views(array, name, stmt, index)  # (NumPy writes into a computed array itself)
        old = self.emit("save", (current, index), stmt, None)
        new = self.emit("setitem", (current, index, value, old), stmt, name)
        self.roots[new.name] = self._roots(current)  # the same memory, written in place
        self.writable.add(new.name)
        self.env[name] = new

    def _refuse_write(self, target: ast.Subscript, name: str, current: Value, computed: bool) -> None:
        unknown = f" ({name}'s rank is not known here, so it may be a number: the gradient built for a call " \
                  f"knows the arguments' ranks, and g.source_for(*args) shows its code)" \
            if computed and current.name not in self.array_rank else ""
        raise self.parsed.error(target, f"writing into an array element of {name} is not supported here: "
                                        f"write only into arrays created inside the function (np.zeros, "
                                        f"np.empty, np.ones, np.zeros_like, np.full, .copy(), or arithmetic "
                                        f"and NumPy functions of arrays, {name} = np.sin(x) * 2.0), e.g. "
                                        f"{name} = {name}.copy() first{unknown}")

    def _shared_why(self, name: str, shared: list[str]) -> str:
        return self._in_tuple(name, shared) or f"{shared[0]} is the same array"

    def _in_tuple(self, name: str, shared: list[str]) -> str | None:
        """Why ``name``'s array is shared, where a tuple holds it (``t = (y, 1.0)``) or it is
        max or min of arrays (``t = max(y, w)``)."""
        tuples = [n for n in shared if isinstance(self.env.get(n), Tup)]
        if tuples:
            return f"the tuple {tuples[0]} holds its array"
        picked = [n for n in [name, *shared] if getattr(self.env.get(n), "name", None) in self.picks]
        if picked:
            if self.defined_by.get(self.env[picked[0]].name) in _PICKS:
                return (f"{picked[0]} = max(...) or min(...) of arrays is one of its arguments itself, not a "
                        f"new array (np.maximum or np.minimum makes one)")
            return (f"{picked[0]} = ... if ... else ... (or `or`/`and`) is the array of the side it chooses "
                    f"itself, not a new one (np.where makes one)")
        return None

    def _sharing(self, name: str) -> list[str]:
        """The other names that may name ``name``'s array."""
        return [n for n, i in self.identity.items() if i is self.identity.get(name) and n != name]

    def _check_in_place(self, stmt: ast.AugAssign) -> None:
        """``y += e`` updates an array in place in NumPy. Lowered as ``y = y + e``, it means
        the same only if no other name sees y's array: not an argument, not a view, not
        shared with another variable. Anything else is refused, never mis-differentiated."""
        name = stmt.target.id
        value = self.env.get(name)
        if not isinstance(value, Var) or self._rank_of(value) == 0:
            return  # a number (s = x[0] of a 1-D x, a float argument): += rebinds it, as in Python
        shared = [n for n, i in self.identity.items() if i is self.identity.get(name) and n != name]
        defined_by = self.defined_by.get(value.name)
        if value.name in self.param_source or shared or defined_by in VIEWS:
            why = (f"{name} is the argument {self.param_source[value.name]}" if value.name in self.param_source else
                   (self._in_tuple(name, shared) or f"{name} is the same array as {shared[0]}") if shared else
                   f"{name} is a view of another array")
            raise self.parsed.error(stmt, f"this augmented assignment would update an array in place, and {why}: "
                                          f"write {name} = {name} {_OP_SYMBOL[type(stmt.op)]} ... instead")
        self._stale_views(value, name, stmt)  # NumPy updates the array its views show

    def assign(self, targets: list[ast.expr], value: ast.expr) -> None:
        first = targets[0]
        if isinstance(first, ast.Tuple) and isinstance(value, ast.Tuple) and len(targets) == 1:
            if len(first.elts) != len(value.elts):
                raise self.parsed.error(first, f"cannot unpack {len(value.elts)} values "
                                               f"into {len(first.elts)} names")
            values = [self.expr(v, self._hint(t)) for t, v in zip(first.elts, value.elts)]
            # a, c = e, a: the right side is evaluated first, so c gets the array a named before
            before = [self.identity.get(self._selected_name(v)) for v in value.elts]
            for target, v, node, identity in zip(first.elts, values, value.elts, before):
                self.bind(target, v, node)
                if isinstance(target, ast.Name) and identity is not None:
                    self.identity[target.id] = identity
            return
        result = self.expr(value, self._hint(first))
        for target in targets:
            self.bind(target, result, value)
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        for name in names[1:]:  # a = b = e: one array under two names
            self.identity[name] = self.identity[names[0]]

    def bind(self, target: ast.expr, value: Value, node: ast.expr) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, Tup):  # a, b = helper(...)
            if len(target.elts) != len(value.items):
                raise self.parsed.error(target, f"cannot unpack {len(value.items)} values "
                                                f"into {len(target.elts)} names")
            # A helper may return an array it was given, or one array twice: such names
            # share the array of whoever holds that value now.
            holders = {v.name: self.identity.get(n) for n, v in self.env.items() if isinstance(v, Var)}
            shared: dict[str, object] = {}
            returned = self.returned_argument.get(node)
            given = [self._holders(returned[k] if isinstance(returned, tuple) else frozenset())
                     for k in range(len(value.items))]
            for elt, item, names in zip(target.elts, value.items, given):
                self.bind(elt, item, node)
                if isinstance(elt, ast.Name) and isinstance(item, Var):
                    identity = holders.get(item.name) or shared.get(item.name)
                    if identity is not None:
                        self.identity[elt.id] = identity
                    shared.setdefault(item.name, self.identity[elt.id])
                    self._share(elt.id, names)
            return
        if isinstance(target, ast.Name):
            self.stale.pop(target.id, None)
            # `y = x` shares x's array, and so does `y = helper(x)` where the helper returns
            # its parameter; any other expression makes a new one, even where the lowering
            # reuses an equal computation's value
            source = self._selected_name(node)
            returned = self.returned_argument.get(self._selected_node(node))
            holders = self._holders(returned) if isinstance(returned, frozenset) else []
            if isinstance(value, Tup):  # t = (y, 1.0): t[0] is y's array, and sees writes into y
                holders += self._holders(frozenset(self._tuple_arrays(value)))
            elif isinstance(value, Var) and value.name in self.picks:  # t = max(y, w): y or w itself
                holders += self._holders(self.picks[value.name])
            if isinstance(value, Var) and isinstance(self.tuple_reads.get(self._selected_node(node)), Var):
                holders += self._holders(frozenset({value}))  # u = t[0] of t = (y, 1.0) is y's array
            self.env[target.id] = value
            self.identity[target.id] = self.identity.get(source) if source in self.identity else object()
            self._share(target.id, holders)
            return
        if isinstance(value, Var) and self.defined_by.get(value.name, "").startswith("custom:"):
            raise self.parsed.error(target, f"{ast.unparse(node)} gives one value (a custom_vjp function returns "
                                            f"one array or number), which is not taken apart here: give each "
                                            f"output a custom_vjp function of its own")
        for i, elt in enumerate(target.elts):  # a, b = <tuple-valued expression>
            item = self.emit("getitem", (value, Index((Const(i),))), node, self._hint(elt))
            self.bind(elt, item, node)

    def _tuple_arrays(self, value: Tup) -> list[Var]:
        """The values in a tuple (nested ones too) that may be arrays."""
        out = []
        for item in value.items:
            if isinstance(item, Tup):
                out += self._tuple_arrays(item)
            elif isinstance(item, Var) and self._rank_of(item) != 0:
                out += [item, *self.picks.get(item.name, ())]
        return out

    def _holders(self, values: frozenset[Var]) -> list[str]:
        """The names that hold one of ``values`` now."""
        return [n for n, v in self.env.items() if v in values and n in self.identity]

    def _share(self, name: str, holders: list[str]) -> None:
        """``name`` may name the array of any of ``holders``: all of them name one array
        (conservative, as after an if)."""
        if not holders:
            return
        objs = {id(self.identity[n]) for n in holders}
        one = self.identity[holders[0]] if len(objs) == 1 else object()
        for n, obj in list(self.identity.items()):
            if id(obj) in objs:
                self.identity[n] = one
        self.identity[name] = one

    def _roots(self, value: Value) -> frozenset[str]:
        """The arrays whose memory ``value`` may be (an array made here: itself; max(a, b) of
        arrays, ``a if c else b``: a's or b's)."""
        if not isinstance(value, Var):
            return frozenset()
        own = self.roots.get(value.name, frozenset({value.name}))
        return own.union(*(self._roots(p) for p in self.picks.get(value.name, ())))

    def _shown(self, value: Value) -> frozenset[str]:
        """The arrays (roots) whose memory a name holding ``value`` may show as a view."""
        return frozenset().union(*(self.views.get(v.name, frozenset()) for v in self._held(value)))

    def _merge_memory(self, var: Var, *values: Value) -> None:
        """A merge (of an if, a loop) may be any of ``values``: their memory and views."""
        self.roots[var.name] = frozenset({var.name}).union(*(self._roots(v) for v in values))
        shown = frozenset().union(*(self._shown(v) for v in values))
        if shown:
            self.views[var.name] = shown

    def _held(self, value: Value) -> list[Var]:
        """The values a name holding ``value`` may name: a tuple's items, max/min's arguments."""
        if isinstance(value, Tup):
            return [v for item in value.items for v in self._held(item)]
        return [value, *self.picks.get(value.name, ())] if isinstance(value, Var) else []

    def _offset(self, value: Value) -> tuple[str | None, int] | None:
        """An int as a base and a constant (``self.offsets``), or None."""
        literal = int_literal(value)
        if literal is not None:
            return None, literal
        if isinstance(value, Var) and self._rank_of(value) == 0 and self._int_sources(value) is not None:
            return self.offsets.get(value.name, (value.name, 0))
        return None

    def _apart(self, view: Index | None, write: Index) -> bool:
        """Whether the view ``y[view]`` and the write ``y[write]`` of one array never share an
        element: on some axis both take one int, the same base plus different constants,
        neither negative (``y[i - 1]`` and ``y[i, j]`` in ``for i in range(1, n)``; at i = 0,
        y[i - 1] would be the last row)."""
        if view is None or any(isinstance(item, Const) and int_literal(item) is None
                               for item in view.items + write.items):  # None or ... shifts the axes
            return False
        def nonnegative(base: str | None, c: int) -> bool:
            return c >= 0 if base is None else base in self.int_min and self.int_min[base] + c >= 0
        for a, b in zip(view.items, write.items):
            a, b = self._offset(a), self._offset(b)
            if a is not None and b is not None and a[0] == b[0] and a[1] != b[1] \
                    and nonnegative(*a) and nonnegative(*b):
                return True
        return False

    def _stale_views(self, array: Value, name: str, stmt: ast.stmt, index: Index | None = None) -> None:
        """A write into ``array`` (the user's ``name``; at ``index``, an element write): the
        names that hold a view of it are stale from here on (``_Name`` refuses to read one),
        but for a view ``_apart`` from the written elements."""
        roots = self._roots(array)
        self.writes.append((roots, name, stmt.lineno))
        for n, value in self.env.items():
            shown = [v for v in self._held(value) if self.views.get(v.name, frozenset()) & roots
                     and not (index is not None and self._apart(self.view_index.get(v.name), index))]
            if shown and n != name:
                note = "" if self.defined_by.get(shown[0].name) != "getitem" or array.name in self.array_rank else (
                    f" ({name}'s rank is not known here, so {n} = {name}[...] may be a row of it: the gradient "
                    f"built for a call knows the arguments' ranks, and g.source_for(*args) shows its code)")
                self.stale[n] = (name, stmt.lineno, note)

    def _stale_error(self, node: ast.Name, when: str) -> UnsupportedSyntaxError:
        array, line, note = self.stale[node.id]
        return self.parsed.error(node, f"{node.id} is read here{when} after line {line} wrote into {array}, and "
                                       f"{node.id} is a view of {array} (a slice, reshape or .T shares its memory), "
                                       f"which NumPy would show changed: read {node.id} before the write, take it "
                                       f"again after it, or take a .copy() of it{note}")

    def _selected_node(self, node: ast.AST) -> ast.AST:
        """The expression whose value ``node`` is: itself, or the side that a condition decided
        before run time selects (``y if 1 > 0 else x`` is y)."""
        while node in self.selected:
            node = self.selected[node]
        return node

    def _selected_name(self, node: ast.AST) -> str | None:
        node = self._selected_node(node)
        return node.id if isinstance(node, ast.Name) else None

    @staticmethod
    def _hint(target: ast.expr) -> str | None:
        return target.id if isinstance(target, ast.Name) else None

    # -- expressions ------------------------------------------------------
    def emit(self, prim: str, args: tuple[Value, ...], node: ast.AST, hint: str | None) -> Var:
        key = (prim, value_key(args))
        # y = np.sin(x) * 2.0 where y[...] is written later: a new array of its own, never one
        # value with an equal computation elsewhere (that one would see the writes)
        made = hint is not None and RULES[prim].rank in _NEW_ARRAYS and hint in self._element_written() \
            and prim not in _PICKS  # max(y, w) is y or w: a write into it goes into a copy (see write)
        if prim not in _FRESH and not made and key in self.computed:
            return self.computed[key]  # the same pure computation again: reuse its value
        var = Var(self.names.user(hint) if hint else self.names.temp())
        if not made:
            self.computed[key] = var
        self.defined_by[var.name] = prim
        if prim in VIEWS and isinstance(args[0], Var) and not self._element(prim, args):
            self.views[var.name] = self.roots[var.name] = self._roots(args[0])
            if prim == "getitem" and args[0].name not in self.views:
                self.view_index[var.name] = args[1]
        if prim in ("add", "sub"):
            a, b = self._offset(args[0]), self._offset(args[1])
            if a is not None and b is not None and (a[0] is None or b[0] is None) \
                    and (prim == "add" or b[0] is None):
                sign = 1 if prim == "add" else -1
                self.offsets[var.name] = (a[0] or b[0], a[1] + sign * b[1])
        if prim == "getitem" and isinstance(args[0], Tup):  # (y, 1.0)[0] is y's array itself
            shown = frozenset().union(*(self._roots(v) for v in self._tuple_arrays(args[0])))
            self.views[var.name] = self.roots[var.name] = shown
        self._track_rank(prim, args, var)
        if prim in _FRESH or made and self.array_rank.get(var.name, 0) >= 1:
            self.writable.add(var.name)  # an array (not a number) that NumPy allocated here
        if prim in BOOL_RESULT or prim in ("copy", "setitem") and getattr(args[0], "name", None) in self.boolean:
            self.boolean.add(var.name)  # a comparison, a copy of one, a write into one
        self.body.append(Assign(var, Op(prim, args), self.parsed.loc(node)))
        plain = [a for a in args if not isinstance(a, Index)]
        if prim in INT_RESULT:
            self.int_sources[var.name] = frozenset()
        elif prim in INT_OF_INTS and all(self._int_sources(a) is not None for a in plain):
            self.int_sources[var.name] = frozenset().union(*(self._int_sources(a) for a in plain))
        elif prim == "getitem" and self._int_sources(args[0]) is not None:
            # an element of an int parameter's value holds ints if that is an integer array
            # (of a shape, ints); the index items are ints already (_index_item). That it is
            # one element, not a row, is up to the arguments' ranks (analysis.ranks.check_indices).
            self.int_sources[var.name] = frozenset((p, True) for p, _ in self._int_sources(args[0]))
        return var

    def _element_written(self) -> frozenset[str]:
        """The names ``name[...] = ...`` or ``name[...] += ...`` writes into, in the
        function being lowered (or the helper being inlined), and the names whose array one
        of them may be given (``u, v = v, u``: u's array is written into as v's)."""
        tree = self.parsed.tree
        if tree not in self._written_names:
            written = {target.value.id for stmt in ast.walk(tree) if isinstance(stmt, (ast.Assign, ast.AugAssign))
                       for target in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                       if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)}
            given = [(t.id, v.id) for stmt in ast.walk(tree) if isinstance(stmt, ast.Assign)
                     for target in stmt.targets for t, v in _name_pairs(target, stmt.value)]
            while True:
                more = {source for target, source in given if target in written} - written
                if not more:
                    break
                written |= more
            self._written_names[tree] = frozenset(written)
        return self._written_names[tree]

    def _element(self, prim: str, args: tuple[Value, ...]) -> bool:
        """``y[i, j]`` with one int per axis of an array of known rank: a number, not a view."""
        if prim != "getitem" or not isinstance(args[1], Index):
            return False
        items = args[1].items
        return len(items) == self.array_rank.get(getattr(args[0], "name", None)) and all(
            not isinstance(item, Slice) and not (isinstance(item, Const) and item.value is None)
            and self._int_sources(item) is not None for item in items)

    def _track_rank(self, prim: str, args: tuple[Value, ...], var: Var) -> None:
        """The rank of arrays made here (np.zeros(n), np.zeros((n, m)), copies and writes)
        or computed elementwise from arrays of known rank (the arguments', when lowering
        for a call), from the rules' ``rank`` as analysis/ranks.py reads it."""
        rank = RULES[prim].rank
        if prim == "shape" and isinstance(args[0], Var) and args[0].name in self.array_rank:
            self.shape_len[var.name] = self.array_rank[args[0].name]
        if rank == "scalar":
            self.array_rank[var.name] = 0
        elif rank == "broadcast":  # the highest rank of the operands, where all are known
            ranks = [self._rank_of(a) for a in args]
            if ranks and None not in ranks:
                self.array_rank[var.name] = max(ranks)
        elif rank == "index":  # y[i] of a 1-D y is a number; x[i] of a 2-D x a row
            known = index_rank(args[0], args[1], self.array_rank)
            if isinstance(args[0], Var) and self.defined_by.get(args[0].name) == "shape" \
                    and isinstance(args[1], Index) and len(args[1].items) == 1 and int_literal(args[1].items[0]) is not None:
                known = 0  # x.shape[0]: one length
            if known is not None:
                self.array_rank[var.name] = known
        elif rank == "reduced":  # np.sum(x, axis=0) of a 1-D x is a number
            known = self._rank_of(args[0])
            if known:
                self.array_rank[var.name] = known - 1
        elif rank == "shape":
            shape = args[0]
            if isinstance(shape, Tup):
                self.array_rank[var.name] = len(shape.items)
            elif isinstance(shape, Var) and shape.name in self.shape_len:
                self.array_rank[var.name] = self.shape_len[shape.name]  # np.zeros(x.shape)
            elif int_literal(shape) is not None or isinstance(shape, Var) and self.array_rank.get(shape.name) == 0 \
                    and self._int_sources(shape) is not None:
                self.array_rank[var.name] = 1  # np.zeros(n) of an int n; not of x.shape, nor of an int array
        elif rank == "matrix":
            self.array_rank[var.name] = 2
        elif rank == "like" and isinstance(args[0], Var) and args[0].name in self.array_rank:
            self.array_rank[var.name] = self.array_rank[args[0].name]

    def _int_sources(self, value: Value) -> frozenset[tuple[str, bool]] | None:
        """None if ``value`` is not an int; else the parameters that must be ints (or integer
        arrays, marked True) for it to be."""
        if isinstance(value, Const):
            return frozenset() if int_literal(value) is not None else None
        return self.int_sources.get(value.name) if isinstance(value, Var) else None

    def expr(self, node: ast.expr, hint: str | None = None) -> Value:
        method = getattr(self, "_" + type(node).__name__)
        return method(node, hint)

    def _Constant(self, node: ast.Constant, hint: str | None) -> Value:
        return Const(node.value)

    def _Tuple(self, node: ast.Tuple, hint: str | None) -> Value:
        return Tup(tuple(self.expr(e) for e in node.elts))

    _List = _Tuple

    def _Name(self, node: ast.Name, hint: str | None) -> Value:
        if node.id in self.stale:
            raise self._stale_error(node, "")
        if node.id in self.env:
            return self.env[node.id]
        if node.id in self.loop_index_lines:
            raise self.parsed.error(node, f"{node.id} is the index of the for loop of line "
                                          f"{self.loop_index_lines[node.id]}, which adjoint does not keep after "
                                          f"the loop (Python leaves it at the last index, or as it was when the "
                                          f"loop does not run): keep what you need in a variable that has a value "
                                          f"before the loop (last = 0 before it, last = {node.id} in it)")
        if node.id in self.partial:
            raise self.parsed.error(node, f"{node.id} is defined on some paths only (in one branch of an if, "
                                          f"or inside a loop): give it a value before the if or the loop")
        return self._static_value(node)

    def _static_value(self, node: ast.expr) -> Value:
        obj = self.resolver.static(node, self.env)
        const = constant_value(obj, ast.unparse(node))
        if const is None:
            raise self.parsed.error(node, f"{ast.unparse(node)} ({type(obj).__name__}) cannot be used as a "
                                          "value here; pass numbers and arrays as arguments")
        return const

    def _UnaryOp(self, node: ast.UnaryOp, hint: str | None) -> Value:
        operand = self.expr(node.operand)
        if isinstance(node.op, ast.UAdd):
            if isinstance(operand, Var) and (operand.name in self.writable or self._rank_of(operand)):
                # +y is a new array in NumPy: a later write into either must not reach the other
                return self.emit("copy", (operand,), node, hint)
            return operand
        if isinstance(node.op, ast.USub) and isinstance(operand, Const) and \
                isinstance(operand.value, (int, float)) and not isinstance(operand.value, bool):
            return Const(-operand.value)
        if isinstance(node.op, ast.Not) and _number(operand):
            return Const(not operand.value)
        prim = "neg" if isinstance(node.op, ast.USub) else "not"
        return self.apply(f"op:{prim}", [operand], {}, node, hint, "-" if prim == "neg" else "not")

    def _BinOp(self, node: ast.BinOp, hint: str | None) -> Value:
        name = OPERATORS[type(node.op)]
        args = [self.expr(node.left), self.expr(node.right)]
        return self.apply(f"op:{name}", args, {}, node, hint, name)

    def _Compare(self, node: ast.Compare, hint: str | None) -> Value:
        args = [self.expr(node.left), self.expr(node.comparators[0])]
        if all(_number(a) for a in args):  # decided now: Numba would drop the branch not taken
            return Const(bool(_COMPARE[type(node.ops[0])](args[0].value, args[1].value)))
        return self.apply(f"op:{COMPARISONS[type(node.ops[0])]}", args, {}, node, hint, "comparison")

    def _Attribute(self, node: ast.Attribute, hint: str | None) -> Value:
        obj = self.resolver.static(node.value, self.env)
        if obj is not NOT_STATIC:
            return self._static_value(node)
        receiver = self.expr(node.value)
        key = f"attr:{node.attr}"
        if key not in CALLS:
            raise self.parsed.error(node, f"the attribute .{node.attr} is not supported; supported: "
                                          ".T, .shape, .size, .ndim")
        return self.apply(key, [receiver], {}, node, hint, f".{node.attr}")

    def _Subscript(self, node: ast.Subscript, hint: str | None) -> Value:
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape" and \
                not isinstance(node.slice, (ast.Tuple, ast.Slice)) and \
                self.resolver.static(node.value.value, self.env) is NOT_STATIC:
            # x.shape[i] is one statement, as the user wrote it
            dim = (self.expr(node.value.value), self._index_value(node.slice))
            return self.emit("dim", dim, node, hint)
        receiver = self.expr(node.value)
        if isinstance(receiver, Tup):
            item = self._tuple_item(receiver, node)
            if item is not None:
                self.tuple_reads[node] = item
                return item
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        index = Index(tuple(self._index_item(item) for item in items))
        return self.emit("getitem", (receiver, index), node, hint)

    def _tuple_item(self, receiver: Tup, node: ast.Subscript) -> Value | None:
        """``t[1]`` of a tuple built here, at an index known before run time: that item itself
        (the reverse gives a getitem of a tuple no cotangent, so an item read so was left
        out of the gradient). At an index known at run time only: None for a tuple of ints
        (a shape: no derivative), else refused."""
        index = self.expr(node.slice) if isinstance(node.slice, (ast.Constant, ast.UnaryOp, ast.Name)) else None
        at = int_literal(index) if isinstance(index, Const) else None
        if at is not None and -len(receiver.items) <= at < len(receiver.items):
            return receiver.items[at]

        def sources(v: Value) -> frozenset[tuple[str, bool]] | None:  # None: not certainly ints
            if isinstance(v, Tup):
                parts = [sources(i) for i in v.items]
                return None if None in parts else frozenset().union(*parts)
            found = self._int_sources(v)
            return None if found is None or any(element for _, element in found) else found
        params = sources(receiver)
        if params is not None:  # (n, 1)[i]: no derivative where n is an int, as it must then be
            self.index_params |= {p for p, _ in params}
            for p, _ in params:
                self.index_locs.setdefault(p, self.parsed.loc(node))
            return None
        raise self.parsed.error(node, "indexing a tuple of numbers or arrays is supported at an int literal "
                                      "only (t[0], t[-1]); take it apart instead (a, b = t)")

    def _index_item(self, item: ast.expr) -> Value | Slice:
        if isinstance(item, ast.Slice):
            return Slice(*(None if part is None else self._index_value(part)
                           for part in (item.lower, item.upper, item.step)))
        value = self.expr(item)
        if isinstance(value, Const) and value.value is None:
            return value  # np.newaxis
        return self._index_value(item, value)

    def need_ints(self, sources: frozenset[tuple[str, bool]], node: ast.AST) -> None:
        """The parameters in ``sources`` must be ints (integer arrays, for an element read):
        the call checks them (api._check_arg), naming ``node``'s line."""
        self.index_params |= {p for p, element in sources if not element}
        self.index_arrays |= {p for p, element in sources if element}
        for p, _ in sources:
            self.index_locs.setdefault(p, self.parsed.loc(node))

    def _index_value(self, node: ast.expr, value: Value | None = None) -> Value:
        value = self.expr(node) if value is None else value
        sources = self._int_sources(value)
        if sources is not None:
            self.need_ints(sources, node)
            return value
        raise self.parsed.error(node, "indexing with an array or a float is not supported (no fancy or "
                                      "boolean indexing); index with ints and slices, or use np.where")

    def _Call(self, node: ast.Call, hint: str | None) -> Value:
        key, method_of, spelled = self.resolver.callee(node.func, self.env)
        args = [self.expr(method_of)] if method_of is not None else []
        args += [self.expr(a) for a in node.args]
        kwargs = {kw.arg: self.expr(kw.value) for kw in node.keywords}
        if isinstance(key, CustomVjp):
            return self.custom(key, args, kwargs, node, hint)
        if not isinstance(key, str):
            return self.inline(key, args, kwargs, node, hint)
        return self.apply(key, args, kwargs, node, hint, spelled)

    def inline(self, fn, args: list[Value], kwargs: dict[str, Value], node: ast.Call,
               hint: str | None) -> Value:
        """A call to a plain Python function: its body, lowered in place, with its
        parameters bound to the arguments' values. Its lines keep their own locations.
        A library's function (installed, or of the standard library: scipy.special.logsumexp)
        that falls outside the subset is a NonDifferentiableError at the user's call, which
        the user can change, not an error at a line of the library, which they cannot."""
        library = library_file(fn)
        if library is None:
            return self._inline(fn, args, kwargs, node, hint)
        loc = self.parsed.loc(node)
        try:
            return self._inline(fn, args, kwargs, node, hint)
        except (UnsupportedSyntaxError, TypeError, NameError) as exc:  # (NonDifferentiableError too)
            if isinstance(exc, UnsupportedSyntaxError):
                reason = f"{exc.msg} ({exc.filename}, line {exc.lineno})"
            else:
                reason = str(exc)
            spelled = ast.unparse(node.func)
            raise NonDifferentiableError(
                f"{loc.filename}:{loc.line}: {spelled} ({fn.__module__}.{fn.__qualname__}) has no "
                f"derivative rule in adjoint, and its library code is outside the subset adjoint "
                f"differentiates through: {reason}. Give it a rule with @adjoint.custom_vjp, write "
                f"it with the supported NumPy calls in a function of your own, or compute it outside "
                f"the differentiated function") from None

    def _inline(self, fn, args: list[Value], kwargs: dict[str, Value], node: ast.Call,
                hint: str | None) -> Value:
        name = fn.__qualname__
        if fn.__code__ in self.inlining:
            raise self.parsed.error(node, f"the recursive call to {name} is not supported: adjoint "
                                          "inlines the functions it calls; write the recursion as a loop")
        arguments = self._bind_call(fn, name, args, kwargs, node)
        parsed = parse_function(fn, helper=fn.__name__)
        check_function(parsed)
        parsed = eliminate_jumps(parsed)
        saved = (self.parsed, self.resolver, self.env, self.identity, self.param_source, self.stale)
        self.parsed, self.resolver, self.env, self.identity, self.param_source, self.stale = \
            parsed, Resolver(parsed), {}, {}, {}, {}
        self.inlining.append(fn.__code__)
        self.helpers[fn.__name__] = parsed.filename
        try:
            for param, value in arguments.items():
                self.env[param] = value
                self.identity[param] = object()
                if isinstance(value, Var):  # the caller's array: never updated in place here
                    self.param_source[value.name] = param
            body = [s for s in parsed.tree.body if not isinstance(s, ast.Return)]
            for stmt in body:
                self.statement(stmt)
            returned = parsed.tree.body[-1].value

            result = self.expr(returned, hint)

            def given(expr: ast.expr) -> frozenset[Var]:  # the arguments whose array expr may be
                name = self._selected_name(expr)  # (`v if 1 > 0 else w` is v)
                out = set()
                for param, value in arguments.items():
                    if name in self.identity and self.identity[name] is self.identity.get(param):
                        # the parameter, or (a, b = t) an item of a tuple passed as t
                        out |= {value} if isinstance(value, Var) else \
                            set(self._tuple_arrays(value)) if isinstance(value, Tup) else set()
                read = self.tuple_reads.get(self._selected_node(expr))
                if isinstance(read, Var):
                    out.add(read)  # return t[0] of a tuple argument: that item's array
                return frozenset(out)
            # a name the caller binds to an array it passed shares that array (bind)
            self.returned_argument[node] = tuple(map(given, returned.elts)) \
                if isinstance(returned, ast.Tuple) else given(returned)
            return result
        finally:
            self.parsed, self.resolver, self.env, self.identity, self.param_source, self.stale = saved
            self.inlining.pop()

    def _bind_call(self, fn, name: str, args: list[Value], kwargs: dict[str, Value],
                   node: ast.Call) -> dict[str, Value]:
        """The call's arguments by parameter, defaults included (as literals)."""
        try:
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise self.parsed.error(node, f"{name}(): {exc}") from None
        bound.apply_defaults()
        arguments = {}
        for param, value in bound.arguments.items():
            if not isinstance(value, (Var, Const, Tup)):
                value = constant_value(value, repr(value))
                if value is None:
                    raise self.parsed.error(node, f"the default of {name}'s parameter {param!r} "
                                                  "is not a number; pass it explicitly")
            arguments[param] = value
        return arguments

    def custom(self, fn: CustomVjp, args: list[Value], kwargs: dict[str, Value], node: ast.Call,
               hint: str | None) -> Value:
        """A call to a ``custom_vjp`` function: one application of its rule."""
        name = fn.__name__
        if fn.rule_fn is None:
            raise self.parsed.error(node, f"{name} is a custom_vjp function without a rule: "
                                          f"give it one with @{name}.defvjp")
        values = list(self._bind_call(fn.fn, name, args, kwargs, node).values())
        tree = self.parsed.tree
        variables = {a.arg for a in tree.args.args} | {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for global_name in fn.global_names:
            if global_name in variables:
                raise self.parsed.error(node, f"the name {global_name} is used for a variable here and for "
                                              f"the custom_vjp function {name} (or its rule); rename the variable")
        rule = fn.rule()
        RULES[rule.name] = rule
        return self.emit(rule.name, tuple(values), node, hint)

    def apply(self, key: str, args: list[Value], kwargs: dict[str, Value], node: ast.AST,
              hint: str | None, spelled: str) -> Value:
        try:
            prim, bound = CALLS[key](args, kwargs)
        except BindError as exc:
            raise self.parsed.error(node, f"{spelled}() {exc}") from None
        ranks = [self._rank_of(a) for a in bound]
        if prim == "copy" and ranks[0] == 0:
            return bound[0]  # np.copy of a number (a 0-d array in NumPy, the same in arithmetic)
        if prim == "dot" and 0 in ranks:  # np.dot of a number multiplies, as in NumPy
            return self.emit("mul", bound, node, hint)
        if prim == "outer" and any(r is not None and r != 1 for r in ranks):
            raise self.parsed.error(node, f"{spelled}() takes 1-D arrays here (NumPy flattens others): "
                                          f"pass .ravel() of the argument, or write a[:, None] * b")
        var = self.emit(prim, bound, node, hint)
        if prim in _PICKS:
            may_be = frozenset().union(*(self.picks.get(a.name, {a}) for a in bound
                                         if isinstance(a, Var) and self._rank_of(a) != 0))
            if may_be:
                self.picks[var.name] = may_be
        return var


def lower(parsed, reserved: frozenset[str] = RESERVED, param_ranks: tuple[int | None, ...] = ()) -> Function:
    """Lower a fenced function to SSA IR. ``param_ranks`` (0 for a number, ndim for an
    array, None unknown), where given, tell element reads from views (``y[i]`` of a copy
    of a 1-D argument is a number): only which writes are refused depends on them."""
    return Lowering(parsed, reserved, param_ranks).function()
