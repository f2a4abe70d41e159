"""Readable, deterministic, collision-free names for generated code.

Every name is handed out by one ``Names`` object per function: the user's own
variable names are kept for their first definition, later SSA versions become
``h_1``, ``h_2``, temporaries ``t1``, cotangents ``h_bar``. A generated name
never collides with a name the user wrote, a module name or a helper.
"""
from __future__ import annotations

import keyword
import re


class Names:
    def __init__(self, user: set[str], reserved: set[str]) -> None:
        self._user = set(user)
        self._taken = set(reserved) | set(keyword.kwlist)
        self._temps = 0

    def _free(self, name: str) -> bool:
        return name not in self._taken and name not in self._user

    def take(self, name: str) -> str:
        self._taken.add(name)
        return name

    def user(self, name: str) -> str:
        """A definition of the user's variable ``name``: itself first, then versions."""
        if name not in self._taken:
            return self.take(name)
        return self.fresh(name)

    def fresh(self, base: str) -> str:
        """``base`` if nobody uses it, else ``base_1``, ``base_2`` ..."""
        if self._free(base):
            return self.take(base)
        i = 1
        while not self._free(f"{base}_{i}"):
            i += 1
        return self.take(f"{base}_{i}")

    def version(self, name: str) -> str:
        """A new version of the variable ``name`` is versioned from (``s_1`` -> ``s_2`` if
        ``s_1`` is taken): its base with the first free number."""
        base, i = re.sub(r"_\d+$", "", name), 1
        while not self._free(f"{base}_{i}"):
            i += 1
        return self.take(f"{base}_{i}")

    def temp(self) -> str:
        while True:
            self._temps += 1
            if self._free(f"t{self._temps}"):
                return self.take(f"t{self._temps}")

    def cotangent(self, name: str) -> str:
        return self.fresh(f"{name}_bar")
