"""adjoint: a JIT source-to-source reverse-mode gradient compiler for Python and NumPy.

The public API of shared/API.md, re-exported; nothing else lives here.
"""
__version__ = "0.1.0"

from .api import GradFunction, grad, value_and_grad  # noqa: E402
from .backend.cache import clear_cache  # noqa: E402
from .check import check_grad  # noqa: E402
from .custom import custom_vjp  # noqa: E402
from .errors import CompileError, CompileWarning, NonDifferentiableError, UnsupportedSyntaxError  # noqa: E402
from .transforms import hessian, jacobian, vjp  # noqa: E402

__all__ = ["grad", "value_and_grad", "vjp", "jacobian", "hessian", "check_grad", "custom_vjp", "clear_cache", "GradFunction",
           "UnsupportedSyntaxError", "NonDifferentiableError", "CompileError",
           "CompileWarning", "__version__"]
