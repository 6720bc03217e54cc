"""Settings and hints come from a job's whole class, bases included.

configure() takes a short cut for the usual job class (one base, no
metaclass, no setting or misspelt method anywhere in its MRO): these tests
hold every other shape to the plain attribute lookup's answer.
"""

from __future__ import annotations

import abc
import math
import warnings
from typing import Any

import pytest

from dojobber import DoJobber, DoJobberWarning, DummyJob, Job


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
