"""The picture as DOT text: status colours, tooltips, the legend and text made safe to show."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

import pydot

from .pagekit import visible
from .results import Outcome

if TYPE_CHECKING:
    from pygraph.classes.digraph import digraph

    from .reportparts import JobError

#: The node colour of each outcome; blocked and interrupted jobs stay plain.
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

#: The font of every text in the picture: Graphviz maps it to the system's
#: Helvetica-like font, the in-process layout measures text with Arial's
#: widths, and the in-process PNG draws it with Arimo, which has those widths.
FONT = "Helvetica"

#: A tooltip shows at most this much of an exception message.
MAX_MESSAGE = 1000

# Graphviz un-escapes only \" in a quoted string and keeps \\ as two
# characters, so an odd run of backslashes just before a quote or the end of
# a node name cannot be written back.
_UNWRITABLE = re.compile(r'(?<!\\)(?:\\\\)*\\(?=["]|\Z)')
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
    """``text`` as a quoted Graphviz escString (label, tooltip) that the
    picture shows exactly as written, in DOT, SVG and PNG alike.

    This is the one place where picture text is made safe: invisible and
    XML-forbidden characters become visible escapes (:func:`visible`);
    ``&`` is written ``&amp;``, as Graphviz turns entities such as ``&#65;``
    into characters; backslashes are doubled so that Graphviz's escapes
    (``\\N``, ``\\G``, ``\\L``...) stay text. Graphviz halves each
    backslash pair once in a label, and twice in a tooltip (once more when
    it turns ``\\n`` into a line break there). A carriage return, alone or
    before a newline, breaks the line like a newline; in a label an empty
    line is drawn as one space.
    """
    text = visible(text).replace("\r\n", "\n").replace("\r", "\n").replace("&", "&amp;")
    text = text.replace("\\", "\\\\\\\\" if in_tooltip else "\\\\")
    lines = text.split("\n")
    if not in_tooltip:
        # Graphviz 16 (in-process) crashes on a label whose first line is empty
        lines = [line or " " for line in lines]
    return quoted("\\n".join(lines))


def graphviz_name(name: str) -> str | None:
    """The node name that Graphviz shows as exactly ``name`` (in an SVG
    ``<title>``), or None when there is none.

    Graphviz reads a name that starts with ``%`` as an internal number and
    decodes entities when writing SVG, so ``&`` is written ``&amp;`` and a
    leading ``%`` as ``&#37;``. Graphviz 2.x loses line breaks in some
    names (``"\\n"`` reads as ``""``), so a name with one has none.
    """
    if visible(name) != name or _UNWRITABLE.search(name) or "\n" in name or "\r" in name:
        return None
    text = name.replace("&", "&amp;")
    return "&#37;" + text[1:] if text.startswith("%") else text


def _node_names(names: Sequence[str]) -> dict[str, str]:
    """The Graphviz node name of each job: one that Graphviz shows as the
    job name wherever there is one (so SVG titles are job names), else one
    showing its repr (with `` #2``... when that is taken)."""
    given: dict[str, str] = {}
    for name in names:
        written = graphviz_name(name)
        if written is not None:
            given[name] = written
    taken = set(given.values())
    for name in names:
        if name in given:
            continue
        stand_in = repr(name)
        number = 1
        while graphviz_name(stand_in) in taken:
            number += 1
            stand_in = f"{name!r} #{number}"
        written = graphviz_name(stand_in)
        assert written is not None  # repr escapes backslashes and hidden characters
        taken.add(written)
        given[name] = written
    return given


def tooltip(name: str, state: JobState | None) -> str:
    """The hover text of a job after a run: outcome, tries, last error."""
    if state is None:
        return f"{name}\nnot reached by this run"
    if state.outcome is Outcome.INTERRUPTED:
        # No colour of its own (``graph`` follows nodestatus): not in the legend.
        meaning = "interrupted: its try was cut short"
    else:
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
        "legend", label="legend", fontsize="10", color="grey", fontcolor="grey30", fontname=FONT
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
        attrs["tooltip"] = escaped(meaning, in_tooltip=True)
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
    picture = pydot.Dot("DoJobber", graph_type="digraph", fontname=FONT)
    picture.set_node_defaults(fontname=FONT)
    picture.set_edge_defaults(fontname=FONT)
    for name in names:
        own = {str(key): str(value) for key, value in graph.node_attributes(name)}
        attrs = {key: dot_id(value) for key, value in own.items()}
        colour = own.get("color", "")
        if colour in _FILL and "fillcolor" not in attrs:
            attrs["fillcolor"] = quoted(_FILL[colour])
        if colour in _TEXT_ON and "fontcolor" not in attrs:
            attrs["fontcolor"] = _TEXT_ON[colour]
        if not _PLAIN_ID.match(name):  # else Graphviz's default label, its node name, will do
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
