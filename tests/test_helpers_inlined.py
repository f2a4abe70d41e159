"""Calls to plain Python helper functions are inlined and differentiated through."""
from __future__ import annotations

import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference

from . import helpers_other, helpers_sample as H


def _check(fn, args, wrt, jit):
    grads = adjoint.grad(fn, wrt=wrt, jit=jit)(*args)
    grads = grads if isinstance(wrt, tuple) else (grads,)
    for pos, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), grads):
        np.testing.assert_allclose(g, finite_difference(fn, list(args), pos), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_nested_helpers_tuples_defaults_and_keywords(jit):
    rng = np.random.default_rng(0)
    _check(H.loss_with_helpers, (rng.normal(size=4), rng.normal(size=4)), (0, 1), jit)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_helper_called_twice_sums_cotangents(jit):
    _check(H.uses_helper_twice, (0.3,), 0, jit)
    x = 0.3
    expected = (np.log1p(np.exp(2 * x)) / (1 + np.exp(-x)) + np.log1p(np.exp(x)) * 2 / (1 + np.exp(-2 * x)))
    assert adjoint.grad(H.uses_helper_twice, jit=jit)(x) == pytest.approx(expected, rel=1e-12)


def test_generated_code_shows_where_each_helper_is():
    source = adjoint.grad(H.nested, wrt=(0, 1)).source
    assert "# line 8 (in softplus): return np.log1p(np.exp(x))" in source
    assert "(in affine): return x * w + b" in source
    assert "# line 6 (in scale): s = np.tanh(y) * k" in source
    # the adjoint of the helper's lines appears in reverse, under the same comments
    adjoint_part = source.split("# adjoint")[1]
    assert adjoint_part.index("(in scale)") < adjoint_part.index("(in affine)") < adjoint_part.index("(in softplus)")


def test_recursion_is_refused_at_the_call():
    for fn, callee in ((H.recursive, "countdown"), (H.calls_mutual, "mutual_a")):
        with pytest.raises(adjoint.UnsupportedSyntaxError, match=f"recursive call to {callee}") as info:
            adjoint.grad(fn).source
        assert info.value.filename.endswith("helpers_sample.py")
        assert "return" in info.value.text


def test_helper_may_not_update_an_argument_array_in_place():
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="in place") as info:
        adjoint.grad(H.calls_writer).source
    assert info.value.text.strip() == "x += 1.0"


def test_traceback_points_into_the_helper_file():
    def f(x, i):
        return helpers_other.fails_to_index(x, i) * 2.0

    with pytest.raises(IndexError) as info:
        adjoint.grad(f, jit=False)(np.ones(2), 5)
    assert any("helpers_other.py, line 11: return x[i]" in n for n in info.value.__notes__)
