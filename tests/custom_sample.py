"""custom_vjp functions and functions that call them, shared by tests/test_custom_vjp.py."""
import numpy as np

import adjoint


@adjoint.custom_vjp
def softplus(x):
    return np.log1p(np.exp(x))


@softplus.defvjp
def softplus_rule(x, out, g):
    return g / (1.0 + np.exp(-x))


@adjoint.custom_vjp
def doubled_square(x):
    return x * x


@doubled_square.defvjp
def doubled_square_rule(x, out, g):
    return 2.0 * (2.0 * x * g)  # twice the true cotangent, on purpose


@adjoint.custom_vjp
def scaled_product(a, b, c):
    return a * b * c


@scaled_product.defvjp
def scaled_product_rule(a, b, c, out, g):
    return g * b * c, g * a * c, g * a * b


@adjoint.custom_vjp
def wrong_shape(x):
    return np.sum(x)


@wrong_shape.defvjp
def wrong_shape_rule(x, out, g):
    return g  # a scalar for an array input: wrong


@adjoint.custom_vjp
def wrong_count_at_run_time(a, b):
    return a * b


@wrong_count_at_run_time.defvjp
def wrong_count_at_run_time_rule(a, b, out, g):
    cotangents = (g * b, g * a, g)
    return cotangents


@adjoint.custom_vjp
def no_rule(x):
    return 2.0 * x


def loss_softplus(x):
    return np.sum(softplus(x) * x)


def loss_doubled(x):
    return doubled_square(x) + 1.0


def loss_product(x, y):
    return scaled_product(x, y, 3.0) + scaled_product(y, y, x)


def loss_in_loop(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + np.sum(softplus(x * i))
        else:
            s = s + scaled_product(s, 0.5, np.sum(x))
    return s


def loss_wrong_shape(x):
    return wrong_shape(x * 2.0)


def loss_wrong_count(a, b):
    return wrong_count_at_run_time(a, b)


def loss_no_rule(x):
    return no_rule(x) + 1.0  # <- no rule


def make_scaled(k):
    """Custom functions of the same name (make_scaled.<locals>.scaled), each with its rule."""
    @adjoint.custom_vjp
    def scaled(x):
        return x * 2.0

    @scaled.defvjp
    def scaled_rule(x, out, g):
        return k * g  # k times g, not 2 g: shows which rule ran

    return scaled


by_three = make_scaled(3.0)
by_four = make_scaled(4.0)


def loss_by_three(x):
    return by_three(x)


def loss_by_four(x):
    return by_four(x)


@adjoint.custom_vjp
def redefined(x):
    return x * 2.0


@redefined.defvjp
def redefined_rule(x, out, g):
    return 2.0 * g


def loss_redefined(x):
    return redefined(x) + x


@adjoint.custom_vjp
def pair_in_a_name(x):
    both = (x * 2.0, np.sin(x))  # a tuple the decorator cannot see
    return both


@pair_in_a_name.defvjp
def _pair_in_a_name_vjp(x, out, g):
    return g


def unpacks_a_custom_result(x):
    a, b = pair_in_a_name(x)
    return np.sum(a * b)
