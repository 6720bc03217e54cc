"""Cleanups: each kept instance's Cleanup, newest first, once, like ``contextlib.ExitStack``."""

from __future__ import annotations

from ..events import Dispatch
from ..jobs import Job


def clean_up(instances: list[tuple[str, Job]], events: Dispatch) -> None:
    """Call Cleanup on every instance in ``instances``, newest first, taking
    each off the list as it is called.

    A Cleanup that raises does not stop the others; when all have run, the
    first exception propagates. Only KeyboardInterrupt stops at once (the
    rest stay pending). ``events`` gives the observers' ``cleanup_started``
    and ``cleanup_ended``.
    """
    first: BaseException | None = None
    while instances:
        name, job = instances[-1]
        for notify in events.cleanup_started:
            notify(name)
        # Taken off only now: a Ctrl-C above leaves it pending.
        instances.pop()
        try:
            job.Cleanup()  # type: ignore[attr-defined]
        except BaseException as error:
            for notify in events.cleanup_ended:
                notify(name, error)
            if isinstance(error, KeyboardInterrupt):
                raise
            if first is None:
                first = error
        else:
            for notify in events.cleanup_ended:
                notify(name, None)
    if first is not None:
        try:
            raise first
        finally:
            first = None  # no frame <-> traceback cycle
