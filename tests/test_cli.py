"""``python -m adjoint show`` and ``graph``; the traceback map; notebook display."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import adjoint
from adjoint import cli

from . import cli_sample

SAMPLE = str(Path(__file__).parent / "cli_sample.py")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_prints_forward_and_adjoint(capsys):
    code, out, _ = run(capsys, "show", f"{SAMPLE}:loss")
    assert code == 0
    assert "def loss(w, x):" in out and "def loss_vjp(w, x, loss_bar):" in out
    assert re.search(r"# line \d+: h = np.tanh\(x \* w\)", out)
    assert "h_bar" in out and "\x1b[" not in out  # plain when piped


def test_show_options(capsys):
    assert "def loss_vjp" not in run(capsys, "show", f"{SAMPLE}:loss", "--forward-only")[1]
    adjoint_only = run(capsys, "show", f"{SAMPLE}:loss", "--adjoint-only")[1]
    assert adjoint_only.startswith("def loss_vjp(") and "def loss(" not in adjoint_only
    assert "cotangents of x," in run(capsys, "show", f"{SAMPLE}:loss", "--wrt", "x")[1]
    assert "cotangents of w, x," in run(capsys, "show", f"{SAMPLE}:loss", "--wrt", "0,1")[1]
    assert "cotangents of x," in run(capsys, "show", f"{SAMPLE}:decorated")[1]  # the decorator's wrt
    ir = run(capsys, "show", f"{SAMPLE}:loss", "--ir")[1]
    assert ir.startswith("function loss(w, x)") and "h = tanh(t1)" in ir
    assert "\x1b[" in run(capsys, "show", f"{SAMPLE}:loss", "--color", "always")[1]


def test_show_specialized_to_sample_arguments(capsys):
    """With --args, the code those arguments run: for numbers, no unbroadcast."""
    generic = run(capsys, "show", f"{SAMPLE}:loss", "--adjoint-only")[1]
    numbers = run(capsys, "show", f"{SAMPLE}:loss", "--adjoint-only", "--args", "0.5, 2.0")[1]
    assert "unbroadcast(" in generic and "unbroadcast(" not in numbers
    assert "y_bar = " in numbers


def test_jit_report(capsys):
    code, out, _ = run(capsys, "show", f"{SAMPLE}:loss", "--jit-report", "--args", "np.ones(3), np.ones(3)")
    assert code == 0
    assert re.search(r"#\s+parse\s+\d", out) and "first call" in out and "second call" in out


@pytest.mark.parametrize("target, message", [
    ("nowhere.py:loss", "no such file"),
    (f"{SAMPLE}:missing", "has no function 'missing'"),
    (f"{SAMPLE}", "expected FILE.py:FUNCTION"),
    (f"{SAMPLE}:loss --wrt q", "has no parameter 'q'"),
])
def test_show_errors_exit_2(capsys, target, message):
    code, out, err = run(capsys, "show", *target.split())
    assert code == 2 and message in err and out == ""


def test_unsupported_construct_is_shown_with_a_caret(capsys):
    code, _, err = run(capsys, "show", f"{SAMPLE}:outside")
    line = next(i for i, text in enumerate(Path(SAMPLE).read_text().splitlines(), 1) if "y[0] = 1.0" in text)
    assert code == 2
    assert f"cli_sample.py:{line}:5: error: writing into an array element" in err
    assert err.splitlines()[-2].strip() == "y[0] = 1.0" and err.splitlines()[-1].strip() == "^"


def test_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "adjoint", "show", "nowhere.py:f"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "no such file" in result.stderr


def _nodes_and_edges(dot: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    nodes = dict(re.findall(r'^  "([^"]+)" \[(.*)\];$', dot, re.M))
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)";$', dot, re.M)
    return nodes, edges


def test_graph_dot_has_one_node_per_ssa_value(capsys):
    code, dot, _ = run(capsys, "graph", f"{SAMPLE}:loss", "--wrt", "w")
    assert code == 0 and dot.startswith('digraph "loss" {') and dot.rstrip().endswith("}")
    nodes, edges = _nodes_and_edges(dot)
    ir = adjoint.grad(cli_sample.loss)._build().ir
    ssa = set(ir.param_names) | {s.target.name for s in ir.body if hasattr(s, "target")}
    assert set(nodes) == ssa
    assert all(a in nodes and b in nodes for a, b in edges)
    # h feeds h * h (one use: its cotangent is 2 g h, one contribution) and + h
    assert "fan-out: 2 uses" in nodes["h"] and "penwidth" in nodes["h"]
    assert "fillcolor" in nodes["h"] and "fillcolor" not in nodes["x"]  # active vs not
    assert "line " in nodes["h"]


def test_graph_without_graphviz_writes_dot_and_says_how(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    code, out, _ = run(capsys, "graph", f"{SAMPLE}:loss", "-o", str(tmp_path / "g.svg"))
    assert code == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")
    assert f"dot -Tsvg {tmp_path / 'g.dot'} -o {tmp_path / 'g.svg'}" in out


@pytest.mark.skipif(cli.shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_renders_svg(capsys, tmp_path):
    code, _, _ = run(capsys, "graph", f"{SAMPLE}:loss", "-o", str(tmp_path / "g.svg"))
    assert code == 0 and "<svg" in (tmp_path / "g.svg").read_text()


def test_traceback_names_the_user_line():
    line = next(i for i, text in enumerate(Path(SAMPLE).read_text().splitlines(), 1) if "z = y[i] * 2.0" in text)
    with pytest.raises(IndexError) as info:
        adjoint.grad(cli_sample.picks, jit=False)(np.ones(3), 7)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert f"cli_sample.py, line {line}: z = y[i] * 2.0" in notes
    frames = [str(f.path) for f in info.traceback]
    assert any(Path(f).name.startswith("picks_") for f in frames)  # the generated file itself


def test_notebook_display():
    g = adjoint.grad(cli_sample.loss, wrt=("w", "x"))
    assert repr(g) == "<adjoint.grad of loss with respect to (w, x), jit=True>"
    html = g._repr_html_()
    assert html.count("<pre>") == 1 and "loss_vjp" in html and "<span" in html
