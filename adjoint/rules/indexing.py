"""The rule for reading ``x[index]``: its cotangent is scattered back into ``x_bar[index]``."""
from __future__ import annotations

from . import cases
from .registry import OVERWRITE, SCATTER, Example, Rule, register

register(Rule.cheap("getitem", ("x", "index"), "{x}[{index}]", {"x": SCATTER}, rank="index", examples=
              (Example("x[1] * x[-1] + x[0]", cases.arrays({"x": (3,)}, {"x": (2, 3)})),
               Example("x[1:3] * x[:2]", cases.arrays({"x": (4,)}, {"x": (4, 2)})),
               Example("x[0, 1] + x[1, -1] * x[:, 0]", cases.arrays({"x": (2, 3)})),
               Example("x[::2] * x[1, ::-1]", cases.arrays({"x": (3, 3)})),
               Example("x[:, None] * x[None, :]", cases.arrays({"x": (3,)})),
               Example("x[1, 1:, ::-1] * x[0, 1:, :] + x[-1, -1, -1]", cases.arrays({"x": (2, 3, 3)})))))

# y[index] = value, on an array created inside the function. The forward writes in place
# (codegen renders the two lines ``x[index] = value`` and ``out = x``); ``old`` holds what
# was overwritten, which the adjoint writes back, so that every adjoint statement reads
# the array as its forward statement did.
register(Rule("setitem", ("x", "index", "value", "old"), "{x}", {"x": OVERWRITE, "value": OVERWRITE},
              (Example("write_into_copy(x, y)", cases.arrays({"x": (4,), "y": ()})),
               Example("write_into_copy_2d(x, y)", cases.arrays({"x": (2, 3), "y": ()}))), rank="like"))
register(Rule("save", ("x", "index"), "copy_of({x}[{index}])",
              examples=(Example("write_into_copy(x, y)", cases.arrays({"x": (4,), "y": ()})),), rank="index"))
