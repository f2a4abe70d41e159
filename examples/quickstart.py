"""Quickstart: the gradient of e = (a + b) * (b + 1) at a = 2, b = 1.

By hand: with c = a + b and d = b + 1, e = c * d, so
    de/da = d         = 2
    de/db = d + c     = 2 + 3 = 5

Run from the repository root:  python examples/quickstart.py
Read the generated code alone:  python -m adjoint show examples/quickstart.py:loss
"""
import adjoint


# The function to differentiate: plain Python. adjoint reads its source, so it
# must live in a file (not typed at the interactive prompt).
def loss(a, b):
    c = a + b
    d = b + 1.0
    e = c * d
    return e


def main() -> None:
    # grad() returns a new function; `loss` itself is left untouched.
    # wrt names the arguments to differentiate: a tuple gives a tuple of gradients.
    grad_loss = adjoint.grad(loss, wrt=("a", "b"))

    # The first call generates the gradient code and compiles it with Numba;
    # later calls reuse the compiled code.
    de_da, de_db = grad_loss(2.0, 1.0)
    print(f"de/da = {de_da}   (expected 2)")
    print(f"de/db = {de_db}   (expected 5)")

    # value_and_grad gives the value and the gradients in one call.
    value, (de_da, de_db) = adjoint.value_and_grad(loss, wrt=("a", "b"))(2.0, 1.0)
    print(f"e = {value}, gradient = ({de_da}, {de_db})")

    # A single position or name (not a tuple) gives a single gradient.
    print(f"de/db alone: {adjoint.grad(loss, wrt='b')(2.0, 1.0)}")

    # .source is the Python module adjoint generated: `loss` (the forward) and
    # `loss_vjp` (the forward again, then the cotangents `<name>_bar` in reverse
    # order). Each group of statements is labelled with the line of `loss` it comes from.
    print()
    print(grad_loss.source)


if __name__ == "__main__":
    main()
