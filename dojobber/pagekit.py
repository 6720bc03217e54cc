"""The HTML pages' kit: markup escaped by default, the head and its CSP, the shared CSS, strips."""

from __future__ import annotations

import re
from typing import Iterable

#: Every page's Content-Security-Policy: no script may run and nothing may
#: be fetched, whatever a job is called; only the page's own styles apply.
POLICY = "default-src 'none'; style-src 'unsafe-inline'"

# What XML 1.0 forbids (C0 controls but tab, newline and carriage return;
# surrogates; U+FFFE, U+FFFF), DEL and the C1 controls, which show as
# nothing, and the zero-width and bidirectional formatting characters, which
# show as nothing or reorder the text around them (a job name could pose as
# another): these are written as Python-style escapes instead.
_HIDDEN_CHARACTERS = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2069\ufeff\ufffe\uffff"
)
_HIDDEN = re.compile(f"[{_HIDDEN_CHARACTERS}]")
# What text() changes: most texts have none of it, and one search is cheaper
# than the changes (the 2,000-job page of tests/test_html.py has some 20,000).
_UNSAFE = re.compile(f"[&<>\"'{_HIDDEN_CHARACTERS}]")


def visible(text: str) -> str:
    """``text`` with each character XML forbids, that shows as nothing or
    that reorders text (controls such as ESC, lone surrogates, zero-width
    and bidi marks) written as its escape, ``\\x1b``, ``\\u202e``. Pictures
    and both HTML pages use it."""
    return _HIDDEN.sub(_escape_character, text)


def _escape_character(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class Markup(str):
    """A string that is HTML already: what :func:`html` and :func:`join`
    make, or the code's own markup marked by hand (``Markup("<br>")``).
    It is the only kind of string the builders put into a page as it is;
    they escape every other. Its ``str`` methods give plain strings, which
    a builder escapes again: a mark is never gained by accident."""

    __slots__ = ()


def text(value: object) -> Markup:
    """``value`` as HTML text, safe in an element and in a quoted attribute
    value: a :class:`Markup` as it is; anything else as ``str(value)``, its
    hidden characters made :func:`visible` and ``& < > " '`` escaped."""
    return Markup(_escaped(value))


def _escaped(value: object) -> str:
    if isinstance(value, Markup):
        return value
    shown = str(value)
    if _UNSAFE.search(shown) is None:
        return shown
    # What HTML reads as markup, in text and in quoted attribute values alike.
    shown = visible(shown).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return shown.replace('"', "&quot;").replace("'", "&#x27;")


def html(template: str, *values: object) -> Markup:
    """``template``, the code's own markup with a ``{}`` for each value,
    filled with ``values`` as :func:`text` makes them: escaped, unless
    marked as :class:`Markup`. ``html("<b title='{}'>{}</b>", name, name)``.
    A value belongs in text or in a quoted attribute value; an unquoted
    one (``class={}``) takes only the code's own words, such as an outcome."""
    return Markup(template.format(*map(_escaped, values)))


def join(parts: Iterable[object], separator: str = "") -> Markup:
    """``parts``, each as :func:`text` makes it, one after the other with
    ``separator`` (the code's own markup) between them."""
    return Markup(separator.join(map(_escaped, parts)))


def head(title: str, css: str) -> Markup:
    """A page's start up to its ``<body>``: the policy, ``title`` (escaped)
    and the shared :data:`CSS` followed by ``css``, the page's own style
    (the code's, never a text from a job)."""
    return html(
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
        '<meta http-equiv="Content-Security-Policy" content="{}">\n'
        '<meta name=viewport content="width=device-width, initial-scale=1">\n'
        "<title>{}</title><style>{}{}</style></head><body>",
        Markup(POLICY), title, Markup(CSS), Markup(css),
    )


#: The style both pages share: text, headings, notes, names, tables, the footer.
CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em;margin:0 0 .4em}
h2{font-size:1.15em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd}
.note,.legend{color:#555}
.name{flex:0 0 16em;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;padding:0 .4em}
table{border-collapse:collapse}
th,td{text-align:left;padding:.15em .8em;border-bottom:1px solid #eee}
footer{margin-top:2em;color:#888;font-size:12px}
"""

# A strip of outcomes: a job's outcome in each of a row of runs, a cell per
# run. Interrupted is hatched, as the run report draws a try cut short: it
# must not read as blocked, nor as a failure of the job's own.

#: The colour of each outcome's cell.
OUTCOME_COLOURS = {
    "passed": "#53b86a", "passed_after_run": "#1b6b2c", "failed": "#d62828",
    "blocked": "#bbb", "not_tried": "#ddd",
    "interrupted": "repeating-linear-gradient(45deg,#555 0 2px,#ddd 2px 4px)",
}
#: The style of a strip's cells (see :func:`outcome_cell`).
CELLS_CSS = (
    ".cells{display:flex;gap:1px}"
    ".cells i{display:inline-block;flex:0 0 10px;width:10px;height:12px;background:#eee}"
    + "".join(f".cells i.{name}{{background:{colour}}}" for name, colour in OUTCOME_COLOURS.items())
    + ".cells i.absent{background:#fff;outline:1px solid #eee}\n"
)
#: The cell of a run that did not have the job.
ABSENT = Markup("<i class='absent'></i>")


def outcome_cell(run_id: int, outcome: str, tries: int) -> Markup:
    """A job's outcome in run ``run_id`` as a cell of a strip (inside an
    element of class ``cells``, styled by :data:`CELLS_CSS`): coloured by
    the outcome, the run, outcome and tries in its tooltip."""
    tip = f"run {run_id}: {outcome.replace('_', ' ')}, {tries} tr{'y' if tries == 1 else 'ies'}"
    return html("<i class='{}' title='{}'></i>", outcome, tip)
