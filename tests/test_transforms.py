"""vjp and jacobian against closed forms and finite differences."""
from __future__ import annotations

import numba
import numpy as np
import pytest

import adjoint
from adjoint.check import finite_difference

A = np.array([[1.0, 2.0, 0.5], [-1.0, 0.3, 2.0]])


def linear(x, A):
    return A @ x


def elementwise(x, y):
    return np.sin(x) * y + x * x


def scalar_out(x):
    return np.sum(x ** 3)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_vjp_of_a_linear_map_is_the_transpose(jit):
    x = np.array([0.1, 0.2, 0.3])
    out, pullback = adjoint.vjp(linear, x, A, jit=jit)
    np.testing.assert_allclose(out, A @ x)
    g = np.array([1.5, -2.0])
    np.testing.assert_allclose(pullback(g), A.T @ g, rtol=1e-14)
    np.testing.assert_allclose(pullback(np.array([0.0, 1.0])), A[1], rtol=1e-14)  # reusable


def test_vjp_tuple_wrt_and_scalar_output():
    x, y = np.array([0.5, 1.0]), np.array([2.0, -1.0])
    out, pullback = adjoint.vjp(elementwise, x, y, wrt=(0, 1))
    gx, gy = pullback(np.ones(2))
    np.testing.assert_allclose(gx, np.cos(x) * y + 2 * x, rtol=1e-14)
    np.testing.assert_allclose(gy, np.sin(x), rtol=1e-14)
    value, pb = adjoint.vjp(scalar_out, x)
    assert value == pytest.approx(np.sum(x ** 3))
    np.testing.assert_allclose(pb(2.0), 6 * x ** 2)


def test_vjp_checks_the_cotangent_shape():
    _, pullback = adjoint.vjp(linear, np.ones(3), A)
    with pytest.raises(ValueError, match=r"shape \(3,\).*output has shape \(2,\)"):
        pullback(np.ones(3))


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_jacobian_matches_closed_form_and_finite_differences(jit):
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(adjoint.jacobian(linear, jit=jit)(x, A), A, rtol=1e-14)
    x, y = np.array([0.5, 1.0]), np.array([2.0, -1.0])
    jx, jy = adjoint.jacobian(elementwise, wrt=(0, 1), jit=jit)(x, y)
    assert jx.shape == (2, 2) and jy.shape == (2, 2)
    np.testing.assert_allclose(jx, np.diag(np.cos(x) * y + 2 * x), rtol=1e-14)
    np.testing.assert_allclose(jy, np.diag(np.sin(x)), rtol=1e-14)
    for i in range(2):
        row = finite_difference(lambda x: elementwise(x, y)[i], [x], 0)
        np.testing.assert_allclose(jx[i], row, rtol=1e-6, atol=1e-9)


def test_jacobian_of_a_scalar_function_is_its_gradient_and_float32_stays():
    x = np.array([0.5, 1.0], dtype=np.float32)
    j = adjoint.jacobian(scalar_out)(x)
    assert j.shape == (2,) and j.dtype == np.float32
    np.testing.assert_allclose(j, 3 * x ** 2, rtol=1e-6)


def identity(x):
    return x


def transposed(x):
    return x.T


def tail(x):
    return x[1:]


def sum_of(x, y):
    return x + y


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("fn", [identity, transposed, tail], ids=["identity", "transposed", "tail"])
def test_vjp_results_share_no_memory_with_the_arguments_or_the_cotangent(fn, jit):
    """``return x`` (or a view of x): the output was x itself, and x's cotangent the
    caller's g, so writing into either changed the caller's arrays."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    out, pullback = adjoint.vjp(fn, x, jit=jit)
    assert not np.may_share_memory(out, x)
    g = np.ones(np.shape(out))
    gx = pullback(g)
    assert not np.may_share_memory(gx, g)
    out[...] = 0.0
    gx[...] = 5.0
    np.testing.assert_array_equal(x, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(g, np.ones(np.shape(out)))


@numba.njit
def _compiled_copy(a):
    return a.copy()


@pytest.mark.parametrize("fn", [identity, transposed, tail, sum_of], ids=["identity", "transposed", "tail", "sum"])
def test_results_share_no_memory_with_a_cotangent_compiled_code_made(fn):
    """A cotangent that a compiled call made (its memory a block Numba allocated, as the
    compiled gradient's own results are): the results are still copies of it, and of each
    other (``_gradients``: a block the call allocated is told apart from an input's)."""
    args = (np.array([[1.0, 2.0], [3.0, 4.0]]),) * (2 if fn is sum_of else 1)
    out, pullback = adjoint.vjp(fn, *args, wrt=tuple(range(len(args))), jit=True)
    g = _compiled_copy(np.ones(np.shape(out)))
    grads = pullback(g)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, gx in enumerate(grads):
        assert not np.may_share_memory(gx, g)
        assert not any(np.may_share_memory(gx, other) for other in grads[:i])
    want = adjoint.vjp(fn, *args, wrt=tuple(range(len(args))), jit=False)[1](np.ones(np.shape(out)))
    for gx, w in zip(grads, want if isinstance(want, tuple) else (want,)):
        np.testing.assert_array_equal(gx, w)


def test_vjp_cotangents_of_two_arguments_share_no_memory_with_the_cotangent():
    _, pullback = adjoint.vjp(sum_of, np.ones(2), np.ones(2), wrt=(0, 1), jit=False)
    g = np.ones(2)
    gx, gy = pullback(g)
    assert not np.may_share_memory(gx, g) and not np.may_share_memory(gy, g)
    assert not np.may_share_memory(gx, gy)


def test_vjp_and_jacobian_of_a_gradient_function_are_refused():
    """jacobian(adjoint.grad(f)) gave the Jacobian of f (its gradient, shape x.shape), not
    of the gradient (the Hessian); vjp(adjoint.grad(f), x) gave f's value as the output."""
    grad = adjoint.grad(scalar_out, jit=False)
    with pytest.raises(TypeError, match=r"adjoint.hessian\(scalar_out"):
        adjoint.jacobian(grad)
    with pytest.raises(TypeError, match="takes the function itself"):
        adjoint.vjp(grad, np.ones(2))


def scaled_square(x, scale=2.0):
    return x * x * scale


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_keyword_arguments_and_defaults(jit):
    """vjp, jacobian and hessian took positional arguments only (hess() got an unexpected
    keyword argument 'scale'), where grad takes keywords too."""
    x = np.array([0.5, -1.0])
    out, pullback = adjoint.vjp(scaled_square, x, scale=3.0, jit=jit)
    np.testing.assert_allclose(out, 3.0 * x * x)
    np.testing.assert_allclose(pullback(np.ones(2)), 6.0 * x)
    np.testing.assert_allclose(adjoint.jacobian(scaled_square, jit=jit)(x, scale=3.0), np.diag(6.0 * x))
    np.testing.assert_allclose(adjoint.jacobian(scaled_square, jit=jit)(scale=3.0, x=x), np.diag(6.0 * x))
    np.testing.assert_allclose(adjoint.hessian(scalar_out, jit=jit)(x=x), np.diag(6.0 * x))


def scaled_vector(a, v):
    return a * v


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_jacobian_and_hessian_with_respect_to_a_0d_array(jit):
    """Under Numba both ran their compiled kernel, which ravels the gradient: a 0-d array's
    gradient is a number there, and Numba failed with its TypingError (ravel(float64))."""
    v = np.array([1.0, -2.0])
    np.testing.assert_allclose(adjoint.jacobian(scaled_vector, jit=jit)(np.array(0.5), v), v)
    assert float(adjoint.hessian(scalar_out, jit=jit)(np.array(0.5))) == pytest.approx(3.0)


def int_matrix_product(x, k):
    return np.sin(x) * np.sum(k @ k)


def mixed_precision_product(x, w):
    return np.sin(x @ w)


def test_a_jacobian_numba_cannot_compile_is_a_compile_error_naming_the_types():
    """k @ k of an int matrix (Numba's matrix product takes floats): the compiled Jacobian
    leaked Numba's TypingError, and a vjp that failed to compile was explained as "must
    return a scalar to be differentiated", which vjp and jacobian do not ask."""
    x, k = np.array([0.5, 1.0]), np.arange(4).reshape(2, 2)
    with pytest.raises(adjoint.CompileError, match=r"k: int64\[2, 2\]") as info:
        adjoint.jacobian(int_matrix_product)(x, k)
    assert "scalar" not in str(info.value)
    np.testing.assert_allclose(adjoint.jacobian(int_matrix_product, jit=False)(x, k),
                               np.diag(np.cos(x)) * np.sum(k @ k))


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_a_product_of_two_float_dtypes_promotes_as_numpy(jit):
    """x @ w of float64 data and float32 weights: NumPy promotes to float64; Numba's product
    takes one dtype, a CompileError before. The gradient of w is float32, as w."""
    x, w = np.linspace(0.0, 1.0, 6).reshape(2, 3), np.linspace(-1.0, 1.0, 6).reshape(3, 2).astype(np.float32)
    jac = adjoint.jacobian(mixed_precision_product, wrt=1, jit=jit)(x, w)
    assert jac.dtype == np.float32
    expected = adjoint.jacobian(mixed_precision_product, wrt=1, jit=False)(x, w.astype(np.float64))
    np.testing.assert_allclose(jac, expected, rtol=1e-6)
