"""Fold single-use compiler temporaries back into the one expression that reads them.

The IR names every intermediate value (``t1 = X @ W1; t2 = t1 + b1; h = np.tanh(t2)``).
Written out one per line, that is hard to read, and Numba gives each line an array of its
own: it fuses elementwise operations into one loop only within a statement. So a
temporary that is read exactly once, by a later statement of the same block, goes back
into that statement (``h = np.tanh(X @ W1 + b1)``, as the user wrote it), when nothing
between them can change what it reads.

What is folded: a line ``tN = expr`` (``tN``, ``tN_bar``: names the compiler made up, never
the user's) whose ``expr`` is arithmetic, NumPy/math calls (and ``power``, the forward of
``x ** y``), reads of names, attributes,
subscripts and constants. The one line that reads it must come from the same source line
(no ``# line N:`` comment between: every statement stays traceable to its line) and be
in the same block (same indentation), every line between must be a plain ``name = ...``
assignment of a name the expression does not read (no element writes, no ``+=``, no
tape pushes), and the folded statement must stay short enough to read.

Before folding, ``tidy_bindings`` drops the plain bindings of one name to another that only
rename: a compiler temporary or a later version of a variable bound to another version of
it (``Q_5_bar = Q_4_bar``, ``state_4 = state_3``), read through where it is the same object
(``propagate_aliases``), an element write's round trip (``drop_round_trips``), and a binding
the function's body already made (``drop_repeated_bindings``); and a loop's update (or a
branch's merge) from a version nothing else reads takes its expression, as the user wrote it
(``net_1 = net + w * x`` ... ``net = net_1`` is ``net = net + w * x``: ``fold_updates``).
"""
from __future__ import annotations

import ast
import bisect
import itertools
import re
from collections import Counter

TEMPORARY = re.compile(r"t\d+(?:_\d+)?(?:_bar)?")
_TEMPORARY_WORD = re.compile(r"(?<![\w.])(t\d+(?:_\d+)?(?:_bar)?)(?!\w)")
_ASSIGN = re.compile(r"^(\s*)([A-Za-z_]\w*) = (.+)$")
_TARGETS = re.compile(r"^\s*([A-Za-z_]\w*(?:, [A-Za-z_]\w*)*) = ")
REVERSE_MARK = "# adjoint: cotangents in reverse order"  # where a vjp's reverse sweep starts
_HEADS = ("for ", "while ", "if ", "elif ", "else:")  # a loop test is computed again and again
MAX_LENGTH = 100  # characters of a folded statement, indentation excluded

_PURE_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load,
               ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.Call, ast.operator,
               ast.unaryop, ast.Compare, ast.cmpop, ast.keyword)


def _pure(expr: str) -> ast.Expression | None:
    """The parsed expression if it only computes (NumPy/math calls and operators)."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, _PURE_NODES):
            return None
        if isinstance(node, ast.Call):
            func = node.func
            if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    and func.value.id in ("np", "math")
                    or isinstance(func, ast.Attribute) and func.attr == "reshape"
                    or isinstance(func, ast.Name) and func.id == "power"):  # x ** y, checked
                return None
    return tree


def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _counts(lines: list[str]) -> Counter[str]:
    return Counter(name for line in lines if not line.lstrip().startswith("#")
                   for name in _TEMPORARY_WORD.findall(line))


def _defined(lines: list[str]) -> set[str]:
    """Names the lines assign (``a = ...``, ``a, b = ...``)."""
    out: set[str] = set()
    for line in lines:
        match = _TARGETS.match(line)
        if match:
            out |= {name.strip() for name in match[1].split(",")}
    return out


_ALIAS = re.compile(r"^(\s*)([A-Za-z_]\w*) = ([A-Za-z_]\w*)$")
_UPDATED = re.compile(r"^([A-Za-z_]\w*)(\[.*\])?\s*(?:[-+*/@%]|//|\*\*)?=(?!=)")


def _written(line: str, elements: bool = True) -> set[str]:
    """Names a line binds or changes: ``a = ...``, ``a, b = ...``, ``a += ...``,
    ``for a in ...``, and with ``elements`` ``a[i] = ...``, ``a[i] += ...``."""
    stripped = line.strip()
    out = _defined([line])
    match = _UPDATED.match(stripped)
    if match and (elements or not match[2]):
        out.add(match[1])
    if stripped.startswith("for ") and " in " in stripped:
        out |= {name.strip() for name in stripped[4:stripped.index(" in ")].split(",")}
    return out


def _variable(name: str) -> tuple[str, bool]:
    """The variable a name is a version of, and whether it is a cotangent: ``Q_4_bar`` ->
    ``("Q", True)``, ``state_3`` -> ``("state", False)``."""
    bar = name.endswith("_bar")
    return re.sub(r"_\d+$", "", name[:-4] if bar else name), bar


def _version(name: str) -> bool:
    """``name`` is a later version of a variable (``Q_4_bar``, ``y_1``), not its own name."""
    return re.search(r"_\d+(?:_bar)?$", name) is not None


def _is_code(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _without_self_assignments(lines: list[str]) -> list[str]:
    """Without ``a = a``, and without the pair ``a = a`` of a tuple assignment
    (``y_1, i = y_1, i_2`` -> ``i = i_2``): they change nothing."""
    out = []
    for line in lines:
        match = re.match(r"^(\s*)([\w, ]+) = ([\w, ]+)$", line) if _is_code(line) else None
        if match:
            pairs = list(zip([t.strip() for t in match[2].split(",")], [v.strip() for v in match[3].split(",")]))
            kept = [(t, v) for t, v in pairs if t != v]
            if len(pairs) == len(match[2].split(",")) == len(match[3].split(",")) and len(kept) < len(pairs):
                if kept:
                    out.append(f"{match[1]}{', '.join(t for t, _ in kept)} = {', '.join(v for _, v in kept)}")
                continue
        out.append(line)
    return out


def propagate_aliases(lines: list[str]) -> list[str]:
    """Drop the sweeps' aliases: each read of the alias reads the name.

    * ``t17_bar = f_2_bar``, left by a rule that passes its cotangent on unchanged, as ``+``
      does (``t17_bar`` is a name the compiler made up);
    * ``Q_5_bar = Q_4_bar``, ``beta_2_bar = beta_1_bar``, ``state_4 = state_3``: a later
      version of a variable bound to another version, as a loop hands a carried value (or its
      cotangent) to its update, or an element write names its new version (``z_bar = z_1_bar``,
      a loop's exit handing the cotangent back to the user's own name, stays); ``s_1_bar = s_bar`` ... ``s_bar = s_1_bar`` in
      the reverse of a loop that carries ``s`` (``s_1 = s + ...``): both lines go, the body
      reads ``s_bar``.

    Only where that reads the very same value (the same object: an element write into either
    name changes both alike): the alias is bound on that line alone and read only after it in
    the same block, and no line from there to its last read (to the end of the block, if a
    read is in a nested block) binds the name anew, except ``s_bar = s_1_bar``, after which
    the two are equal again, and the last read itself when it binds the name only after
    reading (``state_3, h = state_5, h_2``: its ``state_3 = state_3`` goes).

    Two versions of one variable are one name also where the alias is bound again: in
    ``z_2_bar = z_1_bar`` ... ``z_1_bar = z_2_bar`` (one block), when the alias occurs only
    from the first line to the second and the name not at all between them, the lines
    between read and bind ``z_1_bar`` instead and both lines go; reads of the alias after the
    second line read the name, if nothing binds either anew before them."""
    lines = list(lines)
    changed = True
    while changed:
        changed = False
        code = _code(lines)
        writes = _bindings(lines, code)
        empty = _empty_blocks(lines)
        lines_with = _lines_with(lines, code)
        for at, i in enumerate(code):
            match = _ALIAS.match(lines[i])
            if not match:
                continue
            alias, name, depth = match[2], match[3], len(match[1])
            if alias == name or not (alias.endswith("_bar") and TEMPORARY.fullmatch(alias) or _version(alias)
                                     and _variable(alias) == _variable(name)):
                continue
            end = next((k for k in itertools.islice(code, at + 1, None) if _indent(lines[k]) < depth), len(lines))
            back = f"{name} = {alias}"  # makes the two equal again
            backs = [k for k in code[at + 1:bisect.bisect_left(code, end)]
                     if lines[k].strip() == back and _indent(lines[k]) == depth]
            uses = [k for k in lines_with.get(alias, ()) if k != i]
            if any(k < i or k >= end for k in uses):
                continue
            if writes[alias] == 1:
                new = _read_through(lines, i, alias, name, depth, end, uses, backs)
            else:
                new = _coalesced(lines, i, backs[0], alias, name, depth, end, uses) if backs else None
            if new is not None and _empty_blocks(new) <= empty:
                lines, changed = new, True
                break
    return _without_orphan_comments(lines)


def _lines_with(lines: list[str], code: list[int]) -> dict[str, list[int]]:
    """The code lines each name occurs in (as ``_word(name)`` finds it), in order."""
    out: dict[str, list[int]] = {}
    for k in code:
        for name in dict.fromkeys(_NAME.findall(lines[k])):
            out.setdefault(name, []).append(k)
    return out


_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def _read_through(lines: list[str], i: int, alias: str, name: str, depth: int, end: int,
                  uses: list[int], backs: list[int]) -> list[str] | None:
    """``lines`` without ``alias = name`` (line i, the alias's only binding) and the lines
    ``name = alias``, its reads reading ``name``; None if ``name`` may change before."""
    nested = any(_indent(lines[k]) > depth for k in uses)
    # a read in a nested loop may come round again after a later line of that loop:
    # then nothing to the end of the block may change the name
    last = end - 1 if nested else max(uses, default=i)
    for k in range(i + 1, last + 1):
        text = lines[k]
        if not _is_code(text) or k in backs or name not in _written(text, elements=False):
            continue
        targets = _TARGETS.match(text)
        if k == last and not nested and targets and alias not in {t.strip() for t in targets[1].split(",")}:
            continue  # it reads the alias, then binds the name
        return None
    pattern = _word(alias)
    out = [pattern.sub(name, text) if k in uses else text for k, text in enumerate(lines)]
    return _without_self_assignments([text for k, text in enumerate(out) if k != i and k not in backs])


def _coalesced(lines: list[str], i: int, k: int, alias: str, name: str, depth: int, end: int,
               uses: list[int]) -> list[str] | None:
    """``lines`` with ``alias`` named ``name`` from line i (``alias = name``) to line k
    (``name = alias``), both dropped, if ``name`` does not occur between them and the alias
    occurs only there, or after k in reads before anything binds either name anew; else None."""
    after = [u for u in uses if u > k]
    nested = any(_indent(lines[u]) > depth for u in after)
    last = end - 1 if nested else max(after, default=k)
    if any(u < i for u in uses) or any(alias in _written(lines[u], elements=False) for u in after) \
            or any(_word(name).search(lines[j]) for j in range(i + 1, k) if _is_code(lines[j])) \
            or any(name in _written(lines[j], elements=False) for j in range(k + 1, last + 1) if _is_code(lines[j])):
        return None
    pattern = _word(alias)
    out = [pattern.sub(name, text) if i < j and j != k and _is_code(text) else text for j, text in enumerate(lines)]
    return [text for j, text in enumerate(out) if j not in (i, k)]


_PLAIN = re.compile(r"^(\s*)([A-Za-z_]\w*) = ([A-Za-z_]\w*)$")
_JUMPS = ("break", "continue", "return")


def _without_pair(line: str, target: str, value: str) -> str | None:
    """``line`` without the binding ``target = value``: "" for the whole line, the rest of
    a tuple assignment (``y_1, i = y_2, i_2`` -> ``i = i_2``), or None if it has no such
    binding."""
    if line.strip() == f"{target} = {value}":
        return ""
    match = re.match(r"^(\s*)([\w, ]+) = ([\w, ]+)$", line)
    if not match:
        return None
    targets = [t.strip() for t in match[2].split(",")]
    values = [v.strip() for v in match[3].split(",")]
    if len(targets) != len(values) or (target, value) not in zip(targets, values):
        return None
    kept = [(t, v) for t, v in zip(targets, values) if (t, v) != (target, value)]
    return f"{match[1]}{', '.join(t for t, _ in kept)} = {', '.join(v for _, v in kept)}"


def _code(lines: list[str]) -> list[int]:
    """The indices of the code lines (not comments or blank lines)."""
    return [k for k, line in enumerate(lines) if _is_code(line)]


def _bindings(lines: list[str], code: list[int]) -> Counter[str]:
    """How many of the ``code`` lines bind each name (element writes not counted)."""
    return Counter(name for k in code for name in _written(lines[k], elements=False))


def _empty_blocks(lines: list[str]) -> int:
    """How many block headers (``for ...:``) have no statement in their block."""
    code = [t for t in lines if t.strip() and not t.lstrip().startswith("#")]
    return sum(t.rstrip().endswith(":") and (k + 1 == len(code) or _indent(code[k + 1]) <= _indent(t))
               for k, t in enumerate(code))


def drop_round_trips(lines: list[str]) -> list[str]:
    """Drop ``y_2 = y_1`` ... ``y_1 = y_2`` in one block: an element write's new version of
    an array, then a loop's update of the name that carries it (or a branch's merge). The
    second binding changes nothing when no line between binds either name anew (element
    writes do not), so it goes (from a tuple assignment, the pair alone); the first goes
    too when nothing else reads ``y_2``. No jump may be between them."""
    lines = list(lines)
    changed = True
    while changed:
        changed = False
        empty = _empty_blocks(lines)
        for i, line in enumerate(lines):
            match = _PLAIN.match(line)
            if not match:
                continue
            new, old, depth = match[2], match[3], len(match[1])
            for k in range(i + 1, len(lines)):
                text = lines[k]
                if not text.strip() or text.lstrip().startswith("#"):
                    continue
                if _indent(text) < depth or text.strip().split(" ")[0] in _JUMPS:
                    break
                rest = _without_pair(text, old, new) if _indent(text) == depth else None
                if rest is not None:
                    dropped = list(lines)
                    dropped[k] = rest
                    if not any(_word(new).search(t) for j, t in enumerate(dropped)
                               if j != i and t.strip() and not t.lstrip().startswith("#")):
                        dropped[i] = ""
                    dropped = [t for t in dropped if t != ""]
                    if _empty_blocks(dropped) > empty:  # the pair was a loop's whole body: it stays
                        break
                    lines, changed = dropped, True
                    break
                if {new, old} & _written(text, elements=False):  # bound anew
                    break
            if changed:
                break
    return lines


def drop_repeated_bindings(lines: list[str]) -> list[str]:
    """Drop ``y_2 = y_1`` where it binds again what a binding in force already did: the first
    ``y_2 = y_1`` is a statement of the function's body itself (it runs, once), every binding
    of ``y_2`` is that same line, and no line after the first binds ``y_1`` anew (a loop's
    reverse recomputes the versions of an array element writes update, the array on entry,
    which the forward sweep bound already)."""
    code = _code(lines)
    top = min((_indent(lines[k]) for k in code), default=0)
    dropped: set[int] = set()
    for i in code:
        match = _PLAIN.match(lines[i])
        if not match or len(match[1]) != top or match[2] == match[3]:
            continue
        new, old = match[2], match[3]
        binds = [k for k in code if new in _written(lines[k], elements=False)]
        if binds[0] == i and all(lines[k].strip() == lines[i].strip() for k in binds) and not any(
                old in _written(lines[k], elements=False) for k in code if k > i):
            dropped |= set(binds[1:])
    kept = [line for k, line in enumerate(lines) if k not in dropped]
    return kept if _empty_blocks(kept) <= _empty_blocks(lines) else lines


def fold_updates(lines: list[str]) -> list[str]:
    """``net_1 = net + w * x`` ... ``net = net_1`` (a loop's update of the value it carries, or a
    branch's merge, alone or in a tuple assignment) is ``net = net + w * x``, as the user wrote
    it, when ``net_1``
    is bound there alone and read by that update alone, in the same block, and no line
    between them mentions ``net`` (it would see the new value) and, in a tuple assignment,
    no other value is ``net`` or ``net_1``."""
    lines = list(lines)
    changed = True
    while changed:
        changed = False
        code = _code(lines)
        writes = _bindings(lines, code)
        for i in code:
            match = _ASSIGN.match(lines[i])
            if not match or not _version(match[2]) or writes[match[2]] != 1:
                continue
            new, depth = match[2], len(match[1])
            uses = [k for k in code if k != i and _word(new).search(lines[k])]
            update = re.match(r"^(\s*)([\w, ]+) = ([\w, ]+)$", lines[uses[0]]) if len(uses) == 1 else None
            if update is None or uses[0] < i or len(update[1]) != depth:
                continue
            k = uses[0]
            pairs = list(zip([t.strip() for t in update[2].split(",")], [v.strip() for v in update[3].split(",")]))
            old = next((t for t, v in pairs if v == new), None)
            # (and ``new`` is no other value of the tuple: ``t_2, s = t_1, t_1`` keeps t_1)
            if old is None or _variable(old) != _variable(new) or len(pairs) != len(update[2].split(",")) \
                    or sum(v == new for _, v in pairs) != 1 or any(v == old for _, v in pairs) or any(_indent(lines[j]) < depth or _word(old).search(lines[j])
                                                               for j in range(i + 1, k) if _is_code(lines[j])):
                continue
            rest = _without_pair(lines[k], old, new)
            lines[i] = f"{match[1]}{old} = {match[3]}"
            if rest:
                lines[k] = rest
            else:
                del lines[k]
            changed = True
            break
    return lines


def tidy_bindings(lines: list[str]) -> list[str]:
    """``propagate_aliases``, ``drop_round_trips``, ``drop_repeated_bindings`` and ``fold_updates`` until none
    changes anything (each may leave work for another)."""
    while True:
        new = fold_updates(drop_repeated_bindings(drop_round_trips(propagate_aliases(lines))))
        if new == lines:
            return _without_orphan_comments(new)
        lines = new


def _without_orphan_comments(lines: list[str]) -> list[str]:
    """Drop a ``# line N:`` comment that no statement follows any more (the next line is
    another such comment, at its depth or after its block ends, or ends its block, or there
    is none), and one that repeats the comment above it when only statements of that block
    are between them. A comment at the end of a block that ``else:`` follows stays:
    ``codegen/linemap.py`` maps that line by it."""
    out: list[str] = []
    for k, line in enumerate(lines):
        if line.lstrip().startswith("# line "):
            after = next((text for text in lines[k + 1:] if text.strip()), "")
            depth = _indent(line)
            if not after or _indent(after) < depth and not after.lstrip().startswith(("else:", "elif ")) \
                    or _indent(after) <= depth and after.lstrip().startswith("# line "):
                continue
            above = next((text for text in reversed(out)
                          if _indent(text) != depth or text.lstrip().startswith("#")), "")
            if above == line:
                continue
        out.append(line)
    return out


def fold(lines: list[str]) -> list[str]:
    """The body ``lines`` of one function with its single-use temporaries folded.

    In a vjp, the reverse sweep (after ``# adjoint: cotangents in reverse order``) defines
    again, by a pop or a recomputation at the start of the reverse of their loop body, the
    values of loop bodies it reads: a name both sweeps define is counted in each sweep
    apart (the forward's reads are the forward definition's, the reverse's the reverse
    one's), every other name over the whole function."""
    lines = tidy_bindings(lines)
    changed = True
    while changed:  # a pass folds chains forward (t1 into t2, then t2 into its reader)
        changed = False
        # a fold moves names between lines: counts are taken again each pass
        split = next((k for k, line in enumerate(lines) if line.strip() == REVERSE_MARK), len(lines))
        forward, reverse = _counts(lines[:split]), _counts(lines[split:])
        whole = forward + reverse
        both = _defined(lines[:split]) & _defined(lines[split:])
        i = 0
        while i < len(lines):
            match = _ASSIGN.match(lines[i])
            name = match[2] if match else ""
            count = (forward if i < split else reverse).get(name) if name in both else whole.get(name)
            tree = _pure(match[3]) if match and count == 2 and TEMPORARY.fullmatch(name) else None
            if tree is not None:
                reads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
                use = _use(lines, i, match[2], reads, len(match[1]))
                folded = _substitute(lines[use], match[2], match[3]) if use is not None else None
                if folded is not None and len(folded.strip()) <= MAX_LENGTH:
                    lines[use] = folded
                    del lines[i]
                    split -= i < split  # the reverse sweep starts a line earlier
                    changed = True
                    continue
            i += 1
    return lines


def _use(lines: list[str], i: int, name: str, reads: set[str], depth: int) -> int | None:
    """The line after ``i`` that reads ``name``, if folding into it is safe."""
    pattern = _word(name)
    for j in range(i + 1, len(lines)):
        line = lines[j]
        stripped = line.strip()
        if stripped.startswith("# line "):
            return None  # another source line: the statement must stay traceable to its own
        if stripped.startswith("#"):
            continue
        if _indent(line) != depth:
            return None  # a block boundary: a loop would repeat the work, a branch skip it
        if pattern.search(line):
            return None if stripped.startswith(_HEADS) or ".append(" in line else j  # not into a push
        match = _ASSIGN.match(line)
        if not match or match[2] in reads:
            return None  # an element write, a += on an array, a push, or a name it reads
    return None


def _substitute(line: str, name: str, expr: str) -> str | None:
    """``line`` with ``name`` replaced by ``(expr)``, respelled without needless brackets
    or a pair of minus signs that cancel (``-(-g * y / x)`` is ``g * y / x``, exactly)."""
    indent = line[:_indent(line)]
    text = _word(name).sub(lambda _: f"({expr})", line.strip())
    try:
        return indent + ast.unparse(_Unnegate().visit(ast.parse(text)))
    except SyntaxError:
        return None


class _Unnegate(ast.NodeTransformer):
    """``-(-a * b / c)`` -> ``a * b / c``: flipping a sign commutes exactly with ``*`` and
    ``/`` in floating point, so the two flips cancel. ``w = -(-y)`` stays: ``w = y`` would
    name y's array itself, not a new one (a later write into y changed w; an update of w in
    place would change y)."""

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        value = node.value
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub) and isinstance(value.operand, ast.UnaryOp) \
                and isinstance(value.operand.op, ast.USub) \
                and isinstance(value.operand.operand, (ast.Name, ast.Subscript, ast.Attribute)):
            return node
        return self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        if not isinstance(node.op, ast.USub):
            return node
        parent, leaf = None, node.operand
        while isinstance(leaf, ast.BinOp) and isinstance(leaf.op, (ast.Mult, ast.Div)):
            parent, leaf = leaf, leaf.left
        if not (isinstance(leaf, ast.UnaryOp) and isinstance(leaf.op, ast.USub)):
            return node
        if parent is None:
            return leaf.operand
        parent.left = leaf.operand
        return node.operand
