"""Golden files: the generated module of a handful of functions, byte for byte.

``pytest --update-golden`` rewrites them; review the diff like code. The
header docstring (it names library versions) is not compared.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import adjoint

from . import control_programs as C
from . import programs as P

GOLDEN = Path(__file__).parent / "golden"
FUNCTIONS = {"seed_e": (P.seed_e, ("a", "b")), "mlp_loss": (P.mlp_loss, (0, 1, 2, 3)),
             "ridge": (P.ridge, ("w",)), "fan_out": (P.fan_out, (0, 1)),
             "loop_sin": (C.loop_sin, (0,)), "branches": (C.branches, (0, 1)),
             "return_in_loop": (C.return_in_loop, (0,))}
# Specialized to the ranks of sample arguments (what a call with them runs).
SPECIALIZED = {"loop_sin_for_floats": (C.loop_sin, (0,), (0.3, 10)),
               "return_in_loop_for_floats": (C.return_in_loop, (0,), (1.2, 10)),
               "nested_for_a_vector": (C.nested, (0,), (np.ones(3), 3))}


def _body(source: str) -> str:
    assert source.startswith('"""')
    return source[source.index('"""', 3) + 3:].lstrip("\n")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_generated_source_matches_golden(name, update_golden):
    fn, wrt = FUNCTIONS[name]
    body = _body(adjoint.grad(fn, wrt=wrt).source)
    path = GOLDEN / f"{name}.py"
    if update_golden:
        path.write_text(body)
    assert path.exists(), f"missing {path}: run pytest --update-golden"
    assert body == path.read_text()


@pytest.mark.parametrize("name", sorted(SPECIALIZED))
def test_specialized_source_matches_golden(name, update_golden):
    fn, wrt, args = SPECIALIZED[name]
    body = _body(adjoint.grad(fn, wrt=wrt).source_for(*args))
    path = GOLDEN / f"{name}.py"
    if update_golden:
        path.write_text(body)
    assert path.exists(), f"missing {path}: run pytest --update-golden"
    assert body == path.read_text()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_generation_is_deterministic(name):
    fn, wrt = FUNCTIONS[name]
    assert adjoint.grad(fn, wrt=wrt).source == adjoint.grad(fn, wrt=wrt).source
