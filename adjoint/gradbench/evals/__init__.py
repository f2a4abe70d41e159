"""The GradBench evals adjoint implements, by GradBench module name.

Each eval module defines ``FUNCTIONS`` (GradBench function name -> :class:`Function`)
and ``TINY_INPUT``, a small input in GradBench's JSON form on which ``define``
compiles every function (same argument types as the real inputs, so Numba does not
compile again when the timed runs start). Their gradients are built with
``background=False``: they compile at that first call, rather than answering it as
plain Python while compiling behind, since GradBench times what ``define`` compiled.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

EVALS = ("lse", "llsq", "ode", "gmm", "lstm", "ba")


@dataclass(frozen=True)
class Function:
    """One GradBench function: ``output(run(*prepare(input)))``; only ``run`` is timed."""
    prepare: Callable[[dict[str, Any]], tuple[Any, ...]]
    run: Callable[..., Any]
    output: Callable[[Any], Any]

    def __call__(self, input: dict[str, Any]) -> Any:
        return self.output(self.run(*self.prepare(input)))


def load_eval(name: str) -> ModuleType:
    """The module of eval ``name``; ``KeyError`` if adjoint does not implement it."""
    if name not in EVALS:
        raise KeyError(f"adjoint does not implement the GradBench eval {name!r} "
                       f"(it implements {', '.join(EVALS)})")
    return importlib.import_module(f"{__name__}.{name}")


def floats(values: Any) -> Any:
    """A NumPy array as nested lists of Python floats (JSON), a scalar as a float."""
    return values.tolist() if hasattr(values, "tolist") else float(values)
