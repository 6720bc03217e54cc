"""What reaches a terminal: job text with its control characters escaped, and colour."""

from __future__ import annotations

import os
import re
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


def is_terminal(stream: TextIO) -> bool:
    """True when ``stream`` is a terminal (False for closed or odd streams)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def colour_wanted(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Colour goes to terminals only, and not when ``NO_COLOR`` is set to
    anything non-empty (https://no-color.org) or ``TERM`` is ``dumb``."""
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def paint(text: str, colour: str | None, enabled: bool) -> str:
    """``text`` in ``colour`` (red, green, yellow, bold) when ``enabled``."""
    if not enabled or colour is None:
        return text
    return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m"
