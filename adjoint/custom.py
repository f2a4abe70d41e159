"""Custom derivative rules: ``@adjoint.custom_vjp`` and ``@f.defvjp``.

A custom function becomes one more record of the rule table (``rules.registry.Rule``),
so the reverse sweep treats it exactly like ``np.sin``: its forward template calls the
function, and the cotangent of each input is ``cotangent(f_vjp(inputs..., out, g), ...)``,
a runtime helper that checks the rule's answer (count and shapes) and names the rule when
it is wrong. The generated module binds ``f`` and ``f_vjp`` by looking the function up
here by its key (``custom_function``), compiled with Numba: forward and rule are compiled
into the generated code under ``jit=True``, and run compiled under ``jit=False`` too (so
both must compile under Numba in either mode, as docs/subset.md says). The sources of both
are hashed into the generated module, so editing either rebuilds it.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import textwrap
from typing import Any, Callable

from .rules.registry import Rule

_REGISTRY: dict[str, "CustomVjp"] = {}
# Counts the custom functions and rules defined so far: a gradient built before a function
# or its rule was (re)defined builds again (``GradFunction._refresh``), as the module it
# imported binds the old ones.
_generation = 0


def generation() -> int:
    return _generation


def _changed() -> None:
    global _generation
    _generation += 1


def _returns(fn: Callable[..., Any]) -> list[ast.Return]:
    """The return statements of ``fn``'s source, where Python has it (else none)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return []
    return [node for node in ast.walk(tree.body[0]) if isinstance(node, ast.Return)]


def _source(fn: Callable[..., Any]) -> str:
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return repr(fn.__code__.co_code)


class CustomVjp:
    """A function whose derivative is given by a rule instead of its body."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not inspect.isfunction(fn):
            raise TypeError(f"custom_vjp decorates a Python function, not {type(fn).__name__}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.rule_fn: Callable[..., Any] | None = None
        sig = inspect.signature(fn)
        if any(p.kind not in (p.POSITIONAL_OR_KEYWORD,) for p in sig.parameters.values()):
            raise TypeError(f"custom_vjp function {fn.__qualname__} must take plain positional parameters")
        self.params = tuple(sig.parameters)
        self._check_output(fn)
        # One key per custom function: another of the same name (made by a factory, or the
        # same def decorated again) gets its own, else code calling the first would bind
        # the rule of the last
        base = self.key = f"{fn.__module__}.{fn.__qualname__}"
        number = 1
        while self.key in _REGISTRY:
            number += 1
            self.key = f"{base}#{number}"
        _REGISTRY[self.key] = self
        self._compiled: dict[str, Any] = {}
        _changed()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<adjoint.custom_vjp {self.key}>"

    def defvjp(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        """Use ``rule(inputs..., out, g)`` for the cotangents of the inputs: it returns one
        cotangent per input (a tuple when there are several), each of its input's shape."""
        name = getattr(rule, "__qualname__", repr(rule))
        try:
            params = list(inspect.signature(rule).parameters.values())
        except (TypeError, ValueError):
            raise TypeError(f"the rule {name} of {self.key} must be a Python function") from None
        want = len(self.params) + 2
        if len(params) != want or any(p.kind != p.POSITIONAL_OR_KEYWORD for p in params):
            raise TypeError(f"the rule {name} of {self.__name__} must take {want} plain parameters "
                            f"({', '.join(self.params)}, out, g); it takes {len(params)}")
        self._check_returns(rule, name)
        self.rule_fn = rule
        self._compiled.pop("rule", None)
        _changed()
        return rule

    @staticmethod
    def _check_output(fn: Callable[..., Any]) -> None:
        """One array or number out: a tuple's cotangent would be a tuple, which the generated
        adjoint, built for one cotangent per call, took for an array (a TypeError when run)."""
        for node in _returns(fn):
            if isinstance(node.value, ast.Tuple):
                raise TypeError(f"custom_vjp function {fn.__qualname__} returns a tuple (line {node.lineno} "
                                f"of its source); a custom_vjp function returns one array or number: give "
                                f"each output a custom_vjp function of its own")

    def _check_returns(self, rule: Callable[..., Any], name: str) -> None:
        """Where the count of returned cotangents shows in the source, check it now."""
        n = len(self.params)
        for node in _returns(rule):
            if isinstance(node.value, ast.Tuple) and len(node.value.elts) != n:
                raise TypeError(f"the rule {name} of {self.__name__} returns {len(node.value.elts)} "
                                f"cotangents (line {node.lineno} of its source), but "
                                f"{self.__name__} has {n} input{'s' * (n != 1)}")
            if node.value is None:
                raise TypeError(f"the rule {name} of {self.__name__} must return its cotangents")

    # -- what the compiler needs ------------------------------------------------
    @property
    def rule_name(self) -> str:
        return f"custom:{self.key}"

    @property
    def global_names(self) -> tuple[str, str]:
        """The names the generated module binds the function and its rule to."""
        return self.__name__, f"{self.__name__}_vjp"

    def digest(self) -> str:
        text = _source(self.fn) + "\n" + (_source(self.rule_fn) if self.rule_fn else "")
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def rule(self) -> Rule:
        """This function as a record of the rule table."""
        primal, vjp = self.global_names
        n = len(self.params)
        args = ", ".join(f"{{{p}}}" for p in self.params)
        call = f"{vjp}({args}, {{out}}, {{g}})"
        templates = {}
        for k, p in enumerate(self.params):
            extra = f", {k}, {n}" if n > 1 else ""
            templates[p] = f'cotangent({call}, {{{p}}}, "{self.__name__}"{extra})'
        return Rule(self.rule_name, self.params, f"{primal}({args})", templates,
                    custom=(self.key, primal, vjp, self.digest()))

    def compiled(self, part: str) -> Any:
        """The function (``"primal"``) or its rule (``"rule"``), compiled by Numba."""
        if part not in self._compiled:
            import numba

            fn = self.fn if part == "primal" else self.rule_fn
            self._compiled[part] = numba.njit(error_model="numpy")(fn)
        return self._compiled[part]


def custom_vjp(fn: Callable[..., Any]) -> CustomVjp:
    """Give ``fn`` its own derivative rule: decorate it, then its rule with ``@fn.defvjp``."""
    return CustomVjp(fn)


def custom_function(key: str, part: str) -> Any:
    """What generated code binds for a custom function: ``part`` is "primal" or "rule"."""
    try:
        return _REGISTRY[key].compiled(part)
    except KeyError:
        raise RuntimeError(f"the custom_vjp function {key} is not defined in this process: "
                           "import the module that defines it before calling the gradient") from None
