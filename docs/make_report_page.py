#!/usr/bin/env python3
"""Make the HTML report of docs/looking-at-a-run.rst and its screenshot.

Runs the movie example (its default run, with a retry delay of 0.2 s so
that the waits show on the timeline) and writes
docs/_static/example-report.html, then has headless Chromium take
docs/_static/example-report.png of it (or into the directory given as
argument). Run it again whenever the page changes, and commit the result::

    .venv/bin/python docs/make_report_page.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "docs" / "_static"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import dojobber_example as doex  # noqa: E402
from dojobber import DoJobber  # noqa: E402


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else STATIC
    doex.invite_friends([
        {"name": "Wendell Bagg", "email": "bagg@example.com"},
        {"name": "Lawyer Cat", "email": "lawyercat@example.com"},
    ])
    dojob = DoJobber()
    dojob.configure(doex.WatchMovie, default_retry_delay=0.2)
    dojob.set_args(**vars(doex.parse_args([])))
    dojob.checknrun()
    out.mkdir(parents=True, exist_ok=True)
    page = out / "example-report.html"
    page.write_text(dojob.report().to_html(), encoding="utf-8")
    print(f"wrote {page}")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("make_report_page.py: Chromium is not installed (apt-get install chromium)")
    picture = out / "example-report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={profile}", f"--screenshot={picture}",
             "--window-size=1200,1500", page.as_uri()],
            check=True, capture_output=True,
        )
    print(f"wrote {picture}")


if __name__ == "__main__":
    main(sys.argv[1:])
