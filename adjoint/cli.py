"""The command line: read what adjoint generates, without writing a script.

    python -m adjoint show FILE.py:FUNCTION [--wrt a,b] [--ir] [--forward-only | --adjoint-only]
                                            [--args "np.ones(3), 2.0"] [--jit-report]
    python -m adjoint graph FILE.py:FUNCTION [-o graph.svg] [--format dot|png|svg] [--wrt ...]

Errors (a missing file or function, code outside the subset) are one clear
message on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .api import GradFunction, _normalize_wrt, _ranks
from .codegen.highlight import ansi
from .errors import NonDifferentiableError, UnsupportedSyntaxError
from .ir.dot import to_dot
from .ir.printer import format_function


class CliError(Exception):
    """A user mistake on the command line: printed as one message, exit code 2."""


def _load(target: str) -> tuple[Callable[..., Any], Any]:
    """``file.py:function`` -> (the plain function, the wrt it was decorated with or None)."""
    path_text, sep, name = target.rpartition(":")
    if not sep or not path_text or not name:
        raise CliError(f"expected FILE.py:FUNCTION, got {target!r}")
    path = Path(path_text)
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    module_name = f"adjoint_cli_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CliError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))
    try:
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for what adjoint prints
            spec.loader.exec_module(module)
    except SyntaxError:
        raise
    except Exception as exc:  # the user's module failed while importing
        raise CliError(f"importing {path} failed: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    obj = getattr(module, name, None)
    if obj is None:
        functions = sorted(k for k, v in vars(module).items()
                           if callable(v) and getattr(v, "__module__", None) == module_name)
        raise CliError(f"{path} has no function {name!r}" +
                       (f" (it defines: {', '.join(functions)})" if functions else ""))
    if isinstance(obj, GradFunction):
        return obj.fn, obj.wrt
    if not callable(obj):
        raise CliError(f"{path}:{name} is a {type(obj).__name__}, not a function")
    return obj, None


def _wrt(fn: Callable[..., Any], text: str | None, decorated: Any) -> tuple[int, ...]:
    if text is None:
        return tuple(decorated) if decorated is not None else (0,)
    items = [int(t) if t.strip().lstrip("-").isdigit() else t.strip() for t in text.split(",")]
    try:
        return _normalize_wrt(fn, tuple(items))[0]
    except TypeError as exc:
        raise CliError(str(exc)) from None


def _grad(args: argparse.Namespace) -> GradFunction:
    fn, decorated = _load(args.target)
    return GradFunction(fn, _wrt(fn, args.wrt, decorated), jit=True, background=False)  # reports time compiles


def _split(source: str, vjp_name: str) -> tuple[str, str]:
    marker = f"\ndef {vjp_name}("
    head, _, tail = source.partition(marker)
    return head.rstrip() + "\n", f"def {vjp_name}(" + tail


def _show(args: argparse.Namespace) -> int:
    grad = _grad(args)
    # with --args, the code those arguments run (specialized to their ranks)
    ranks = _ranks(grad._arguments(_sample_args(grad, args.args), {})) if args.args else None
    built = grad._build(ranks, current=False)
    source = built.generated.source
    if args.ir:
        text = format_function(built.ir) + "\n"
    elif args.forward_only or args.adjoint_only:
        forward, adjoint = _split(source, built.generated.vjp_name)
        text = forward if args.forward_only else adjoint
    else:
        text = source
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                       and not os.environ.get("NO_COLOR"))
    sys.stdout.write(ansi(text) if color and not args.ir else text)
    if args.jit_report:
        _jit_report(grad, args.args)
    return 0


def _sample_args(grad: GradFunction, text: str | None) -> list[Any]:
    if text is None:
        return [1.0] * len(grad._params)
    try:
        value = eval(text, {"np": np, "numpy": np, "math": math})  # the user's own expression
    except Exception as exc:
        raise CliError(f"--args {text!r} could not be evaluated: {exc}") from None
    return list(value) if isinstance(value, tuple) else [value]


def _jit_report(grad: GradFunction, args_text: str | None) -> None:
    values = _sample_args(grad, args_text)
    start = time.perf_counter()
    try:
        grad(*values)
    except Exception as exc:
        hint = "" if args_text else " (pass sample arguments with --args \"np.ones(3), 2.0\")"
        raise CliError(f"could not compile for arguments {values!r}{hint}: {exc}") from None
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    grad(*values)
    run_seconds = time.perf_counter() - start
    print("\n# jit report (seconds)")
    for stage, seconds in grad.timings.items():
        if not stage.startswith("first call"):
            print(f"#   {stage:<10} {seconds:10.6f}")
    print(f"#   {'first call (Numba compile, or load from its cache)':<10} {compile_seconds:10.6f}")
    print(f"#   {'second call':<10} {run_seconds:10.6f}")


def _graph(args: argparse.Namespace) -> int:
    grad = _grad(args)
    built = grad._build()
    dot = to_dot(built.ir, built.active)
    fmt = args.format or (Path(args.output).suffix.lstrip(".") if args.output else "dot") or "dot"
    if fmt not in ("dot", "png", "svg"):
        raise CliError(f"unknown format {fmt!r}: use dot, png or svg")
    if fmt == "dot":
        if args.output:
            Path(args.output).write_text(dot)
        else:
            sys.stdout.write(dot)
        return 0
    output = Path(args.output or f"{built.ir.name}.{fmt}")
    program = shutil.which("dot")
    if program is None:
        dot_path = output.with_suffix(".dot")
        dot_path.write_text(dot)
        print(f"Graphviz's `dot` program is not installed, so adjoint wrote the graph as DOT text to "
              f"{dot_path}.\nRender it with:  dot -T{fmt} {dot_path} -o {output}\n"
              f"(install Graphviz: apt install graphviz, brew install graphviz, or conda install graphviz)")
        return 0
    subprocess.run([program, f"-T{fmt}", "-o", str(output)], input=dot.encode(), check=True)
    print(f"wrote {output}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adjoint", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the generated forward and adjoint of a function")
    show.add_argument("target", help="FILE.py:FUNCTION")
    show.add_argument("--wrt", help="comma-separated parameter names or positions (default: the "
                                    "decorator's wrt, else the first parameter)")
    group = show.add_mutually_exclusive_group()
    group.add_argument("--ir", action="store_true", help="print the SSA graph as text instead")
    group.add_argument("--forward-only", action="store_true", help="print only the forward function")
    group.add_argument("--adjoint-only", action="store_true", help="print only the adjoint function")
    show.add_argument("--jit-report", action="store_true",
                      help="time each pipeline stage and the Numba compile")
    show.add_argument("--args", help="sample arguments, a Python expression (np and math available), "
                                     "e.g. \"np.ones(3), 2.0\": show the code specialized to them "
                                     "(which are numbers, the ranks of the arrays) and use them for "
                                     "--jit-report")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    graph = sub.add_parser("graph", help="draw the SSA graph of a function (DOT, PNG or SVG)")
    graph.add_argument("target", help="FILE.py:FUNCTION")
    graph.add_argument("-o", "--output", help="output file (format from its extension)")
    graph.add_argument("--format", choices=("dot", "png", "svg"))
    graph.add_argument("--wrt", help="the parameters whose dependents are highlighted as active")
    return parser


def _syntax_error(exc: SyntaxError) -> str:
    where = f"{exc.filename}:{exc.lineno}:{exc.offset}"
    text = (exc.text or "").rstrip("\n")
    caret = ""
    if text:
        stripped = text.lstrip()
        indent = len(text) - len(stripped)
        caret = f"\n    {stripped}\n    {' ' * max(0, (exc.offset or 1) - 1 - indent)}^"
    return f"{where}: error: {exc.msg}{caret}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"show": _show, "graph": _graph}[args.command](args)
    except CliError as exc:
        print(f"adjoint: error: {exc}", file=sys.stderr)
    except UnsupportedSyntaxError as exc:
        print(_syntax_error(exc), file=sys.stderr)
    except SyntaxError as exc:  # the user's file does not parse at all
        print(_syntax_error(exc), file=sys.stderr)
    except (NonDifferentiableError, TypeError, NameError) as exc:
        print(f"adjoint: error: {exc}", file=sys.stderr)
    return 2
