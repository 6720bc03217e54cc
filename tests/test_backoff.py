"""Retry backoff: RETRY_BACKOFF, RETRY_DELAY_MAX, RETRY_JITTER and their defaults.

The waits are checked on a fake clock, exactly: the wait before try n+1 is
``min(RETRY_DELAY * RETRY_BACKOFF**(n-1), RETRY_DELAY_MAX)``, shortened by
a random fraction of at most RETRY_JITTER of itself.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from conftest import FakeClock, make_job
from dojobber import DoJobber, Job
from dojobber.backoff import Backoff


def failing(name: str = "Flaky", log: list[tuple[str, float]] | None = None,
            clock: FakeClock | None = None, **attrs: Any) -> type[Job]:
    """A job that never passes; logs (name, time) at each try's Check."""

    def check(job: Job) -> None:
        if log is not None and clock is not None and job._check_phase == "check":
            log.append((name, clock.now))
        raise LookupError(f"{name} is not there")

    return make_job(name, check=check, **attrs)


def sleeps_of(job: type[Job], clock: FakeClock, **configure: Any) -> list[float]:
    dojob = DoJobber(clock=clock, sleep=clock.sleep)
    dojob.configure(job, **configure)
    dojob.checknrun()
    assert dojob.nodestatus == {job.__name__: False}
    return clock.sleeps


def test_the_defaults_keep_the_fixed_delay(clock: FakeClock) -> None:
    assert sleeps_of(failing(TRIES=4, RETRY_DELAY=1.5), clock) == [1.5, 1.5, 1.5]


def test_backoff_multiplies_the_delay_after_each_try(clock: FakeClock) -> None:
    job = failing(TRIES=5, RETRY_DELAY=1, RETRY_BACKOFF=2)
    assert sleeps_of(job, clock) == [1, 2, 4, 8]


def test_delay_max_caps_the_wait(clock: FakeClock) -> None:
    job = failing(TRIES=6, RETRY_DELAY=0.5, RETRY_BACKOFF=3, RETRY_DELAY_MAX=5)
    assert sleeps_of(job, clock) == [0.5, 1.5, 4.5, 5, 5]


def test_delay_max_alone_caps_a_fixed_delay(clock: FakeClock) -> None:
    assert sleeps_of(failing(TRIES=3, RETRY_DELAY=10, RETRY_DELAY_MAX=2), clock) == [2, 2]


@pytest.mark.parametrize(
    ("attrs", "sleeps"),
    [
        ({}, [1, 10, 50]),  # the defaults: 1, 10, then 50 rather than 100
        ({"RETRY_BACKOFF": 1, "RETRY_DELAY_MAX": math.inf}, [1, 1, 1]),
        ({"RETRY_BACKOFF": 2}, [1, 2, 4]),  # its own factor, the default cap
        ({"RETRY_DELAY_MAX": 5}, [1, 5, 5]),
    ],
)
def test_configure_defaults_apply_and_job_attributes_win(
    clock: FakeClock, attrs: dict[str, Any], sleeps: list[float]
) -> None:
    job = failing(TRIES=4, **attrs)
    assert sleeps_of(job, clock, default_retry_delay=1, default_retry_backoff=10,
                     default_retry_delay_max=50) == sleeps


def test_sequential_passes_keep_the_round_robin_order(clock: FakeClock) -> None:
    """The contract's order holds: each pass tries every job once, in run
    order; the scheduler sleeps until the job next in line may start."""
    log: list[tuple[str, float]] = []
    slow = failing("Slow", log, clock, TRIES=3, RETRY_DELAY=1, RETRY_BACKOFF=10)
    quick = failing("Quick", log, clock, TRIES=4, RETRY_DELAY=1)
    dojob = DoJobber(clock=clock, sleep=clock.sleep)
    dojob.configure(make_job("Root", deps=(slow, quick)))
    dojob.checknrun()
    assert [(name, t - 1000) for name, t in log] == [
        ("Slow", 0), ("Quick", 0),
        ("Slow", 1), ("Quick", 1),
        ("Slow", 11), ("Quick", 11),
        ("Quick", 12),
    ]


def test_threads_let_other_jobs_go_on_while_one_waits(clock: FakeClock) -> None:
    """With workers, a job waiting out a long backoff holds no worker: the
    other job uses up all its tries meanwhile."""
    log: list[tuple[str, float]] = []
    slow = failing("Slow", log, clock, TRIES=3, RETRY_DELAY=1, RETRY_BACKOFF=10)
    quick = failing("Quick", log, clock, TRIES=4, RETRY_DELAY=1)
    dojob = DoJobber(clock=clock, sleep=clock.sleep)
    dojob.configure(make_job("Root", deps=(slow, quick)), workers=2)
    dojob.checknrun()
    starts = {name: [t - 1000 for n, t in log if n == name] for name in ("Slow", "Quick")}
    assert starts == {"Slow": [0, 1, 11], "Quick": [0, 1, 2, 3]}


def test_jitter_shortens_each_wait_by_a_random_fraction(clock: FakeClock) -> None:
    job = failing(TRIES=5, RETRY_DELAY=2, RETRY_BACKOFF=2, RETRY_JITTER=0.5)
    random.seed(1234)
    sleeps = sleeps_of(job, clock)
    draws = random.Random(1234)
    expected = [wait - wait * 0.5 * draws.random() for wait in (2, 4, 8, 16)]
    assert sleeps == pytest.approx(expected, rel=1e-12)
    for wait, slept in zip((2, 4, 8, 16), sleeps, strict=True):
        assert wait / 2 <= slept <= wait


def test_default_jitter_applies(clock: FakeClock) -> None:
    sleeps = sleeps_of(failing(TRIES=30, RETRY_DELAY=1), clock, default_retry_jitter=1)
    assert all(0 <= slept <= 1 for slept in sleeps)
    assert len(set(sleeps)) > 1  # not one fixed delay


@pytest.mark.parametrize(
    ("backoff", "base", "tries", "wait"),
    [
        (Backoff(), 3.0, 7, 3.0),
        (Backoff(factor=2), 0.0, 5000, 0.0),  # no delay stays no delay
        (Backoff(factor=2), 1.0, 11, 1024.0),
        (Backoff(factor=2, cap=60), 1.0, 5000, 60.0),  # 2**4999 overflows a float
    ],
)
def test_backoff_arithmetic(backoff: Backoff, base: float, tries: int, wait: float) -> None:
    assert backoff.delay(base, tries, random.random) == wait


def test_backoffs_compare_and_show_their_values() -> None:
    assert Backoff(2.0, 60.0, 0.5) == Backoff(factor=2.0, cap=60.0, jitter=0.5)
    assert Backoff() != Backoff(jitter=0.1)
    assert Backoff() != (1.0, math.inf, 0.0)
    assert repr(Backoff(2.0)) == "Backoff(factor=2.0, cap=inf, jitter=0.0)"


def test_an_endless_backoff_stops_at_what_can_be_slept() -> None:
    import threading

    assert Backoff(factor=2).delay(1.0, 5000, random.random) == threading.TIMEOUT_MAX
