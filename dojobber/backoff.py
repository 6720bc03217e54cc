"""Retry backoff: how long a job waits between the starts of two of its tries."""

from __future__ import annotations

import math
import threading
from typing import Callable


class Backoff:
    """A job's RETRY_BACKOFF (``factor``), RETRY_DELAY_MAX (``cap``, ``inf``
    for none) and RETRY_JITTER (``jitter``).

    The plan keeps one only for jobs whose values differ from the defaults
    (1, no cap, 0), which keep 0.6.2's fixed RETRY_DELAY. A plain class, not
    a dataclass: ``import dojobber`` stays lighter.
    """

    __slots__ = ("factor", "cap", "jitter")

    def __init__(self, factor: float = 1.0, cap: float = math.inf, jitter: float = 0.0):
        self.factor = factor
        self.cap = cap
        self.jitter = jitter

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Backoff):
            return NotImplemented
        return (self.factor, self.cap, self.jitter) == (other.factor, other.cap, other.jitter)

    def __repr__(self) -> str:
        return f"Backoff(factor={self.factor!r}, cap={self.cap!r}, jitter={self.jitter!r})"

    def delay(self, base: float, tries: int, random: Callable[[], float]) -> float:
        """The least time from the start of try ``tries`` (1-based) to the next.

        ``min(base * factor ** (tries - 1), cap)``, then shortened by a random
        fraction of itself of at most ``jitter`` (``random()`` is in [0, 1)).
        Jitter only ever shortens the wait, so ``cap`` stays the longest one.
        """
        wait = base
        if self.factor != 1 and base:
            try:
                wait = base * self.factor ** (tries - 1)
            except OverflowError:
                wait = math.inf
        # A wait longer than the platform can sleep would raise mid-run.
        wait = min(wait, self.cap, threading.TIMEOUT_MAX)
        if self.jitter:
            wait -= wait * self.jitter * random()
        return wait
