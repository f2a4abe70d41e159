"""A small library of losses built from plain NumPy, differentiated by adjoint.

    python examples/losses.py            # every loss: value, gradient check, generated adjoint
    python examples/losses.py huber      # just one

Each loss is an ordinary function; `adjoint.grad` differentiates it, `adjoint.check_grad`
compares the gradient with central finite differences, and the generated adjoint is
printed so you can read what adjoint wrote. `softplus` brings its own derivative rule
with `@adjoint.custom_vjp` (numerically stable where the textbook formula overflows), and
`log_cosh` builds on it. See docs/custom-losses.md.
"""
from __future__ import annotations

import math
import sys

import numpy as np

import adjoint

LOG2 = math.log(2.0)


# -- a custom rule: a softplus that neither overflows nor loses precision ----------------

@adjoint.custom_vjp
def softplus(x):
    """log(1 + exp(x)), computed without overflow for large x."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@softplus.defvjp
def softplus_vjp(x, out, g):
    """d softplus / dx = sigmoid(x), written with tanh so it never overflows."""
    return g * 0.5 * (1.0 + np.tanh(0.5 * x))


# -- losses -------------------------------------------------------------------------------

def huber(pred, target, delta):
    """Quadratic for residuals below delta, linear beyond: robust to outliers."""
    r = pred - target
    a = np.abs(r)
    quadratic = 0.5 * r * r
    linear = delta * (a - 0.5 * delta)
    return np.mean(np.where(a <= delta, quadratic, linear))


def log_cosh(pred, target):
    """mean(log(cosh(r))), as |r| + softplus(-2|r|) - log 2, which cosh would overflow."""
    a = np.abs(pred - target)
    return np.mean(a + softplus(-2.0 * a) - LOG2)


def focal(logits, labels, alpha, gamma):
    """Binary focal loss (Lin et al. 2017): cross-entropy down-weighted on easy examples.
    labels are 0.0 or 1.0."""
    p = 1.0 / (1.0 + np.exp(-logits))
    p_true = labels * p + (1.0 - labels) * (1.0 - p)
    weight = labels * alpha + (1.0 - labels) * (1.0 - alpha)
    return -np.mean(weight * (1.0 - p_true) ** gamma * np.log(p_true))


def contrastive(a, b, same, margin):
    """Contrastive loss (Hadsell et al. 2006) over pairs of embeddings, one pair per row:
    pull pairs of the same class together, push others at least `margin` apart."""
    diff = a - b
    d = np.sqrt(np.sum(diff * diff, axis=1) + 1e-12)
    gap = np.maximum(margin - d, 0.0)
    return np.mean(same * d * d + (1.0 - same) * gap * gap)


def softplus_loss(x, w):
    """A loss through the custom rule: mean softplus of a linear score."""
    return np.mean(softplus(x @ w))


def _examples():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=8), rng.normal(size=8)
    pred[0] += 5.0  # an outlier, beyond delta
    logits, labels = rng.normal(size=6), (rng.uniform(size=6) > 0.5).astype(float)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    same = np.array([1.0, 0.0, 1.0, 0.0, 0.0])
    x, w = rng.normal(size=(4, 3)), rng.normal(size=3)
    return {
        "huber": (huber, (pred, target, 1.0)),
        "log_cosh": (log_cosh, (100.0 * pred, target)),  # residuals where cosh overflows
        "focal": (focal, (logits, labels, 0.25, 2.0)),
        "contrastive": (contrastive, (a, b, same, 1.5)),
        "softplus_loss": (softplus_loss, (x, w)),
    }


def _adjoint_part(source: str, name: str) -> str:
    return "def " + source.split(f"\ndef {name}_vjp")[1].join([f"{name}_vjp", ""])


def main(names: list[str]) -> None:
    examples = _examples()
    for name in names or list(examples):
        fn, args = examples[name]
        grad = adjoint.value_and_grad(fn)
        value, g = grad(*args)
        error = adjoint.check_grad(fn, *args, rtol=1e-5, atol=1e-8)
        print(f"== {name}: value {value:.6f}, gradient w.r.t. {fn.__code__.co_varnames[0]}, "
              f"largest relative difference to finite differences {error:.1e}")
        print(np.array2string(np.asarray(g), precision=5))
        print(_adjoint_part(grad.source, name))


if __name__ == "__main__":
    main(sys.argv[1:])
