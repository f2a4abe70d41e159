"""Run in a separate process by the cache tests: build and call one gradient, report as JSON."""
import json
import sys

import numpy as np

import adjoint
from adjoint.backend import module


def loss(w, x):
    return np.sum(np.tanh(x * w) ** 2) + np.sum(w * w)


def running(w, x):
    """A loop whose tape is made at its entry (new_tape): a Numba type of adjoint's own."""
    s = 0
    for i in range(x.shape[0]):
        s = s * np.tanh(w[i]) + x[i]
    return s


def running_grad(w, x):
    s, partial = 0.0, np.zeros_like(w)  # d s / d w, carried forward
    for i in range(x.shape[0]):
        t = np.tanh(w[i])
        partial = partial * t
        partial[i] += s * (1 - t * t)
        s = s * t + x[i]
    return partial


if __name__ == "__main__":
    mode = sys.argv[1]  # "jit", "python", or "tape": jit of a loop with a tape
    fn = running if mode == "tape" else loss
    g = adjoint.grad(fn, jit=mode != "python")
    w = np.linspace(-1.0, 1.0, 4)
    x = np.linspace(0.5, 1.5, 4)
    grad = g(w, x)
    vjp = next(iter(g._functions.values()))  # the one function the call compiled (_vjp or _grad)
    hits = sum(vjp.stats.cache_hits.values()) if hasattr(vjp, "stats") else 0
    misses = sum(vjp.stats.cache_misses.values()) if hasattr(vjp, "stats") else 0
    expected = running_grad(w, x) if mode == "tape" else 2 * np.tanh(x * w) * (1 - np.tanh(x * w) ** 2) * x + 2 * w
    print(json.dumps({"stats": dict(module.STATS), "numba_hits": hits, "numba_misses": misses,
                      "correct": bool(np.allclose(grad, expected, rtol=1e-12)),
                      "path": str(g._build().path), "sized_tape": "new_tape(" in g.source_for(w, x)}))
