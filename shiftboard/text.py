"""Untrusted text (subjects, names, comments, queue names) made safe to show.

Markup is never interpreted: widgets receive ``rich.text.Text`` or ``Content`` built from these strings. This module
does the other half, for every output: it removes what a terminal would act on — ANSI/OSC escape sequences, C0/C1
control characters, NUL, and bidirectional overrides that reorder what is shown — and bounds the length.
"""

from __future__ import annotations

import re
import unicodedata

#: ESC-introduced sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ST), and two-byte escapes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?")
#: Bidi embeddings, overrides and isolates (Trojan Source), plus zero-width joiners used to hide text.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))
DEFAULT_LIMIT = 500


def clean(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """``value`` as a single line of printable text, at most ``limit`` characters (an ellipsis marks a cut)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value)
    # str.isprintable() is false for every control, format (bidi), separator but the space, surrogate and unassigned
    # character, so a printable text (most ids, names, subjects) only has its spaces to collapse: a C-speed check
    # instead of the loop below, which gives the same result for it.
    result = " ".join(text.split()) if text.isprintable() else _printable(text)
    if len(result) > limit:
        result = result[: limit - 1] + "…"
    return result


def _printable(text: str) -> str:
    """``text`` without escape sequences, control characters and bidi controls, on one line, spaces collapsed."""
    text = _ESCAPES.sub("", text).translate(_BIDI)
    out = []
    for char in text:
        if char in "\t\r\n":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cs") or char == "\ufffe":
            continue
        else:
            out.append(char)
    return " ".join("".join(out).split())


def escape_bidi_json(document: str) -> str:
    """A JSON document with every bidi control written as a ``\\uXXXX`` escape: the same value to a JSON reader,
    but nothing a terminal would reorder (json.dumps already escapes the C0 controls, ESC among them)."""
    return document.translate({code: f"\\u{code:04x}" for code in _BIDI})
