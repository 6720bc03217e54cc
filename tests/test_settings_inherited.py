"""Settings and hints come from a job's whole class, bases included.

configure() takes a short cut for the usual job class (one base, no
metaclass, no setting or misspelt method anywhere in its MRO): these tests
hold every other shape to the plain attribute lookup's answer.
"""

from __future__ import annotations

import abc
import math
import random
import warnings
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from dojobber import (
    ConfigurationError,
    DoJobber,
    DoJobberWarning,
    DummyJob,
    Job,
    JobTypeError,
    RetrySettingError,
)


class Patient(DummyJob):
    TRIES = 5
    RETRY_DELAY = 0.5


class Inherits(Patient):  # sets nothing itself
    pass


class Mixin:
    TRIES = 7


class Mixed(DummyJob, Mixin):  # type: ignore[misc]  # Job.TRIES (None) comes first
    pass


class MixedFirst(Mixin, DummyJob):  # type: ignore[misc]  # the mixin's 7 comes first
    pass


class Meta(abc.ABCMeta):
    pass


class WithMeta(DummyJob, metaclass=Meta):
    TIMEOUT = 30


class Plain(DummyJob):
    pass


class Root(DummyJob):
    DEPS = (Inherits, Mixed, MixedFirst, WithMeta, Plain)


def test_each_job_gets_the_settings_its_class_has() -> None:
    dojob = DoJobber()
    dojob.configure(Root, default_tries=2, default_retry_delay=0)
    assert dojob.tries_allowed() == {
        "Inherits": 5, "Mixed": 2, "MixedFirst": 7, "WithMeta": 2, "Plain": 2, "Root": 2}
    plan = dojob._plan
    assert plan is not None
    delays = dict(zip(plan.names, plan.delays))
    assert (delays["Inherits"], delays["Plain"]) == (0.5, 0.0)
    assert plan.timeouts == {plan.names.index("WithMeta"): 30.0}


def test_a_setting_changed_on_job_itself_reaches_every_job() -> None:
    saved = Job.TRIES
    Job.TRIES = 4
    try:
        dojob = DoJobber()
        dojob.configure(Root, default_tries=2, default_retry_delay=0)
        assert dojob.tries_allowed()["Plain"] == 4 and dojob.tries_allowed()["Inherits"] == 5
    finally:
        Job.TRIES = saved


def test_bad_settings_on_a_base_name_the_job() -> None:
    class Broken(DummyJob):
        RETRY_DELAY = -1

    class Child(Broken):
        pass

    with pytest.raises(ValueError, match="RETRY_DELAY of job 'Child'"):
        DoJobber().configure(Child)


def test_hints_look_at_base_classes_too() -> None:
    class LowerBase(Job):
        def check(self, *args: Any, **kwargs: Any) -> None:
            pass

    class FromLower(LowerBase):
        pass

    class NoCheck(Job):
        pass

    class Holder(DummyJob):
        DEPS = (FromLower, NoCheck, Plain)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DoJobber().configure(Holder)
    messages = sorted(str(w.message) for w in caught if w.category is DoJobberWarning)
    assert len(messages) == 2
    assert messages[0].startswith("FromLower defines check() but DoJobber calls Check()")
    assert messages[1].startswith("NoCheck defines no Check")


def test_math_inf_timeout_on_a_base_means_no_limit() -> None:
    class Forever(DummyJob):
        TIMEOUT = math.inf

    class Child(Forever):
        pass

    dojob = DoJobber()
    dojob.configure(Child, default_timeout=5)
    assert dojob._plan is not None and dojob._plan.timeouts == {}


# The short way for TRIES and RETRY_DELAY: a class that sets those two and
# nothing else of the settings has them read at once, each distinct pair of
# values (and types) validated once per configure(). Its answers must be the
# long way's, error for error.


def leaf(name: str, base: type[Job] = DummyJob, **attrs: Any) -> type[Job]:
    return type(name, (base,), attrs)


def top(*deps: type[Job]) -> type[Job]:
    return leaf("Top", DEPS=deps)


def test_each_class_gets_its_own_tries_and_delay() -> None:
    jobs = (
        leaf("Int", TRIES=4),
        leaf("Float", TRIES=2.5),
        leaf("SameFloat", TRIES=2.5),
        leaf("WholeFloat", TRIES=4.0),
        leaf("Dec", TRIES=Decimal("2")),
        leaf("DecHalf", TRIES=Decimal("1.5")),
        leaf("Frac", TRIES=Fraction(7, 2)),
        leaf("Huge", TRIES=10**400),
        leaf("Delay", TRIES=4, RETRY_DELAY=0.25),
        leaf("DelayInt", TRIES=4, RETRY_DELAY=2),
        leaf("OnlyDelay", RETRY_DELAY=Decimal("0.5")),
        leaf("NoneSet", TRIES=None, RETRY_DELAY=None),
    )
    dojob = DoJobber()
    dojob.configure(top(*jobs), default_tries=2, default_retry_delay=0)
    assert dojob.tries_allowed() == {
        "Int": 4, "Float": 3, "SameFloat": 3, "WholeFloat": 4, "Dec": 2, "DecHalf": 2,
        "Frac": 4, "Huge": 10**400, "Delay": 4, "DelayInt": 4, "OnlyDelay": 2,
        "NoneSet": 2, "Top": 2,
    }
    plan = dojob._plan
    assert plan is not None
    delays = dict(zip(plan.names, plan.delays))
    assert (delays["Delay"], delays["DelayInt"], delays["OnlyDelay"], delays["Int"]) == (
        0.25, 2.0, 0.5, 0.0)
    assert plan.waits
    assert list(plan.unusual) == []  # none of them can have a hint


def test_a_subclass_inherits_or_overrides_its_bases_tries() -> None:
    class Retrying(DummyJob):
        TRIES = 5
        RETRY_DELAY = 0.5

    jobs = (
        leaf("Inheriting", Retrying),
        leaf("Overriding", Retrying, TRIES=2),
        leaf("BackToDefault", Retrying, TRIES=None),
        leaf("Grandchild", leaf("Middle", Retrying, RETRY_DELAY=0)),
        leaf("OverBase", leaf("Base", Retrying, TRIES=7), TRIES=1.5),
    )
    dojob = DoJobber()
    dojob.configure(top(*jobs), default_tries=3, default_retry_delay=1)
    tries = dojob.tries_allowed()
    assert [tries[job.__name__] for job in jobs] == [5, 2, 3, 5, 2]
    plan = dojob._plan
    assert plan is not None
    delays = dict(zip(plan.names, plan.delays))
    assert [delays[job.__name__] for job in jobs] == [0.5, 0.5, 0.5, 0.0, 0.5]


@pytest.mark.parametrize(
    ("first", "bad", "error", "message"),
    [
        # Each bad value comes after a valid one that is equal to it, or
        # hashes alike: it must still be refused.
        (1, True, JobTypeError, "TRIES of job 'Bad' must be a number >= 1, got True"),
        (1.0, True, JobTypeError, "TRIES of job 'Bad' must be a number >= 1, got True"),
        (3, "3", JobTypeError, "TRIES of job 'Bad' must be a number >= 1, got '3'"),
        (3, [3], JobTypeError, "TRIES of job 'Bad' must be a number >= 1, got [3]"),
        (3, 0, RetrySettingError, "TRIES of job 'Bad' must be a finite number >= 1, got 0"),
        (3, math.nan, ConfigurationError,
         "TRIES of job 'Bad' must be a finite number >= 1, got nan"),
        (3, Decimal("sNaN"), ConfigurationError,
         "TRIES of job 'Bad' must be a finite number >= 1, got Decimal('sNaN')"),
    ],
)
def test_a_bad_tries_after_good_ones_is_refused(
    first: Any, bad: Any, error: type[Exception], message: str
) -> None:
    root = top(leaf("Good", TRIES=first), leaf("AlsoGood", TRIES=first), leaf("Bad", TRIES=bad))
    with pytest.raises(error) as caught:
        DoJobber().configure(root)
    assert type(caught.value) is error
    assert str(caught.value) == message
    assert caught.value.job == "Bad"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("first", "bad", "error", "message"),
    [
        (0, False, JobTypeError,
         "RETRY_DELAY of job 'Bad' must be a number of seconds >= 0, got False"),
        (1, True, JobTypeError,
         "RETRY_DELAY of job 'Bad' must be a number of seconds >= 0, got True"),
        (0.5, -0.5, RetrySettingError,
         "RETRY_DELAY of job 'Bad' must be a finite number of seconds >= 0, got -0.5"),
        (0.5, 1e300, ConfigurationError,
         "RETRY_DELAY of job 'Bad' must be at most 9.22337e+09 seconds, got 1e+300"),
    ],
)
def test_a_bad_delay_after_good_ones_is_refused(
    first: Any, bad: Any, error: type[Exception], message: str
) -> None:
    root = top(
        leaf("Good", TRIES=2, RETRY_DELAY=first),
        leaf("Bad", TRIES=2, RETRY_DELAY=bad),
    )
    with pytest.raises(error) as caught:
        DoJobber().configure(root)
    assert type(caught.value) is error
    assert str(caught.value) == message


def test_a_bad_tries_on_a_base_names_each_job_that_inherits_it() -> None:
    broken = leaf("Broken", TRIES=0.5)
    with pytest.raises(ConfigurationError) as caught:
        DoJobber().configure(top(leaf("Child", broken)))
    assert str(caught.value) == "TRIES of job 'Child' must be a finite number >= 1, got 0.5"


def test_a_bad_tries_is_reported_after_an_error_met_first() -> None:
    # Settings are read when the walk leaves a job, after its DEPS: a bad
    # DEPS below it is the error met first.
    below = leaf("Below", DEPS=5)
    with pytest.raises(JobTypeError, match="DEPS for Below is not iterable"):
        DoJobber().configure(top(leaf("Parent", TRIES=0, DEPS=(below,))))


def test_a_class_with_tries_is_still_looked_at_for_hints() -> None:
    def lower(self: Any, *args: Any, **kwargs: Any) -> None:
        pass

    jobs = (
        type("LowerCheck", (Job,), {"TRIES": 2, "check": lower, "Run": lower}),
        type("LowerRun", (Job,), {"TRIES": 2, "RETRY_DELAY": 0, "Check": lower, "run": lower}),
        type("NoCheck", (Job,), {"TRIES": 2}),
        type("Fine", (Job,), {"TRIES": 2, "Check": lower}),
        type("FineToo", (DummyJob,), {"TRIES": 2, "RETRY_DELAY": 0.5}),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dojob = DoJobber()
        dojob.configure(top(*jobs))
    messages = sorted(str(w.message) for w in caught if w.category is DoJobberWarning)
    assert [message.split(" but ")[0].split(", so ")[0] for message in messages] == [
        "LowerCheck defines check()", "LowerRun defines run()", "NoCheck defines no Check"]
    assert dojob.tries_allowed()["LowerCheck"] == 2
    plan = dojob._plan
    assert plan is not None
    assert sorted(plan.names[i] for i in plan.unusual) == ["LowerCheck", "LowerRun", "NoCheck"]


def test_tries_with_other_settings_or_defaults_take_the_long_way() -> None:
    jobs = (
        leaf("WithTimeout", TRIES=2, TIMEOUT=30),
        leaf("WithBackoff", TRIES=2.5, RETRY_DELAY=1, RETRY_BACKOFF=2),
        leaf("WithMeta", WithMeta, TRIES=4),
        leaf("Mixed", MixedFirst, RETRY_DELAY=0),
    )
    for options in ({}, {"default_timeout": 60}, {"default_retry_backoff": 2}):
        dojob = DoJobber()
        dojob.configure(top(*jobs), default_tries=1, **options)
        assert dojob.tries_allowed() == {
            "WithTimeout": 2, "WithBackoff": 3, "WithMeta": 4, "Mixed": 7, "Top": 1}, options


def test_plain_jobs_after_the_last_that_sets_tries_take_the_defaults() -> None:
    # Many more plain jobs than jobs that set TRIES, before and after them.
    jobs = [leaf(f"Plain{k}") for k in range(100)]
    jobs += [leaf("Sets", TRIES=4, RETRY_DELAY=0.25)]
    jobs += [leaf(f"After{k}") for k in range(200)]
    dojob = DoJobber()
    dojob.configure(top(*jobs), default_tries=2, default_retry_delay=0.5)
    allowed = dojob.tries_allowed()
    assert len(allowed) == 302
    assert {name: n for name, n in allowed.items() if n != 2} == {"Sets": 4}
    plan = dojob._plan
    assert plan is not None and len(plan.delays) == 302
    assert {name: d for name, d in zip(plan.names, plan.delays) if d != 0.5} == {"Sets": 0.25}


@pytest.mark.parametrize("seed", range(5))
def test_the_short_way_agrees_with_the_long_way(seed: int) -> None:
    """Random classes setting TRIES and RETRY_DELAY on themselves or their
    bases: the plan holds what read_job_settings reads from each."""
    from dojobber.settings import Settings, read_job_settings

    rng = random.Random(seed)
    values = [None, 1, 2, 3, 2.5, 3.0, Decimal("2"), Fraction(3, 2)]
    delays = [None, 0, 0.0, 0.5, 1, Decimal("0.25")]
    classes: list[type[Job]] = [DummyJob, Job]
    made: list[type[Job]] = []
    # More jobs than the walk's first lists hold (64), so that they grow.
    for k in range(300):
        attrs: dict[str, Any] = {}
        if rng.random() < 0.6:
            attrs["TRIES"] = rng.choice(values)
        if rng.random() < 0.4:
            attrs["RETRY_DELAY"] = rng.choice(delays)
        if rng.random() < 0.3:
            attrs["Check"] = lambda self, *args, **kwargs: None
        cls = type(f"R{k}", (rng.choice(classes),), attrs)
        classes.append(cls)
        made.append(cls)
    settings = Settings(default_tries=2, default_retry_delay=0.125)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoJobberWarning)
        dojob = DoJobber()
        dojob.configure(top(*made), default_tries=2, default_retry_delay=0.125)
    plan = dojob._plan
    assert plan is not None
    for i, cls in enumerate(plan.classes):
        expected = read_job_settings(cls, cls.__name__, settings)[:2]
        assert (plan.tries[i], plan.delays[i]) == expected, cls.__name__
        assert type(plan.tries[i]) is int
