"""``dojobber graph``: the target's dependency graph drawn, without running a job."""

from __future__ import annotations

import argparse

from ..dojobber import DoJobber
from .exits import OK, log_level
from .target import TARGET_HELP, load_target
from .writing import check_can_write, format_of, write_graph


def add_arguments(graph: argparse.ArgumentParser) -> None:
    """What ``graph`` takes: the target, and the picture to write."""
    graph.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    graph.add_argument("-o", "--output", metavar="FILE", default="-",
                       help="the picture to write, format from its extension; '-' "
                       "(the default) writes DOT to stdout")
    graph.add_argument("-f", "--format", metavar="FORMAT",
                       help="the picture format (dot, svg, png, pdf...), whatever "
                       "the file's extension")
    graph.add_argument("-d", "--debug", action="store_true", help="show tracebacks of errors")


def main(options: argparse.Namespace) -> int:
    """Draw the graph the parsed ``options`` ask for; return the exit status."""
    to_stdout = options.output == "-"
    from .. import render

    if options.format is not None:
        fmt = render.picture_format(options.format)
    else:
        fmt = "dot" if to_stdout else format_of(options.output, " or --format")
    # What drawing imports, before the target's folder is on sys.path.
    root = load_target(options.target, [
        "difflib", "pygraph.classes.digraph", *render.drawing_modules(fmt)])
    if not to_stdout:
        check_can_write(options.output)
    dojob = DoJobber(log_level(options.debug))
    dojob.configure(root)
    write_graph(dojob, options.output, fmt)
    return OK
