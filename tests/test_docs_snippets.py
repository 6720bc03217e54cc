"""The programs the docs show, with the output the docs show beside them.

Each ``docs/snippets/NAME.py`` is included in a page together with
``NAME.txt``, its exact output (stderr and stdout, in order). Running them
here keeps the pages true to what DoJobber does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SNIPPETS = Path(__file__).resolve().parent.parent / "docs" / "snippets"


@pytest.mark.parametrize("program", sorted(SNIPPETS.glob("*.py")), ids=lambda p: p.stem)
def test_snippet_prints_what_the_docs_say(program: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-u", str(program)], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout == program.with_suffix(".txt").read_text()


def test_there_are_snippets() -> None:
    assert len(list(SNIPPETS.glob("*.py"))) >= 4
