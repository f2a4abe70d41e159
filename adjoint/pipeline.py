"""The stages of adjoint, in order. Reading this file tells the whole design.

    parse      inspect.getsource + ast            -> frontend.source.Parsed
    fence      whitelist of the supported subset  -> (raises UnsupportedSyntaxError)
    jumps      break/continue/early return        -> Parsed, structured (if/for/while only)
    lower      AST -> SSA IR                      -> ir.Function
    idioms     1 / (1 + exp(-z)) -> logistic(z)   -> ir.Function (transform/idioms.py)
    activity   which values need a cotangent      -> frozenset of names
    ranks      which values are scalars           -> dict of known ranks (from the call's arguments)
    tangent    forward mode in loop bodies of     -> ir.Function with tangents, its bodies passive
               numbers that run a loop               (transform/tangent.py)
    reverse    the adjoint sweep                  -> transform.reverse.Adjoint
    sums       sums left to the operands' sums    -> Adjoint (transform/sums.py)
    views      parts of rows added where they go  -> Adjoint (transform/views.py)
    cleanup    drop unread forward statements     -> tuple of statements
    codegen    IR + adjoint -> Python source      -> codegen.python.GeneratedModule
    fuse       elementwise runs -> one loop each  -> the source Numba compiles for float64 arrays
                                                     (codegen/fuse.py)
    numba      np.exp(a) -> numpy_exp(a) ...      -> the sources Numba compiles (codegen/numba_calls.py)
               x = tape[top] -> tape_peek(...) ...     (codegen/borrow.py)
    write      source -> <cache>/<name>_<hash>.py -> Path
    import     the file as a module               -> module
    compile    numba.njit(cache=True), at the first call (see api.py): of the fused
               module for float64 arrays, else of the generated one (each after numba)

``ADJOINT_DUMP=<stage>`` prints what a stage produced; ``ADJOINT_DEBUG=1``
runs the IR verifier after lowering; ``ADJOINT_TANGENT=0`` keeps every loop in reverse
mode (no tangent regions), ``ADJOINT_EAGER=0`` every loop's adjoint in the reverse sweep
(transform/eager.py); ``ADJOINT_FUSE=0`` compiles the generated module
without fused loops, ``ADJOINT_NUMPY_LOOPS=0`` without NumPy's loops. ``Built.timings``
holds seconds per stage.
"""
from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

from . import __version__
from .analysis.activity import active_values
from .analysis.ranks import check_indices, ranks
from .backend.module import import_module, write_module
from .codegen.borrow import borrow_tapes
from .codegen.fuse import fuse_module
from .codegen.numba_calls import numba_calls
from .codegen.linemap import line_map
from .codegen.python import GeneratedModule, generate, header_for
from .frontend.fence import check_function
from .frontend.jumps import eliminate_jumps
from .frontend.source import parse_function
from .frontend.to_ir import RESERVED, lower
from .ir.nodes import Const, Function, Var
from .ir.printer import format_function
from .ir.verify import verify
from .runtime import helpers
from .transform.cleanup import live_forward, loop_work
from .transform.idioms import rewrite_idioms
from .transform.control import adjoint_reads
from .transform.reverse import reverse
from .transform.sums import defer_sums
from .transform.tangent import tangent_regions
from .transform.views import accumulate_directly

HELPERS = frozenset(helpers.__all__)


@dataclass(frozen=True)
class Generated:
    """What the stages up to codegen produced, kept for inspection (``--ir``, graphs)."""

    ir: Function
    active: frozenset[str]
    module: GeneratedModule
    fused: str | None = None  # the module Numba compiles for float64 arrays (codegen/fuse.py)
    compiled: str | None = None  # the one it compiles for others, if not the generated one


@dataclass
class Built:
    generated: GeneratedModule
    module: ModuleType
    path: Path
    ir: Function
    active: frozenset[str]
    timings: dict[str, float] = field(default_factory=dict)
    fused_source: str | None = None  # what Numba compiles for float64 arrays (codegen/fuse.py)
    compiled_source: str | None = None  # what it compiles for others, if not the generated module
    _written: dict[str, tuple[ModuleType, Path]] = field(default_factory=dict)

    def for_numba(self, float64: bool) -> tuple[ModuleType, Path]:
        """The module Numba compiles and its file: for arguments whose arrays are all float64
        the fused one, else the generated one, each with NumPy's loops; written and imported
        at the first request."""
        source, stem = (self.fused_source, "fused") if float64 and self.fused_source else \
            (self.compiled_source, "numba")
        if source is None:
            return self.module, self.path
        if stem not in self._written:
            path = write_module(source, f"{self.generated.forward_name}_{stem}")
            self._written[stem] = (import_module(path), path)
        return self._written[stem]

    def fused(self) -> tuple[ModuleType, Path] | None:
        """The fused module and its file, or None when nothing fuses."""
        return self.for_numba(True) if self.fused_source is not None else None

    def user_line(self, generated_line: int) -> tuple[str, int] | None:
        """The user's file and line a line of the generated module comes from (the helper's
        file for an inlined helper's line), or None for a line of no user line (a tape's)."""
        where = line_map(self.generated.source).get(generated_line)
        if where is None:
            return None
        user_line, helper = where
        return dict(self.ir.helpers).get(helper, self.ir.loc.filename), user_line


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


def _dump(stage: str, text: Callable[[], str]) -> None:
    if os.environ.get("ADJOINT_DUMP") == stage:
        print(f"--- adjoint: after {stage} ---\n{text()}", file=sys.stderr)


def lower_function(fn: Callable[..., Any], timings: dict[str, float],
                   param_ranks: tuple[int | None, ...] | None = None) -> Function:
    """Run parse -> lower: the SSA IR of ``fn``, the same for every call (the ranks of the
    arguments, where known, only let it accept writes it would otherwise refuse)."""
    with _stage(timings, "parse"):
        parsed = parse_function(fn)
    with _stage(timings, "fence"):
        check_function(parsed)
    with _stage(timings, "jumps"):
        parsed = eliminate_jumps(parsed)
    with _stage(timings, "lower"):
        ir = lower(parsed, RESERVED | HELPERS, param_ranks or ())
    with _stage(timings, "idioms"):
        ir = rewrite_idioms(ir)
        if os.environ.get("ADJOINT_DEBUG"):
            verify(ir)
    _dump("lower", lambda: format_function(ir))
    return ir


def generate_module(ir: Function, wrt: tuple[int, ...], timings: dict[str, float],
                    param_ranks: tuple[int | None, ...] | None = None, libm_taped: bool = True,
                    tangent: bool = True) -> Generated:
    """Run activity -> codegen for ``ir`` differentiated with respect to the parameters
    ``wrt``; ``param_ranks`` (0 for a number, ndim for an array, None unknown) specialize
    the adjoint to the arguments of a call, None gives code for any arguments.
    ``libm_taped=False`` (the gradient ``hessian`` differentiates again, which a tape would
    stop): tangent regions only where the gradient then tapes nothing (``newton_roots``),
    as their derivatives are taped where reverse mode may need no tape at all."""
    wrt_names = tuple(ir.param_names[i] for i in wrt)
    with _stage(timings, "activity"):
        active = active_values(ir, wrt_names)
    with _stage(timings, "ranks"):
        known = ranks(ir, dict(zip(ir.param_names, param_ranks or ())))
        check_indices(ir, known)
    plain = ir  # the forward function computes no tangents
    with _stage(timings, "tangent"):
        if tangent and os.environ.get("ADJOINT_TANGENT") != "0":
            ir = tangent_regions(ir, active, known)
        if ir is not plain:
            active = active_values(ir, wrt_names)
            known = ranks(ir, dict(zip(ir.param_names, param_ranks or ())))
    _dump("tangent", lambda: format_function(ir))
    with _stage(timings, "reverse"):
        adjoint = defer_sums(reverse(ir, wrt_names, active, known, libm_taped), ir, known)
        adjoint = accumulate_directly(adjoint, ir, known)
    with _stage(timings, "cleanup"):
        forward = live_forward(plain.body, set())
        reads = adjoint_reads(adjoint.statements) | adjoint.tape.names  # the forward pushes the tape
        vjp_forward = live_forward(ir.body, reads)
        grad_forward = live_forward(ir.body[:-1], reads)  # without what only the value needs
        ret = ir.body[-1].value
        scalar = _number(ret) or isinstance(ret, Var) and known.get(ret.name) == 0
        if not scalar or loop_work(grad_forward) == loop_work(vjp_forward):
            grad_forward = None  # adjoint.grad checks the value (unknown rank), or it is cheap
    with _stage(timings, "codegen"):
        versions = _versions()
        generated = generate(ir, forward, vjp_forward, adjoint, HELPERS, header_for(ir, versions), grad_forward,
                             eager=os.environ.get("ADJOINT_EAGER") != "0")
    _dump("codegen", lambda: generated.source)
    with _stage(timings, "fuse"):
        fused = None if os.environ.get("ADJOINT_FUSE") == "0" else \
            fuse_module(generated.source, known, adjoint.cotangent_of)
    _dump("fuse", lambda: fused or "(nothing fuses)")
    with _stage(timings, "numba"):
        compiled = numba_calls(generated.source, known)
        fused = fused and (numba_calls(fused, known) or fused)
        compiled = borrow_tapes(compiled or generated.source, known) or compiled
        fused = fused and (borrow_tapes(fused, known) or fused)
    _dump("numba", lambda: compiled or "(nothing changed)")
    if not libm_taped and ir is not plain and generated.tapes:
        return generate_module(plain, wrt, timings, param_ranks, libm_taped, tangent=False)
    return Generated(ir, active, generated, fused, compiled)


def _number(value: Any) -> bool:
    """A number literal (``return 0.0``; not ``return None``, which adjoint.grad refuses)."""
    return isinstance(value, Const) and isinstance(value.value, (bool, int, float))


def returns_scalar(ir: Function, param_ranks: tuple[int | None, ...]) -> bool | None:
    """Whether ``ir`` returns a number for arguments of these ranks: True, False (an array
    or a tuple), or None when the ranks do not tell."""
    ret = ir.body[-1].value
    if _number(ret):
        return True
    if isinstance(ret, Const):
        return False  # None
    if not isinstance(ret, Var):
        return False  # a tuple
    rank = ranks(ir, dict(zip(ir.param_names, param_ranks))).get(ret.name)
    return None if rank is None else rank == 0


def build(ir: Function, wrt: tuple[int, ...], param_ranks: tuple[int | None, ...] | None = None,
          timings: dict[str, float] | None = None, libm_taped: bool = True) -> Built:
    timings = dict(timings or {})
    products = generate_module(ir, wrt, timings, param_ranks, libm_taped)
    generated = products.module
    with _stage(timings, "write"):
        path = write_module(generated.source, f"{generated.forward_name}")
    with _stage(timings, "import"):
        module = import_module(path)
    return Built(generated, module, path, products.ir, products.active, timings, products.fused,
                 products.compiled)


def _versions() -> str:
    import numba
    import numpy

    # The optimization level is part of the module's hash, so of the cache key of Numba's
    # compiled code: Numba's cache does not tell levels apart (see runtime/_numba_impl.py).
    opt = "" if int(numba.config.OPT) == 3 else f" (NUMBA_OPT={int(numba.config.OPT)})"
    return f"adjoint {__version__}, numba {numba.__version__}{opt}, numpy {numpy.__version__}"
