"""Programs whose loop bodies adjoint differentiates in forward mode (transform/tangent.py):
a ``for`` loop whose body computes numbers and runs a loop of its own; and programs
just outside what it takes on, which stay with reverse mode."""
import math

import numpy as np


def newton_roots(b, c):
    """The benchmark's while_newton: per element, Newton's method on z**3 + c z = b[k]."""
    s = 0.0
    for k in range(b.shape[0]):
        z = b[k] / (1.0 + c)
        f = z * z * z + c * z - b[k]
        while abs(f) >= 1e-12:
            z = z - f / (3.0 * z * z + c)
            f = z * z * z + c * z - b[k]
        s = s + z
    return s


def two_carried(x, n):
    """Two carried numbers, both read by the inner loop, and an element read."""
    s = 0.0
    p = 1.0
    for i in range(x.shape[0]):
        v = x[i]
        acc = v
        for j in range(n):
            acc = acc * 0.5 + math.sin(acc) * p
        s = s + acc * v
        p = p * 0.9 + 0.01 * acc
    return s + p * p


def newton_with_break(a, c):
    """An inner loop left by break, a scale from before the loop, a branch on the data."""
    scale = 2.0 * c
    total = 0.0
    for k in range(a.shape[0]):
        t = a[k]
        z = 1.0 + t
        for it in range(50):
            f = z * z - t
            if abs(f) < 1e-13:
                break
            z = z - f / (2.0 * z)
        if t > 1.0:
            w = math.exp(-t) * z
        else:
            w = z * scale - total * 0.1
        total = total + w
    return total


def every_rule_kind(x, y):
    """Operations of every kind a tangent is made of: powers, libm calls, abs, min/max, %
    (none with an infinite derivative at a finite value, as sqrt: see sqrt_from_zero)."""
    total = 0.0
    for i in range(x.shape[0]):
        u = x[i]
        v = y[i]
        for j in range(3):
            u = math.atan(u * u + 1.0) + np.tanh(v) ** 2 - abs(u - v) / 3.0
            v = max(v, u * 0.3) + math.log1p(u * u) ** 2 + np.arctan2(u, v + 2.0)
            u = min(u, 3.0) + (v % 1.5) * 0.1 + u ** 3 / 10.0
        total = total + u * v
    return total


def three_inputs_reach_the_inner_loop(x, a, b, c):
    """Three inputs reach the inner loop: more than forward mode pays for, reverse mode stays."""
    s = 0.0
    for i in range(x.shape[0]):
        z = x[i]
        for j in range(4):
            z = z * a + math.sin(z) * b + c
        s = s + z
    return s


def read_in_the_inner_loop(x, n):
    """An element of the differentiated array read inside the inner loop: reverse mode."""
    s = 0.0
    for i in range(n):
        acc = 0.0
        for j in range(x.shape[0]):
            acc = acc + math.sin(x[j] * i)
        s = s + acc * acc
    return s


def write_in_the_body(x):
    """An element write in the body: reverse mode."""
    y = np.zeros(x.shape[0])
    s = 0.0
    for i in range(x.shape[0]):
        z = x[i]
        for j in range(3):
            z = math.cos(z) + 0.5 * z
        y[i] = z
        s = s + z * y[i]
    return s + np.sum(y)


def region_inside_an_array_loop(x, w, n):
    """The outer loop carries an array (reverse mode); the inner one, numbers, runs a loop."""
    h = x.copy()
    for step in range(n):
        h = np.tanh(h * w)
        s = 0.0
        for i in range(h.shape[0]):
            q = h[i]
            for j in range(3):
                q = q - (q * q * q - h[i]) * 0.2
            s = s + q
        h = h + s * 0.1
    return np.sum(h * h)


def nothing_differentiated_flows_through(x, c):
    """The loop's results do not depend on x: no region, and a zero gradient."""
    s = 0.0
    for i in range(x.shape[0]):
        z = c
        for j in range(3):
            z = z * 0.5 + 1.0
        s = s + z
    return s + x[0]


def newton_roots_squared(b, c):
    """newton_roots (inlined), squared after its loop: the loop's cotangent is only known after it."""
    s = newton_roots(b, c)
    return s * s


def decaying_sum(b, c):
    """The carried sum decays: each iteration's cotangent depends on the later ones."""
    s = 0.0
    for k in range(b.shape[0]):
        z = b[k]
        for j in range(3):
            z = z - 0.3 * math.sin(z) * c
        s = 0.9 * s + z
    return s


def branchy_reduction(x, w):
    """A sum over elements with a branch whose merge the reverse needs (taped in reverse mode):
    the last loop runs each iteration's adjoint, branch included, as it ends."""
    s = 0.0
    for i in range(x.shape[0]):
        a = x[i]
        if a > 0.0:
            r = math.sqrt(a * a + 1.0)
            y = a * math.cos(r) + r * w
        else:
            y = a * a * w
        s = s + y * y * w
    return s


def sqrt_from_zero(x):
    """An inner loop's q starts at 0.0 (its tangent a literal 0.0) and takes sqrt(q) at
    q = 0: forward mode would give 0.0 * inf = nan; reverse mode drops that infinity into
    the constant. Such a region stays with reverse mode (helper-42's fuzz)."""
    s = 0.0
    for i in range(x.shape[0]):
        u = x[i]
        q = 0.0
        for j in range(2):
            q = np.sqrt(q) + u
        s = s + q
    return s


def linear_inner_loop(x, c):
    """Reverse mode tapes nothing here (the inner loop is linear); forward mode tapes the
    derivatives and the square after the loop keeps the adjoint from running in it: the
    gradient that adjoint.hessian differentiates is then made in reverse mode."""
    s = 0.0
    for i in range(x.shape[0]):
        q = x[i] * c
        for j in range(3):
            q = 0.5 * q + 0.1
        s = s + q
    return s * s
