#!/usr/bin/env python3
"""Draw the pictures of docs/pictures.rst: the movie example after its default run.

Writes example-graphviz.svg/.png (with Graphviz's ``dot`` program) and
example-inprocess.svg/.png (with the in-process renderer of the
``pictures`` extra) into docs/_static/, or into the directory given as
argument; ``--renderer graphviz`` or ``--renderer wasm`` draws only one
pair. Run it again whenever the picture code changes, and commit the
result::

    .venv/bin/python docs/make_pictures.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "docs" / "_static"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import dojobber_example as doex  # noqa: E402
from dojobber import DoJobber  # noqa: E402

#: The file name part of each renderer's pictures.
NAMES = {"graphviz": "graphviz", "wasm": "inprocess"}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, default=STATIC)
    parser.add_argument("--renderer", choices=sorted(NAMES), action="append",
                        help="draw only with this renderer (repeatable; default: both)")
    args = parser.parse_args(argv)
    # The same run as `python tests/dojobber_example.py`, with its defaults.
    doex.invite_friends([
        {"name": "Wendell Bagg", "email": "bagg@example.com"},
        {"name": "Lawyer Cat", "email": "lawyercat@example.com"},
    ])
    dojob = DoJobber()
    dojob.configure(doex.WatchMovie, default_retry_delay=0)
    dojob.set_args(**vars(doex.parse_args([])))
    dojob.checknrun()
    args.directory.mkdir(parents=True, exist_ok=True)
    for renderer in args.renderer or list(NAMES):
        for fmt in ("svg", "png"):
            path = args.directory / f"example-{NAMES[renderer]}.{fmt}"
            dojob.write_graph(path, fmt=fmt, renderer=renderer)
            print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
