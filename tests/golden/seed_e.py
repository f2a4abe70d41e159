from adjoint.runtime.helpers import unbroadcast

def seed_e(a, b):
    """The forward of seed_e, as adjoint compiles it."""
    # line 9: c = a + b
    c = a + b
    # line 10: d = b + 1.0
    d = b + 1.0
    # line 11: return c * d
    seed_e = c * d
    return seed_e


def seed_e_vjp(a, b, seed_e_bar):
    """seed_e's value and the cotangents of a, b, given the cotangent seed_e_bar of the value."""
    # line 9: c = a + b
    c = a + b
    # line 10: d = b + 1.0
    d = b + 1.0
    # line 11: return c * d
    seed_e = c * d
    # adjoint: cotangents in reverse order
    # line 11: return c * d
    c_bar = seed_e_bar * d
    d_bar = unbroadcast(seed_e_bar * c, d)
    # line 10: d = b + 1.0
    b_bar = d_bar
    # line 9: c = a + b
    a_bar = unbroadcast(c_bar, a)
    b_bar = b_bar + unbroadcast(c_bar, b)
    return seed_e, (a_bar, b_bar)
