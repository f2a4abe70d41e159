from adjoint.runtime.helpers import new_tape, zero_like

def nested(w, n):
    """The forward of nested, as adjoint compiles it."""
    # line 51: for i in range(n):
    s = 0.0
    for i in range(n):
        # line 53: for j in range(i, n):
        t = 0.0
        for j in range(i, n):
            # line 54: t = t + w[j] * w[i]
            t = t + w[j] * w[i]
        # line 55: if t > 0.5:
        t4 = t > 0.5
        if t4:
            # line 56: s = s + t * t
            s_3 = s + t * t
        else:
            # line 58: s = s - t
            s_3 = s - t
        s = s_3
    # line 59: return s
    return s


def nested_vjp(w, n, s_bar):
    """nested's value and the cotangents of w, given the cotangent s_bar of the value."""
    # line 51: for i in range(n):
    s = 0.0
    # tape: what the loop overwrites and the adjoint reads, with room for every iteration
    t_stack = new_tape(n)
    for i in range(n):
        # line 53: for j in range(i, n):
        t = 0.0
        for j in range(i, n):
            # line 54: t = t + w[j] * w[i]
            t = t + w[j] * w[i]
        # line 55: if t > 0.5:
        t4 = t > 0.5
        if t4:
            # line 56: s = s + t * t
            s_3 = s + t * t
        else:
            # line 58: s = s - t
            s_3 = s - t
        # line 51: for i in range(n):
        t_stack.append(t)
        s = s_3
    # adjoint: cotangents in reverse order
    t_top = len(t_stack)
    # line 51: for i in range(n):
    w_bar = zero_like(w)
    for i in range(n - 1, -1, -1):
        t_top -= 1
        t = t_stack[t_top]
        # line 55: if t > 0.5:
        t4 = t > 0.5
        # line 51: for i in range(n):
        s_3_bar = s_bar
        # line 55: if t > 0.5:
        s_bar = 0.0
        t_bar = 0.0
        if t4:
            # line 56: s = s + t * t
            s_bar = s_bar + s_3_bar
            t_bar = t_bar + 2.0 * s_3_bar * t
        else:
            # line 58: s = s - t
            s_bar = s_bar + s_3_bar
            t_bar = t_bar - s_3_bar
        # line 53: for j in range(i, n):
        for j in range(n - 1, i - 1, -1):
            # line 54: t = t + w[j] * w[i]
            t1_bar = t_bar * w[i]
            w_bar[i] += t_bar * w[j]
            w_bar[j] += t1_bar
    return s, (w_bar,)


def nested_grad(w, n, s_bar):
    """The cotangents of w alone, given s_bar: nested_vjp without the work that only its value needs (what adjoint.grad calls)."""
    # line 51: for i in range(n):
    # tape: what the loop overwrites and the adjoint reads, with room for every iteration
    t_stack = new_tape(n)
    for i in range(n):
        # line 53: for j in range(i, n):
        t = 0.0
        for j in range(i, n):
            # line 54: t = t + w[j] * w[i]
            t = t + w[j] * w[i]
        # line 51: for i in range(n):
        t_stack.append(t)
    # adjoint: cotangents in reverse order
    t_top = len(t_stack)
    # line 51: for i in range(n):
    w_bar = zero_like(w)
    for i in range(n - 1, -1, -1):
        t_top -= 1
        t = t_stack[t_top]
        # line 55: if t > 0.5:
        t4 = t > 0.5
        # line 51: for i in range(n):
        s_3_bar = s_bar
        # line 55: if t > 0.5:
        s_bar = 0.0
        t_bar = 0.0
        if t4:
            # line 56: s = s + t * t
            s_bar = s_bar + s_3_bar
            t_bar = t_bar + 2.0 * s_3_bar * t
        else:
            # line 58: s = s - t
            s_bar = s_bar + s_3_bar
            t_bar = t_bar - s_3_bar
        # line 53: for j in range(i, n):
        for j in range(n - 1, i - 1, -1):
            # line 54: t = t + w[j] * w[i]
            t1_bar = t_bar * w[i]
            w_bar[i] += t_bar * w[j]
            w_bar[j] += t1_bar
    return (w_bar,)
