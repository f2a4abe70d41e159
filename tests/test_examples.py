"""The examples the README points to keep working (short runs)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mazur_first_steps_are_exact():
    errors = _load("mazur").train(2)
    assert errors[0] == pytest.approx(0.2983711087600027, abs=1e-12)
    assert errors[1] == pytest.approx(0.29102777369, abs=1e-10)


def test_quickstart_runs(capsys):
    _load("quickstart").main()
    out = capsys.readouterr().out
    assert "de/da = 2.0" in out and "de/db = 5.0" in out and "def loss_vjp" in out


def test_losses_match_finite_differences(capsys):
    """Every loss of examples/losses.py passes check_grad (main raises otherwise), and
    log_cosh stays finite where cosh overflows, thanks to the custom softplus rule."""
    losses = _load("losses")
    losses.main([])
    out = capsys.readouterr().out
    for name in ("huber", "log_cosh", "focal", "contrastive", "softplus_loss"):
        assert f"== {name}: value" in out and f"def {name}_vjp" in out
    assert "softplus_vjp(" in out and "nan" not in out and "inf" not in out


def test_ode_fit_recovers_the_parameters():
    module = _load("ode_fit")
    result, _ = module.fit(steps=1_000)
    assert result.success
    assert np.allclose(result.x, module.TRUE, rtol=0.03)


def test_newton_roots_gradient_is_the_implicit_derivative(capsys):
    """The gradient through the Newton while loop equals dz/db = 1 / (3 z**2 + c) at the
    roots (and its sum over k for c), and the printed gradient tapes nothing."""
    assert _load("newton_roots").main(6) < 1e-9  # (the loop stops at |f| < 1e-12)
    out = capsys.readouterr().out
    assert "def sum_of_roots_grad" in out and "# adjoint of this iteration" in out and ".append(" not in out
