"""The GradBench protocol loop, driven by request lines: in-process through serve() for
every eval, and once through a real `python -m adjoint.gradbench` process."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adjoint.gradbench.evals import EVALS, load_eval
from adjoint.gradbench.protocol import Tool, serve


def run(requests, tool=None):
    """Send ``requests`` (dicts, or raw strings sent as they are) and return the responses."""
    lines = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests)
    out = io.StringIO()
    serve(io.StringIO(lines), out, tool)
    return [json.loads(line) for line in out.getvalue().splitlines()]


class FakeClock:
    """A clock that advances 0.25 s at each reading: each run takes 0.25 s."""

    def __init__(self):
        self.now = 0

    def __call__(self):
        self.now += 250_000_000
        return self.now


def test_start_and_other_kinds():
    assert run([{"id": 0, "kind": "start", "eval": "gmm", "config": {}},
                {"id": 1, "kind": "analysis"}, {"id": 2, "kind": "end"}]) == [
        {"id": 0, "tool": "adjoint"}, {"id": 1}, {"id": 2}]


@pytest.mark.parametrize("name", EVALS)
def test_define_each_eval(name):
    [response] = run([{"id": 7, "kind": "define", "module": name}])
    assert response["id"] == 7 and response["success"] is True, response
    [timing] = response["timings"]
    assert timing["name"] == "compile" and isinstance(timing["nanoseconds"], int) and timing["nanoseconds"] > 0


def test_define_unknown_module():
    [response] = run([{"id": 3, "kind": "define", "module": "hello"}])
    assert response["id"] == 3 and response["success"] is False and "hello" in response["error"]


@pytest.mark.parametrize("name", EVALS)
def test_evaluate_each_function(name):
    module = load_eval(name)
    for function in module.FUNCTIONS:
        input = {**module.TINY_INPUT, "min_runs": 2, "min_seconds": 0}
        [response] = run([{"id": 4, "kind": "evaluate", "module": name, "function": function, "input": input,
                           "description": "tiny"}])
        assert response["success"] is True, response
        assert response["output"] == module.FUNCTIONS[function](module.TINY_INPUT)
        assert [t["name"] for t in response["timings"]] == ["evaluate", "evaluate"]


def test_runs_until_min_runs_and_min_seconds():
    tool = Tool(clock=FakeClock())
    request = {"kind": "evaluate", "module": "lse", "function": "primal"}
    responses = run([{**request, "id": 1, "input": {"x": [1.0, 2.0], "min_runs": 5, "min_seconds": 0.1}},
                     {**request, "id": 2, "input": {"x": [1.0, 2.0], "min_runs": 1, "min_seconds": 1.0}},
                     {**request, "id": 3, "input": {"x": [1.0, 2.0]}}], tool)
    assert [len(r["timings"]) for r in responses] == [5, 4, 4]  # 1.0 s is the default min_seconds
    assert all(t["nanoseconds"] == 250_000_000 for r in responses for t in r["timings"])


def test_failures_do_not_stop_the_loop():
    responses = run([
        "this is not JSON",
        "[1, 2]",
        {"id": 1, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": "abc"}},
        {"id": 2, "kind": "evaluate", "module": "lse", "function": "hessian", "input": {"x": [1.0]}},
        {"id": 3, "kind": "evaluate", "module": "lse"},
        {"id": 4, "kind": "evaluate", "module": "nope", "function": "primal", "input": {}},
        {"id": 5, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": [0.0, 0.0]}},
    ])
    assert [r["id"] for r in responses] == [None, None, 1, 2, 3, 4, 5]
    assert all(r["success"] is False for r in responses[:-1])
    assert "not valid JSON" in responses[0]["error"]
    assert "Traceback" in responses[2]["error"] and "ValueError" in responses[2]["error"]
    assert "hessian" in responses[3]["error"]
    assert responses[-1]["success"] is True and responses[-1]["output"] == pytest.approx(0.6931471805599453)


def test_a_real_process_on_stdin_and_stdout():
    """The module entry point, flushing each line: read each response before the next request."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "adjoint.gradbench"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=env, cwd=root)

    def ask(line):
        process.stdin.write(line + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    try:
        assert ask(json.dumps({"id": 0, "kind": "start"})) == {"id": 0, "tool": "adjoint"}
        assert ask(json.dumps({"id": 1, "kind": "define", "module": "lse"}))["success"] is True
        assert ask("{oops")["id"] is None
        assert ask(json.dumps({"id": 2, "kind": "define", "module": "kmeans"}))["success"] is False
        failed = ask(json.dumps({"id": 3, "kind": "evaluate", "module": "lse", "function": "gradient",
                                 "input": {"x": [[1.0], 2.0]}}))
        assert failed["id"] == 3 and failed["success"] is False
        done = ask(json.dumps({"id": 4, "kind": "evaluate", "module": "lse", "function": "gradient",
                               "input": {"x": [0.0, 0.0], "min_runs": 3, "min_seconds": 0}}))
        assert done == {"id": 4, "success": True, "output": [0.5, 0.5], "timings": done["timings"]}
        assert len(done["timings"]) == 3
    finally:
        process.stdin.close()
        assert process.wait(timeout=60) == 0
