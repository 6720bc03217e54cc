"""Bad input: a clear error at configure time naming the job and the value."""

from __future__ import annotations

import warnings

import pytest

from conftest import make_job
from dojobber import (
    ConfigurationError,
    DependencyCycleError,
    DoJobber,
    DoJobberWarning,
    DummyJob,
    DuplicateJobNameError,
    Job,
    JobTypeError,
    RunonlyJob,
)


def configure(root, **options):
    DoJobber().configure(root, **options)


def test_root_must_be_a_job_class():
    with pytest.raises(JobTypeError, match=r"root must be a Job class, got 'Root'"):
        configure("Root")
    with pytest.raises(JobTypeError, match="root must be a Job class"):
        configure(int)


def test_deps_entry_must_be_a_job_class():
    with pytest.raises(JobTypeError) as caught:
        configure(make_job("Parent", ("Child",)))
    assert str(caught.value) == (
        "DEPS of job 'Parent' lists 'Child', which is not a Job class")
    assert caught.value.job == "Parent" and caught.value.value == "Child"


def test_deps_must_be_iterable():
    job = make_job("Odd")
    job.DEPS = None
    with pytest.raises(JobTypeError, match='DEPS for Odd is not iterable; is "None"'):
        configure(job)


def test_duplicate_names_are_rejected():
    a1 = make_job("Same")
    a2 = make_job("Same")
    with pytest.raises(DuplicateJobNameError, match="two different job classes are named 'Same'"):
        configure(make_job("Root", (a1, a2)))


def test_cycle_names_the_cycle():
    a = make_job("A")
    b = make_job("B", (a,))
    c = make_job("C", (b,))
    a.DEPS = (c,)
    with pytest.raises(DependencyCycleError) as caught:
        configure(make_job("Root", (c,)))
    assert caught.value.cycle == ["C", "B", "A", "C"]
    assert str(caught.value) == "Dependency cycle: C -> B -> A -> C"


def test_self_dependency_is_a_cycle():
    a = make_job("Selfish")
    a.DEPS = (a,)
    with pytest.raises(DependencyCycleError, match="Selfish -> Selfish"):
        configure(a)


@pytest.mark.parametrize("tries", [0, 0.5, -1, float("nan"), float("inf")])
def test_tries_below_one(tries):
    with pytest.raises(ConfigurationError, match=r"TRIES of job 'Job1' must be a finite number >= 1"):
        configure(make_job("Job1", TRIES=tries))


@pytest.mark.parametrize("tries", ["3", True, [3]])
def test_tries_not_a_number(tries):
    with pytest.raises(JobTypeError, match=r"TRIES of job 'Job1' must be a number >= 1, got"):
        configure(make_job("Job1", TRIES=tries))


@pytest.mark.parametrize("delay", [-0.1, float("nan")])
def test_negative_retry_delay(delay):
    with pytest.raises(ConfigurationError, match=r"RETRY_DELAY of job 'J' must be a finite"):
        configure(make_job("J", RETRY_DELAY=delay))


def test_non_numeric_retry_delay():
    with pytest.raises(JobTypeError, match=r"RETRY_DELAY of job 'J' must be a number of seconds >= 0, got '1s'"):
        configure(make_job("J", RETRY_DELAY="1s"))


def test_bad_defaults_name_the_argument():
    with pytest.raises(ConfigurationError, match="default_tries must be a finite number >= 1, got 0"):
        configure(make_job("J"), default_tries=0)
    with pytest.raises(JobTypeError, match="default_retry_delay must be a number of seconds"):
        configure(make_job("J"), default_retry_delay=None)


def test_configuration_errors_are_value_errors_and_type_errors_are_type_errors():
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(JobTypeError, TypeError)


def test_a_bad_graph_runs_nothing():
    ran = []
    good = make_job("Good", check=lambda job: ran.append("Good"))
    bad = make_job("Bad", (good, "oops"))
    dojob = DoJobber()
    with pytest.raises(JobTypeError):
        dojob.configure(bad)
    assert ran == []


def test_repeated_dependency_counts_once():
    calls = []
    leaf = make_job("Leaf", check=lambda job: calls.append("Leaf"))
    root = make_job("Root", (leaf, leaf, leaf))
    dojob = DoJobber()
    dojob.configure(root)
    dojob.checknrun()
    assert calls == ["Leaf"]
    assert dojob.graph.neighbors("Root") == ["Leaf"]


def test_deps_may_be_any_iterable():
    leaf = make_job("Leaf")
    other = make_job("Other")
    root = make_job("Root", iter([leaf]))
    root.DEPS = {leaf: 1, other: 2}.keys()
    dojob = DoJobber()
    dojob.configure(root)
    dojob.checknrun()
    assert dojob.nodestatus == {"Leaf": True, "Other": True, "Root": True}


def test_jobs_that_forget_check_fail_with_a_clear_error():
    class Lazy(Job):
        pass

    dojob = DoJobber()
    with pytest.warns(DoJobberWarning, match="^Lazy defines no Check, so every try") as seen:
        dojob.configure(Lazy, default_tries=1)
    assert seen[0].filename == __file__  # it points at the configure call
    dojob.checknrun()
    error = dojob.nodeexceptions["Lazy"]
    assert type(error) is AttributeError  # as in 0.6.2, whose Job had no Check
    assert str(error) == "'Lazy' object has no attribute 'Check'"


class LowerCase(Job):
    def check(self, *args, **kwargs):
        pass

    def run(self, *args, **kwargs):
        pass

    def cleanup(self):
        pass


class LowerRunOnly(RunonlyJob):
    def run(self, *args, **kwargs):
        pass


class Helpers(Job):
    """Lower-case helpers beside the real methods are fine."""

    def check(self):
        pass

    def Check(self, *args, **kwargs):
        self.check()


def test_lower_case_methods_warn_with_the_fix_and_still_run():
    dojob = DoJobber()
    root = make_job("Root", (LowerCase, LowerRunOnly, Helpers))
    with pytest.warns(DoJobberWarning) as seen:
        dojob.configure(root, default_tries=1)
    assert [str(w.message) for w in seen] == [
        "LowerCase defines check() but DoJobber calls Check(): rename it to Check",
        "LowerCase defines run() but DoJobber calls Run(): rename it to Run",
        "LowerCase defines cleanup() but DoJobber calls Cleanup(): rename it to Cleanup",
        "LowerRunOnly defines run() but DoJobber calls Run(): rename it to Run",
    ]
    assert issubclass(DoJobberWarning, UserWarning)
    dojob.checknrun()  # a warning, not an error: the run goes on as in 0.6.2
    assert dojob.nodestatus == {
        "LowerCase": False, "LowerRunOnly": False, "Helpers": True, "Root": None}


def test_good_jobs_give_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DoJobber().configure(make_job("Root", (make_job("Leaf", base=DummyJob),)))
