from adjoint.runtime.helpers import new_tape, zero_like

def return_in_loop(x, n):
    """The forward of return_in_loop, as adjoint compiles it."""
    # line 229: for i in range(n):
    s, result, returned = x, 0, False
    for i in range(n):
        t1 = not returned
        if t1:
            # line 230: s = s * 1.5
            s_1 = s * 1.5
            # line 231: if s > 10.0:
            t2 = s_1 > 10.0
            if t2:
                # line 232: return s * 2.0
                result_2 = s_1 * 2.0
                returned_1 = True
            else:
                result_2, returned_1 = result, returned
            result_3, returned_2, s_2 = result_2, returned_1, s_1
        else:
            result_3, returned_2, s_2 = result, returned, s
        s, result, returned = s_2, result_3, returned_2
    # line 229: for i in range(n):
    if returned:
        result_4 = result
    else:
        result_4 = s
    # line 233: return s
    return result_4


def return_in_loop_vjp(x, n, result_4_bar):
    """return_in_loop's value and the cotangents of x, given the cotangent result_4_bar of the value."""
    # line 229: for i in range(n):
    s, result, returned = x, 0, False
    # tape: what the loop overwrites and the adjoint reads, with room for every iteration
    tape_1 = new_tape(n)
    for i in range(n):
        t1 = not returned
        if t1:
            # line 230: s = s * 1.5
            s_1 = s * 1.5
            # line 231: if s > 10.0:
            t2 = s_1 > 10.0
            if t2:
                # line 232: return s * 2.0
                result_2 = s_1 * 2.0
                returned_1 = True
            else:
                result_2, returned_1 = result, returned
            result_3, returned_2, s_2 = result_2, returned_1, s_1
        else:
            result_3, returned_2, s_2 = result, returned, s
        # line 229: for i in range(n):
        tape_1.append((result, s, t1))
        s, result, returned = s_2, result_3, returned_2
    # line 229: for i in range(n):
    if returned:
        result_4 = result
    else:
        result_4 = s
    # adjoint: cotangents in reverse order
    tape_1_top = len(tape_1)
    # line 229: for i in range(n):
    result_bar = zero_like(result)
    s_bar = zero_like(s)
    if returned:
        result_bar = result_bar + result_4_bar
    else:
        # line 229: for i in range(n):
        s_bar = s_bar + result_4_bar
    # line 229: for i in range(n):
    for i in range(n - 1, -1, -1):
        tape_1_top -= 1
        result, s, t1 = tape_1[tape_1_top]
        s_2_bar = s_bar
        result_3_bar = result_bar
        result_bar = zero_like(result)
        s_bar = zero_like(s)
        if t1:
            # line 230: s = s * 1.5
            s_1 = s * 1.5
            # line 231: if s > 10.0:
            t2 = s_1 > 10.0
            # line 229: for i in range(n):
            s_1_bar = s_2_bar
            # line 231: if s > 10.0:
            if t2:
                # line 232: return s * 2.0
                s_1_bar = s_1_bar + result_3_bar * 2.0
            else:
                # line 231: if s > 10.0:
                result_bar = result_bar + result_3_bar
            # line 230: s = s * 1.5
            s_bar = s_bar + s_1_bar * 1.5
        else:
            # line 229: for i in range(n):
            result_bar = result_bar + result_3_bar
            s_bar = s_bar + s_2_bar
    # line 229: for i in range(n):
    x_bar = s_bar
    return result_4, (x_bar,)
