"""User functions that adjoint must refuse, for tests/frontend/test_errors.py.

Every function marks the line its error must point at with a trailing ``# <-``
comment. This is a real module (not strings) so that ``inspect.getsource`` and
``linecache`` see it exactly as a user's file. Nothing here is ever run.
"""
# flake8: noqa
import contextlib

import math

import numpy as np
import scipy.special
import statistics

import adjoint


def helper(t):
    return t * 2.0


GLOBAL_SCALE = 2.0


# -- control flow -------------------------------------------

def if_statement(x):
    s = np.sum(x)
    if s > 0.0:  # <-
        s = s * 2.0
    return s


def if_else_statement(x):
    s = np.sum(x)
    if s > 0.0:  # <-
        s = s * 2.0
    else:
        s = s * 3.0
    return s


def for_loop(x):
    s = 0.0
    for i in range(3):  # <-
        s = s + x[i]
    return s




def while_loop(x):
    s = np.sum(x)
    while s < 10.0:
        s = s * 2.0
    try:  # <-
        s = s + 1.0
    except ValueError:
        pass
    return s




def conditional_expression(x):
    s = np.sum(x)
    t = s if s > 0.0 else -s  # <-
    return t


def and_operator(x, y):
    s = np.sum(x)
    t = s > 0.0 and y > 0.0  # <-
    return s * t


def or_operator(x, y):
    s = np.sum(x)
    t = s > 0.0 or y > 0.0  # <-
    return s * t


# -- other refused constructs ---------------------------------------------------

def lambda_expression(x):
    g = lambda t: t * 2.0  # <-
    return np.sum(x)


def list_comprehension(x):
    ys = [t * 2.0 for t in x]  # <-
    return np.sum(x)


def set_comprehension(x):
    ys = {t * 2.0 for t in x}  # <-
    return np.sum(x)


def dict_comprehension(x):
    ys = {0: t for t in x}  # <-
    return np.sum(x)


def generator_expression(x):
    s = sum(t * 2.0 for t in x)  # <-
    return s


def dict_display(x):
    d = {"a": x}  # <-
    return np.sum(x)


def set_display(x, y):
    d = {x, y}  # <-
    return x * y


def fstring(x):
    s = f"{x}"  # <-
    return np.sum(x)


def string_constant(x):
    s = "hello"  # <-
    return np.sum(x)


def try_except(x):
    s = np.sum(x)
    try:  # <-
        s = s * 2.0
    except ValueError:
        s = 0.0
    return s


def with_statement(x):
    s = np.sum(x)
    with contextlib.suppress(ValueError):  # <-
        s = s * 2.0
    return s


def nested_def(x):
    def inner(t):  # <-
        return t * 2.0
    return np.sum(x)


def global_statement(x):
    global GLOBAL_SCALE  # <-
    return np.sum(x) * GLOBAL_SCALE


def _make_nonlocal():
    scale = 2.0

    def nonlocal_statement(x):
        nonlocal scale  # <-
        return np.sum(x) * scale

    return nonlocal_statement


nonlocal_statement = _make_nonlocal()


def import_statement(x):
    import math  # <-
    return np.sum(x)


def import_from(x):
    from math import pi  # <-
    return np.sum(x) * pi


def del_statement(x):
    s = np.sum(x)
    t = s * 2.0
    del t  # <-
    return s


def assert_statement(x):
    s = np.sum(x)
    assert s > 0.0  # <-
    return s


def raise_statement(x):
    s = np.sum(x)
    raise ValueError  # <-
    return s


def yield_statement(x):
    s = np.sum(x)
    yield s  # <-
    return s


def yield_assignment(x):
    s = np.sum(x)
    t = yield s  # <-
    return s


def walrus(x):
    s = (t := np.sum(x)) * 2.0  # <-
    return s


def starred_call(x):
    s = np.maximum(*x)  # <-
    return s


def print_statement(x):
    s = np.sum(x)
    print(x)  # <-
    return s


def element_write(x):
    x[0] = 1.0  # <-
    return np.sum(x * x)


def slice_write(x):
    y = x * 2.0
    y[1:] = x[1:]  # <-
    return np.sum(y)


def attribute_write(x):
    y = np.zeros(3)
    y.shape = (3, 1)  # <-
    return np.sum(x)


def augmented_element_write(x):
    y = x.copy()
    z = y
    y[0] += 1.0  # <-
    return np.sum(y * z)


def varargs(x, *rest):  # <-
    return np.sum(x)


def varkwargs(x, **options):  # <-
    return np.sum(x)


def keyword_only(x, *, scale):  # <-
    return np.sum(x) * scale


def bitwise_and(x, y):
    s = np.sum(x * ((x > 0.0) & (y > 0.0)))  # <-
    return s


def bitwise_or(x, y):
    s = np.sum(x * ((x > 0.0) | (y > 0.0)))  # <-
    return s


def bitwise_xor(x, n):
    s = np.sum(x) * (n ^ 1)  # <-
    return s


def left_shift(x, n):
    s = np.sum(x) * (n << 1)  # <-
    return s


def invert(x):
    s = np.sum(x * ~(x > 0.0))  # <-
    return s


def chained_comparison(x, a, b):
    s = np.sum(x) * (a < b < 1.0)  # <-
    return s


def unsupported_method(x):
    s = np.sum(x * x.argsort())  # <-
    return s


def unsupported_attribute(x):
    s = np.sum(x.real)  # <-
    return s


def boolean_indexing(x):
    s = np.sum(x[x > 0.0])  # <-
    return s


def list_indexing(x):
    s = np.sum(x[[0, 2]])  # <-
    return s


def float_indexing(x):
    s = x[1.0]  # <-
    return s


def no_return(x):
    s = np.sum(x)  # <-


def bare_return(x):
    s = np.sum(x)
    return  # <-


def return_in_middle(x):
    s = np.sum(x)
    return s  # <-
    t = s * 2.0
    return t


def break_before_code(x):
    s = 0.0
    for i in range(3):
        s = s + x[i]
        break  # <-
        s = s * 2.0
    return s


def falls_off_the_end(x):
    s = np.sum(x)
    if s > 0.0:  # <-
        return s
    else:
        s = -s


def multi_line_statement(x):
    s = np.sum(
        x * 2.0
        + x.real  # <-
    )
    return s


@adjoint.grad(wrt=0, jit=False)
def decorated(x):
    """A docstring is fine."""
    s = np.sum(x)
    t = [s]  # <-
    return t


class Holder:
    @staticmethod
    def indented(x):
        s = np.sum(x)
        t = [s]  # <-
        return t


# -- calls without a derivative rule (NonDifferentiableError) ----------------------

def calls_python_helper(x):
    return np.sum(helper(x))


def calls_linalg_det(x):
    return np.linalg.det(x)


def calls_argsort(x):
    return np.sum(x * np.argsort(x))


def calls_builtin_sum(x):
    return sum(x * x)  # <-


# -- accepted programs (for the TypeError tests and for the allowed-index case) ----

def int_and_array(n, x):
    return np.sum(x) * n


def array_result(x):
    return x * 2.0


def scalar_index(x, i):
    return x[i] * 2.0


def fancy_index(x, idx):
    return np.sum(x[idx] * x[idx])  # <-


def plain(x, y):
    return np.sum(x * y)


def augmented_float_argument(x, s):
    s += 1.0  # <- a float argument: rebinding in Python, no write
    return np.sum(x) * s


def augmented_argument(x, s):
    s += 1.0  # a float argument: rebinding, not a write
    x += s  # an array argument: Python writes into the caller's array
    return np.sum(x * x)


def augmented_chained_alias(x):
    a = b = np.sin(x)
    a += 1.0  # <-
    return np.sum(a * b)


def augmented_live_view(x):
    y = x * 2.0
    z = y[1:]
    y *= x
    return np.sum(z)  # <-


def augmented_float64_alias(x):
    y = x * 2.0
    w = np.float64(y)  # NumPy: y itself
    y += x
    return np.sum(w * x)  # <-


def write_through_float64_alias(x):
    y = x * 2.0
    w = np.float64(y)
    y[1] = 3.0 * x[0]  # <-
    return np.sum(w * x) + np.sum(y * x)


def augmented_float64_of_argument(x):
    y = np.float64(x)
    y *= 2.0  # <-
    return np.sum(y * x)


def augmented_float64_of_number(s, n):
    x = np.float64(s)  # a number: += rebinds it
    for i in range(n):
        x += s * i
    return x * x


def augmented_after_branch_view(x, c):
    y = x * 2.0
    if c > 0.0:
        z = y[1:]
    else:
        z = y[:1]
    y *= x
    return np.sum(z)  # <-


def calls_lgamma(x):
    return math.lgamma(x)


def calls_scipy_logsumexp(x):
    return scipy.special.logsumexp(x)  # <-


def calls_statistics_fmean(x):
    return statistics.fmean(x) * 2.0  # <-


def uses_unsupported_helper(x):
    return helper_with_loop(x)


def helper_with_loop(x):
    s = 0.0
    while s < 3.0:
        s = s + x
        assert s > 0.0  # <-
    return s


def for_over_array(x):
    s = 0.0
    for v in x:  # <-
        s = s + v
    return s


def for_else(x):
    s = 0.0
    for i in range(3):
        s = s + x[i]
    else:
        s = s * 2.0  # <-
    return s


def float_range(x, n):
    s = 0.0
    for i in range(n / 2):  # <-
        s = s + x[i]
    return s


def defined_in_one_branch(x):
    s = np.sum(x)
    if s > 0.0:
        t = s * 2.0
    return t  # <-


def loop_variable_after_loop(x):
    s = 0.0
    for i in range(3):
        s = s + x[i]
    return s * i  # <-


def optional_argument_is_none(x, w=None):
    if w is None:  # <-
        return np.sum(x)
    return np.sum(x * w)


def keepdims_keyword(x):
    return np.sum(x - np.max(x, axis=1, keepdims=True))  # <-


def loop_index_after_loop_with_a_value_before(x):
    i = 0  # (the loop's index after it is not this value)
    for i in range(3):
        x = x * 1.5
    return x * i  # <-


def augmented_element(x):
    a, b = x[0], x[1]
    a += 1.0  # <- a number (an element of a 1-D x): += rebinds it, no array is updated
    a *= b
    return a


def augmented_row(x):
    a = x[0]
    a += 1.0  # <- a row of a 2-D x: a view, updated in place by NumPy
    return np.sum(a)


def tuple_element_writes(x):
    y = np.zeros(3)
    y[0], y[1] = x[0], x[1]  # <-
    return np.sum(y * y)


def chained_element_write(x):
    y = np.zeros(3)
    a = y[0] = x[0]  # <-
    return np.sum(y * y) * a


def annotated_element_write(x):
    y = np.zeros(3)
    y[0]: float = x[0]  # <-
    return np.sum(y * y)


def none_result(x):
    s = np.sum(x)
    return None


class Documented:
    @staticmethod
    def method_with_docstring(x):
        """A docstring whose second line
starts at column 0 (textwrap.dedent could not dedent the method)."""
        s = np.sum(x)
        t = [s]  # <-
        return t


async def async_function(x):  # <-
    return x * 2.0


def generator_function(x):
    s = np.sum(x)
    yield s  # <- (no return: the yield is named, not the missing return)


lambda_in_a_call = adjoint.grad(
    lambda x: x * 2.0)


def clip_above(x):
    return np.sum(np.clip(x, None, 1.0) ** 2)


def clip_below(x):
    return np.sum(np.clip(x, 1.0, None) ** 2)


def dtype_string(x):
    return np.sum(np.zeros(3, dtype="float32") + x)  # <-


def past_the_end(x, n):
    s = 0.0
    for k in range(n):
        s = s + x[k] * x[k]
    return s


def einsum_subscripts(x):
    return np.einsum("i,i->", x, x)  # <- np.dtype("i,i->") is a ValueError, not a TypeError


def comma_string(x):
    s = ","  # <- np.dtype(",") is a SyntaxError
    return x


def match_statement(x):
    match x:  # <-
        case 1.0:
            return x
    return x


def is_comparison(x, y):
    return x if y is None else 2.0 * x  # <-


def in_comparison(x):
    return np.sum(x) if 1.0 in x else 0.0  # <-


def tuple_set_by_branches(x, c):
    if c > 0:  # <-
        t = (x * 2.0, 1.0)
    else:
        t = (x * 3.0, 2.0)
    a, b = t
    return np.sum(a * a) * b


def tuple_chosen_by_a_condition(x, c):
    t = (x * 2.0, 1.0) if c > 0 else (x * 3.0, 2.0)  # <-
    a, b = t
    return np.sum(a * a) * b


def tuple_carried_by_a_loop(x, n):
    t = (x[0], 1.0)
    for i in range(n):  # <-
        a, b = t
        t = (a * b + x[1], b * 0.5)
    a, b = t
    return a * b


def empty_index(x):
    return x[()] * 2.0  # <-
