#!/usr/bin/env python3
"""Draw the pictures of docs/pictures.rst: the movie example after its default run.

Writes docs/_static/example.svg and docs/_static/example.png (or into the
directory given as argument) with the Graphviz ``dot`` program. Run it
again whenever the picture code changes, and commit the result::

    .venv/bin/python docs/make_pictures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "docs" / "_static"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import dojobber_example as doex  # noqa: E402
from dojobber import DoJobber  # noqa: E402


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else STATIC
    # The same run as `python tests/dojobber_example.py`, with its defaults.
    doex.invite_friends([
        {"name": "Wendell Bagg", "email": "bagg@example.com"},
        {"name": "Lawyer Cat", "email": "lawyercat@example.com"},
    ])
    dojob = DoJobber()
    dojob.configure(doex.WatchMovie, default_retry_delay=0)
    dojob.set_args(**vars(doex.parse_args([])))
    dojob.checknrun()
    out.mkdir(parents=True, exist_ok=True)
    for fmt in ("svg", "png"):
        path = out / f"example.{fmt}"
        dojob.write_graph(path, fmt=fmt, renderer="graphviz")
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
