"""Syntax highlighting of generated code for terminals (ANSI) and notebooks (HTML),
with the standard library's tokenizer only."""
from __future__ import annotations

import html
import io
import keyword
import token
import tokenize

_ANSI = {"keyword": "\x1b[1;35m", "comment": "\x1b[2;32m", "number": "\x1b[36m",
         "string": "\x1b[33m", "def": "\x1b[1;34m"}
_RESET = "\x1b[0m"


def _spans(source: str) -> list[tuple[int, int, str]]:
    """(start offset, end offset, kind) of every highlighted token."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans: list[tuple[int, int, str]] = []
    previous = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            kind = None
            if tok.type == token.NAME and keyword.iskeyword(tok.string):
                kind = "keyword"
            elif tok.type == token.NAME and previous == "def":
                kind = "def"
            elif tok.type == tokenize.COMMENT:
                kind = "comment"
            elif tok.type == token.NUMBER:
                kind = "number"
            elif tok.type == token.STRING:
                kind = "string"
            if kind:
                (r0, c0), (r1, c1) = tok.start, tok.end
                spans.append((starts[r0 - 1] + c0, starts[r1 - 1] + c1, kind))
            if tok.type == token.NAME:
                previous = tok.string
    except (tokenize.TokenError, IndentationError):
        return []
    return spans


def _apply(source: str, wrap) -> str:
    out, pos = [], 0
    for start, end, kind in _spans(source):
        out.append(source[pos:start])
        out.append(wrap(source[start:end], kind))
        pos = end
    out.append(source[pos:])
    return "".join(out)


def ansi(source: str) -> str:
    return _apply(source, lambda text, kind: f"{_ANSI[kind]}{text}{_RESET}")


def to_html(source: str) -> str:
    colours = {"keyword": "#a626a4", "comment": "#50a14f", "number": "#986801", "string": "#c18401",
               "def": "#4078f2"}
    spans = _spans(source)
    out, pos = [], 0
    for start, end, kind in spans:
        out.append(html.escape(source[pos:start]))
        out.append(f'<span style="color:{colours[kind]}">{html.escape(source[start:end])}</span>')
        pos = end
    out.append(html.escape(source[pos:]))
    return "<pre>" + "".join(out) + "</pre>"
