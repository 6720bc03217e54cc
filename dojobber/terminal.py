"""What reaches a terminal: job text escaped, its width in columns, and colour."""

from __future__ import annotations

import os
import re
import unicodedata
from typing import Mapping, TextIO

# C0 controls but tab and newline, DEL, and the C1 controls: any of them
# can move the cursor, clear the screen or retitle the window.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f]")

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char, f"\\x{ord(char):02x}")


def escape(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters written out (``\\x1b``, ``\\n``...),
    so that a job's name or message cannot drive the terminal. With
    ``keep_newlines``, newlines and tabs stay as they are."""
    pattern = _CONTROL if keep_newlines else _CONTROL_OR_NEWLINE
    return pattern.sub(_escaped, text)


def cut_to(text: str, width: int) -> str:
    """The longest start of ``text`` that takes at most ``width`` columns on
    a terminal (the marks combining with its last character included): a
    wide character (CJK, most emoji) takes two, a combining mark, a
    zero-width character or a control character none, the rest one."""
    if text.isascii() and text.isprintable():
        return text[:width]
    used = 0
    for end, char in enumerate(text):
        used += _columns_of(char)
        if used > width:
            return text[:end]
    return text


# Zero-width format characters: spaces and joiners that take no column.
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def _columns_of(char: str) -> int:
    if char == "\ufe0f":
        # Emoji presentation: terminals differ on whether it widens the
        # character before it; counting it errs on the side of never wrapping.
        return 1
    if unicodedata.combining(char) or char in _ZERO_WIDTH:
        return 0
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cc"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def is_terminal(stream: TextIO) -> bool:
    """True when ``stream`` is a terminal (False for closed or odd streams)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def can_redraw(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``stream`` is a terminal that can erase a line and draw it
    again: not one whose ``TERM`` is ``dumb`` (which may print the escape
    sequences as they are)."""
    return environ.get("TERM") != "dumb" and is_terminal(stream)


def colour_wanted(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Colour goes to terminals only, and not when ``NO_COLOR`` is set to
    anything non-empty (https://no-color.org) or ``TERM`` is ``dumb``."""
    return not environ.get("NO_COLOR") and can_redraw(stream, environ)


def paint(text: str, colour: str | None, enabled: bool) -> str:
    """``text`` in ``colour`` (red, green, yellow, bold) when ``enabled``."""
    if not enabled or colour is None:
        return text
    return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m"
