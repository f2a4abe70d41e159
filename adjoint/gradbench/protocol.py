"""The GradBench tool protocol: one JSON request a line on stdin, one JSON response a
line on stdout, strictly request then response.

- ``start``: ``{"id", "tool": "adjoint"}``.
- ``define`` ``module``: compiles the eval's functions on a tiny input and answers
  ``success`` with a ``compile`` timing, or ``success: false`` for an eval adjoint
  does not implement (or that fails to compile).
- ``evaluate`` ``module``, ``function``, ``input``: runs the function at least
  ``input["min_runs"]`` times (default 1) and until the runs add up to
  ``input["min_seconds"]`` (default 1.0), one ``evaluate`` timing per run; JSON
  conversion stays outside the timed region.
- anything else: ``{"id"}``.

An exception in a request becomes ``success: false`` with the traceback in
``error``, and a line that is not a JSON object gets an error object with id null;
the loop keeps serving until stdin closes.
"""
from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any, Callable, TextIO

from .evals import load_eval

TOOL = "adjoint"


class Tool:
    """The state of one session: the evals defined so far."""

    def __init__(self, clock: Callable[[], int] = time.perf_counter_ns) -> None:
        self.clock = clock
        self.modules: dict[str, Any] = {}

    def respond(self, message: Any) -> dict[str, Any]:
        """The response to one decoded request."""
        if not isinstance(message, dict):
            return {"id": None, "success": False, "error": "a request must be a JSON object"}
        id = message.get("id")
        kind = message.get("kind")
        try:
            if kind == "start":
                return {"id": id, "tool": TOOL}
            if kind == "define":
                return {"id": id, **self.define(message["module"])}
            if kind == "evaluate":
                return {"id": id, **self.evaluate(message["module"], message["function"], message["input"])}
        except Exception as exc:  # every failure is an answer, never the end of the loop
            return {"id": id, "success": False, "error": "".join(traceback.format_exception(exc))}
        return {"id": id}

    def define(self, name: str) -> dict[str, Any]:
        """Import the eval and compile each of its functions on its tiny input."""
        try:
            module = load_eval(name)
        except KeyError as exc:
            return {"success": False, "error": exc.args[0]}
        start = self.clock()
        for function in module.FUNCTIONS.values():
            function(module.TINY_INPUT)
        elapsed = self.clock() - start
        self.modules[name] = module
        return {"success": True, "timings": [{"name": "compile", "nanoseconds": elapsed}]}

    def evaluate(self, name: str, function_name: str, input: dict[str, Any]) -> dict[str, Any]:
        module = self.modules.get(name)
        if module is None:
            module = load_eval(name)  # evaluate without define: compile during the first run
            self.modules[name] = module
        function = module.FUNCTIONS.get(function_name)
        if function is None:
            raise KeyError(f"the eval {name!r} has no function {function_name!r} "
                           f"(it has {', '.join(module.FUNCTIONS)})")
        min_runs = int(input.get("min_runs", 1))
        min_ns = float(input.get("min_seconds", 1.0)) * 1e9
        args = function.prepare(input)
        timings = []
        total = 0
        while len(timings) < max(min_runs, 1) or total < min_ns:
            start = self.clock()
            result = function.run(*args)
            elapsed = self.clock() - start
            timings.append({"name": "evaluate", "nanoseconds": elapsed})
            total += elapsed
        return {"success": True, "output": function.output(result), "timings": timings}


def serve(stdin: TextIO, stdout: TextIO, tool: Tool | None = None) -> None:
    """Answer every line of ``stdin`` on ``stdout`` until it closes."""
    tool = tool or Tool()
    for line in stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError as exc:
            response: dict[str, Any] = {"id": None, "success": False,
                                        "error": f"the request is not valid JSON: {exc}"}
        else:
            response = tool.respond(message)
        stdout.write(json.dumps(response) + "\n")
        stdout.flush()


def main() -> None:
    serve(sys.stdin, sys.stdout)
