"""docs/subset.md lists every spelling and every rule of the table; the generated code
that the README and docs/ show is what adjoint generates."""
import importlib.util
import re
from pathlib import Path

import numpy as np

import adjoint
from adjoint.rules import CALLS, RULES

SUBSET = (Path(__file__).parent.parent / "docs" / "subset.md").read_text()


def test_every_call_spelling_is_documented():
    assert [k for k in CALLS if f"`{k}`" not in SUBSET] == []


def test_every_rule_is_documented():
    builtin = [n for n, rule in RULES.items()  # not the users' custom_vjp ones, nor a transform's
               if rule.custom is None and not rule.internal]
    assert [n for n in builtin if f"`{n}`" not in SUBSET] == []


# -- the generated code the README and docs/ show is what adjoint generates ------------------

ROOT = Path(__file__).parent.parent


def _example(name):
    spec = importlib.util.spec_from_file_location(f"docs_example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _block(doc: str, first_line: str) -> str:
    """The ```python block of ``doc`` whose text contains ``first_line``, from that line on."""
    for block in re.findall(r"```python\n(.*?)```", (ROOT / doc).read_text(), re.S):
        if first_line in block:
            return block[block.index(first_line):]
    raise AssertionError(f"{doc} has no python block with {first_line!r}")


def test_readme_quickstart_adjoint_is_generated():
    """README: `python -m adjoint show examples/quickstart.py:loss --wrt a,b --adjoint-only
    --args "2.0, 3.0"` generates the block it shows."""
    shown = _block("README.md", "def loss_vjp(a, b, e_bar):")
    g = adjoint.grad(_example("quickstart").loss, wrt=("a", "b"), jit=False)
    assert shown in g.source_for(2.0, 3.0)


def test_custom_losses_huber_adjoint_is_generated():
    shown = _block("docs/custom-losses.md", "    # line 46: return np.mean(np.where(")
    losses = _example("losses")
    grad = adjoint.grad(losses.huber, jit=False)
    pred, target = np.linspace(-1.0, 1.0, 8), np.zeros(8)
    grad(pred, target, 1.0)
    assert shown in grad.source


def test_custom_losses_softplus_rule_call_is_generated():
    shown = _block("docs/custom-losses.md", "t2_bar = cotangent(softplus_vjp(").strip()
    losses = _example("losses")
    assert shown in adjoint.grad(losses.log_cosh, jit=False).source_for(np.ones(3), np.zeros(3))


def softplus_loss(w, x):  # docs/adding-a-rule.md, worked example 1
    z = x @ w
    return np.sum(np.logaddexp(0.0, z))


def test_adding_a_rule_logaddexp_adjoint_is_generated():
    """The same up to the line numbers, which are those of the page's own listing."""
    shown = _block("docs/adding-a-rule.md", "    # adjoint: cotangents in reverse order")
    source = adjoint.grad(softplus_loss, jit=False).source
    assert re.sub(r"# line \d+", "# line N", shown) in re.sub(r"# line \d+", "# line N", source)
    assert adjoint.check_grad(softplus_loss, np.array([0.3, -0.2]), np.ones((3, 2)), jit=False) < 1e-7


def test_adding_a_rule_records_are_the_table_s():
    """The page's logaddexp record, run, makes the rule the table has (recompute and rank too:
    without rank="broadcast" an element write into its result is refused)."""
    from adjoint.rules import cases
    from adjoint.rules.registry import Example, Rule, unbroadcast

    made = []
    names = {"Rule": Rule, "Example": Example, "unbroadcast": unbroadcast, "cases": cases,
             "register": lambda rule, *keys: made.append((rule, keys))}
    page = (ROOT / "docs" / "adding-a-rule.md").read_text()
    for block in re.findall(r"```python\n(.*?)```", page, re.S):
        if "register(Rule" in block and '"logaddexp"' in block:
            exec(block, names)
    for rule, keys in made:
        assert rule == RULES["logaddexp"] and keys == ("numpy.logaddexp",)
    assert len(made) == 2


def _doc_line(start: str) -> str:
    return next(line for line in SUBSET.splitlines() if line.startswith(start))


def test_calls_subset_md_cites_as_refused_have_no_rule():
    """Its examples of refused calls are not in the table (np.cumsum and x.cumsum() were)."""
    no_rule = re.findall(r"`np\.([\w.]+)`", _doc_line("- a call to any function without a rule"))
    assert no_rule and [n for n in no_rule if f"numpy.{n}" in CALLS] == []
    methods = re.findall(r"`x\.(\w+)\(\)`", _doc_line("- an array method or attribute not listed"))
    assert methods and [m for m in methods if f"method:{m}" in CALLS] == []
