"""First-call latency of a 20-line function, in fresh processes (issue 6):

1. an empty cache: decoration + first call (parse ... codegen, write, import, and the first
   run: as plain Python while a worker process compiles, by default; or compiling first,
   with ADJOINT_BACKGROUND=0), and the time until the compiled code runs;
2. a second process with the cache warm (generated module and Numba's compiled code found);
3. the time per pipeline stage, from ``GradFunction.timings``;
4. compile time against trip count: a loop's gradient compiled in fresh processes with an
   empty cache, called first with n = 10 and with n = 1,000,000 (the generated code does
   not depend on n, so neither does its compile time; JAX unrolls a Python loop instead).

    python benchmarks/latency.py

Each process imports numpy, numba and adjoint first; those imports are reported apart,
since every Numba user pays them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent('''
    import json, sys, time
    start = time.perf_counter()
    import numpy as np
    import numba
    import adjoint
    imports = time.perf_counter() - start
    sys.path.insert(0, sys.argv[1])
    from latency_sample import loss
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(8, 16)), rng.normal(size=16), rng.normal(size=(16, 4)), rng.normal(size=4),
            rng.normal(size=(32, 8)), np.eye(4)[rng.integers(0, 4, 32)])
    start = time.perf_counter()
    grad = adjoint.grad(loss, wrt=(0, 1, 2, 3))
    grad(*args)
    first = time.perf_counter() - start
    grad.wait()
    compiled = time.perf_counter() - start
    start = time.perf_counter()
    grad(*args)
    second = time.perf_counter() - start
    print(json.dumps({"imports": imports, "first": first, "compiled": compiled, "second": second,
                      "timings": grad.timings}))
''')

CHILD_LOOP = textwrap.dedent('''
    import json, sys, time
    import adjoint
    sys.path.insert(0, sys.argv[1])
    from problems import loop_sin

    n = int(sys.argv[2])
    start = time.perf_counter()
    grad = adjoint.grad(loop_sin)
    grad(0.3, n)
    first = time.perf_counter() - start
    start = time.perf_counter()
    grad(0.3, n)
    second = time.perf_counter() - start
    print(json.dumps({"first": first, "second": second}))
''')

SAMPLE = textwrap.dedent('''
    import numpy as np


    def loss(W1, b1, W2, b2, X, Y):
        """A 20-line function: a 2-layer MLP with a numerically stable softmax cross-entropy
        and an L2 penalty, written step by step."""
        h = X @ W1 + b1
        h = np.tanh(h)
        z = h @ W2 + b2
        m = np.max(z, axis=1)
        z = z - m.reshape(-1, 1)
        e = np.exp(z)
        s = np.sum(e, axis=1)
        logp = z - np.log(s).reshape(-1, 1)
        nll = -np.sum(Y * logp) / X.shape[0]
        penalty = np.sum(W1 * W1) + np.sum(W2 * W2)
        scale = 1e-3
        if penalty > 100.0:
            scale = 1e-4
        total = nll + scale * penalty
        return total
''')


def run(directory: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, directory], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def trip_counts(directory: str) -> None:
    print("compile time against trip count (fresh process, empty cache, benchmarks' loop_sin):")
    firsts = {}
    here = os.path.dirname(os.path.abspath(__file__))
    for n in (10, 1_000_000):
        env = dict(os.environ, ADJOINT_CACHE_DIR=os.path.join(directory, f"cache-n{n}"))
        out = subprocess.run([sys.executable, "-c", CHILD_LOOP, here, str(n)], env=env,
                             capture_output=True, text=True, check=True)
        t = json.loads(out.stdout.strip().splitlines()[-1])
        firsts[n] = t["first"] - t["second"]  # the first call less one run of the loop
        print(f"  n = {n:>9,}: first call {t['first']:.2f} s, a compiled call {t['second'] * 1e3:.2f} ms, "
              f"compile {firsts[n]:.2f} s")
    print(f"  compile at n = 10^6 / at n = 10:            {firsts[1_000_000] / firsts[10]:.2f}")


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "latency_sample.py"), "w") as f:
            f.write(SAMPLE)
        for mode, background in (("background compile (default)", "1"), ("compile first", "0")):
            env = dict(os.environ, ADJOINT_CACHE_DIR=os.path.join(directory, "cache-" + background),
                       ADJOINT_BACKGROUND=background)
            results[mode] = (run(directory, env), run(directory, env))
    print("a 20-line function (2-layer MLP, softmax cross-entropy, a branch), 4 gradients")
    cold = results["background compile (default)"][0]
    print(f"  imports (numpy, numba, adjoint)             {cold['imports']:.2f} s")
    for mode, (cold, warm) in results.items():
        print(f"  {mode}:")
        print(f"    empty cache: decoration + first call      {cold['first']:.3f} s   "
              f"(compiled code running after {cold['compiled']:.2f} s; a compiled call {cold['second'] * 1e3:.2f} ms)")
        print(f"    warm cache, new process: first call       {warm['first']:.3f} s   "
              f"(compiled code running after {warm['compiled']:.2f} s)")
    cold = results["compile first"][0]
    stages = {k: v for k, v in cold["timings"].items() if not k.startswith("first call")}
    print("  pipeline stages, empty cache (s):           " +
          ", ".join(f"{k} {v:.4f}" for k, v in stages.items()))
    print(f"  parse .. codegen (ms):                      {sum(v for k, v in stages.items() if k not in ('write', 'import')) * 1e3:.1f}")
    print(f"  Numba compile (first call, compile first):  {cold['timings'].get('first call (compile)', 0.0):.2f} s")
    with tempfile.TemporaryDirectory() as directory:
        trip_counts(directory)


if __name__ == "__main__":
    main()
