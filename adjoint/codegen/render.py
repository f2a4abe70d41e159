"""How IR values are spelled in generated code."""
from __future__ import annotations

from ..ir.nodes import Const, Index, Slice, Tup, Value, Var, int_literal


def render(value: "Value | Slice | None") -> str:
    if value is None:
        return ""
    if isinstance(value, Var):
        return value.name
    if isinstance(value, Const):
        return value.spelling()
    if isinstance(value, Slice):
        text = f"{_item(value.lo)}:{_item(value.hi)}"
        return text + (f":{_item(value.step)}" if value.step is not None else "")
    if isinstance(value, Index):
        return ", ".join("None" if isinstance(i, Const) and i.value is None else _item(i)
                         for i in value.items)
    if isinstance(value, Tup):
        inner = ", ".join(render(i) for i in value.items)
        return f"({inner},)" if len(value.items) == 1 else f"({inner})"
    raise TypeError(f"cannot render {value!r}")


def _item(value: "Value | Slice | None") -> str:
    """An index item or slice bound: a negative literal needs no brackets (``x[:-1]``)."""
    if int_literal(value) is not None and not value.text:
        return repr(value.value)
    return render(value)
