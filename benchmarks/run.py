"""Run the benchmark suite: adjoint's gradients against a hand-written Numba adjoint, the
compiled forward (the same problem function under numba.njit), JAX jit(grad) and PyTorch
eager, after checking that all of them agree.

    python benchmarks/run.py                      # everything, full sizes
    python benchmarks/run.py --quick              # smaller sizes, fewer repeats
    python benchmarks/run.py --only ode,writes    # some problems
    python benchmarks/run.py --json PATH --png PATH   (defaults: benchmarks/results.json,
                                                       docs/benchmarks.png; '' to skip)
    python benchmarks/run.py --from-json benchmarks/results.json   # tables and chart again

Times are medians over repeats after warm-up, in one process. adjoint's first call
(building the gradient, generating and compiling its code, and the first run) is measured
with an empty cache of generated code (a fresh ADJOINT_CACHE_DIR) unless --warm-cache.
Everything runs on one thread by default (--threads 1: BLAS, XLA's Eigen, PyTorch), as
adjoint's generated code does; --threads 0 leaves each library's default.
JAX, PyTorch and matplotlib are optional: a missing one is a note, not a failure.
"""
from __future__ import annotations

import argparse
import atexit
import datetime
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROBLEMS = ["loop_sin", "mlp_ce", "ode", "writes", "while_newton", "ba"]


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated problems: " + ",".join(PROBLEMS))
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--json", default=str(HERE / "results.json"), help="'' to skip")
    parser.add_argument("--png", default=str(ROOT / "docs" / "benchmarks.png"), help="'' to skip")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per measurement")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for BLAS, XLA and PyTorch (default 1, like adjoint's "
                             "generated code; 0 leaves each library's default)")
    parser.add_argument("--from-json", default="", metavar="PATH",
                        help="print the table and draw the chart of earlier results, run nothing")
    parser.add_argument("--warm-cache", action="store_true",
                        help="keep adjoint's usual cache of generated code (first calls are then warm)")
    return parser.parse_args(argv)


def fmt_time(seconds):
    if seconds is None:
        return "-"
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def fmt_ratio(r):
    if r is None:
        return "-"
    if r < 0.1:
        return f"{r:.2g}"
    return f"{r:.2f}" if r < 100 else f"{r:.0f}"


def cell(result, label):
    from harness import seconds_of
    entry = result.get(label)
    if entry is None:
        return "skipped"
    if entry["status"] == "ok":
        return fmt_time(seconds_of(result, label))
    return {"unsupported": "n/a (1)", "missing": "not installed", "n/a": "-"}[entry["status"]]


def table(results):
    from harness import ratios
    header = ["problem", "size", "adjoint", "hand Numba", "forward", "JAX", "PyTorch",
              "adjoint/hand", "adjoint/forward", "JAX/adjoint", "PyTorch/adjoint", "first call"]
    rows = []
    for r in results:
        q = ratios(r)
        rows.append([r["name"], r["size"], cell(r, "adjoint"), cell(r, "hand"), cell(r, "forward"),
                     cell(r, "jax"), cell(r, "torch"),
                     fmt_ratio(q["adjoint/hand"]), fmt_ratio(q["adjoint/forward"]),
                     fmt_ratio(q["JAX/adjoint"]) if q["JAX/adjoint"] else cell(r, "jax"),
                     fmt_ratio(q["PyTorch/adjoint"]) if q["PyTorch/adjoint"] else cell(r, "torch"),
                     fmt_time(r["adjoint_first_call"])])
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    # The same ratios from the fastest call of each: steadier than medians on a loaded machine.
    header = ["fastest calls", "adjoint/hand", "adjoint/forward", "JAX/adjoint", "PyTorch/adjoint"]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in results:
        q = ratios(r, "fastest")
        missing = {"JAX/adjoint": cell(r, "jax"), "PyTorch/adjoint": cell(r, "torch")}
        lines.append("| " + " | ".join([r["name"]] + [fmt_ratio(v) if v else missing.get(k, "-")
                                                      for k, v in q.items()]) + " |")
    notes = []
    for r in results:
        if r["forward"]["form"].startswith("adjoint"):
            notes.append(f"{r['name']}: forward is {r['forward']['form']}")
        for label, name in (("jax", "JAX"), ("torch", "PyTorch")):
            entry = r.get(label)
            if entry and entry.get("status") == "ok" and entry.get("form"):
                notes.append(f"{r['name']}: {name} is {entry['form']}")
            elif entry and entry.get("status") != "ok":
                mark = " (1)" if entry["status"] == "unsupported" else ""
                notes.append(f"{r['name']}: {name}{mark}: {entry.get('note')}")
    return "\n".join(lines), notes


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed; no chart written")
        return False
    import numpy as np

    from harness import ratios
    series = ["adjoint/hand", "adjoint/forward", "JAX/adjoint", "PyTorch/adjoint"]
    names = [r["name"] for r in results]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(series)
    x = np.arange(len(names))
    for k, s in enumerate(series):
        values = [ratios(r)[s] for r in results]
        pos = x + (k - (len(series) - 1) / 2) * width
        bars = ax.bar([p for p, v in zip(pos, values) if v], [v for v in values if v],
                      width, label=s)
        for p, v in zip(pos, values):
            if not v:
                ax.text(p, 1.0, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
        ax.bar_label(bars, labels=[fmt_ratio(v) for v in values if v], fontsize=6, padding=1)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(x, names)
    ax.set_ylabel("ratio of median times (log scale)")
    ax.set_title("adjoint vs hand-written Numba, compiled forward, JAX jit(grad), PyTorch eager\n"
                 "(adjoint/x > 1: adjoint slower; x/adjoint > 1: adjoint faster)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv=None):
    args = parse(argv)
    if args.threads > 0:  # before NumPy, JAX or PyTorch is imported
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
        if args.threads == 1:
            os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                       + " --xla_cpu_multi_thread_eigen=false").strip()
    if not args.warm_cache:
        cache = tempfile.mkdtemp(prefix="adjoint-bench-")
        os.environ["ADJOINT_CACHE_DIR"] = cache
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
    sys.path.insert(0, str(HERE))
    import harness  # noqa: E402  (imports adjoint, after the cache directory is chosen)

    if args.from_json:
        results = json.loads(Path(args.from_json).read_text())["results"]
        report(results, args.png)
        return results

    names = [n.strip() for n in args.only.split(",") if n.strip()] or PROBLEMS
    unknown = [n for n in names if n not in PROBLEMS]
    if unknown:
        sys.exit(f"unknown problem(s) {', '.join(unknown)}; choose from {', '.join(PROBLEMS)}")
    repeats = args.repeats or (5 if args.quick else 21)
    warmup = 1 if args.quick else 2
    budget = 5.0 if args.quick else 20.0
    frameworks = []
    for module, label in (("jax", "jax"), ("torch", "torch")):
        try:
            lib = importlib.import_module(module)
            frameworks.append(label)
            if module == "torch" and args.threads > 0:
                lib.set_num_threads(args.threads)
        except ImportError:
            print(f"note: {module} is not installed; its column is skipped")

    results = []
    for name in names:
        bench = importlib.import_module(f"bench_{name}").make(quick=args.quick)
        print(f"{name} ({bench.size}) ...", flush=True)
        results.append(harness.run(bench, repeats=repeats, warmup=warmup, budget=budget,
                                   frameworks=tuple(frameworks)))

    report(results, None)
    if args.json:
        import numba
        import numpy
        meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                "python": platform.python_version(), "machine": platform.machine(),
                "processor": platform.processor(), "cpus": os.cpu_count(),
                "numpy": numpy.__version__, "numba": numba.__version__, "quick": args.quick,
                "repeats": repeats, "warmup": warmup, "warm_cache": args.warm_cache,
                "threads": args.threads or "library defaults"}
        for module in ("jax", "torch"):
            if module in frameworks:
                meta[module] = importlib.import_module(module).__version__
        for r in results:
            r["ratios"] = harness.ratios(r)
            r["ratios_fastest"] = harness.ratios(r, "fastest")
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.png and plot(results, args.png):
        print(f"wrote {args.png}")
    return results


def report(results, png):
    """Print the tables and notes; draw the chart when ``png`` is given."""
    text, notes = table(results)
    print()
    print(text)
    print()
    print("Ratios of median times: adjoint/hand and adjoint/forward > 1 mean adjoint is slower;")
    print("JAX/adjoint and PyTorch/adjoint > 1 mean adjoint is faster. First call: building the")
    print("gradient, generating and compiling its code, and the first run. The second table")
    print("divides the fastest calls instead of the medians.")
    for note in notes:
        print("  " + note)
    if png and plot(results, png):
        print(f"wrote {png}")


if __name__ == "__main__":
    main()
