"""Test programs generated from the rule table.

For every rule and every user spelling (``Example``) of it, a function takes
one argument per sampled case and returns a scalar sum in which each case's
output goes through ``sin`` (so the cotangents reaching the rule are not all
ones). Because every case has its own arguments, the gradient with respect
to an argument checks exactly one rule, one spelling and one shape.

``chunk`` functions put many rules in one function, so that Numba compiles a
few large functions instead of hundreds of small ones.
"""
from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adjoint.rules import CALLS, RULES
from adjoint.rules.registry import Arg


@dataclass(frozen=True)
class Program:
    name: str                 # function name in the generated test module
    labels: tuple[str, ...]   # for each argument: rule / spelling / case that it tests
    params: tuple[str, ...]
    args: tuple[Arg, ...]
    lines: tuple[str, ...]    # body statements before the return


# Rules that are statements, not expressions (element writes), are exercised through
# these helpers, which the generated programs call (and adjoint inlines).
PRELUDE = """
def write_into_copy(x, y):
    z = x.copy()
    z[1] = y * z[0]
    z[2:4] = z[0:2] * y
    z[0] += z[3] * z[1]
    return z


def write_into_copy_2d(x, y):
    z = x.copy()
    z[1] = y * z[0]
    z[0, 1:] = z[1, :2] * y
    z[0, 0] += z[1, 2] * y
    return z
"""


# The runtime helpers, which the rules of adjoint/rules/runtime.py spell by name.
_HELPERS = ", ".join(sorted(k.split(".", 1)[1] for k in CALLS if k.startswith("helpers.")))


def _prelude_namespace() -> dict:
    import math

    namespace = {"np": np, "math": math}
    exec(f"from adjoint.runtime.helpers import {_HELPERS}\n" + PRELUDE, namespace)
    return namespace


def _rename(code: str, mapping: dict[str, str]) -> str:
    tree = ast.parse(code, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]
    return ast.unparse(tree)


def _sample(arg: Arg, rng: np.random.Generator, dtype: type) -> object:
    if arg.is_const:
        return arg.const
    value = rng.uniform(arg.low, arg.high, size=arg.shape)
    if arg.shape == ():  # a NumPy scalar in the float32 run: it runs as a Python float
        return float(value) if dtype in (float, np.float64) else dtype(value)
    return value.astype(dtype)


def _out_is_scalar(code: str, case: dict[str, Arg]) -> bool:
    import math  # noqa: F401  (the example may use it)

    rng = np.random.default_rng(0)
    env = {name: _sample(arg, rng, float) for name, arg in case.items()}
    return np.ndim(eval(code, _prelude_namespace(), env)) == 0


def _statements(prefix: str, code: str, cases: tuple[dict[str, Arg], ...], label: str):
    labels, params, args, lines = [], [], [], []
    for k, case in enumerate(cases):
        mapping = {name: f"{prefix}_{name}{k}" for name in case}
        for name, arg in case.items():
            labels.append(f"{label} case {k} ({name}: shape {arg.shape})")
            params.append(mapping[name])
            args.append(arg)
        out = f"{prefix}_out{k}"
        lines.append(f"{out} = {_rename(code, mapping)}")
        reduce = f"np.sin({out})" if _out_is_scalar(code, case) else f"np.sum(np.sin({out}))"
        lines.append(f"total = total + {reduce}")
    return labels, params, args, lines


def programs() -> list[Program]:
    """One program per (rule, spelling)."""
    out = []
    for rule in RULES.values():
        for i, example in enumerate(rule.examples):
            label = f"{rule.name}: {example.code}"
            labels, params, args, lines = _statements("a", example.code, example.cases, label)
            name = f"rule_{rule.name.replace('.', '_')}_{i}"
            out.append(Program(name, tuple(labels), tuple(params), tuple(args), tuple(lines)))
    return out


def chunks(size: int) -> list[Program]:
    """The same cases, ``size`` spellings to a function (those that Numba compiles)."""
    examples = [(rule, ex) for rule in RULES.values() for ex in rule.examples if ex.numba]
    out = []
    for start in range(0, len(examples), size):
        labels, params, args, lines = [], [], [], []
        for j, (rule, example) in enumerate(examples[start:start + size]):
            parts = _statements(f"p{j}", example.code, example.cases, f"{rule.name}: {example.code}")
            for acc, part in zip((labels, params, args, lines), parts):
                acc += part
        out.append(Program(f"chunk_{start // size}", tuple(labels), tuple(params), tuple(args), tuple(lines)))
    return out


def source(progs: list[Program]) -> str:
    parts = ["import math", "import numpy as np", f"from adjoint.runtime.helpers import {_HELPERS}", PRELUDE, ""]
    for prog in progs:
        body = [f"    {line}" for line in prog.lines]
        parts += [f"def {prog.name}({', '.join(prog.params)}):", "    total = 0.0", *body,
                  "    return total", "", ""]
    return "\n".join(parts)


def load(progs: list[Program], directory: Path, stem: str):
    path = directory / f"{stem}.py"
    path.write_text(source(progs))
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[stem] = module
    spec.loader.exec_module(module)
    return module


def sample_args(prog: Program, dtype: type, seed: int = 0) -> list[object]:
    rng = np.random.default_rng(seed)
    return [_sample(arg, rng, dtype) for arg in prog.args]
