"""Picture text: any job name or error message gives a valid picture showing it as written."""

from __future__ import annotations

import io
import os
import shutil
import sys
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import make_job
from dojobber import DoJobber
from dojobber.render import escaped, graphviz_name, visible

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"


# The one function that makes text safe, on its own.

def test_hidden_characters_are_shown_as_escapes_never_dropped():
    assert visible("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert visible("nul\x00 bell\x07 del\x7f c1\x85") == "nul\\x00 bell\\x07 del\\x7f c1\\x85"
    assert visible("lone \ud800 and \ufffe \uffff") == "lone \\ud800 and \\ufffe \\uffff"
    # what XML allows stays as it is
    assert visible("tab\there\nnew line\r é ☃ \U0001f600") == "tab\there\nnew line\r é ☃ \U0001f600"


def test_escaped_text_keeps_entities_and_graphviz_escapes_as_written():
    assert escaped("amp&amp; ent&#65; a&b") == '"amp&amp;amp; ent&amp;#65; a&amp;b"'
    assert escaped(r"\N \G \L \n") == r'"\\N \\G \\L \\n"'
    assert escaped(r"\N", in_tooltip=True) == r'"\\\\N"'
    assert escaped('say "hi"\r\nthen\rmore') == r'"say \"hi\"\nthen\nmore"'
    assert escaped("\x1b[31m") == r'"\\x1b[31m"'


def test_graphviz_names_keep_percent_and_entities():
    assert graphviz_name("plain name") == "plain name"
    assert graphviz_name("%a") == "&#37;a"
    assert graphviz_name("50%") == "50%"
    assert graphviz_name("amp&amp;") == "amp&amp;amp;"
    # no Graphviz node name shows these exactly: the job gets a stand-in
    assert graphviz_name("esc\x1b") is None
    assert graphviz_name("ends in\\") is None


# Every picture, for arbitrary names and messages.

def renderers() -> list[str]:
    found = []
    if shutil.which("dot"):
        found.append("graphviz")
    if sys.version_info >= (3, 11):
        found.append("wasm")
    return found


def shown(text: str) -> str:
    """What a picture shows for ``text``: the spec, written independently."""
    out = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        code = ord(char)
        hidden = (code < 0x20 and char not in "\t\n") or 0x7F <= code <= 0x9F or (
            0xD800 <= code <= 0xDFFF) or code in (0xFFFE, 0xFFFF, 0xFEFF) or (
            # zero-width, line and paragraph separators, bidi marks and isolates
            0x200B <= code <= 0x200F or 0x2028 <= code <= 0x202E or 0x2060 <= code <= 0x2069)
        out.append((f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") if hidden else char)
    return "".join(out)


def label_of(node: ET.Element) -> str:
    return "\n".join(t.text or "" for t in node.iter(SVG + "text"))


def looks(text: str) -> str:
    """``text`` as it looks: Graphviz writes the second of two spaces as a
    no-break space (so SVG keeps it), and an empty label line as a space."""
    return "\n".join(line or " " for line in text.replace("\xa0", " ").split("\n"))


# Python refuses NUL and lone surrogates in a class name; all else may be a job name.
NAMES = st.lists(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                         min_size=1, max_size=12),
                 min_size=1, max_size=4, unique=True)
MESSAGES = st.text(st.characters(exclude_categories=()), max_size=40)


@pytest.mark.skipif(not renderers(), reason="Graphviz's dot is not installed, and the "
                    "in-process renderer needs Python 3.11+")
@settings(max_examples=int(os.environ.get('PICTURE_EXAMPLES', 40)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=NAMES, message=MESSAGES)
@example(names=["%a", "amp&amp;", "ent&#65;", r"\N \G \L"], message="a &lt; b &#65; %s \\N")
@example(names=["\x1b[31mred\x1b[0m", "\n", "\na", " x  y "], message="\x1b[31mboom\x1b[0m\r\n")
@example(names=["esc\x1b", "esc\\x1b", "'esc\\x1b'"], message="\ud800\x00\ufffe")
@example(names=["\u2028", "a\u200bb", "\u2066x\u2069"], message="\u2028\u202e\ufeff")
def test_any_names_and_messages_give_valid_svg_showing_them(names, message):
    def fail(job):
        raise ValueError(message)

    jobs = [make_job(name, check=fail, TRIES=1) for name in names if name != "Root"]
    dojob = DoJobber()
    dojob.configure(make_job("Root", tuple(jobs)))
    dojob.checknrun()
    for renderer in renderers():
        out = io.BytesIO()
        dojob.write_graph(out, "svg", renderer=renderer)
        svg = ET.fromstring(out.getvalue())  # parses: no character XML forbids
        nodes = [g for g in svg.iter(SVG + "g") if g.get("class") == "node"
                 and not g.get("id", "").startswith("legend_")]
        titles = {looks(g.find(SVG + "title").text or ""): g for g in nodes}
        assert len(titles) == len(nodes) == len(jobs) + 1
        for job in jobs:
            name = job.__name__
            if graphviz_name(name) is not None:
                node = titles[looks(name)]  # the SVG <title> is the job's name
            else:  # or its repr, when no Graphviz node name shows it
                node, = (g for t, g in titles.items() if t.startswith(looks(repr(name)))
                         and looks(label_of(g)) == looks(shown(name)))
            assert looks(label_of(node)) == looks(shown(name)), renderer
            link = node.find(f".//{SVG}a").get(XLINK_TITLE)
            expected = f"{name}\nfailed\ntries: 1\nlast error: ValueError: {message}"
            # XML reads a raw tab in an attribute as a space
            assert looks(link) == looks(shown(expected).replace("\t", " ")), renderer


def test_zero_width_and_bidi_characters_are_shown_as_escapes() -> None:
    # A name holding U+202E would draw reversed, one holding U+200B would
    # look like another job's: both are shown as escapes, in pictures and
    # in the HTML report alike (which calls this same function).
    assert visible("a\u202eb\u200bc\u2066d\ufeff") == "a\\u202eb\\u200bc\\u2066d\\ufeff"
