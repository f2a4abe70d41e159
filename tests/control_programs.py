"""Programs with branches and loops, shared by the control-flow tests."""
import math

import numpy as np

from . import helpers_sample


def branches(x, y):
    if x > y:
        z = x * y
    elif x < 0.0:
        z = x * x
    else:
        z = y + 1.0
    w = z * 2.0 if z > 1.0 else z * 3.0
    if x > 0.0 and y > 0.0 or x < -1.0:
        w = w + np.sin(x)
    if not x > 0.5:
        w = w * y
    return w + x


def loop_sin(x, n):
    s = 0.0
    for i in range(n):
        s = s + math.sin(x * i) * x
    return s


def bounds(x, a, b, c):
    s = 0.0
    for i in range(a, b, c):
        s = s + x * i * s + x
    return s


def literal_steps(x, a, b):
    s = 0.0
    for i in range(a, b):
        s = s + x * i * s + x
    for k in range(b, a, -1):
        s = s * x + k
    for m in range(3, b, 2):
        s = s + m * x
    return s


def nested(w, n):
    s = 0.0
    for i in range(n):
        t = 0.0
        for j in range(i, n):
            t = t + w[j] * w[i]
        if t > 0.5:
            s = s + t * t
        else:
            s = s - t
    return s


def swap(a, b, n):
    for i in range(n):
        a, b = b, a * b + 0.1
    return a


def array_carry(x, n):
    h = x * 1.0
    for k in range(n - 1, -1, -1):
        h = np.tanh(h * 0.9 + k * 0.01)
        h += x
    return np.sum(h * h)


def euler(theta, y0, n):
    dt = 0.01
    y = y0
    for i in range(n):
        y = y + dt * (theta[0] * y - theta[1] * y * y)
    return y


def helpers_in_loop(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + helpers_sample.softplus(x * i)
        else:
            s = s - helpers_sample.affine(x, s, b=0.1)
    return s


def unused_branch_value(x, y):
    if y > 0.0:
        t = np.exp(x)
        u = t * y
    else:
        u = x
    return u * u


def long_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + math.sin(x * i) * x
    return s


def halve(x):
    y = x * 3.0
    while y > 1.0:
        y = y * 0.5 + 0.01 * y * y
    return y


def newton_sqrt(a):
    x = a
    k = 0
    while abs(x * x - a) > 1e-12 and k < 50:
        x = 0.5 * (x + a / x)
        k = k + 1
    return x


def cube_roots(a, n):
    s = 0.0
    for i in range(n):
        x = a[i]
        while abs(x * x * x - a[i]) > 1e-13:
            x = x - (x * x * x - a[i]) / (3.0 * x * x)
        s = s + x * a[i]
    return s


def bisection(c):
    lo = 0.0
    hi = 4.0
    while hi - lo > 1e-12:
        mid = 0.5 * (lo + hi)
        if mid * mid - c > 0.0:
            hi = mid
        else:
            lo = mid
    return lo * c


def recurrence(x, a):
    n = x.shape[0]
    y = np.zeros(n)
    y[0] = x[0]
    for i in range(1, n):
        y[i] = a * y[i - 1] + np.sin(x[i])
    return np.sum(y * y)


def overwrite_many_times(x):
    y = x.copy()
    for k in range(3):
        for i in range(y.shape[0]):
            y[i] = np.tanh(y[i] * 1.5 + 0.1)
    return np.sum(y)


def slice_writes(x, w):
    y = np.zeros(6)
    y[0:3] = x * w
    y[3:] = x * x
    y[1:4] += w
    return np.sum(y * np.arange(6))


def write_in_branch(x, c):
    y = np.ones(3)
    if c > 0.0:
        y[1] = x * 2.0
    else:
        y[2] = x * x
    y[0] = y[1] * y[2]
    return np.sum(y * y)


def read_before_and_after_write(w):
    y = np.zeros(3)
    s = np.sum(y * w)
    y[0] = 5.0
    return s + np.sum(y * w)


def matrix_writes(x):
    m = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            m[i, j] += x[i] * x[j] + i
    return np.sum(m @ m)


# -- break, continue, early return --------------------------------------------------

def loop_break(x, n):
    s = 0.0
    for i in range(n):
        if s > 3.0:
            break
        s = s + x * i
    return s


def loop_continue(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            continue
        s = s + math.sin(x * i)
    return s


def early_return(x):
    if x > 1.0:
        return x * x
    y = 3.0 * x
    if y < 0.0:
        return -y
    return y * x


def return_in_loop(x, n):
    s = x
    for i in range(n):
        s = s * 1.5
        if s > 10.0:
            return s * 2.0
    return s


def newton_break(a):
    x = a
    while True:
        fx = x * x - a
        if abs(fx) < 1e-12:
            break
        x = x - fx / (2.0 * x)
    return x


def nested_jumps(x, n):
    s = 0.0
    for i in range(n):
        for j in range(n):
            if j > i:
                break
            if (i + j) % 3 == 0:
                continue
            s = s + x * i * j
            if s > 50.0:
                return s
    return s


def return_in_while(w):
    total = 0.0
    k = 0
    while k < w.shape[0]:
        total = total + w[k] * w[k]
        if total > 1.0:
            return total * w[0]
        k = k + 1
    return total


def copy_rebound(p, s0, n):
    s = s0.copy()
    for i in range(n):
        s = s * p
    return np.sum(s)


def read_then_write(x, n):
    y = np.zeros(n)
    y[0] = x
    for i in range(1, n):
        prev = y[i - 1]
        y[i] = np.sin(prev) + x
    return np.sum(y)


def zeros_like_carried(x, s):
    y = np.zeros_like(x)
    for _ in range(s):
        y = y + x * 2.0
    return np.sum(y * y)


def two_rows(x, n):
    s = np.zeros((2, n))
    s[0, 0] = x
    for i in range(1, n):
        a = s[0, i - 1]
        s[1, i] = a * x
        s[0, i] = a + s[1, i]
    return np.sum(s)


# -- element reads of a written array: read again from the array, or taped ------------

def backward_recurrence(x, a):
    """Runs downwards, reads the element the previous iteration wrote: never written again."""
    y = x.copy()
    for i in range(x.shape[0] - 2, -1, -1):
        y[i] = a * y[i + 1] + np.sin(y[i + 1]) * x[i]
    return np.sum(y * y)


def strided_rows(x, a):
    """Two elements per iteration (step 2) in the rows of a matrix, read one and two back."""
    n = x.shape[0]
    m = np.zeros((n + 2, 2))
    m[0, 0] = x[0]
    m[1, 1] = a
    for i in range(2, n + 1, 2):
        m[i, 0] = a * m[i - 1, 1] + m[i - 2, 0] * x[i - 1]
        m[i + 1, 1] = np.cos(m[i, 0]) + m[i - 1, 0] * a
    return np.sum(m * m)


def reads_ahead(x, a):
    """Reads y[i + 1] before the next iteration overwrites it, and y[i] before this one
    does: both must be taped."""
    y = x.copy()
    for i in range(x.shape[0] - 1):
        y[i] = a * y[i + 1] + np.sin(y[i])
    return np.sum(y * y)


def written_after_the_loop(x, a):
    """The recurrence, then a write into an element the loop read: taped."""
    n = x.shape[0]
    y = np.zeros(n)
    y[0] = x[0]
    for i in range(1, n):
        y[i] = a * y[i - 1] + np.sin(x[i])
    y[0] = y[n - 1] * a
    return np.sum(y * y)


def recurrence_repeated(x, a):
    """The recurrence run twice over the same array: the second pass overwrites what the
    first read, so the reads are taped."""
    n = x.shape[0]
    y = np.zeros(n)
    y[0] = x[0]
    for k in range(2):
        for i in range(1, n):
            y[i] = a * y[i - 1] + np.sin(x[i]) * y[i]
    return np.sum(y * y)


def negative_column(x, a):
    """m[i, -1] is m[i, 1], which the next statement overwrites: taped."""
    n = x.shape[0]
    m = np.ones((n, 2))
    for i in range(1, n):
        m[i, 0] = a * m[i, -1] + x[i]
        m[i, 1] = np.sin(m[i, 0])
    return np.sum(m * m)


def wraps_around(x, a):
    """y[i - 1] at i = 0 is y[n - 1], which the last iteration overwrites: taped."""
    y = x.copy()
    for i in range(0, x.shape[0]):
        y[i] = a * y[i - 1] + np.sin(x[i])
    return np.sum(y * y)


def element_kept_then_overwritten(x):
    y = x.copy()
    r = y[0]  # a number for a 1-D x; a row of a 2-D one
    y[0] = 2.0 * x[1]
    return np.sum(r * y[0])


def copy_recurrence(x, a):
    """y[i] of a copy of x is a number when x is 1-D, a row when it is 2-D: either way, the
    rows y[i - 1] and y[i] read in iteration i are apart from later writes' rows."""
    y = x.copy()
    for i in range(1, x.shape[0]):
        y[i] = a * y[i - 1] + np.sin(y[i])
    y[0] = a * y[0]
    return np.sum(y * y)


# -- a loop's update read in reverse: the carried value before the pop ----------------

def trajectory_loss(x, n):
    """The loss reads each update u_1; the reverse takes it from u before popping u."""
    u = x
    loss = 0.0
    for i in range(n):
        u = u + 0.1 * np.sin(u) * x
        loss = loss + (u - 0.5 * i) ** 2
    return loss


def nested_trajectories(x, n):
    """The same inside another loop: the inner u holds nothing useful before its reverse
    starts, so the update is recomputed there."""
    loss = 0.0
    for k in range(2):
        u = x * (k + 1)
        for i in range(n):
            u = u + 0.1 * np.sin(u) * x
            loss = loss + (u - 0.5 * i) ** 2
    return loss


# -- found by an adversarial review of the overwrite analysis and rank-aware lowering ------

def newaxis_row_write(m, a):
    """y[None, 0] writes row 0 of a 2-D y (None takes no axis): it changes y[0, 1], which
    the first iteration read, so that read is taped, not read again from y."""
    y = m.copy()
    s = 0.0
    for i in range(0, 3):
        s = s + y[i, 1] * y[i, 1]
        y[None, 0] = a * m[i]
    return s + np.sum(y)


def rank_changes_in_loop(x, m):
    """y is 1-D on entry and 2-D from the second iteration on: there y[0] is a row that the
    write changes (the body is lowered again not knowing y's rank: the write is refused)."""
    y = x.copy()
    s = 0.0
    for k in range(2):
        r = y[0]
        y[0] = 5.0 * x[0]
        s = s + np.sum(r * r)
        y = m.copy()
    return s


def zeros_of_a_shape(m):
    """np.zeros(m.shape) of a 2-D m is 2-D: y[0] is a row the write changes (refused)."""
    y = np.zeros(m.shape)
    y[0] = m[0] * 1.0
    r = y[0]
    y[0] = m[1] * 5.0
    return np.sum(r * m[0])


def zeros_of_a_shape_argument(m, shape):
    """The same with the shape an integer array argument (refused)."""
    y = np.zeros(shape)
    y[0] = m[0] * 1.0
    r = y[0]
    y[0] = m[1] * 5.0
    return np.sum(r * m[0])


def alias_in_one_branch(x, c):
    """After the if, w may be y: writing into w may change y (refused)."""
    y = x.copy()
    q = np.zeros(x.shape[0])
    if c > 0:
        w = y
    else:
        w = q
    w[0] = 5.0
    return np.sum(y * y)


def alias_in_both_branches(x, c):
    """w is y whichever branch runs (refused)."""
    y = x.copy()
    if c > 0:
        w = y
    else:
        w = y
    w[0] = 5.0
    return np.sum(y * y)


def alias_after_a_loop(x, c):
    """After the loop, w is y (refused)."""
    y = x.copy()
    w = np.zeros(x.shape[0])
    for i in range(2):
        w = y
    w[0] = 5.0
    return np.sum(y * y)


def alias_in_the_next_iteration(x, c):
    """From the second iteration on, w is y: the write changes y (refused)."""
    y = x.copy()
    w = np.zeros(x.shape[0])
    for i in range(2):
        w[0] = c * 5.0
        w = y
    return np.sum(y * y)


def swap_in_a_branch(x, c):
    """a and b trade arrays in one branch: they never name one array (accepted)."""
    a = x.copy()
    b = 2.0 * x
    b = b.copy()
    if c > 0:
        a, b = b, a
    a[0] = 5.0 * c
    return np.sum(a * b)


def swap_in_a_loop(x, c):
    """w and y trade arrays every iteration: they never name one array (accepted)."""
    y = x.copy()
    w = np.zeros(x.shape[0])
    for i in range(2):
        w[1] = c * w[0]
        w, y = y, w
    return np.sum(y * y) + np.sum(w)


def zeros_of_a_1d_shape(x, a):
    """np.zeros(x.shape) of a 1-D x is 1-D: y[i] is a number and the write after the loop
    is accepted."""
    y = np.zeros(x.shape)
    for i in range(1, x.shape[0]):
        y[i] = a * y[i - 1] + x[i]
    y[0] = a * y[2]
    return np.sum(y * y)


def sin_then_write(x):
    """An element write into the result of NumPy functions of an array (accepted)."""
    y = np.sin(x) * 2.0
    y[0] = x[1] * x[1]
    return np.sum(y * x)


def equal_computation_elsewhere(x):
    """b = x * 2.0 is written into: a new array, not a's value again (a does not see the
    write)."""
    a = x * 2.0
    b = x * 2.0
    b[0] = 5.0 * x[2]
    return np.sum(a * b) + np.sum(a)


def computed_then_written_in_loop(x, w):
    """A recurrence over the elements of a product (accepted)."""
    y = x * w
    for i in range(1, x.shape[0]):
        y[i] = y[i - 1] * 0.5 + y[i]
    return np.sum(y * y)


def computed_in_each_iteration(x):
    """h is a new product in every iteration, then an element of it is written."""
    h = x.copy()
    y = np.ones(3)
    for i in range(3):
        h = np.sin(h) * y
        h[0] = x[i]
    return np.sum(h * x)


def number_write(a):
    y = a * 2.0
    y[0] = 1.0
    return y


def computed_and_shared(x):
    a = x * 2.0
    b = a
    a[0] = 1.0
    return np.sum(b)


def _given_back(v):
    return v


def _given_back_on_one_path(v, c):
    if c > 0:
        w = v
    else:
        w = np.zeros(v.shape[0])
    return w, c * 2.0


def computed_given_back_by_a_helper(x):
    """b is a's array (the helper returns its parameter): the write into a changes b."""
    a = x * 2.0
    b = _given_back(a)
    a[1] = 3.0
    return np.sum(b * x)


def zeros_given_back_by_a_helper(x):
    a = np.zeros(x.shape[0])
    a[2] = x[2]
    b = _given_back(a)
    b[0] = x[1]
    return np.sum(a * x) + np.sum(b)


def given_back_on_one_path(x, c):
    """b may be a's array (one branch of the helper returns its parameter)."""
    a = np.zeros(x.shape[0])
    a[2] = x[2]
    b, d = _given_back_on_one_path(a, c)
    b[0] = x[1]
    return np.sum(a * x) + d + np.sum(b)


def updated_in_place_after_a_helper(x):
    a = x * 2.0
    b = _given_back(a)
    b += 1.0
    return np.sum(a * x)


def number_into_a_comparison(x):
    """y holds booleans: x[0] * 2.0 becomes True (no derivative; it was given one)."""
    y = x > 0.3
    y[0] = x[0] * 2.0
    return np.sum(y * x)


def number_into_a_copied_comparison_in_a_loop(x):
    y = (x > 0.3).copy()
    for i in range(3):
        y[i] = x[i] * 2.0
    return np.sum(y * x)


def booleans_into_a_comparison(x):
    """Booleans written into booleans (accepted)."""
    y = x > 0.3
    y[0] = True
    y[1] = x[2] > 0.5
    return np.sum(np.where(y, x, x * x))


def exp_in_a_loop(x, a):
    s = 0.0
    for i in range(3):
        e = np.exp(x * a)  # an array: taped, not computed again (libm per element)
        m = np.exp(a * i)  # a number: computed again in the reverse
        s = s + np.sum(e * e) * m
    return s


def _activation(z):
    return np.tanh(z)


def written_after_a_helper(x):
    a = np.tanh(x)
    h = _activation(x)  # a new array in NumPy, though the value equals a's: the write copies
    h[1] = 2.0 * x[0]
    return np.sum(a * h)


def written_after_a_unary_plus(x):
    y = +(x * 2.0)
    y[0] = np.sin(x[2])
    return np.sum(y * y)


def written_after_a_transpose(x):
    y = x.T * 2.0
    y[0, 1] = x[1, 1] ** 2
    return np.sum(y * x)


def helper_result_shared(x):
    h = _activation(x)
    g = h
    h[0] = 1.0
    return np.sum(g * x)


def view_before_a_loop(x, w):
    m = np.zeros(4)
    r = m[1:]  # sees the loop's writes
    for a in range(4):
        m[a] = x[a] * w[a]
    return np.sum(r * w[1:])


def _first_set(z, v):
    z[0] = v  # z is the caller's array: the caller's t would see the write
    return np.sum(z)


def computed_then_written_by_a_helper(x):
    t = np.tanh(x)
    r = _first_set(t, 2.0 * x[1])
    return r + np.sum(t * x)


def zeros_written_by_a_helper(x):
    y = np.zeros(3)
    d = _first_set(y, x[0])  # NumPy: y[0] is x[0] from here on
    return np.sum(y * y) + d


def _set_and_return(a, v):
    a[0] = v
    return a


def zeros_written_and_returned_by_a_helper(x):
    y = np.zeros(3)
    z = _set_and_return(y, x[0])  # z is y, written
    return np.sum(y * 3.0) + np.sum(z)


def _set_row(m, i, v):
    m[i, :] = v
    return 0.0


def rows_written_by_a_helper_in_a_loop(x):
    m = np.zeros((2, x.shape[0]))
    s = 0.0
    for i in range(2):
        s = s + _set_row(m, i, x * (i + 1.0))
    return np.sum(m * m) + s


def incremented_in_a_loop(x, n):
    acc = 0.5 * x
    for i in range(n):
        acc += 0.2 * np.cos(0.3 * i)  # the reverse loop only passes acc's cotangent on
    return acc


def written_with_a_number_a_loop_set(x, w):
    t = 0.5
    for i in range(3):
        t = 0.5  # a number on every path: h + t below keeps h's rank
    h = w * 1.0
    for i in range(3):
        h[0] = x
        h = np.tanh(h + t)
    return np.sum(h)


def series_of_inverse_squares(x, n):
    s = 0.0
    for k in range(n):
        s = s + x ** k * (k + 1) ** -2  # an int to a negative power: a float, 1 / (k + 1)^2
    return s


def int_to_a_run_time_power(x, n, m):
    s = 0.0
    for k in range(n):
        s = s + x ** k * 2 ** (m - k)  # ints to a run-time power: negative once k > m
    return s


def float32_carried_cotangent(x, n):
    h = x.copy()
    for i in range(n):
        h[i % 3] = 2.0
        h = np.tanh(h * x)  # tanh's cotangent multiplies by 1.0 - h * h: float64 under Numba
    return np.sum(h)


def log_sum_exp_from_minus_inf(x):
    acc = -np.inf  # folded to the float -inf, whose repr is "-inf": no such name
    for i in range(x.shape[0]):
        acc = np.logaddexp(acc, x[i])
    return acc


def running_max_from_minus_inf(x):
    m = -math.inf
    for i in range(x.shape[0]):
        m = max(m, x[i] * x[i])
    return m


def clipped_by_infinite_defaults(x, lo=-np.inf, hi=float("inf")):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + min(max(x[i], lo), hi) ** 2
    return s


def branch_reads_an_argument(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            s = s + w[i] * x[i]
        else:
            s = s - x[i]
    return s


def stacked_state(x, s0, m):
    """An inner loop that writes rows of ``state`` while it carries another array (``inp``),
    as an LSTM stack does: each layer's output is the next layer's input."""
    state = s0.copy()
    total = 0.0
    for t in range(m):
        before = state.copy()
        inp = x
        for i in range(2):
            h = np.sin(before[2 * i] * inp)
            state[2 * i] = h
            state[2 * i + 1] = np.cos(before[2 * i + 1] * x) * h
            inp = h
        total = total + np.sum(inp * inp)
    return total


def branch_writes_in_loop(x):
    y = np.zeros(x.shape[0])
    s = 0.0
    for j in range(x.shape[0]):
        if x[j] > 0.0:
            if s > 0.5:
                y[j] = x[j] * s + 1.0
            else:
                y[j] = x[j] - s
        else:
            y[j] += x[j] * x[j]
        s = s + y[j] * 0.5
    return s + np.sum(y * y)


def break_after_writes(x, n):
    y = np.zeros(x.shape[0])
    s = 0.0
    for i in range(n):
        for j in range(x.shape[0]):
            y[j] = y[j] * 0.5 + x[j] * s + 0.1
            if y[j] > 0.6:
                break
            s = s + y[j] * 0.3
    return s + np.sum(y * y)


def two_written_rows(x, m):
    """Two arrays written element by element in the same inner loop, a scalar carried along."""
    n = x.shape[0]
    a = np.zeros(n)
    b = np.ones(n)
    s = 0.0
    for t in range(m):
        for j in range(n):
            a[j] = a[j] * 0.5 + np.sin(x[j] * s + b[j])
            b[j] = b[j] * np.cos(a[j]) + 0.1 * x[j]
            s = s + 0.3 * a[j] - 0.2 * b[j]
    return s + np.sum(a * b)


def rnn_rows(x, w, m):
    """An inner loop carrying a hidden value, an input and an output array it writes: an RNN
    over the rows of y."""
    n = x.shape[0]
    y = np.zeros((m, n))
    h = np.zeros(n)
    for t in range(m):
        inp = x * (t + 1.0)
        for k in range(2):
            h = np.tanh(w * h + inp)
            inp = h * 0.5
            y[t] = y[t] + h
    return np.sum(y * y)


def unary_plus_of_a_written_array(x):
    """z = +y is a new array in NumPy: the write into z must not reach y. It was lowered as y
    itself, so y's array took z's write (a wrong value, and gradient)."""
    y = x * 2.0
    y[1] = x[0]
    z = +y
    z[0] = 5.0 * x[1]
    return np.sum(y) + np.sum(z * z)


def unary_plus_in_a_loop(x, n):
    """z = +y in each iteration, then writes into both: z shared y's array (a wrong value and
    gradient from the fourth iteration on)."""
    y = np.zeros(4)
    z = np.zeros(4)
    for t in range(n):
        z = +y
        y[t % 4] = z[(t + 1) % 4] * x[t % 4] + 0.3
        z[t % 4] = y[(t + 1) % 4] * x[t % 4] + 0.1
    return np.sum(y * z) + np.sum(y)


def alias_by_a_decided_condition(x):
    """z = y if 1 > 0 else x names y's array, as z = y does: the condition is decided before
    run time, and the lowering gave z a new array of its own (a wrong gradient)."""
    y = x * 2.0
    y[1] = x[0]
    z = y if 1 > 0 else x
    z[0] = 5.0 * x[1]
    return np.sum(y) + np.sum(z * z)


def _selects_its_parameter(v):
    return v if 1 > 0 else v * 2.0


def alias_from_a_helper_by_a_decided_condition(x):
    y = x * 2.0
    y[1] = x[0]
    z = _selects_its_parameter(y)
    z[0] = 5.0 * x[1]
    return np.sum(y) + np.sum(z * z)


def alias_by_a_decided_condition_in_a_loop(x, n):
    y = np.zeros(4)
    z = np.zeros(4)
    for t in range(n):
        y[t % 4] = x[t % 4] + z[(t + 1) % 4]
        z = y if 2 > 1 else z
        z[(t + 2) % 4] = y[t % 4] * x[t % 4]
    return np.sum(y * z) + np.sum(y)


def alias_by_a_decided_condition_in_a_tuple(x):
    y = x * 2.0
    y[1] = x[0]
    z, q = (y if 1 > 0 else x), 2.0
    z[0] = 5.0 * x[1] * q
    return np.sum(y) + np.sum(z * z)


def array_in_a_tuple(x):
    y = np.zeros(4)
    t = (y, 2.0)
    y[0] = x[1] * 5.0
    a, b = t
    return np.sum(a * x) * b


def array_in_a_tuple_written_in_a_loop(x, n):
    y = np.zeros(4)
    t = (y, 2.0)
    for i in range(n):
        y[i % 4] = x[i % 4] * 3.0
    a, b = t
    return np.sum(a * x) * b


def array_in_a_tuple_updated_in_place(x):
    y = x * 2.0
    t = (y, 2.0)
    y += 1.0
    return np.sum(t[0] * x)


def _with_a_number(v):
    return v, 2.0


def array_in_a_tuple_from_a_helper(x):
    y = x * 2.0
    t = _with_a_number(y)
    y[0] = x[1] * x[2]
    a = t[0]
    return np.sum(a * a)


def array_read_from_a_tuple_in_place(x):
    y = x * 2.0
    a = (y, 1.0)[0]
    y[0] = x[1] * 5.0
    return np.sum(a * a)


def view_kept_by_a_branch(x, n):
    y = x * 2.0
    w = x[0:2] * 1.0
    s = 0.0
    for i in range(n):
        y[i % 4] = x[i % 4] * 3.0 + s
        s = s + np.sum(w * w)
        if i > 0:
            w = y[0:2]
        else:
            w = x[0:2] * 1.0
    return s


def view_kept_by_a_conditional_expression(x, n):
    y = x * 2.0
    w = x.reshape(2, 2) * 1.0
    s = 0.0
    for i in range(n):
        y[i % 4] = x[i % 4] * 3.0 + s
        s = s + np.sum(w * w)
        w = y.reshape(2, 2) if i > 1 else w
    return s


def _a_view_of(v):
    if v[0] > 0.0:
        return v[0:2]
    return v[1:3]


def view_kept_from_a_helper(x, n):
    y = x * 2.0
    w = x[0:2] * 1.0
    s = 0.0
    for i in range(n):
        y[i % 4] = x[i % 4] * 3.0 + s
        s = s + np.sum(w * w)
        w = _a_view_of(y)
    return s


def view_kept_by_an_inner_loop(x, n):
    y = x * 2.0
    w = x[0:2] * 1.0
    s = 0.0
    for i in range(n):
        y[i % 4] = x[i % 4] * 3.0 + s
        s = s + np.sum(w * w)
        k = 0
        while k < 2:
            w = y[k:k + 2]
            k = k + 1
    return s


def view_of_an_array_an_inner_loop_writes(x, n):
    y = x * 2.0
    w = x[0:2] * 1.0
    s = 0.0
    for i in range(n):
        for j in range(2):
            y[(i + j) % 4] = x[j] * s + 0.5
        s = s + np.sum(w * w)
        w = y[0:2]
    return s


def written_after_max_of_arrays(x):
    y = np.zeros(1)
    y[0] = x[0]
    w = x[1:2] * 1.0
    t = max(y, w)
    y[0] = x[2] * 3.0
    return np.sum(t * t) * x[3]


def written_into_min_of_arrays(x):
    y = np.zeros(1)
    y[0] = x[0]
    w = x[1:2] * 1.0
    t = min(w, max(y, 0.1))
    t[0] = x[2] * 3.0
    return np.sum(t * t) + np.sum(y * y) * x[3]


def max_of_arrays_updated_in_place(x):
    y = np.zeros(1)
    y[0] = x[0]
    w = x[1:2] * 1.0
    t = max(y, w)
    t += x[2:3]
    return np.sum(y * y) * x[3] + np.sum(t)


def max_of_new_arrays_written(x):
    t = max(x[0:1] * 1.0, x[1:2] * 2.0)
    t[0] = x[2] * 3.0
    a = x[0:1] * 1.0
    return np.sum(t * t) + np.sum(a * x[3])


def alias_by_a_conditional_expression(x, c):
    """z = y if c > 0 else w is w's array itself when c <= 0: a write into w changes z, but
    the lowering gave z a new array of its own (a wrong value and gradient, silently)."""
    y = x * 2.0
    w = x * 3.0
    z = y if c > 0.0 else w
    w[0] = 5.0
    return np.sum(z * x)


def _chooses_a_parameter(a, b, c):
    return a if c > 0.0 else b


def alias_from_a_helper_by_a_conditional_expression(x, c):
    y = x * 2.0
    w = x * 3.0
    z = _chooses_a_parameter(y, w, c)
    w[0] = 5.0
    return np.sum(z * x)


def alias_by_or_of_a_conditional_expression(x, c):
    y = x * 2.0
    w = x * 3.0
    z = 0 or (y if c > 0.0 else w)
    w[0] = 5.0
    return np.sum(z * x)


def conditional_expression_of_arrays_then_new_writes(x, c):
    """Not refused: z is one of y and w, and only an array of its own is written afterwards."""
    y = x * 2.0
    w = x * 3.0
    z = y if c > 0.0 else w
    u = z * 1.0
    u[0] = 5.0 * x[1]
    return np.sum(z * x) + np.sum(u * u)


def number_read_from_a_tuple(x):
    """t[1] of a tuple of numbers: the reverse gave the getitem of a tuple no cotangent, so
    x[0] got none (a wrong gradient, silently)."""
    t = (x[1], x[0] * 3.0)
    return x[2] * t[1] + x[1] * t[-2]


def _second_item(t):
    return t[1]


def array_read_from_a_tuple_by_a_helper(x):
    y = x * 2.0
    z = _second_item((x[0], y))
    return np.sum(y * x) * np.sum(z)


def _first_of_pair(t):
    a, b = t
    return a


def array_taken_from_a_tuple_by_a_helper_then_written(x):
    """z is y's array (taken apart from the tuple the helper was given): a write into y
    changes z, but z kept y as it was before the write (a wrong value and gradient)."""
    y = x * 2.0
    z = _first_of_pair((y, 1.0))
    y[0] = 5.0
    return np.sum(z * x)


def tuple_of_numbers_indexed_in_a_loop(x):
    t = (x[0], x[1])
    s = 0.0
    for i in range(2):
        s = s + t[i] * x[2]
    return s


def shape_indexed_in_a_loop(x, n):
    sh = (n, x.shape[0])
    s = 0.0
    for i in range(2):
        s = s + sh[i] * x[i]
    return s


# -- views of an array written into: read before the write only -----------------------

def view_read_in_the_next_iteration(x):
    y = np.ones((x.shape[0], 2))
    v = y[0]
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(v * v)
        y[0] = x[i] * 2.0  # v shows this write from the next iteration on
    return s


def view_read_after_an_update_in_place(x):
    y = x * 2.0
    v = y[1:]
    y += x  # NumPy updates the array v shows
    return np.sum(v * y[1:])


def _view_then_write(x):
    y = x * 1.0
    v = y[:2]
    y[0] = 7.0
    return v


def view_returned_by_a_helper_after_a_write(x):
    return np.sum(_view_then_write(x))


def view_read_after_a_write_in_one_branch(x, c):
    y = x * 1.0
    v = y[:2]
    if c > 0:
        y[0] = 3.0 * x[1]
    return np.sum(v) + np.sum(y)


def row_before_the_row_written_from_zero(m):
    """At i = 0, y[i - 1] is the last row, which is y[0] itself for one row: refused."""
    y = m * 1.0
    s = 0.0
    for i in range(y.shape[0]):
        r = y[i - 1]
        y[i] = m[i] * 2.0
        s = s + np.sum(r * y[i])
    return s


def rows_of_a_recurrence(x):
    y = np.zeros((x.shape[0], 2))
    y[0] = x[0]
    for i in range(1, x.shape[0]):
        row = y[i - 1]  # rebound before it is read in each iteration
        y[i] = np.sin(row) * 0.5 + x[i] * np.sum(row * row)
    return np.sum(y * y)


def view_dead_before_the_write(x):
    y = x.copy()
    a = y[:2]
    s = np.sum(a * a)
    y[0] = 3.0 * x[1]
    return s + np.sum(y * y)


def view_dead_before_an_update_in_place(x):
    y = x * 2.0
    z = y.T
    s = np.sum(z * x)
    y += x
    return s + np.sum(y * y)


def views_of_a_written_matrix(x):
    m = np.outer(x, x) + 1.0
    t = m.T
    r = m.reshape(-1)
    s = np.sum(np.sin(t) * t) + np.sum(r * r * r)
    m[0, 1] = x[0] * 5.0
    m[1] = np.cos(x) * m[1]
    return s + np.sum(m * m)


def view_read_in_the_other_branch(x, c):
    y = x * 1.0
    v = y[:2]
    if c > 0:
        y[0] = 3.0 * x[1] * x[0]
        s = np.sum(y * y)
    else:
        s = np.sum(np.sin(v)) * 2.0
    return s + np.sum(y * x)


def views_in_a_while_loop(x):
    y = x.copy()
    k = 0
    s = 0.0
    while k < x.shape[0]:
        v = y[k:]
        s = s + np.sum(np.tanh(v) * v)
        y[k] = y[k] * x[k] + 0.5
        k = k + 1
    return s + np.sum(y * y)


def row_read_by_an_inner_loop(x):
    """row = y[i - 1] and the writes y[i, j] (i >= 1) never share an element."""
    n = x.shape[0]
    y = np.zeros((n, n))
    y[0] = np.sin(x)
    for i in range(1, n):
        row = y[i - 1]
        for j in range(n):
            y[i, j] = row[j] * x[j] + np.sum(row) * 0.1
    return np.sum(y * y)


def view_values_read_in_reverse(x):
    """sin(v)'s adjoint reads v, a view of y, after the writes into y are undone."""
    y = np.exp(x)
    v = y[:3]
    s = np.sum(np.sin(v) * v)
    y[0] = x[1] * x[2]
    y[2] = s
    return np.sum(y * np.cos(y))


# -- while True: left only by return --------------------------------------------------

def sqrt_until_return(x):
    z = x
    while True:
        f = z * z - x
        if abs(f) < 1e-12:
            return 2.0 * z
        z = z - f / (2.0 * z)


def halve_until_small(x, w):
    s = np.sum(x * w)
    k = 0
    while 1:
        s = s * 0.5
        k = k + 1
        if s < 0.1 and k > 2:
            return s * np.sum(w)


# -- a return inside a loop: a number (an int stays one), never an array or a tuple ---

def _first_above(v, n):
    for i in range(n):
        if v[i] > 0.5:
            return i
    return n - 1


def indexes_by_an_int_returned_from_a_loop(x):
    k = _first_above(x, 3)  # an int: the result started as 0.0 and made it a float index
    return x[k] * 2.0 + np.sum(x * x)


def _pair_from_a_loop(v, n):
    for i in range(n):
        if v[i] > 0.5:
            return v[i], i
    return v[0], 0


def takes_a_tuple_returned_from_a_loop(x):
    a, k = _pair_from_a_loop(x, 3)
    return a * x[1]


def rows_of_a_recurrence_with_a_break(x):
    """The break leaves the rest of the body under `if not broke:`: row is bound before it."""
    y = np.zeros((x.shape[0], 2))
    y[0] = x[0]
    for i in range(1, x.shape[0]):
        row = y[i - 1]
        if np.sum(row) > 100.0:
            break
        y[i] = np.sin(row) * 0.5 + x[i] * np.sum(row * row)
    return np.sum(y * y)


def view_rebound_on_one_path_only(x):
    y = np.ones((x.shape[0], 2))
    v = y[0]
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            v = y[1]
        s = s + np.sum(v * v)  # on the other path, v is the view of the iteration before
        y[1] = x[i] * 2.0
    return s


# -- computed arrays that trade names with written ones -------------------------------

def jacobi_of_computed_arrays(x, n):
    """u's array is written into as v's after the swap: x * 1.0 is made an array of its own."""
    u = x * 1.0
    v = x * 1.0
    for t in range(n):
        for i in range(1, x.shape[0] - 1):
            v[i] = 0.5 * (u[i - 1] + u[i + 1]) + 0.1 * np.sin(u[i])
        u, v = v, u
    return np.sum(u * u)


def swapped_computed_arrays(x):
    a = x * 2.0
    b = x * 3.0
    for i in range(3):
        a, b = b, a
        a[0] = a[0] * 1.5
    return np.sum(a * b) + np.sum(x * 2.0)


# -- found by a fuzz of views and writes (each was a wrong value and gradient) ---------

def double_negation_then_write(x):
    y = np.zeros(3)
    y[0] = x[0]
    w = -(-y)  # a new array: codegen's cleanup made it y itself
    y[0] = 5.0 * x[1]
    return np.sum(w * w) + np.sum(y)


def double_negation_written(x):
    w = -(-x)  # a new array, not the argument
    w[0] = 3.0 * x[1]
    return np.sum(x * x) + np.sum(w)


def view_picked_by_max_in_a_loop(x):
    y = x.copy()
    v = x * 3.0
    for i in range(1, 4):
        v = max(y[0:1], y[2:3])  # one of the views itself
    y[2] = 7.0 * x[3]
    return np.sum(v)


def view_picked_in_a_branch(x):
    y = x.copy()
    v = x * 3.0
    if x[0] > 0.0:
        v = y[1:3] if x[1] > 0.0 else y[0:2]
    y[1] = 7.0 * x[3]
    return np.sum(v)


def view_kept_across_an_update_in_place(x):
    y = x.copy()
    r = x * 2.0
    for i in range(3):
        y += 0.5 * x[i]  # in place: the view r of an earlier iteration shows it
        if i == 0:
            r = y[:3]
    return np.sum(np.sin(r))


def view_read_in_the_iteration_after_an_update_in_place(x):
    y = x.copy()
    r = x * 2.0
    s = 0.0
    for i in range(3):
        s = s + np.sum(r * r)
        y += 0.5 * x[i]
        r = y[:3]
    return s


def view_of_a_buffer_the_loop_swaps(x):
    """From the second iteration on, v is u's array, which p views (a wrong gradient, also
    with .copy() buffers: the loop was lowered once, with v's array the one v had on entry)."""
    u = x.copy()
    v = x.copy()
    p = u[1:]
    for t in range(2):
        v[1] = 3.0 * x[0]
        u, v = v, u
    return np.sum(p * p)


def view_read_while_the_loop_swaps_buffers(x):
    u = x * 1.0
    v = x * 2.0
    p = u[1:]
    s = 0.0
    for t in range(3):
        s = s + np.sum(p * p)
        v[1] = 3.0 * x[t]
        u, v = v, u
    return s


def unary_plus_of_an_argument_written(x):
    w = +x  # a new array in NumPy (it was taken for x itself: refused as a write into x)
    w[0] = 3.0 * x[1]
    return np.sum(w * w)


def outer_buffers_swapped(x):
    U = np.outer(x, x)  # a new array, as x * 1.0 is
    V = np.zeros((x.shape[0], x.shape[0]))
    for t in range(2):
        V[1] = np.sin(U[0]) + U[1]
        U, V = V, U
    return np.sum(U * U)
