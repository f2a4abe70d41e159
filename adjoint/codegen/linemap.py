"""The map from generated lines back to the user's source lines.

Every group of generated statements opens with ``# line N: <source>``; a
generated line belongs to the nearest such comment above it in its function.
The map is read off the generated text itself, so it can never disagree with it.
"""
from __future__ import annotations

import re

_COMMENT = re.compile(r"^\s*# line (\d+)(?: \(in (\w+)\))?: ")


def line_map(source: str) -> dict[int, tuple[int, str]]:
    """1-based generated line -> (1-based user line, the inlined helper's name or "")."""
    out: dict[int, tuple[int, str]] = {}
    current: tuple[int, str] | None = None
    for number, text in enumerate(source.splitlines(), start=1):
        if text.startswith("def "):
            current = None
        match = _COMMENT.match(text)
        if match:
            current = (int(match.group(1)), match.group(2) or "")
        elif current is not None and text.strip() and not text.lstrip().startswith("#"):
            out[number] = current
    return out
