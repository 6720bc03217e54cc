"""Pictures of the job graph: status colours, DOT text, Graphviz output."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from typing import IO, Any, Union

from pygraph.classes.digraph import digraph
from pygraph.readwrite import dot as pygraph_dot

from .errors import RenderError
from .events import Outcome

#: The node colour of each outcome; blocked jobs stay plain.
COLOURS = {
    Outcome.PASSED: "green",
    Outcome.PASSED_AFTER_RUN: "darkgreen",
    Outcome.FAILED: "red",
}

#: Formats that are text, so they may be written to a text file.
TEXT_FORMATS = frozenset({"dot", "gv", "canon", "xdot", "plain", "plain-ext", "svg", "json"})

Target = Union[str, "os.PathLike[str]", IO[Any]]

INSTALL_HINT = (
    "install Graphviz so that its 'dot' program is on PATH "
    "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
)


def colour(graph: digraph, outcomes: dict[str, Outcome]) -> None:
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


def dot_text(graph: digraph) -> str:
    """The graph, with its node attributes, as Graphviz DOT text."""
    return str(pygraph_dot.write(graph))


def render(dot: str, fmt: str) -> bytes:
    """Render DOT text to ``fmt`` (anything ``dot -T`` accepts)."""
    if fmt == "dot":
        return dot.encode("utf-8")
    program = shutil.which("dot")
    if program is None:
        raise RenderError(f"cannot write the graph as {fmt!r}: {INSTALL_HINT}")
    done = subprocess.run(
        [program, "-T" + fmt], input=dot.encode("utf-8"), capture_output=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"Graphviz could not write {fmt!r}: {message}")
    return done.stdout


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


def display(png: bytes) -> None:
    """Show a PNG on the X11 screen with ImageMagick's ``display``."""
    if not os.environ.get("DISPLAY"):
        raise RenderError("cannot display the graph: no X display (DISPLAY is not set)")
    program = shutil.which("display")
    if program is None:
        raise RenderError(
            "cannot display the graph: install ImageMagick, which provides 'display'"
        )
    with tempfile.NamedTemporaryFile(suffix=".png", prefix="dojobber-", delete=False) as f:
        f.write(png)
    # Not waited for: a viewer window must not hold up the run.
    subprocess.Popen([program, f.name], stdin=subprocess.DEVNULL)
