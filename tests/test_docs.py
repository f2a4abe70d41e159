"""docs/subset.md lists every spelling and every rule of the table."""
from pathlib import Path

from adjoint.rules import CALLS, RULES

SUBSET = (Path(__file__).parent.parent / "docs" / "subset.md").read_text()


def test_every_call_spelling_is_documented():
    assert [k for k in CALLS if f"`{k}`" not in SUBSET] == []


def test_every_rule_is_documented():
    builtin = [n for n, rule in RULES.items() if rule.custom is None]  # not the users' custom_vjp ones
    assert [n for n in builtin if f"`{n}`" not in SUBSET] == []
