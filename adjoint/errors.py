"""The exceptions adjoint raises at its users."""
from __future__ import annotations


class UnsupportedSyntaxError(SyntaxError):
    """A construct outside adjoint's subset, located at the user's line and column."""

    def __init__(self, msg: str, filename: str = "<unknown>", lineno: int = 1,
                 offset: int = 1, text: str = "") -> None:
        super().__init__(msg, (filename, lineno, offset, text))


class NonDifferentiableError(TypeError):
    """A call to a function that has no derivative rule and cannot be differentiated through."""


class CompileError(TypeError):
    """Numba could not compile the generated code for the given argument types."""


class CompileWarning(RuntimeWarning):
    """Numba could not compile, in the background, code that runs on as plain Python."""
