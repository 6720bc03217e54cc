"""The command's import guard: no job runs while the command imports a target."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from .errors import RunDuringImportError

# One command imports one target at a time, in its main thread.
_importing: list[str] = []
_refused: list[str] = []


@contextmanager
def importing(target: str) -> Iterator[None]:
    """While this holds, ``checknrun()`` refuses to run (``refuse_runs``).

    On leaving, raises RunDuringImportError if a run was refused, even when
    the module caught the error and went on: no job ran, and the module is
    not the one its author meant the command to load.
    """
    _importing.append(target)
    refused_before = len(_refused)
    try:
        yield
    finally:
        _importing.pop()
    if len(_refused) > refused_before:
        del _refused[refused_before:]
        raise RunDuringImportError(target)


def refuse_runs() -> None:
    """Raise RunDuringImportError when the command is importing a target."""
    if _importing:
        _refused.append(_importing[-1])
        raise RunDuringImportError(_importing[-1])
