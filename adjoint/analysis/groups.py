"""Groups of names that are joined pairwise (union-find): versions of one array, names
that may hold one array object."""
from __future__ import annotations

from ..ir.nodes import Assign, For, If, Stmt, Var, While, walk


class Groups:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, name: str) -> str:
        """The name that stands for ``name``'s group."""
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def array_groups(stmts: tuple[Stmt, ...]) -> Groups:
    """The versions of each array: an element write's result joined with the array it
    writes into, and each merge (after an ``if``, around a loop) with its sides."""
    groups = Groups()
    for stmt in walk(stmts):
        if isinstance(stmt, Assign) and stmt.op.prim == "setitem" and isinstance(stmt.op.args[0], Var):
            groups.join(stmt.target.name, stmt.op.args[0].name)
        elif isinstance(stmt, (If, For, While)):
            for phi in getattr(stmt, "phis", ()) + getattr(stmt, "carried", ()):
                for side in (phi.first, phi.second):
                    if isinstance(side, Var):
                        groups.join(phi.var.name, side.name)
    return groups
