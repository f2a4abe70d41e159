"""The public API of shared/API.md: decorator forms, wrt, values, dtypes, attributes."""
from __future__ import annotations

import numpy as np
import pytest

import adjoint

from . import programs as P


def test_grad_forms_agree():
    bare = adjoint.grad(P.seed_e)

    @adjoint.grad
    def decorated(a, b):
        return (a + b) * (b + 1.0)

    with_args = adjoint.grad(wrt=0)(P.seed_e)
    assert bare(2.0, 1.0) == decorated(2.0, 1.0) == with_args(2.0, 1.0) == 2.0
    assert P.seed_e(2.0, 1.0) == 6.0  # the original is untouched


def test_wrt_by_position_name_and_tuple():
    assert adjoint.grad(P.seed_e, wrt="b")(2.0, 1.0) == 5.0
    assert adjoint.grad(P.seed_e, wrt=1)(2.0, 1.0) == 5.0
    assert adjoint.grad(P.seed_e, wrt=-1)(2.0, 1.0) == 5.0
    assert adjoint.grad(P.seed_e, wrt=("b", 0))(2.0, 1.0) == (5.0, 2.0)
    assert adjoint.grad(P.seed_e, wrt=["a"])(2.0, 1.0) == (2.0,)


def test_value_and_grad_plugs_into_scipy():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    vg = adjoint.value_and_grad(P.ridge)
    result = scipy_optimize.minimize(vg, np.zeros(3), args=(X, y, 0.1), jac=True, method="BFGS")
    expected = np.linalg.solve(X.T @ X + 0.2 * np.eye(3), X.T @ y)
    np.testing.assert_allclose(result.x, expected, rtol=1e-5)
    value, g = vg(np.ones(3), X, y, 0.1)
    assert isinstance(value, float) and value == pytest.approx(P.ridge(np.ones(3), X, y, 0.1))


def test_value_and_grad_decorator_forms():
    @adjoint.value_and_grad(wrt=("a", "b"))
    def e(a, b):
        return (a + b) * (b + 1.0)

    assert e(2.0, 1.0) == (6.0, (2.0, 5.0))
    assert adjoint.value_and_grad(P.seed_e)(2.0, 1.0) == (6.0, 2.0)


def test_attributes():
    g = adjoint.grad(P.seed_e, wrt=("a", "b"))
    assert g.fn is P.seed_e
    assert "def seed_e_vjp(a, b, seed_e_bar):" in g.source
    assert "# line" in g.source
    assert g.forward(2.0, 1.0) == 6.0
    assert "seed_e" in repr(g) and "(a, b)" in repr(g)


@pytest.mark.parametrize("jit", [False, True])
def test_scalar_gradient_is_a_python_float(jit):
    g = adjoint.grad(P.seed_e, jit=jit)(2.0, 1.0)
    assert type(g) is float


def test_float32_gradients_and_arguments_untouched():
    w = np.arange(3, dtype=np.float32)
    X = np.ones((4, 3), dtype=np.float32)
    y = np.zeros(4, dtype=np.float32)
    before = (w.copy(), X.copy(), y.copy())
    gw, glam = adjoint.grad(P.ridge, wrt=("w", "lam"))(w, X, y, 0.5)
    assert gw.dtype == np.float32 and gw.shape == (3,) and type(glam) is float
    for a, b in zip((w, X, y), before):
        np.testing.assert_array_equal(a, b)


def test_gradients_never_alias_each_other_or_inputs():
    def f(x, y):
        return np.sum(x + y)

    # the adjoint of x + y hands the same cotangent array to both operands
    gx, gy = adjoint.grad(f, wrt=(0, 1), jit=False)(np.ones(3), np.ones(3))
    gx[0] = 100.0
    assert gy[0] == 1.0


def test_check_grad_passes_and_fails():
    rng = np.random.default_rng(0)
    err = adjoint.check_grad(P.logistic, rng.normal(size=3), 0.1, rng.normal(size=(5, 3)),
                             np.array([0.0, 1.0, 1.0, 0.0, 1.0]), wrt=(0, 1))
    assert err < 1e-5

    def wrong(x):
        return np.sum(np.floor(x * 3.0) * x)  # floor's zero derivative is right a.e....

    # ...but finite differences across a jump of floor disagree: check_grad must say so
    with pytest.raises(AssertionError, match="disagrees with finite differences") as info:
        adjoint.check_grad(wrong, np.array([1.0 / 3.0]), jit=False)
    assert "  index (0,): adjoint 1.0, finite differences 1666" in str(info.value) and "np." not in str(info.value)  # plain numbers


def test_int_array_arguments_are_not_differentiated_but_usable():
    def f(x, k):
        return np.sum(x * k)

    g = adjoint.grad(f, jit=False)(np.ones(3), np.arange(3))
    np.testing.assert_array_equal(g, [0.0, 1.0, 2.0])


def scaled_by_flag(x, flag):
    return np.sum(x * x) * float(flag) + float(not flag)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_float_of_a_bool_argument(jit):
    """float(flag) of a bool argument: Numba has no float(bool), a CompileError under jit=True."""
    g = adjoint.value_and_grad(scaled_by_flag, jit=jit, background=False)
    value, grad = g(np.array([1.0, 2.0]), True)
    assert value == 5.0
    np.testing.assert_array_equal(grad, [2.0, 4.0])
    value, grad = g(np.array([1.0, 2.0]), False)
    assert value == 1.0
    np.testing.assert_array_equal(grad, [0.0, 0.0])


def square_of_a_copy(x):
    y = np.copy(x)
    z = x.copy()
    return y * z


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_a_copy_of_a_number(jit):
    """np.copy(x) and x.copy() of a float argument were generated as x.copy(): an
    AttributeError (jit=False) or a CompileError (jit=True). A number's copy is the number."""
    g = adjoint.value_and_grad(square_of_a_copy, jit=jit, background=False)
    assert g(1.5) == (2.25, 3.0)


def test_check_grad_takes_keywords_and_defaults():
    """check_grad with respect to a parameter left at its default raised IndexError (the
    finite differences took the positional arguments only), and took no keywords."""
    assert adjoint.check_grad(P.ridge, np.ones(3), np.eye(3), np.zeros(3), lam=0.5, wrt="lam", jit=False) < 1e-5

    def f(x, scale=2.0):
        return np.sum(x * x) * scale

    assert adjoint.check_grad(f, np.ones(2), wrt=(0, "scale"), jit=False) < 1e-5


def float_of_a_zero_d_array(x):
    return float(x) * 2.0 + np.sum(x * x)


@pytest.mark.parametrize("jit", [False, True])
def test_float_of_a_zero_d_array_argument(jit):
    """API.md lists 0-d arguments and float(); Numba has float() of numbers only (a CompileError)."""
    g = adjoint.grad(float_of_a_zero_d_array, jit=jit)(np.array(0.7))
    assert np.shape(g) == () and float(g) == pytest.approx(3.4, rel=1e-14)


def scaled_square(x, k):
    return np.sum(x * x) * k


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_calls_like_an_earlier_one_and_calls_unlike_it(jit):
    """A call with arguments of the types of an earlier, finished call goes straight to the
    function that call ran; a call with any other types is checked and built as a first."""
    g = adjoint.grad(scaled_square, jit=jit, background=False)
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(g(x, 3), [6.0, 12.0])
    np.testing.assert_array_equal(g(x, 3), [6.0, 12.0])
    np.testing.assert_array_equal(g(2.0 * x, 1), [4.0, 8.0])  # new values, same types
    np.testing.assert_array_equal(g(x, 0.5), [1.0, 2.0])  # a float k where there was an int
    np.testing.assert_array_equal(g(x, np.float64(0.5)), [1.0, 2.0])  # a NumPy scalar: converted
    np.testing.assert_array_equal(g(x, k=3), [6.0, 12.0])
    g32 = g(x.astype(np.float32), 3)
    assert g32.dtype == np.float32
    np.testing.assert_array_equal(g32, [6.0, 12.0])
    with pytest.raises(TypeError, match="cannot differentiate scaled_square with respect to 'x'"):
        g(np.arange(2), 3)
    with pytest.raises(TypeError, match="takes floats, ints and NumPy arrays"):
        g(x, "3")
    with pytest.raises(TypeError, match="missing a required argument"):
        g(x)
    np.testing.assert_array_equal(g(x, 3), [6.0, 12.0])


def weighted_squares(x, k):
    s = 0.0
    for i in range(3):
        s = s + np.sum(x * x * k) * i
    return s


def test_source_follows_the_latest_call_when_it_repeats_an_earlier_one():
    g = adjoint.grad(weighted_squares, wrt=("x", "k"), jit=False)
    x = np.ones(2)
    assert g.source_for(x, 2.0) != g.source_for(x, x)  # k a number, or an array
    for k in (2.0, x, 2.0, x, 2.0):
        g(x, k)
        assert g.source == g.source_for(x, k)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_repeated_calls_never_hand_back_shared_memory(jit):
    def f(x, y):
        return np.sum(x + y)

    g = adjoint.grad(f, wrt=(0, 1), jit=jit, background=False)
    x, y = np.ones(3), np.ones(3)
    for _ in range(3):
        gx, gy = g(x, y)
        gx[0] = 100.0
        assert gy[0] == 1.0 and x[0] == y[0] == 1.0
