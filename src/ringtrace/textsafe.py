"""Evidence shown in a terminal: hostile text must neither drive the terminal (ANSI/OSC escape sequences can
clear the screen, rewrite the title, fake earlier output) nor inject Rich markup. ``shown`` makes control
characters visible as ``\\xNN`` and escapes markup; the data itself is never changed, only its display."""

from __future__ import annotations

import re

from rich.markup import escape

# C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides that reorder what is displayed
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MAX_SHOWN = 2000


def _visible(m: re.Match[str]) -> str:
    c = m.group(0)
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more characters)"
    return escape(_CONTROL.sub(_visible, text))


def visible(value: object) -> object:
    """Control characters and bidi overrides made visible (``\\x1b``), for reports and CSV files that a person
    opens: an ESC byte from evidence must not drive the terminal a CSV is printed in. Markup is left to the
    format's own escaping (Jinja's autoescape, CSV quoting); values other than text pass through."""
    if isinstance(value, str) and _CONTROL.search(value):
        return _CONTROL.sub(_visible, value)
    return value
