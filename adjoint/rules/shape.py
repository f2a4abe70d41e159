"""Rules that move, copy or create arrays: reshape, transpose, concatenate, stack,
copies and casts, constructors, and the shape queries that carry no derivative."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..ir.nodes import Const, Tup, Value
from . import cases
from .registry import CALLS, Arg, BindError, Example, Rule, VjpContext, bind_params, register

_ANY = cases.arrays({"x": (3,)}, {"x": (2, 3)})

register(Rule("transpose", ("x",), "np.transpose({x})", {"x": "np.transpose({g})"},
              (Example("x.T * y", cases.arrays({"x": (2, 3), "y": (3, 2)}, {"x": (3,), "y": (3,)},
                                               {"x": (2, 3, 4), "y": (4, 3, 2)})),
               Example("np.transpose(x)", _ANY), Example("x.transpose()", _ANY)), rank="like"),
         "attr:T", "numpy.transpose", "method:transpose")


def _bind_reshape(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[str, tuple[Value, ...]]:
    if kwargs:
        raise BindError("takes no keyword arguments here (order= is not supported)")
    if len(args) < 2:
        raise BindError("needs a shape")
    x, *shape = args
    return "reshape", (x, shape[0] if len(shape) == 1 else Tup(tuple(shape)))


register(Rule("reshape", ("x", "shape"), "{x}.reshape({shape})", {"x": "reshape_like({g}, {x})"},
              (Example("x.reshape(-1, 1) * y", cases.arrays({"x": (3,), "y": (3, 2)})),
               Example("np.reshape(x, (3, 2))", cases.arrays({"x": (2, 3)})),
               Example("x.reshape((6,))", cases.arrays({"x": (2, 3)})),
               Example("x.reshape(2, 3, 2) * y", cases.arrays({"x": (3, 4), "y": (2, 3, 2)})))),
         binder=_bind_reshape)
CALLS["method:reshape"] = CALLS["numpy.reshape"] = _bind_reshape
register(Rule("ravel", ("x",), "np.ravel({x})", {"x": "reshape_like({g}, {x})"},
              (Example("np.ravel(x) * np.arange(x.size)", _ANY + cases.arrays({"x": (2, 3, 2)})), Example("x.ravel()", _ANY))),
         "numpy.ravel", "method:ravel")
# x.flatten() is a copy (np.ravel may be a view): writing into it is writing into a new array.
register(Rule("flatten", ("x",), "{x}.flatten()", {"x": "reshape_like({g}, {x})"},
              (Example("x.flatten() * np.arange(x.size)", _ANY + cases.arrays({"x": (2, 3, 2)})),)),
         "method:flatten")


def _part_vjp(helper: str):
    def vjp(ctx: VjpContext) -> list[str]:
        parts, axis = ctx.items["xs"], ctx.args["axis"]
        out = []
        for i, part in enumerate(parts):
            if helper == "concat_part":
                offset = " + ".join(f"{p}.shape[{axis}]" for p in parts[:i]) or "0"
                out.append(f"concat_part({ctx.g}, {offset}, {part}, {axis})")
            else:
                out.append(f"stack_part({ctx.g}, {i}, {part}, {axis})")
        return out
    return vjp


def _bind_sequence(name: str):
    def bind(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[str, tuple[Value, ...]]:
        xs, axis = bind_params(("xs", "axis"), args, kwargs, {"axis": 0})
        if not isinstance(xs, Tup):
            raise BindError("takes a tuple or list of arrays written in place, e.g. (a, b)")
        if not (isinstance(axis, Const) and isinstance(axis.value, int)):
            raise BindError("takes a literal int axis")
        return name, (xs, axis)
    return bind


register(Rule("concatenate", ("xs", "axis"), "np.concatenate({xs}, axis={axis})",
              {"xs": _part_vjp("concat_part")},
              (Example("np.concatenate((x, y))", cases.arrays({"x": (3,), "y": (2,)}, {"x": (2, 3), "y": (1, 3)})),
               Example("np.concatenate([x, y, x], axis=1)", cases.arrays({"x": (2, 3), "y": (2, 1)})),
               Example("np.concatenate((x, y), axis=-1)", cases.arrays({"x": (2, 3), "y": (2, 2)})))),
         "numpy.concatenate", binder=_bind_sequence("concatenate"))
register(Rule("stack", ("xs", "axis"), "np.stack({xs}, axis={axis})", {"xs": _part_vjp("stack_part")},
              (Example("np.stack((x, y))", cases.arrays({"x": (3,), "y": (3,)})),
               Example("np.stack([x, y, x], axis=1)", cases.arrays({"x": (2, 3), "y": (2, 3)})),
               Example("np.stack((x, y), axis=-1) * np.arange(2)", cases.arrays({"x": (2, 3), "y": (2, 3)})),
               # numbers stacked into a vector: Numba's np.stack takes arrays only
               Example("np.stack((x, y)) * np.arange(2)", cases.arrays({"x": (), "y": ()}), numba=False))),
         "numpy.stack", binder=_bind_sequence("stack"))

_IDENTITY = {"x": "{g}"}
register(Rule("copy", ("x",), "{x}.copy()", _IDENTITY,
              (Example("x.copy()", _ANY), Example("np.copy(x)", _ANY)), rank="like"), "method:copy", "numpy.copy")
# float() and int() take a number to a number: exact and as cheap as arithmetic, so a loop's
# adjoint recomputes them (recompute=True) rather than tape them; so are the shape queries.
register(Rule("float", ("x",), "float({x})", _IDENTITY, (Example("float(x)", cases.scalar()),), rank="scalar",
              recompute=True),
         "builtins.float")
register(Rule("float64", ("x",), "np.float64({x})", _IDENTITY,
              (Example("np.float64(x)", cases.scalar()),
               # of an array, a float64 array: Numba's np.float64 takes a number only
               Example("np.float64(x)", _ANY, numba=False)), rank="like"),
         "numpy.float64")
register(Rule("astype", ("x", "dtype"), "{x}.astype({dtype})", _IDENTITY,
              (Example("x.astype(np.float64)", _ANY),)))
# A cast to an integer type is piecewise constant: zero derivative.
register(Rule("astype_int", ("x", "dtype"), "{x}.astype({dtype})",
              examples=(Example("x * x.astype(np.int64)", cases.arrays({"x": Arg((3,), 0.1, 2.9)})),)))


def _bind_astype(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[str, tuple[Value, ...]]:
    x, dtype = bind_params(("x", "dtype"), args, kwargs, {})
    if not (isinstance(dtype, Const) and isinstance(dtype.value, type)):
        raise BindError("takes a NumPy dtype such as np.float32")
    floating = issubclass(dtype.value, (float, np.floating))
    return ("astype" if floating else "astype_int"), (x, dtype)


CALLS["method:astype"] = _bind_astype

# Queries with integer results: no derivative, never active; recomputed in a loop's adjoint.
_SHAPE_EX = (Example("x * x.shape[0] + x.size * len(x) + x.ndim", _ANY),)
register(Rule("shape", ("x",), "{x}.shape", examples=_SHAPE_EX, recompute=True), "attr:shape")
register(Rule("dim", ("x", "i"), "{x}.shape[{i}]", examples=_SHAPE_EX, rank="scalar", recompute=True))
register(Rule("size", ("x",), "{x}.size", examples=_SHAPE_EX, rank="scalar", recompute=True), "attr:size")
# np.size(x) is x.size that a number has too (1): np.mean's cotangent divides by it.
register(Rule("np_size", ("x",), "np.size({x})", examples=(Example("x * np.size(x)", cases.unary()),),
              rank="scalar", recompute=True), "numpy.size")
register(Rule("ndim", ("x",), "{x}.ndim", examples=_SHAPE_EX, rank="scalar", recompute=True), "attr:ndim")
register(Rule("len", ("x",), "len({x})", examples=_SHAPE_EX, rank="scalar", recompute=True), "builtins.len")
register(Rule("int", ("x",), "int({x})", examples=(Example("x * int(x)", cases.scalar(0.1, 2.9)),), rank="scalar",
              recompute=True), "builtins.int")


def _with_dtype(call: str):
    def render(a: Mapping[str, str]) -> str:
        head = call.format(**a)
        return head + ")" if a["dtype"] == "None" else f"{head}, {a['dtype']})"
    return render


def _constructor(name: str, params: tuple[str, ...], call: str, vjp: dict, *examples: Example,
                 refuses: tuple[str, ...] = ()) -> None:
    rank = "like" if name.endswith("_like") else "shape"
    rule = Rule(name, params + ("dtype",), _with_dtype(call), vjp, examples, refuses, rank=rank)
    register(rule)

    def bind(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[str, tuple[Value, ...]]:
        return name, bind_params(rule.params, args, kwargs, {"dtype": None})

    CALLS[f"numpy.{name}"] = bind


_SHAPE_ARGS = _ANY
_constructor("zeros", ("shape",), "np.zeros({shape}", {}, Example("np.zeros(x.shape) + x", _SHAPE_ARGS))
_constructor("ones", ("shape",), "np.ones({shape}", {}, Example("np.ones((2, len(x))) * x[0]", cases.arrays({"x": (3,)}, {"x": (3, 3)})))
_constructor("empty", ("shape",), "np.empty({shape}", {},
             Example("np.empty(x.shape).size * x", _SHAPE_ARGS))
# The fill value broadcasts to the shape (NumPy takes an array too): its cotangent is g summed
# back to the fill value's shape (the sum of g for a number).
_FILL_VJP = {"fill_value": "unbroadcast({g}, {fill_value})"}
_constructor("full", ("shape", "fill_value"), "np.full({shape}, {fill_value}", _FILL_VJP,
             Example("np.full((2, 3), x) * y", cases.arrays({"x": (), "y": (2, 3)})),
             Example("np.full((2, 3), x) * y", cases.arrays({"x": (3,), "y": (2, 3)}), numba=False),
             # a literal shape: every operand but the fill value is a literal, and its cotangent is still the sum of g
             Example("np.full(3, x) * y", cases.arrays({"x": (), "y": (3,)})))
_constructor("zeros_like", ("x",), "np.zeros_like({x}", {}, Example("np.zeros_like(x) + x", _ANY))
_constructor("ones_like", ("x",), "np.ones_like({x}", {}, Example("np.ones_like(x) * x", _ANY))
_constructor("empty_like", ("x",), "np.empty_like({x}", {}, Example("np.empty_like(x).size * x", _ANY))
_constructor("full_like", ("x", "fill_value"), "np.full_like({x}, {fill_value}",
             _FILL_VJP, Example("np.full_like(y, x) * y", cases.arrays({"x": (), "y": (2, 3)})),
             Example("np.full_like(y, x) * y", cases.arrays({"x": (2, 1), "y": (2, 3)}), numba=False))
# The identity matrix, n by n (np.eye(n, m) and k= are not supported): a new 2-D array.
# Numba's np.eye takes its dtype by keyword only (the second positional is M).
def _render_eye(call: str):
    def render(a: Mapping[str, str]) -> str:
        return f"{call}({a['n']})" if a["dtype"] == "None" else f"{call}({a['n']}, dtype={a['dtype']})"
    return render


def _eye_binder(name: str):
    def bind(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[str, tuple[Value, ...]]:
        if len(args) > (1 if name == "eye" else 2):
            raise BindError("is supported for a square identity only: np.eye(n) (no M or k), or np.identity(n)"
                            if name == "eye" else "takes n and a dtype")
        return name, bind_params(("n", "dtype"), args, kwargs, {"dtype": None})
    return bind


for _name in ("eye", "identity"):
    register(Rule(_name, ("n", "dtype"), _render_eye(f"np.{_name}"),
                  examples=(Example(f"np.{_name}(len(x)) @ x * x", _ANY),
                            Example(f"np.{_name}(3, dtype=np.float32) * x[0]", cases.arrays({"x": (3,)}))),
                  rank="matrix"),
             f"numpy.{_name}", binder=_eye_binder(_name))

register(Rule("arange", ("start", "stop", "step"), "np.arange({start}, {stop}, {step})",
              examples=(Example("np.sum(np.arange(1, 4, 1) * x)", _ANY[:1]),),
              refuses=("start", "stop", "step")), "numpy.arange",
         binder=lambda args, kwargs: ("arange", _arange_args(args, kwargs)))


def _arange_args(args: Sequence[Value], kwargs: Mapping[str, Value]) -> tuple[Value, ...]:
    if kwargs:
        raise BindError("takes positional arguments only")
    if len(args) == 1:
        return (Const(0), args[0], Const(1))
    if len(args) == 2:
        return (args[0], args[1], Const(1))
    if len(args) == 3:
        return tuple(args)
    raise BindError("takes 1 to 3 arguments")
