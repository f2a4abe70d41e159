"""adjoint as a GradBench tool: ``python -m adjoint.gradbench`` (or ``adjoint-gradbench``).

GradBench (https://github.com/gradbench/gradbench) sends JSON requests, one a line, on
stdin; :mod:`adjoint.gradbench.protocol` answers them on stdout. Each eval lives in
``adjoint.gradbench.evals.<name>``: the function written once in plain Python/NumPy,
its gradient from ``adjoint.grad``, and the conversion from and to GradBench's JSON.
"""
from .evals import EVALS, load_eval  # noqa: F401

__all__ = ["EVALS", "load_eval"]
