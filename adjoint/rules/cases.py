"""Test domains shared by the rule families: which shapes a rule's test samples."""
from __future__ import annotations

from .registry import Arg

UNARY_SHAPES = ((), (3,), (2, 3))
BROADCAST_PAIRS = (((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 1), (1, 3)),
                   ((3,), ()), ((), (2, 3)), ((2, 3), (3,)))


def unary(low: float = -2.0, high: float = 2.0, shapes=UNARY_SHAPES) -> tuple[dict, ...]:
    return tuple({"x": Arg(s, low, high)} for s in shapes)


def scalar(low: float = -2.0, high: float = 2.0, names: str = "x") -> tuple[dict, ...]:
    return ({n: Arg((), low, high) for n in names.split()},)


def binary(low: float = -2.0, high: float = 2.0, low_y: float | None = None,
           high_y: float | None = None, pairs=BROADCAST_PAIRS) -> tuple[dict, ...]:
    ly = low if low_y is None else low_y
    hy = high if high_y is None else high_y
    return tuple({"x": Arg(sx, low, high), "y": Arg(sy, ly, hy)} for sx, sy in pairs)


def arrays(*shapes_per_case: dict) -> tuple[dict, ...]:
    """Explicit cases: each a mapping name -> shape (or name -> Arg)."""
    return tuple({k: v if isinstance(v, Arg) else Arg(v) for k, v in case.items()}
                 for case in shapes_per_case)
