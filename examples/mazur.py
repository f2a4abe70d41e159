"""Matt Mazur's 2-2-2 network ("A Step by Step Backpropagation Example"), written with
explicit loops over neurons and trained with adjoint's gradients.

Inputs 0.05, 0.10; targets 0.01, 0.99; weights 0.15 ... 0.55; biases 0.35, 0.60
(kept fixed, as in the post); learning rate 0.5. Expected, computed exactly in float64:
total error 0.298371109 before training, 0.291027774 after one step (the post prints
0.291027924, which no float64 computation reproduces), and 0.0000351085 at the start of
the 10,000th step.

Run from the repository root:  python examples/mazur.py
"""
import math
import time

import numpy as np

import adjoint


def total_error(W1, W2, b1, b2, x, t):
    h = np.zeros(2)
    for j in range(2):  # hidden neurons
        net = b1
        for i in range(2):
            net = net + W1[j, i] * x[i]
        h[j] = 1.0 / (1.0 + math.exp(-net))
    E = 0.0
    for k in range(2):  # output neurons
        net_o = b2
        for j in range(2):
            net_o = net_o + W2[k, j] * h[j]
        o = 1.0 / (1.0 + math.exp(-net_o))
        E = E + 0.5 * (t[k] - o) ** 2
    return E


def initial():
    W1 = np.array([[0.15, 0.20], [0.25, 0.30]])
    W2 = np.array([[0.40, 0.45], [0.50, 0.55]])
    return W1, W2, 0.35, 0.60, np.array([0.05, 0.10]), np.array([0.01, 0.99])


def train(steps, lr=0.5):
    """Errors before each step, and after the last."""
    W1, W2, b1, b2, x, t = initial()
    value_and_grad = adjoint.value_and_grad(total_error, wrt=("W1", "W2"))
    errors = []
    for _ in range(steps):
        E, (gW1, gW2) = value_and_grad(W1, W2, b1, b2, x, t)
        errors.append(E)
        W1 = W1 - lr * gW1
        W2 = W2 - lr * gW2
    errors.append(total_error(W1, W2, b1, b2, x, t))
    return errors


def main() -> None:
    start = time.perf_counter()
    train(1)
    compiled = time.perf_counter()
    errors = train(10_000)
    done = time.perf_counter()
    print(f"total error before training:        {errors[0]:.9f}   (expected 0.298371109)")
    print(f"after one step:                     {errors[1]:.9f}   (expected 0.291027774)")
    print(f"at the start of the 10,000th step:  {errors[9_999]:.10f}  (expected 0.0000351085)")
    print(f"after 10,000 steps:                 {errors[10_000]:.10f}")
    print(f"first call (compiling) {compiled - start:.2f} s; 10,000 steps {done - compiled:.3f} s")
    assert abs(errors[0] - 0.2983711087600027) < 1e-12
    assert abs(errors[1] - 0.29102777369) < 1e-10
    assert abs(errors[9_999] - 3.510854812e-05) < 1e-13


if __name__ == "__main__":
    main()
