"""Run in a separate process by the cache tests: build and call one gradient, report as JSON."""
import json
import sys

import numpy as np

import adjoint
from adjoint.backend import module


def loss(w, x):
    return np.sum(np.tanh(x * w) ** 2) + np.sum(w * w)


if __name__ == "__main__":
    g = adjoint.grad(loss, jit=sys.argv[1] == "jit")
    w = np.linspace(-1.0, 1.0, 4)
    x = np.linspace(0.5, 1.5, 4)
    grad = g(w, x)
    vjp = next(iter(g._functions.values()))  # the one function the call compiled (_vjp or _grad)
    hits = sum(vjp.stats.cache_hits.values()) if hasattr(vjp, "stats") else 0
    misses = sum(vjp.stats.cache_misses.values()) if hasattr(vjp, "stats") else 0
    expected = 2 * np.tanh(x * w) * (1 - np.tanh(x * w) ** 2) * x + 2 * w
    print(json.dumps({"stats": dict(module.STATS), "numba_hits": hits, "numba_misses": misses,
                      "correct": bool(np.allclose(grad, expected, rtol=1e-12)),
                      "path": str(g._build().path)}))
