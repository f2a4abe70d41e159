"""Tape memory: what each gradient stores for its reverse sweep, adjoint's tape against the
values the hand-written Numba adjoint keeps, on the problems of the suite.

    python benchmarks/tape_memory.py                  # every problem, full sizes
    python benchmarks/tape_memory.py --only ode,writes

adjoint's tape is measured, not estimated: the generated gradient (the function
``adjoint.grad`` calls) runs as plain Python on the benchmark's inputs with each tape list
replaced by one that adds up the bytes of what is pushed (8 per float or int, 1 per bool,
``nbytes`` per array: an array on the tape is kept alive by it). The hand-written side is
what its code allocates for the reverse sweep, counted from its source (see HAND below).
Neither counts arrays the forward computes anyway and both keep (``writes``: the array y),
nor a list's spare room: none in the tape of a loop made for its trip count (``new_tape``),
up to a quarter of the payload in one that grows (Numba grows a list by 1.25 times).
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import adjoint  # noqa: E402
from run import PROBLEMS  # noqa: E402

F = 8  # bytes of a float64


def _lstm(args):
    main_params, _, _, sequence = args
    c, b = sequence.shape
    layers, steps = main_params.shape[0] // 2, c - 1
    # xs, fs, ins, outs, chs, tcs (steps x layers x b); hs, cs (steps + 1 of them); ps
    return F * (6 * steps * layers * b + 2 * (steps + 1) * layers * b + steps * b)


def _gmm(args):
    alpha, mu, _, _, x = args[:5]
    n, d = x.shape
    return F * (n * alpha.shape[0] * d + n * alpha.shape[0])  # Z (n, k*d) and w (n, k)


HAND = {  # bytes the hand-written adjoint (bench_<name>.hand_grad) stores for its reverse sweep
    "loop_sin": lambda args: 0,                              # one pass, nothing stored
    "mlp_ce": lambda args: 0,                                # no loop: nothing overwritten
    "gmm": _gmm,
    "lstm": _lstm,
    "ba": lambda args: 0,                                    # one pass per observation
    "ode": lambda args: F * 2 * (args[4].shape[0] + 1),      # the states us, vs
    "writes": lambda args: 0,                                # y, which the forward keeps anyway
    "while_newton": lambda args: 0,                          # forward mode: no tape
}


class _Tape(list):
    """A list that counts the bytes pushed onto it (and the lists made)."""

    bytes = 0
    made = 0

    def __init__(self) -> None:
        super().__init__()
        _Tape.made += 1

    def append(self, item):
        _Tape.bytes += _nbytes(item)
        super().append(item)


def _nbytes(item) -> int:
    if isinstance(item, tuple):
        return sum(_nbytes(x) for x in item)
    if isinstance(item, np.ndarray):
        return item.nbytes
    if isinstance(item, (bool, np.bool_)):
        return 1
    return F


def adjoint_tape(bench) -> tuple[int, int]:
    """Bytes adjoint's gradient pushes on its tapes for ``bench``'s inputs, and the number
    of tape lists."""
    grad = adjoint.grad(bench.problem, wrt=bench.wrt, jit=False)
    source = grad.source_for(*bench.args)
    name = bench.problem.__name__
    entry = f"{name}_grad" if re.search(rf"^def {name}_grad\(", source, re.M) else f"{name}_vjp"
    source = re.sub(r"^(\s+\w+) = (\[\]|new_tape\(.*\))$", r"\1 = _Tape()", source, flags=re.M)
    namespace = {"_Tape": _Tape}
    exec(compile(source, f"<{name} generated>", "exec"), namespace)
    _Tape.bytes = _Tape.made = 0
    namespace[entry](*bench.args, 1.0)
    return _Tape.bytes, _Tape.made


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated problems: " + ",".join(PROBLEMS))
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    opts = parser.parse_args(argv)
    names = [n for n in opts.only.split(",") if n] or PROBLEMS
    print(f"{'problem':<14}{'size':<22}{'adjoint tape':>14}{'lists':>7}{'hand stores':>14}{'ratio':>8}")
    for name in names:
        bench = importlib.import_module(f"bench_{name}").make(opts.quick)
        taped, lists = adjoint_tape(bench)
        hand = HAND[name](bench.args)
        ratio = f"{taped / hand:.2f}" if hand else ("1.00" if not taped else "-")
        print(f"{name:<14}{bench.size:<22}{_size(taped):>14}{lists:>7}{_size(hand):>14}{ratio:>8}")


if __name__ == "__main__":
    main()
