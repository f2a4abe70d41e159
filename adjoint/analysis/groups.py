"""Groups of names that are joined pairwise (union-find): versions of one array, names
that may hold one array object."""
from __future__ import annotations


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
