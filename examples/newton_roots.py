"""Differentiate through a Newton solve per element, and read the gradient adjoint writes.

Each root z_k of z**3 + c z = b_k is found by Newton's method in a ``while`` loop whose trip
count depends on the data (JAX cannot reverse-differentiate such a loop). adjoint's
gradient carries dz/db_k forward through the Newton steps next to z (its loop body computes
numbers and runs a loop of its own: forward mode inside), and adds each element's
cotangent as the iteration ends: nothing is taped. At the root, the implicit function
theorem gives the same derivative in closed form, dz/db = 1 / (3 z**2 + c). (Like every
AD tool, adjoint differentiates the program as it ran: at b_k = 0 the first guess z = 0 is
already a root, no Newton step runs, and the derivative is that of the first line,
1 / (1 + c).)

    python examples/newton_roots.py
"""
import numpy as np

import adjoint


def sum_of_roots(b, c):
    s = 0.0
    for k in range(b.shape[0]):
        z = b[k] / (1.0 + c)
        f = z * z * z + c * z - b[k]
        while abs(f) >= 1e-12:
            z = z - f / (3.0 * z * z + c)
            f = z * z * z + c * z - b[k]
        s = s + z
    return s


def roots(b, c):
    """The roots themselves, by the same Newton iteration (plain NumPy, for the check)."""
    z = b / (1.0 + c)
    for _ in range(100):
        z = z - (z ** 3 + c * z - b) / (3.0 * z * z + c)
    return z


def main(n: int = 8) -> float:
    b = np.linspace(-1.9, 5.1, n)
    c = 1.5
    value, (grad_b, grad_c) = adjoint.value_and_grad(sum_of_roots, wrt=("b", "c"))(b, c)
    z = roots(b, c)
    implicit_b = 1.0 / (3.0 * z * z + c)  # dz/db from the implicit function theorem
    implicit_c = -z / (3.0 * z * z + c)   # dz/dc
    error = max(np.max(np.abs(grad_b - implicit_b)), abs(grad_c - np.sum(implicit_c)))
    print(f"sum of the roots {value:.12f}")
    print(f"d/db (adjoint)   {np.array2string(grad_b, precision=6)}")
    print(f"d/db (implicit)  {np.array2string(implicit_b, precision=6)}")
    print(f"d/dc adjoint {grad_c:.10f}, implicit {np.sum(implicit_c):.10f}; largest difference {error:.1e}")
    source = adjoint.grad(sum_of_roots, wrt=("b", "c")).source_for(b, c)
    print(source[source.index("def sum_of_roots_grad"):])
    return error


if __name__ == "__main__":
    main()
