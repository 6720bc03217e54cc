"""Shared helpers for the test suite: quick job factories and a fake clock."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from dojobber import Job

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


def make_job(
    name: str,
    deps: tuple[type[Job], ...] = (),
    check: Callable[[Job], Any] | None = None,
    run: Callable[[Job], Any] | None = None,
    base: type[Job] = Job,
    **attrs: Any,
) -> type[Job]:
    """A Job class named ``name``; ``check``/``run`` get the job instance.

    By default Check passes and Run does nothing.
    """

    def Check(self: Job, *args: Any, **kwargs: Any) -> Any:
        return check(self) if check else None

    def Run(self: Job, *args: Any, **kwargs: Any) -> Any:
        return run(self) if run else None

    body: dict[str, Any] = {"DEPS": deps, "Check": Check, "Run": Run}
    body.update(attrs)
    return type(name, (base,), body)


class FakeClock:
    """A clock whose sleep() advances time instantly; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@contextmanager
def application_logs_nowhere() -> Iterator[None]:
    """As in a script that configured no logging: the root logger has no
    handler (pytest's own capture handlers are set aside meanwhile), so
    DoJobber prints its developer log lines on stderr itself."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        yield
    finally:
        root.handlers[:] = saved
