"""The derivative rules, one record per primitive (see ``registry``)."""
from . import arithmetic, elementwise, indexing, linalg, reductions, shape  # noqa: F401  (register)
from . import runtime  # noqa: F401,E402  (after the rules it maps helpers to)
from . import tangent  # noqa: F401,E402
from .registry import CALLS, OVERWRITE, RULES, SCATTER, BindError, Rule

__all__ = ["CALLS", "OVERWRITE", "RULES", "SCATTER", "BindError", "Rule"]
