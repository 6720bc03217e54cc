"""DoJobber's log: the ``DoJobber`` logger and its own stderr line."""

from __future__ import annotations

import logging
import sys
from typing import Any

log = logging.getLogger("DoJobber")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """DoJobber's own stderr line, for applications that log nowhere else.

    The ``DoJobber`` logger propagates, as in 0.6.2, so an application's
    handlers receive its records. To never print a line twice, this handler
    stays silent whenever any other handler will see the record: one on the
    ``DoJobber`` logger itself or, while it propagates, on an ancestor (the
    root logger, where ``logging.basicConfig`` puts one). It writes to
    whatever ``sys.stderr`` is at the time of each record.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass

    def filter(self, record: logging.LogRecord) -> bool:
        return not _handled_elsewhere(self) and bool(super().filter(record))


def _handled_elsewhere(ours: logging.Handler) -> bool:
    """Whether a handler other than ``ours`` receives the DoJobber records."""
    logger: logging.Logger | None = log
    while logger is not None:
        if any(handler is not ours for handler in logger.handlers):
            return True
        logger = logger.parent if logger.propagate else None
    return False


def set_up_log(level: int | str | None) -> None:
    """Give the DoJobber logger its level and, once, its stderr handler.

    ``None`` and "not set" (``logging.NOTSET``: ``0`` or ``"NOTSET"``) mean
    the default, CRITICAL, as in 0.6.2. Set as such, the logger would
    take the root logger's level instead (WARNING unless the application
    says otherwise) and print lines 0.6.2 never printed.
    """
    # One handler however many DoJobber objects exist: no duplicated lines.
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("DoJobber %(levelname)-19s: %(message)s"))
        log.addHandler(handler)
    not_set = level is None or (
        level == logging.NOTSET if isinstance(level, int) else level == "NOTSET")
    log.setLevel(logging.CRITICAL if not_set else level)  # type: ignore[arg-type]
