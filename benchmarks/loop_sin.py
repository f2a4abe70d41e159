"""loop_sin: the gradient of sum_{i<n} sin(x*i)*x, n = 100,000, against a hand-written
Numba adjoint, the compiled forward, JAX and PyTorch, in one run.

    python benchmarks/loop_sin.py

A thin wrapper around the suite (``python benchmarks/run.py --only loop_sin``; the problem
is in problems.py, its other versions in bench_loop_sin.py); it writes no JSON or chart.
Extra arguments go to run.py (e.g. --quick).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402

if __name__ == "__main__":
    run.main(["--only", "loop_sin", "--json", "", "--png", "", *sys.argv[1:]])
