"""The compiled tape of a loop whose trip count is known at its entry: ``new_tape(n)``, or
``new_tape(n, m)`` for a loop of ``m`` iterations inside one of ``n`` (room for n * m).

Imported for its side effect by ``helpers`` (whose ``new_tape`` is the plain Python list of
``jit=False``). Under Numba, ``new_tape(n)`` is a ``TapeList``: Numba's own list (its data
layout, ``len``, indexing and the typing of ``append`` are Numba's), allocated for ``n``
items at once, whose ``append`` never reallocates before the ``n``-th item and grows
geometrically after it. Numba's list cannot be pre-sized: its ``append`` shrinks any list
whose room is over four times its length, so room made ahead of the pushes is given back at
the first one.

Numba types the list from its appends, unifying their types, as it does ``[]``: an
accumulator that starts as the int 0 and becomes a float is taped as a float. (A NumPy array
typed from its first store, ``numba.np.unsafe.ndarray.empty_inferred``, would keep the int
and truncate the float: a wrong gradient.)

``tape_peek(tape, i)`` is ``tape[i]`` without a reference of its own to the arrays it gives:
they have no owner (meminfo NULL), so Numba counts nothing for them, and they stay valid while
the tape lives (``codegen/borrow.py`` keeps the tapes alive to the return). ``unowned(v)``,
of a view of an argument, is ``v`` with no owner likewise: the caller holds the argument.
``owned(x)``, of what a function returns, copies an array with no owner.
"""
from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.core.datamodel import models, register_default
from numba.core.imputils import impl_ret_new_ref, lower_builtin
from numba.cpython.listobj import ListInstance
from numba.extending import intrinsic, overload, type_callable

from . import helpers as h


class TapeList(types.List):
    """Numba's list type, with an ``append`` that keeps the room ``new_tape`` made."""

    def __init__(self, dtype) -> None:
        super().__init__(dtype, reflected=False)
        self.name = f"tape({self.dtype})"

    @property
    def key(self):
        return "tape", self.dtype

    def copy(self, dtype=None, reflected=None):  # how Numba's append typing refines the dtype
        return TapeList(self.dtype if dtype is None else dtype)

    def unify(self, typingctx, other):
        if isinstance(other, TapeList):
            dtype = typingctx.unify_pairs(self.dtype, other.dtype)
            if dtype is not None:
                return TapeList(dtype)
        return None


register_default(TapeList)(models.ListModel)


@type_callable(h.new_tape)
def _type_new_tape(context):
    def typer(n, m=None):
        if isinstance(n, types.Integer) and (m is None or isinstance(m, (types.Integer, types.Omitted))):
            return TapeList(types.undefined)  # refined by the appends
        return None
    return typer


def _allocate(context, builder, sig, counts):
    """A TapeList of length 0 with room for the product of ``counts`` (a negative one is 0:
    range(n) of a negative n runs no iteration)."""
    room = ir.Constant(context.get_value_type(types.intp), 1)
    for count, ty in counts:
        n = context.cast(builder, count, ty, types.intp)
        zero = ir.Constant(n.type, 0)
        room = builder.mul(room, builder.select(builder.icmp_signed("<", n, zero), zero, n))
    inst = ListInstance.allocate(context, builder, sig.return_type, room)
    return impl_ret_new_ref(context, builder, sig.return_type, inst.value)


@lower_builtin(h.new_tape, types.Integer)
@lower_builtin(h.new_tape, types.Integer, types.Omitted)
def _lower_new_tape(context, builder, sig, args):
    return _allocate(context, builder, sig, [(args[0], sig.args[0])])


@lower_builtin(h.new_tape, types.Integer, types.Integer)
def _lower_new_tape_nested(context, builder, sig, args):
    return _allocate(context, builder, sig, list(zip(args, sig.args)))


@lower_builtin("list.append", TapeList, types.Any)
def _lower_append(context, builder, sig, args):
    inst = ListInstance(context, builder, sig.args[0], args[0])
    n = inst.size
    new_size = builder.add(n, ir.Constant(n.type, 1))
    with builder.if_then(builder.icmp_signed("<", inst._payload.allocated, new_size), likely=False):
        inst.resize(new_size)  # Numba's growth: 1.25 times the length, plus 8
    inst.size = new_size
    inst.inititem(n, context.cast(builder, args[1], sig.args[1], inst.dtype), incref=True)
    return context.get_dummy_value()


def _unowned(context, builder, ty, value):
    """``value`` (an item of a tape, borrowed) as a new reference: an array with no owner
    (meminfo and parent NULL: Numba's counting skips it), anything else counted."""
    if isinstance(ty, types.Array):
        array = context.make_array(ty)(context, builder, value)
        array.meminfo = cgutils.get_null_value(array.meminfo.type)
        array.parent = cgutils.get_null_value(array.parent.type)
        return array._getvalue()
    if isinstance(ty, types.BaseTuple):
        items = [_unowned(context, builder, t, builder.extract_value(value, i)) for i, t in enumerate(ty)]
        return context.make_tuple(builder, ty, items)
    context.nrt.incref(builder, ty, value)
    return value


@intrinsic
def _tape_peek(typingctx, tape, index):
    """``tape[index]`` (an index in range: the reverse sweep's), its arrays with no owner."""
    if not isinstance(tape, types.List) or tape.dtype is types.undefined or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        inst = ListInstance(context, builder, sig.args[0], args[0])
        item = inst.getitem(context.cast(builder, args[1], sig.args[1], types.intp))
        return _unowned(context, builder, sig.return_type, item)
    return tape.dtype(tape, index), codegen


@overload(h.tape_peek)
def _ov_tape_peek(tape, index):
    return lambda tape, index: _tape_peek(tape, index)


@intrinsic
def _without_owner(typingctx, x):
    """``x``, an array with no owner (anything else as it is)."""
    def codegen(context, builder, sig, args):
        return _unowned(context, builder, sig.args[0], args[0])
    return x(x), codegen


@overload(h.unowned)
def _ov_unowned(x):
    return lambda x: _without_owner(x)


@intrinsic
def _has_owner(typingctx, a):
    """Whether an array's memory has an owner Numba counts (not: one ``tape_peek`` read)."""
    def codegen(context, builder, sig, args):
        return cgutils.is_not_null(builder, context.make_array(a)(context, builder, args[0]).meminfo)
    return types.boolean(a), codegen


@overload(h.owned)
def _ov_owned(x):
    if not isinstance(x, types.Array):
        return lambda x: x

    def impl(x):
        if _has_owner(x):
            return x
        return x.copy()
    return impl
