"""Train a 2-layer tanh MLP on scikit-learn's handwritten digits with adjoint's gradients.

The loss is plain NumPy (softmax cross-entropy); adjoint generates its gradient
with respect to the four parameter arrays, and the training loop is ordinary
mini-batch gradient descent. The gradient has no loops, so its first calls run the
generated code as plain NumPy while a worker process compiles it with Numba; once
compiled (and cached on disk for later runs), the compiled code takes over. Training
here is over in about 2 seconds, before the compile is, and the compile stops with it.

The digits (8x8 images, 1797 of them) ship with scikit-learn: nothing is
downloaded. The script fails (AssertionError) if the test accuracy is below
95%, so it doubles as a smoke test.

Run from the repository root:  python examples/digits_mlp.py
(needs scikit-learn: pip install -e ".[examples]")
"""
import time

START = time.perf_counter()  # the total time includes importing NumPy, Numba and scikit-learn

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import adjoint  # noqa: E402

HIDDEN = 64          # hidden units
EPOCHS = 30
BATCH = 32           # mini-batch size
LEARNING_RATE = 0.1
SEED = 0


def loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1).reshape(-1, 1)
    p = np.exp(z) / np.sum(np.exp(z), axis=1).reshape(-1, 1)
    return -np.sum(Y * np.log(p)) / X.shape[0]


# The loss's value and its gradient with respect to the parameters (not X, Y).
loss_and_grad = adjoint.value_and_grad(loss, wrt=("W1", "b1", "W2", "b2"))


def predict(W1, b1, W2, b2, X):
    return np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1)


def main() -> None:
    # Data: standardised features (statistics of the training set only), one-hot targets.
    digits = load_digits()
    X, labels = digits.data.astype(np.float64), digits.target
    X_train, X_test, y_train, y_test = train_test_split(
        X, labels, test_size=0.25, random_state=SEED, stratify=labels)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0.0] = 1.0                       # a few border pixels are always 0
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    Y_train = np.eye(10)[y_train]               # float64 one-hot, shape (n, 10)

    # Parameters: small random weights, zero biases.
    rng = np.random.default_rng(SEED)
    n_in = X_train.shape[1]
    params = [rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, HIDDEN)), np.zeros(HIDDEN),
              rng.normal(0.0, 1.0 / np.sqrt(HIDDEN), (HIDDEN, 10)), np.zeros(10)]
    print(f"digits: {len(X_train)} training and {len(X_test)} test images, "
          f"{n_in} features, {HIDDEN} hidden units")

    # The first call generates the gradient code and runs it as plain NumPy; Numba
    # compiles it meanwhile in a worker process.
    t = time.perf_counter()
    loss_and_grad(*params, X_train[:BATCH], Y_train[:BATCH])
    first_call = time.perf_counter() - t
    print(f"first call: {first_call:.2f} s")

    n = len(X_train)
    for epoch in range(1, EPOCHS + 1):
        order = rng.permutation(n)
        total = 0.0
        for i in range(0, n, BATCH):
            batch = order[i:i + BATCH]
            value, grads = loss_and_grad(*params, X_train[batch], Y_train[batch])
            params = [p - LEARNING_RATE * g for p, g in zip(params, grads)]
            total += value * len(batch)
        accuracy = np.mean(predict(*params, X_test) == y_test)
        print(f"epoch {epoch:2d}  train loss {total / n:.4f}  test accuracy {accuracy:.2%}")

    elapsed = time.perf_counter() - START
    compiled = loss_and_grad.timings.get("compile (background)")
    how = ("compiled at the first call" if not loss_and_grad.background else
           f"compiled code took over after {compiled:.1f} s (compiling or loading it)" if compiled else
           "all of it ran as plain NumPy: training ended before Numba's compile did")
    print(f"final test accuracy {accuracy:.2%}; total time {elapsed:.2f} s "
          f"(of which {first_call:.2f} s first call); {how}")
    assert accuracy >= 0.95, f"test accuracy {accuracy:.2%} is below 95%"


if __name__ == "__main__":
    main()
