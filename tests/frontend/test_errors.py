"""adjoint's errors at its users: located, named, and never an internal traceback.

The refused user functions live in ``bad_programs.py`` (a real file, so that
``inspect.getsource`` and ``linecache`` read it as they read a user's module);
each marks the line its error must point at with a trailing ``# <-``.
"""
from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

import adjoint

_PATH = Path(__file__).with_name("bad_programs.py")


def _load_bad_programs():
    name = "adjoint_tests_frontend_bad_programs"  # unique: no clash with other test dirs
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bp = _load_bad_programs()

# Text that must never reach a user: internal exceptions, tracebacks, AST dumps.
_INTERNAL = ("KeyError", "Traceback", "ast.", "<ast", "Name(id=", "BinOp(", "lineno=",
             "NumbaError", "TypingError", "AttributeError", "During handling of the above exception",
             "The above exception was the direct cause")


def marked_line(fn) -> tuple[int, str]:
    """The file line number and the code (without the marker) of ``fn``'s ``# <-`` line."""
    lines, start = inspect.getsourcelines(fn)
    hits = [(start + i, line.split("# <-")[0].strip()) for i, line in enumerate(lines) if "# <-" in line]
    assert len(hits) == 1, f"{fn.__name__} must mark exactly one line with '# <-'"
    return hits[0]


def assert_clean(exc: BaseException) -> None:
    """The message, and the whole chain a user would see printed, hold nothing internal."""
    message = str(exc)
    shown = "".join(traceback.format_exception_only(type(exc), exc))
    chain = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    for bad in _INTERNAL:
        assert bad not in message, f"internal text {bad!r} in the message: {message!r}"
        assert bad not in shown, f"internal text {bad!r} in the printed error: {shown!r}"
    assert chain is None, f"the error chains an internal exception: {chain!r}"


# -- UnsupportedSyntaxError ----------------------------------------------------------


# (function in bad_programs, a regex the message must match: it names the construct)
REFUSED = [
    ("while_loop", r"\btry\b"),
    ("for_over_array", r"range"),
    ("for_else", r"for \.\.\. else"),
    ("float_range", r"range\(\) takes ints"),
    ("defined_in_one_branch", r"defined on some paths only"),
    ("loop_variable_after_loop", r"i is the index of the for loop of line \d+, .*last = i in it"),
    ("loop_index_after_loop_with_a_value_before", r"i is the index of the for loop of line \d+"),
    ("optional_argument_is_none", r"`is` is not supported.*optional argument.*default"),
    ("keepdims_keyword", r"'keepdims': reshape the result instead"),
    ("lambda_expression", r"\blambda\b"),
    ("list_comprehension", r"list comprehension"),
    ("set_comprehension", r"set comprehension"),
    ("dict_comprehension", r"dict comprehension"),
    ("generator_expression", r"generator expression"),
    ("dict_display", r"\bdict\b"),
    ("set_display", r"\bset\b"),
    ("fstring", r"f-string"),
    ("string_constant", r"\bstr(ing)?\b"),
    ("try_except", r"\btry\b"),
    ("with_statement", r"\bwith\b"),
    ("nested_def", r"nested function|\bdef\b"),
    ("global_statement", r"\bglobal\b"),
    ("nonlocal_statement", r"\bnonlocal\b"),
    ("import_statement", r"\bimport\b"),
    ("import_from", r"\bimport\b"),
    ("del_statement", r"\bdel\b"),
    ("assert_statement", r"\bassert\b"),
    ("raise_statement", r"\braise\b"),
    ("yield_statement", r"\byield\b"),
    ("yield_assignment", r"\byield\b"),
    ("walrus", r":=|assignment expression"),
    ("starred_call", r"starred|\*args"),
    ("print_statement", r"\bprint\b|expression statement"),
    ("element_write", r"writ\w* into an array|element"),
    ("slice_write", r"writ\w* into an array|element|slice"),
    ("augmented_element_write", r"writing into y here.*z is the same array"),
    ("augmented_chained_alias", r"in place.*same array as b"),
    ("augmented_live_view", r"z is read here after line \d+ wrote into y.*view of y"),
    ("augmented_after_branch_view", r"z is read here after line \d+ wrote into y.*view of y"),
    # np.float64 of a float64 array is the array itself (once differentiated as a copy)
    ("augmented_float64_alias", r"w is read here after line \d+ wrote into y.*view of y"),
    ("write_through_float64_alias", r"writing into (an array element of )?y"),
    ("augmented_float64_of_argument", r"in place.*y is a view"),
    ("attribute_write", r"attribute"),
    ("varargs", r"\*args"),
    ("varkwargs", r"\*\*kwargs"),
    ("keyword_only", r"keyword-only"),
    ("bitwise_and", r"&|BitAnd|bitwise"),
    ("bitwise_or", r"\||BitOr|bitwise"),
    ("bitwise_xor", r"\^|BitXor|bitwise"),
    ("left_shift", r"<<|LShift|shift"),
    ("invert", r"~|invert|bitwise"),
    ("chained_comparison", r"chained comparison"),
    ("unsupported_method", r"\.?argsort"),
    ("unsupported_attribute", r"\.?real\b"),
    ("boolean_indexing", r"boolean indexing|index"),
    ("list_indexing", r"\blist\b|fancy|index"),
    ("float_indexing", r"float|index"),
    ("no_return", r"\breturn\b"),
    ("bare_return", r"\breturn\b"),
    ("return_in_middle", r"after this return can never run"),
    ("break_before_code", r"after this break can never run"),
    ("falls_off_the_end", r"return statement on every path"),
    ("multi_line_statement", r"\.?real\b"),
    ("tuple_element_writes", r"y\[0\] as part of a tuple, chained or annotated assignment.*statement of its own"),
    ("dtype_string", r"str constant.*np\.float32"),
    ("einsum_subscripts", r"np\.einsum\(\) with a string argument .*with @, \* and np\.sum"),
    ("comma_string", r"str constant"),
    ("match_statement", r"match statement.*if/elif/else"),
    ("is_comparison", r"comparison `is` is not supported.*< <="),
    ("in_comparison", r"comparison `in` is not supported.*< <="),
    ("async_function", r"async function.*plain def"),
    ("generator_function", r"\byield\b"),
    ("chained_element_write", r"y\[0\] as part of a tuple, chained or annotated assignment.*statement of its own"),
    ("annotated_element_write", r"y\[0\] as part of a tuple, chained or annotated assignment.*statement of its own"),
    # the adjoint took such a tuple for an array: 'float' object is not subscriptable, when run
    ("tuple_set_by_branches", r"t holds a tuple that the branches of this if set differently.*a name of its own"),
    ("tuple_chosen_by_a_condition", r"t holds a tuple chosen by a condition.*a name of its own"),
    ("tuple_carried_by_a_loop", r"t holds a tuple that this loop updates.*a name of its own"),
    # codegen rendered it x[], a bare SyntaxError of the generated module
    ("empty_index", r"empty index x\[\(\)\] is not supported.*float\(x\)"),
]


@pytest.mark.parametrize("name, construct", REFUSED)
def test_refused_construct_is_located_and_named(name: str, construct: str) -> None:
    fn = getattr(bp, name)
    line, code = marked_line(fn)
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(fn).source  # building is what refuses; .source builds without compiling
    err = info.value
    assert isinstance(err, SyntaxError)
    assert err.lineno == line, f"{name}: error at line {err.lineno}, the construct is at line {line}"
    assert err.filename is not None and err.filename.endswith("bad_programs.py"), err.filename
    assert err.text is not None and code in err.text, f"{name}: text {err.text!r} lacks {code!r}"
    assert err.offset is not None and 1 <= err.offset <= len(err.text), err.offset
    assert not err.text[err.offset - 1].isspace(), f"{name}: offset {err.offset} points at a blank"
    assert re.search(construct, err.msg, re.IGNORECASE), f"{name}: message does not name it: {err.msg!r}"
    assert_clean(err)


@pytest.mark.parametrize("name", ["while_loop", "lambda_expression", "element_write", "walrus"])
@pytest.mark.parametrize("transform", [adjoint.grad, adjoint.value_and_grad])
def test_refused_at_first_call_too(name: str, transform) -> None:
    """Calling the gradient builds it, and refuses the same way (without reaching Numba)."""
    fn = getattr(bp, name)
    line, _ = marked_line(fn)
    g = transform(fn, jit=False)
    for _ in range(2):  # and again: a failed build is not cached as a success
        with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
            g(np.ones(3))
        assert info.value.lineno == line
        assert_clean(info.value)


def test_decorated_function_is_located() -> None:
    """Under a decorator (the source starts at the decorator line), with a docstring."""
    line, code = marked_line(bp.decorated)
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        bp.decorated.source
    assert info.value.lineno == line and code in info.value.text
    assert re.search(r"\blist\b", info.value.msg)


@pytest.mark.parametrize("fn", [bp.Holder.indented, bp.Documented.method_with_docstring],
                         ids=["nested_in_a_class", "column_0_docstring"])
def test_indented_function_is_located(fn) -> None:
    """A function nested in a class: the column counts the real line's indentation. With a
    multi-line string at column 0 in its body, that was an IndentationError from ast."""
    line, code = marked_line(fn)
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(fn).source
    err = info.value
    assert err.lineno == line and code in err.text
    assert err.offset == err.text.index("[s]") + 1, (err.offset, err.text)
    assert_clean(err)


def test_refusal_leaves_the_function_untouched() -> None:
    fn = bp.while_loop
    code = fn.__code__
    with pytest.raises(adjoint.UnsupportedSyntaxError):
        adjoint.grad(fn).source
    assert bp.while_loop is fn and fn.__code__ is code


def test_error_prints_like_a_syntax_error() -> None:
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(bp.try_except).source
    line, code = marked_line(bp.try_except)
    printed = "".join(traceback.format_exception_only(type(info.value), info.value))
    assert "bad_programs.py" in printed and f"line {line}" in printed and code in printed


# -- NonDifferentiableError ----------------------------------------------------------

UNKNOWN_CALLS = [
    ("calls_lgamma", r"lgamma"),
    ("calls_linalg_det", r"linalg\.det|\bdet\b"),
    ("calls_argsort", r"argsort"),
    ("calls_scipy_logsumexp", r"scipy\.special\.logsumexp"),
    ("calls_statistics_fmean", r"statistics\.fmean"),
]


def test_python_helpers_are_differentiated_through() -> None:
    x = np.array([0.5, 1.5])
    g = adjoint.grad(bp.calls_python_helper, jit=False)(x)
    np.testing.assert_allclose(g, adjoint.check.finite_difference(bp.calls_python_helper, [x], 0), rtol=1e-6)


def test_unsupported_construct_inside_a_helper_is_located_in_the_helper() -> None:
    with pytest.raises(adjoint.UnsupportedSyntaxError) as info:
        adjoint.grad(bp.uses_unsupported_helper).source
    assert info.value.lineno == marked_line(bp.helper_with_loop)[0]
    assert info.value.text.strip().startswith("assert")


@pytest.mark.parametrize("name, callee", UNKNOWN_CALLS)
def test_unknown_call_is_non_differentiable(name: str, callee: str) -> None:
    fn = getattr(bp, name)
    with pytest.raises(adjoint.NonDifferentiableError) as info:
        adjoint.grad(fn).source
    message = str(info.value)
    assert re.search(callee, message), f"{name}: the message does not name the callee: {message!r}"
    assert "custom_vjp" in message, message
    assert not isinstance(info.value, adjoint.UnsupportedSyntaxError)
    assert_clean(info.value)


@pytest.mark.parametrize("name", ["calls_scipy_logsumexp", "calls_statistics_fmean"])
def test_library_function_outside_the_subset_is_named_at_the_users_call(name: str) -> None:
    # a library's Python function is inlined like a helper; where its code is outside the
    # subset, the error was an UnsupportedSyntaxError at a line of the library (scipy's
    # `b is not None`), which the user cannot change
    fn = getattr(bp, name)
    with pytest.raises(adjoint.NonDifferentiableError) as info:
        adjoint.grad(fn).source
    line, _ = marked_line(fn)
    assert str(info.value).startswith(f"{_PATH}:{line}: "), str(info.value)
    assert not isinstance(info.value, adjoint.UnsupportedSyntaxError)


def test_builtin_sum_points_at_np_sum() -> None:
    # the builtin sum of an array had the generic advice (custom_vjp), where np.sum is the answer
    with pytest.raises(adjoint.NonDifferentiableError) as info:
        adjoint.grad(bp.calls_builtin_sum).source
    line, _ = marked_line(bp.calls_builtin_sum)
    assert str(info.value).startswith(f"{_PATH}:{line}: "), str(info.value)
    assert "np.sum(" in str(info.value), str(info.value)
    assert_clean(info.value)


def test_unknown_call_at_first_call() -> None:
    g = adjoint.grad(bp.calls_linalg_det, jit=False)
    with pytest.raises(adjoint.NonDifferentiableError, match="custom_vjp"):
        g(np.eye(3))


# -- TypeError -----------------------------------------------------------------------

X = np.array([1.0, 2.0, 3.0])


def _type_error(call) -> TypeError:
    with pytest.raises(TypeError) as info:
        call()
    assert not isinstance(info.value, adjoint.CompileError), info.value
    assert_clean(info.value)
    return info.value


@pytest.mark.parametrize("jit", [False, True])
def test_wrt_an_int_argument(jit: bool) -> None:
    err = _type_error(lambda: adjoint.grad(bp.int_and_array, jit=jit)(3, X))
    assert "'n'" in str(err) and "int" in str(err)
    # the same function differentiated with respect to its array is fine
    np.testing.assert_allclose(adjoint.grad(bp.int_and_array, wrt=1, jit=False)(3, X), 3.0 * np.ones(3))


def test_wrt_an_int_array() -> None:
    err = _type_error(lambda: adjoint.grad(bp.plain, jit=False)(np.arange(3), X))
    assert "'x'" in str(err) and "int" in str(err)


@pytest.mark.parametrize("wrt", ["z", ("x", "z"), 5, -3])
def test_wrt_a_missing_parameter(wrt) -> None:
    err = _type_error(lambda: adjoint.grad(bp.plain, wrt=wrt, jit=False)(X, X))
    assert "plain" in str(err)
    if isinstance(wrt, tuple) or isinstance(wrt, str):
        assert "'z'" in str(err)


@pytest.mark.parametrize("position", [0, 1])
def test_list_argument(position: int) -> None:
    args = [X, X]
    args[position] = [1.0, 2.0, 3.0]
    err = _type_error(lambda: adjoint.grad(bp.plain, jit=False)(*args))
    assert "list" in str(err) and "np.asarray" in str(err)


def test_string_argument() -> None:
    err = _type_error(lambda: adjoint.grad(bp.plain, jit=False)(X, "abc"))
    assert "str" in str(err) and "'y'" in str(err)


@pytest.mark.parametrize("transform", [adjoint.grad, adjoint.value_and_grad])
@pytest.mark.parametrize("jit", [False, True])
def test_non_scalar_result(jit: bool, transform) -> None:
    err = _type_error(lambda: transform(bp.array_result, jit=jit)(X))
    message = str(err)
    assert "array_result" in message, message
    assert "ndarray" in message and "(3,)" in message, message
    assert "scalar" in message, message


def test_int_scalar_index_is_allowed() -> None:
    np.testing.assert_allclose(adjoint.grad(bp.scalar_index, jit=False)(X, 1), [0.0, 2.0, 0.0])
    np.testing.assert_allclose(adjoint.grad(bp.scalar_index, jit=False)(X, np.int64(2)), [0.0, 0.0, 2.0])


def test_float_scalar_index() -> None:
    err = _type_error(lambda: adjoint.grad(bp.scalar_index, jit=False)(X, 1.0))
    assert "'i'" in str(err) and "index" in str(err)
    assert re.search(r"bad_programs\.py:\d+: return x\[i\]", str(err)), err


@pytest.mark.parametrize("jit", [False, True])
def test_fancy_index_with_an_int_array_argument_is_refused(jit: bool) -> None:
    with pytest.raises((TypeError, adjoint.UnsupportedSyntaxError)) as info:
        adjoint.grad(bp.fancy_index, jit=jit)(X, np.array([0, 0, 2]))
    assert "index" in str(info.value)
    assert_clean(info.value)
    # at the call, a TypeError naming the line (docs/subset.md, Indexing) and saying why
    line, code = marked_line(bp.fancy_index)
    assert f"bad_programs.py:{line}: {code}" in str(info.value), info.value
    assert "fancy indexing" in str(info.value)


def test_boolean_index_with_a_mask_argument_is_refused() -> None:
    with pytest.raises((TypeError, adjoint.UnsupportedSyntaxError)):
        adjoint.grad(bp.fancy_index, jit=False)(X, np.array([True, False, True]))


def test_augmented_assignment_to_a_float_argument() -> None:
    """``s += 1.0`` on a float argument rebinds s in Python. adjoint may differentiate it, or
    (not knowing the type when it builds) refuse it at that line, naming s; never mis-handle it."""
    fn = bp.augmented_float_argument
    x = np.array([1.0, 2.0, 3.0])
    try:
        gx, gs = adjoint.grad(fn, wrt=(0, 1), jit=False)(x, 0.5)
    except adjoint.UnsupportedSyntaxError as err:
        line, _ = marked_line(fn)
        assert err.lineno == line and "s" in err.msg.split(), err
        assert_clean(err)
        return
    np.testing.assert_allclose(gx, [1.5, 1.5, 1.5])
    assert gs == pytest.approx(6.0)


def test_augmented_assignment_to_an_array_argument_is_refused() -> None:
    with pytest.raises((adjoint.UnsupportedSyntaxError, TypeError)) as info:
        adjoint.grad(bp.augmented_argument, jit=False)(np.zeros(3), 0.5)
    assert_clean(info.value)


def test_augmented_assignment_to_an_element_is_a_number() -> None:
    """``a = x[0]; a += 1.0`` of a 1-D x rebinds a number: differentiated, not refused as a view."""
    x = np.array([0.5, 1.5, 2.5])
    g = adjoint.grad(bp.augmented_element, jit=False)(x)
    np.testing.assert_allclose(g, [1.5, 1.5, 0.0])


@pytest.mark.parametrize("name", ["augmented_float64_alias", "write_through_float64_alias",
                                  "augmented_float64_of_argument"])
def test_a_write_through_np_float64_of_an_array_is_refused_as_through_a_view(name) -> None:
    """np.float64 of a float64 array is the array itself (NumPy), not a copy."""
    fn = getattr(bp, name)
    line, _ = marked_line(fn)
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="view") as info:
        adjoint.grad(fn, jit=False)(np.array([0.3, -0.7, 1.1, 0.5]))
    # w = np.float64(y) read after the write into y (the generic .source refuses the write
    # itself, y's rank being unknown there)
    assert info.value.lineno == line + (name == "write_through_float64_alias")
    assert_clean(info.value)


def written_flatten(x):
    y = x.flatten()  # a copy, not a view
    y[0] = 2.0 * y[1]
    y += x.ravel()
    return np.sum(y * y)


def test_a_write_into_a_flattened_copy_is_differentiated() -> None:
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    g = adjoint.grad(written_flatten, jit=False)(x)
    y = x.ravel() * 2.0  # y = [2 x1 + x0, 2 x1, 2 x2, 2 x3]
    y[0] = 2.0 * x[0, 1] + x[0, 0]
    np.testing.assert_allclose(g.ravel(), [2 * y[0], 4 * y[0] + 4 * y[1], 4 * y[2], 4 * y[3]], rtol=1e-13)
    assert adjoint.check_grad(written_flatten, x, jit=False) < 1e-6


def test_augmented_assignment_to_np_float64_of_a_number_rebinds_it() -> None:
    assert adjoint.grad(bp.augmented_float64_of_number, jit=False)(2.0, 3) == pytest.approx(64.0)


def test_augmented_assignment_to_a_row_is_refused() -> None:
    line, _ = marked_line(bp.augmented_row)
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="view") as info:
        adjoint.grad(bp.augmented_row, jit=False)(np.ones((2, 2)))
    assert info.value.lineno == line
    assert_clean(info.value)


@pytest.mark.parametrize("transform", [adjoint.grad, adjoint.value_and_grad])
def test_none_result(transform) -> None:
    """``return None`` is not a scalar (it gave a zero gradient)."""
    err = _type_error(lambda: transform(bp.none_result, jit=False)(X))
    assert "none_result" in str(err) and "returned None" in str(err)


@pytest.mark.parametrize("name", ["array_result", "none_result"])
def test_hessian_of_a_non_scalar_result(name: str) -> None:
    """hessian checks the result is a scalar (of an array result it gave the gradient of the
    sum's gradient, a wrong answer of the wrong shape)."""
    err = _type_error(lambda: adjoint.hessian(getattr(bp, name), jit=False)(X))
    assert name in str(err) and "must return a scalar" in str(err)


@pytest.mark.parametrize("make, fragment", [
    (lambda: np.ma.array(X), "MaskedArray"),
    (lambda: np.matrix(X), "matrix"),
    (lambda: X.astype(">f8" if np.little_endian else "<f8"), "byte order"),
    (lambda: X.astype(np.longdouble), "float128"),
])
@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_arrays_numba_cannot_take(make, fragment: str) -> None:
    """ndarray subclasses, float128 and a non-native byte order are a TypeError at the call
    (under Numba they were a CompileError, "non-precise type pyobject", or, for np.matrix,
    another function: its * is a matrix product)."""
    x = make()
    if fragment == "float128" and x.dtype.itemsize <= 8:
        pytest.skip("long double is float64 here")
    for jit in (False, True):
        err = _type_error(lambda: adjoint.grad(bp.plain, jit=jit)(x, X))
        assert "'x'" in str(err) and fragment in str(err), str(err)


class _WithMethod:
    def loss(self, x):
        return x * 2.0


@pytest.mark.parametrize("fn, fragment", [(dict, "not a class"), (_WithMethod().loss, "bound method"),
                                          (np.sin, "ufunc")])
def test_grad_of_a_non_function(fn, fragment: str) -> None:
    """A class was a ValueError from inspect ('no signature found for builtin type')."""
    err = _type_error(lambda: adjoint.grad(fn))
    assert fragment in str(err) and "def" in str(err), str(err)


@pytest.mark.parametrize("wrt", [0.0, None, {0, 1}])
def test_wrt_of_the_wrong_type(wrt) -> None:
    """It was "'float' object is not iterable"."""
    err = _type_error(lambda: adjoint.grad(bp.plain, wrt=wrt))
    assert str(err).startswith("wrt takes"), str(err)


def test_wrt_a_numpy_int() -> None:
    np.testing.assert_allclose(adjoint.grad(bp.plain, wrt=np.int64(1), jit=False)(X, 2.0 * X), X)


@pytest.mark.parametrize("args, kwargs, fragment", [((X,), {}, "missing a required argument: 'y'"),
                                                    ((X, X, X), {}, "too many positional arguments"),
                                                    ((X, X), {"z": X}, "unexpected keyword argument 'z'")])
def test_wrong_arguments_name_the_function(args, kwargs, fragment: str) -> None:
    err = _type_error(lambda: adjoint.grad(bp.plain, jit=False)(*args, **kwargs))
    assert str(err).startswith("plain() ") and fragment in str(err), str(err)


@pytest.mark.parametrize("jit", [False, True])
def test_shape_mismatch_is_numpys_error_at_the_users_line(jit: bool) -> None:
    """Compiled code said "unable to broadcast argument 1 to output array", naming line 1 of the
    generated file: the call fails as NumPy does, with a note naming the user's line."""
    with pytest.raises(ValueError, match="could not be broadcast together") as info:
        adjoint.grad(bp.plain, jit=jit, background=False)(X, np.ones(4))
    line = inspect.getsourcelines(bp.plain)[1] + 1
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert f"bad_programs.py, line {line}: return np.sum(x * y)" in notes, notes


def test_lambda_in_a_multi_line_call() -> None:
    """inspect finds `    lambda x: x * 2.0)` for it: that was a raw SyntaxError ("unmatched ')'")."""
    err = _type_error(lambda: bp.lambda_in_a_call(1.0))
    assert "lambda" in str(err) and "def" in str(err)
    assert not isinstance(err, SyntaxError)


def test_source_that_is_not_the_def() -> None:
    """A function compiled from a string under a real file's name: inspect reads that file's
    first lines, which are not its def (it was "not defined by a def statement (lambdas ...)")."""
    namespace = {"np": np}
    exec(compile("def exec_made(x):\n    return np.sum(x * x)\n", str(_PATH), "exec"), namespace)
    err = _type_error(lambda: adjoint.grad(namespace["exec_made"], jit=False)(X))
    assert "exec_made" in str(err) and "is not its def statement" in str(err)


@pytest.mark.parametrize("name, bound", [("clip_above", "upper"), ("clip_below", "lower")])
def test_clip_with_one_bound(name: str, bound: str) -> None:
    """np.clip(x, None, hi) is valid NumPy: it was a TypeError from the generated code
    ("'>=' not supported between instances of 'float' and 'NoneType')."""
    fn = getattr(bp, name)
    x = np.array([0.5, 1.5, 2.5])
    np.testing.assert_allclose(adjoint.grad(fn, jit=False)(x),
                               adjoint.check.finite_difference(fn, [x], 0), rtol=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_an_index_out_of_range_is_numpys_error(jit: bool) -> None:
    """Compiled code read past the end of x (a wrong value) and its adjoint wrote past the
    end of x_bar: Numba checks bounds now, and the call fails as NumPy does, at the user's line."""
    g = adjoint.grad(bp.past_the_end, jit=jit, background=False)
    assert g(np.array([1.0, 2.0, 3.0]), 3).tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(IndexError, match="out of bounds") as info:
        g(np.array([1.0, 2.0, 3.0]), 5)
    line = inspect.getsourcelines(bp.past_the_end)[1] + 3
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert f"bad_programs.py, line {line}: s = s + x[k] * x[k]" in notes, notes
