"""The bad-input catalogue (docs/bad-input.rst), one case per row.

Each case configures a small graph that is wrong in one way and checks the
exception class, its exact message, its ``job`` and ``value`` attributes, and
that no Check ran. Keep this table and the one in the docs in step.
"""

from __future__ import annotations

import abc
import json
import math
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import pytest

import dojobber
from dojobber import (
    ConfigurationError,
    DependencyCycleError,
    DuplicateJobNameError,
    InfiniteTriesError,
    JobTypeError,
    NamelessJobError,
    RetrySettingError,
)

CHECKS: list[str] = []


class Recording(dojobber.Job):
    """Records every Check, so a test can prove nothing ran."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        CHECKS.append(type(self).__name__)

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


def job(name: str, **attrs: Any) -> type[dojobber.Job]:
    return type(name, (Recording,), attrs)


@dataclass
class Case:
    """One row: ``make()`` returns (root, configure kwargs, expected message)."""

    id: str
    make: Callable[[], tuple[Any, dict[str, Any], str, str | None, Any]]
    error: type[ConfigurationError]


def root_is(value: Any) -> Callable[[], tuple[Any, dict[str, Any], str, str | None, Any]]:
    return lambda: (value, {}, f"root must be a Job class, got {value!r}", None, value)


def deps_is(value: Any, message: str) -> Callable[[], Any]:
    def make() -> Any:
        return job("Leafy", DEPS=value), {}, message, "Leafy", value
    return make


def deps_lists(entry: Any) -> Callable[[], Any]:
    def make() -> Any:
        ok = job("Fine")
        message = f"DEPS of job 'Leafy' lists {entry!r}, which is not a Job class"
        return job("Leafy", DEPS=[ok, entry]), {}, message, "Leafy", entry
    return make


class BadDeps:
    """A DEPS that breaks while it is read: in ``__iter__``, after its first
    entry (``next``), or (``repr``) also in ``__repr__``."""

    def __init__(self, where: str, error: Exception):
        self.where = where
        self.error = error

    def __iter__(self) -> Any:
        if self.where == "iter":
            raise self.error
        yield job("Fine")
        raise self.error

    def __repr__(self) -> str:
        if self.where == "repr":
            raise SystemExit("no repr either")
        return f"BadDeps({self.where!r})"


def duplicate_names() -> Any:
    first = job("Twin")
    second = job("Twin")
    root = job("Top", DEPS=[first, job("Middle", DEPS=[second])])
    message = f"two different job classes are named 'Twin': {first!r} and {second!r}"
    return root, {}, message, "Twin", (first, second)


def cycle(length: int) -> Callable[[], Any]:
    def make() -> Any:
        jobs = [job(f"C{i}") for i in range(length)]
        for here, there in zip(jobs, jobs[1:] + jobs[:1], strict=True):
            here.DEPS = [there]
        root = job("Top", DEPS=[jobs[0]])
        names = [j.__name__ for j in jobs] + [jobs[0].__name__]
        return root, {}, "Dependency cycle: " + " -> ".join(names), "C0", names
    return make


def attribute(attr: str, value: Any, message: str) -> Callable[[], Any]:
    def make() -> Any:
        leaf = job("Leafy", **{attr: value})
        return job("Top", DEPS=[leaf]), {}, message.format(value), "Leafy", value
    return make


def default(arg: str, value: Any, message: str) -> Callable[[], Any]:
    return lambda: (job("Top"), {arg: value}, message.format(value), None, value)


TRIES_TYPE = "TRIES of job 'Leafy' must be a number >= 1, got {!r}"
TRIES_RANGE = "TRIES of job 'Leafy' must be a finite number >= 1, got {!r}"
DELAY_TYPE = "RETRY_DELAY of job 'Leafy' must be a number of seconds >= 0, got {!r}"
DELAY_RANGE = "RETRY_DELAY of job 'Leafy' must be a finite number of seconds >= 0, got {!r}"
DELAY_LONG = "RETRY_DELAY of job 'Leafy' must be at most 9.22337e+09 seconds, got {!r}"
TIMEOUT_WANTED = "a number of seconds > 0 (math.inf for no limit)"
TIMEOUT_BAD = "TIMEOUT of job 'Leafy' must be " + TIMEOUT_WANTED + ", got {!r}"
TIMEOUT_LONG = "TIMEOUT of job 'Leafy' must be at most 9.22337e+09 seconds, got {!r}"
BACKOFF_BAD = "RETRY_BACKOFF of job 'Leafy' must be a finite number >= 1, got {!r}"
CAP_WANTED = "a number of seconds >= 0 (math.inf for no cap)"
CAP_BAD = "RETRY_DELAY_MAX of job 'Leafy' must be " + CAP_WANTED + ", got {!r}"
JITTER_BAD = "RETRY_JITTER of job 'Leafy' must be a number from 0 to 1, got {!r}"

CASES = [
    Case("root-None", root_is(None), NamelessJobError),
    Case("root-name", root_is("Top"), JobTypeError),
    Case("root-instance", root_is(dojobber.DummyJob()), NamelessJobError),
    Case("root-other-class", root_is(dict), JobTypeError),
    Case("deps-None", deps_is(None, 'DEPS for Leafy is not iterable; is "None"'), JobTypeError),
    Case("deps-int", deps_is(7, 'DEPS for Leafy is not iterable; is "7"'), JobTypeError),
    Case("deps-string", deps_is(
        "Fine", "DEPS of job 'Leafy' is the string 'Fine'; list Job classes, not names"
    ), JobTypeError),
    Case("deps-bytes", deps_is(
        b"Leaf", "DEPS of job 'Leafy' is the bytes b'Leaf'; list Job classes, not names"
    ), NamelessJobError),
    Case("deps-bytearray", deps_is(
        bytearray(b"Leaf"),
        "DEPS of job 'Leafy' is the bytearray bytearray(b'Leaf'); list Job classes, not names"
    ), NamelessJobError),
    Case("deps-dict", deps_is(
        {"Fine": 1}, "DEPS of job 'Leafy' is the dict {'Fine': 1}; list Job classes, not a mapping"
    ), JobTypeError),
    Case("deps-iter-raises", deps_is(
        BadDeps("iter", RuntimeError("no DEPS today")),
        "DEPS of job 'Leafy' cannot be read: iterating BadDeps('iter') raised "
        "RuntimeError: no DEPS today"
    ), JobTypeError),
    Case("deps-iter-raises-TypeError", deps_is(
        BadDeps("iter", TypeError("not now")),
        "DEPS of job 'Leafy' cannot be read: iterating BadDeps('iter') raised TypeError: not now"
    ), JobTypeError),
    Case("deps-next-raises", deps_is(
        BadDeps("next", OSError("disk gone")),
        "DEPS of job 'Leafy' cannot be read: iterating BadDeps('next') raised OSError: disk gone"
    ), JobTypeError),
    Case("deps-repr-raises", deps_is(
        BadDeps("repr", ValueError("half")),
        "DEPS of job 'Leafy' cannot be read: iterating <BadDeps: repr() failed> raised "
        "ValueError: half"
    ), JobTypeError),
    Case("deps-entry-name", deps_lists("Fine"), JobTypeError),
    Case("deps-entry-None", deps_lists(None), NamelessJobError),
    Case("deps-entry-instance", deps_lists(dojobber.DummyJob()), NamelessJobError),
    Case("deps-entry-other-class", deps_lists(int), JobTypeError),
    # Classes that are not Job classes, each shape the walk tells apart:
    # one plain base, a metaclass, two bases.
    Case("deps-entry-subclass", deps_lists(type("Sub", (OSError,), {})), JobTypeError),
    Case("deps-entry-abc", deps_lists(type("Abstract", (abc.ABC,), {})), JobTypeError),
    Case("deps-entry-two-bases", deps_lists(type("Both", (OSError, Exception), {})),
         JobTypeError),
    Case("duplicate-name", duplicate_names, DuplicateJobNameError),
    Case("cycle-self", cycle(1), DependencyCycleError),
    Case("cycle-three", cycle(3), DependencyCycleError),
    Case("tries-string", attribute("TRIES", "3", TRIES_TYPE), JobTypeError),
    Case("tries-bool", attribute("TRIES", True, TRIES_TYPE), JobTypeError),
    Case("tries-complex", attribute("TRIES", 2j, TRIES_TYPE), JobTypeError),
    Case("tries-zero", attribute("TRIES", 0, TRIES_RANGE), RetrySettingError),
    Case("tries-half", attribute("TRIES", 0.5, TRIES_RANGE), RetrySettingError),
    Case("tries-negative", attribute("TRIES", -2, TRIES_RANGE), RetrySettingError),
    Case("tries-nan", attribute("TRIES", math.nan, TRIES_RANGE), ConfigurationError),
    Case("tries-inf", attribute("TRIES", math.inf, TRIES_RANGE), InfiniteTriesError),
    Case("tries-decimal-nan", attribute("TRIES", Decimal("NaN"), TRIES_RANGE), ConfigurationError),
    Case("tries-decimal-inf", attribute("TRIES", Decimal("Infinity"), TRIES_RANGE),
         InfiniteTriesError),
    Case("tries-fraction-half", attribute("TRIES", Fraction(1, 2), TRIES_RANGE),
         RetrySettingError),
    Case("tries-minus-inf", attribute("TRIES", -math.inf, TRIES_RANGE), InfiniteTriesError),
    Case("delay-string", attribute("RETRY_DELAY", "1", DELAY_TYPE), JobTypeError),
    Case("delay-bool", attribute("RETRY_DELAY", False, DELAY_TYPE), JobTypeError),
    Case("delay-negative", attribute("RETRY_DELAY", -0.5, DELAY_RANGE), RetrySettingError),
    Case("delay-nan", attribute("RETRY_DELAY", math.nan, DELAY_RANGE), ConfigurationError),
    Case("delay-inf", attribute("RETRY_DELAY", math.inf, DELAY_RANGE), ConfigurationError),
    Case("delay-minus-inf", attribute("RETRY_DELAY", -math.inf, DELAY_RANGE),
         RetrySettingError),
    Case("delay-decimal-minus-inf", attribute("RETRY_DELAY", Decimal("-Infinity"), DELAY_RANGE),
         RetrySettingError),
    Case("delay-decimal-snan", attribute("RETRY_DELAY", Decimal("sNaN"), DELAY_RANGE),
         ConfigurationError),
    Case("delay-decimal-negative", attribute("RETRY_DELAY", Decimal("-1"), DELAY_RANGE),
         RetrySettingError),
    Case("delay-too-long", attribute("RETRY_DELAY", 1e300, DELAY_LONG), ConfigurationError),
    Case("default-tries-zero", default(
        "default_tries", 0, "default_tries must be a finite number >= 1, got {!r}"
    ), RetrySettingError),
    Case("default-tries-inf", default(
        "default_tries", math.inf, "default_tries must be a finite number >= 1, got {!r}"
    ), InfiniteTriesError),
    Case("default-tries-None", default(
        "default_tries", None, "default_tries must be a number >= 1, got {!r}"
    ), JobTypeError),
    Case("default-delay-negative", default(
        "default_retry_delay", -1, "default_retry_delay must be a finite number of seconds >= 0, "
        "got {!r}"
    ), RetrySettingError),
    Case("default-delay-string", default(
        "default_retry_delay", "1", "default_retry_delay must be a number of seconds >= 0, got {!r}"
    ), JobTypeError),
    Case("timeout-string", attribute("TIMEOUT", "5", TIMEOUT_BAD), JobTypeError),
    Case("timeout-bool", attribute("TIMEOUT", True, TIMEOUT_BAD), JobTypeError),
    Case("timeout-zero", attribute("TIMEOUT", 0, TIMEOUT_BAD), ConfigurationError),
    Case("timeout-negative", attribute("TIMEOUT", -1, TIMEOUT_BAD), ConfigurationError),
    Case("timeout-nan", attribute("TIMEOUT", math.nan, TIMEOUT_BAD), ConfigurationError),
    Case("timeout-minus-inf", attribute("TIMEOUT", -math.inf, TIMEOUT_BAD),
         ConfigurationError),
    Case("timeout-decimal-nan", attribute("TIMEOUT", Decimal("NaN"), TIMEOUT_BAD),
         ConfigurationError),
    Case("timeout-too-long", attribute("TIMEOUT", 1e300, TIMEOUT_LONG), ConfigurationError),
    Case("backoff-string", attribute("RETRY_BACKOFF", "2", BACKOFF_BAD), JobTypeError),
    Case("backoff-complex", attribute("RETRY_BACKOFF", 2j, BACKOFF_BAD), JobTypeError),
    Case("backoff-below-1", attribute("RETRY_BACKOFF", 0.5, BACKOFF_BAD), ConfigurationError),
    Case("backoff-inf", attribute("RETRY_BACKOFF", math.inf, BACKOFF_BAD), ConfigurationError),
    Case("backoff-nan", attribute("RETRY_BACKOFF", math.nan, BACKOFF_BAD), ConfigurationError),
    Case("delay-max-string", attribute("RETRY_DELAY_MAX", "60", CAP_BAD), JobTypeError),
    Case("delay-max-negative", attribute("RETRY_DELAY_MAX", -1, CAP_BAD), ConfigurationError),
    Case("delay-max-nan", attribute("RETRY_DELAY_MAX", math.nan, CAP_BAD), ConfigurationError),
    Case("jitter-bool", attribute("RETRY_JITTER", False, JITTER_BAD), JobTypeError),
    Case("jitter-above-1", attribute("RETRY_JITTER", 1.5, JITTER_BAD), ConfigurationError),
    Case("jitter-negative", attribute("RETRY_JITTER", Fraction(-1, 10), JITTER_BAD),
         ConfigurationError),
    Case("default-timeout-zero", default(
        "default_timeout", 0, "default_timeout must be " + TIMEOUT_WANTED + ", got {!r}"
    ), ConfigurationError),
    Case("default-timeout-string", default(
        "default_timeout", "30", "default_timeout must be " + TIMEOUT_WANTED + ", got {!r}"
    ), JobTypeError),
    Case("default-backoff-below-1", default(
        "default_retry_backoff", 0, "default_retry_backoff must be a finite number >= 1, got {!r}"
    ), ConfigurationError),
    Case("default-delay-max-negative", default(
        "default_retry_delay_max", -5, "default_retry_delay_max must be " + CAP_WANTED
        + ", got {!r}"
    ), ConfigurationError),
    Case("default-jitter-None", default(
        "default_retry_jitter", None, "default_retry_jitter must be a number from 0 to 1, got {!r}"
    ), JobTypeError),
    Case("fail-fast-not-a-bool", default(
        "fail_fast", "yes", "fail_fast must be True or False, got {!r}"
    ), JobTypeError),
    Case("observer-not-an-Observer", lambda: (
        job("Top"), {"observers": ["progress"]},
        "observers must be dojobber.Observer instances, got 'progress'", None, "progress",
    ), ConfigurationError),
]


#: What DoJobber 0.6.2's configure() raised for each case, as run with 0.6.2
#: itself (the column "0.6.2
#: raised" of docs/bad-input.rst): None where it raised nothing there (it
#: went on, or failed later, in checknrun); the cases of settings 0.6.2 did
#: not have are not listed.
RAISED_BY_0_6_2: dict[str, type[BaseException] | None] = {
    "root-None": AttributeError,  # None.__name__
    "root-name": None,
    "root-instance": AttributeError,
    "root-other-class": None,
    "deps-None": TypeError,
    "deps-int": TypeError,
    "deps-string": None,  # each letter taken for a job name
    "deps-bytes": AttributeError,  # (76).__name__
    "deps-bytearray": AttributeError,
    "deps-dict": None,
    "deps-iter-raises": RuntimeError,  # the DEPS' own exception
    "deps-iter-raises-TypeError": TypeError,
    "deps-next-raises": OSError,
    "deps-repr-raises": ValueError,
    # pygraph's AdditionError, a RuntimeError: the name is that of the
    # class listed before it (edge added twice); another name raised nothing.
    "deps-entry-name": RuntimeError,
    "deps-entry-None": AttributeError,
    "deps-entry-instance": AttributeError,
    "deps-entry-other-class": None,
    "deps-entry-subclass": None,
    "deps-entry-abc": None,
    "deps-entry-two-bases": None,
    "duplicate-name": None,  # the first class of that name was used
    "cycle-self": RuntimeError,
    "cycle-three": RuntimeError,
    "tries-string": None,  # int('3') is 3
    "tries-bool": None,
    "tries-complex": TypeError,  # int(2j)
    "tries-zero": RuntimeError,
    "tries-half": RuntimeError,
    "tries-negative": RuntimeError,
    "tries-nan": ValueError,  # int(nan)
    "tries-inf": OverflowError,  # int(inf)
    "tries-minus-inf": OverflowError,
    "tries-decimal-nan": ValueError,
    "tries-decimal-inf": OverflowError,
    "tries-fraction-half": RuntimeError,
    "delay-string": TypeError,  # '1' < 0
    "delay-bool": None,
    "delay-negative": RuntimeError,
    "delay-minus-inf": RuntimeError,
    "delay-decimal-minus-inf": RuntimeError,
    "delay-nan": None,
    "delay-inf": None,
    "delay-decimal-snan": ArithmeticError,  # decimal.InvalidOperation
    "delay-decimal-negative": RuntimeError,
    "delay-too-long": None,
    "default-tries-zero": RuntimeError,
    "default-tries-inf": OverflowError,
    "default-tries-None": TypeError,  # int(None)
    "default-delay-negative": RuntimeError,
    "default-delay-string": TypeError,
}

#: Where our exception is not of the type 0.6.2 raised (docs/bad-input.rst
#: says so): a DEPS whose iteration raises (0.6.2 let that exception out;
#: here it is the JobTypeError's ``__cause__``), a signalling NaN (0.6.2
#: compared it: decimal.InvalidOperation) and a name beside a class of
#: that name (pygraph refused the edge twice, by accident).
NOT_OF_THE_OLD_TYPE = {
    "deps-iter-raises", "deps-next-raises", "delay-decimal-snan", "deps-entry-name",
}


def test_every_old_case_says_what_0_6_2_raised() -> None:
    ids = {case.id for case in CASES}
    old_settings = {i for i in ids if not i.startswith((
        "timeout", "backoff", "delay-max", "jitter", "default-timeout", "default-backoff",
        "default-delay-max", "default-jitter", "fail-fast", "observer"))}
    assert set(RAISED_BY_0_6_2) == old_settings
    assert NOT_OF_THE_OLD_TYPE <= set(RAISED_BY_0_6_2)


OLD_TYPE_CASES = [case for case in CASES if RAISED_BY_0_6_2.get(case.id) is not None
                  and case.id not in NOT_OF_THE_OLD_TYPE]


@pytest.mark.parametrize("case", OLD_TYPE_CASES, ids=[c.id for c in OLD_TYPE_CASES])
def test_caught_by_the_type_0_6_2_raised(case: Case) -> None:
    """A script's ``except RuntimeError`` (or TypeError...) around
    configure(), written for 0.6.2, still catches the error."""
    root, kwargs, message, _, _ = case.make()
    old = RAISED_BY_0_6_2[case.id]
    assert old is not None
    try:
        dojobber.DoJobber().configure(root, **kwargs)
    except old as error:
        assert str(error) == message
    else:  # pragma: no cover - configure raised nothing
        pytest.fail(f"{case.id}: configure() raised nothing")


def test_exactly_the_old_runtime_errors_are_runtime_errors() -> None:
    """TRIES below 1, a negative RETRY_DELAY and a cycle, as 0.6.2; no other
    configuration error is a RuntimeError."""
    for case in CASES:
        old = RAISED_BY_0_6_2.get(case.id)
        assert issubclass(case.error, RuntimeError) == (
            old is RuntimeError and case.id not in NOT_OF_THE_OLD_TYPE), case.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_configuration_error(case: Case) -> None:
    root, kwargs, message, job_name, value = case.make()
    CHECKS.clear()
    dojob = dojobber.DoJobber()
    with pytest.raises(case.error) as caught:
        dojob.configure(root, **kwargs)
    assert type(caught.value) is case.error
    assert str(caught.value) == message
    assert caught.value.job == job_name
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(caught.value.value)
    elif isinstance(value, Decimal) and value.is_nan():
        assert caught.value.value is value
    else:
        assert caught.value.value == value
    with pytest.raises(ConfigurationError, match=r"call configure\(root\) before checknrun"):
        dojob.checknrun()
    assert CHECKS == []


def test_type_errors_are_also_type_errors_and_range_errors_value_errors() -> None:
    """Callers catching the builtin exceptions see what they expect."""
    for case in CASES:
        assert issubclass(case.error, ValueError)
        if issubclass(case.error, JobTypeError):
            assert issubclass(case.error, TypeError)


def test_deps_not_iterable_is_logged_critical(caplog: pytest.LogCaptureFixture) -> None:
    # The DoJobber logger propagates: the application's handlers (here
    # pytest's, on the root logger) receive its records.
    dojob = dojobber.DoJobber()
    with pytest.raises(JobTypeError):
        dojob.configure(job("Leafy", DEPS=3))
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("CRITICAL", 'DEPS for Leafy is not iterable; is "3"')
    ]


def test_report_before_any_run() -> None:
    dojob = dojobber.DoJobber()
    dojob.configure(job("Top"))
    with pytest.raises(dojobber.DoJobberError) as caught:
        dojob.report()
    assert str(caught.value) == "no run to report on: call checknrun() before report()"


def test_checknrun_before_configure() -> None:
    with pytest.raises(ConfigurationError) as caught:
        dojobber.DoJobber().checknrun()
    assert str(caught.value) == "call configure(root) before checknrun()"


@pytest.mark.parametrize("node", ["Nowhere", dojobber.DummyJob, None.__class__])
def test_checknrun_node_outside_the_graph(node: Any) -> None:
    dojob = dojobber.DoJobber()
    dojob.configure(job("Top", DEPS=[job("Leafy")]))
    CHECKS.clear()
    with pytest.raises(ConfigurationError) as caught:
        dojob.checknrun(node)
    assert str(caught.value) == (
        f"checknrun: {node!r} is not a job of the graph configured from 'Top'"
    )
    assert caught.value.value is node
    assert CHECKS == []


def test_checknrun_node_same_name_other_class() -> None:
    """A class that merely shares a job's name is not that job."""
    dojob = dojobber.DoJobber()
    dojob.configure(job("Top", DEPS=[job("Leafy")]))
    impostor = job("Leafy")
    with pytest.raises(ConfigurationError, match="is not a job of the graph"):
        dojob.checknrun(impostor)


def test_failed_configure_keeps_the_previous_configuration() -> None:
    dojob = dojobber.DoJobber()
    dojob.configure(job("Top", DEPS=[job("Leafy")]))
    with pytest.raises(JobTypeError):
        dojob.configure(job("Broken", DEPS=5))
    CHECKS.clear()
    dojob.checknrun()
    assert CHECKS == ["Leafy", "Top"]
    assert dojob.nodestatus == {"Leafy": True, "Top": True}


def failing_job(tries: Any, passes_on_try: int) -> tuple[type[dojobber.Job], list[str]]:
    phases: list[str] = []

    class Stubborn(dojobber.Job):
        TRIES = tries
        RETRY_DELAY = 0

        def Check(self, *args: Any, **kwargs: Any) -> None:
            phases.append(self._check_phase)
            if phases.count("check") < passes_on_try:
                raise ValueError("not yet")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    return Stubborn, phases


@pytest.mark.parametrize(("tries", "budget"), [(1, 1), (1.1, 2), (2.0, 2), (2.5, 3)])
def test_accepted_tries_round_up(tries: Any, budget: int) -> None:
    stubborn, phases = failing_job(tries, passes_on_try=99)
    dojob = dojobber.DoJobber()
    dojob.configure(stubborn)
    dojob.checknrun()
    assert phases.count("check") == budget
    assert dojob.nodestatus == {"Stubborn": False}


def test_huge_integer_tries_is_accepted() -> None:
    """10**400 does not fit a float; it is still a valid (endless) budget."""
    stubborn, phases = failing_job(10**400, passes_on_try=5)
    dojob = dojobber.DoJobber()
    dojob.configure(stubborn)
    dojob.checknrun()
    assert phases.count("check") == 5
    assert dojob.nodestatus == {"Stubborn": True}


@pytest.mark.parametrize(
    ("attrs", "configure"),
    [
        ({"TIMEOUT": Decimal("2.5"), "RETRY_BACKOFF": Fraction(3, 2)}, {}),
        ({"TIMEOUT": math.inf, "RETRY_DELAY_MAX": math.inf, "RETRY_JITTER": 1}, {}),
        ({"RETRY_DELAY_MAX": Decimal("Infinity"), "RETRY_JITTER": Decimal("0.5")}, {}),
        ({}, {"default_timeout": math.inf, "default_retry_delay_max": 0,
              "default_retry_backoff": 10**400 // 10**399, "fail_fast": True}),
    ],
)
def test_accepted_timeout_and_backoff_values(attrs: dict[str, Any], configure: Any) -> None:
    """Any real number in range, Decimal and Fraction included; math.inf
    means "no limit" for TIMEOUT and "no cap" for RETRY_DELAY_MAX."""
    dojob = dojobber.DoJobber()
    dojob.configure(job("Top", DEPS=[job("Leafy", **attrs)]), **configure)
    CHECKS.clear()
    dojob.checknrun()
    assert CHECKS == ["Leafy", "Top"]
    assert dojob.success()


def test_same_dep_twice_counts_once() -> None:
    leaf = job("Leafy")
    dojob = dojobber.DoJobber()
    dojob.configure(job("Top", DEPS=[leaf, leaf]))
    CHECKS.clear()
    dojob.checknrun()
    assert CHECKS == ["Leafy", "Top"]
    assert list(dojob.graph.neighbors("Top")) == ["Leafy"]


@pytest.mark.parametrize("pattern", ["aa", "aab", "aba", "baa", "abc", "abca", "abcb", "ab"])
def test_a_deps_tuple_lists_each_class_once_in_the_plan(pattern: str) -> None:
    """Tuples of two, three and more entries take different checks for a
    repeated class; each counts it once, in the order first listed."""
    leaves = {letter: job(f"Leaf_{letter}") for letter in set(pattern)}
    top = job("Top", DEPS=tuple(leaves[letter] for letter in pattern))
    dojob = dojobber.DoJobber()
    dojob.configure(top)
    dojob.checknrun()
    expected = list(dict.fromkeys(f"Leaf_{letter}" for letter in pattern))
    assert list(dojob.graph.neighbors("Top")) == expected
    assert list(dojob.report().deps["Top"]) == expected
    assert dojob.success()


@pytest.mark.parametrize("odd", [[1], {"a": 1}.keys(), float("nan")])
def test_an_odd_entry_in_a_short_deps_tuple_is_named(odd: object) -> None:
    with pytest.raises(dojobber.ConfigurationError, match="which is not a Job class"):
        dojobber.DoJobber().configure(job("Top", DEPS=(job("Fine"), odd)))


def test_checknrun_refusals_are_caught_by_the_types_0_6_2_raised() -> None:
    """0.6.2 raised AttributeError ('NoneType' object has no attribute
    '__name__') before configure() and KeyError for an unknown node."""
    try:
        dojobber.DoJobber().checknrun()
    except AttributeError as error:
        assert str(error) == "call configure(root) before checknrun()"
    dojob = dojobber.DoJobber()
    dojob.configure(job("Top", DEPS=[job("Leafy")]))
    CHECKS.clear()
    for node in ("Nowhere", dojobber.DummyJob):
        try:
            dojob.checknrun(node)
        except KeyError as error:
            assert error.args[0] == str(error) == (
                f"checknrun: {node!r} is not a job of the graph configured from 'Top'")
    assert CHECKS == []


#: The cases above, built with 0.6.2's own classes: for each, the names of
#: the classes of what its configure() raised (None: nothing).
OLD_PROBE = r'''
import abc, json, math, sys
from decimal import Decimal
from fractions import Fraction
import dojobber

class Recording(dojobber.Job):
    def Check(self, *args, **kwargs): pass
    def Run(self, *args, **kwargs): pass

def job(name, **attrs):
    return type(name, (Recording,), attrs)

class BadDeps:
    def __init__(self, where, error): self.where, self.error = where, error
    def __iter__(self):
        if self.where == "iter": raise self.error
        yield job("Fine"); raise self.error
    def __repr__(self):
        if self.where == "repr": raise SystemExit("no repr either")
        return "BadDeps(%r)" % self.where

def attribute(name, value): return job("Top", DEPS=[job("Leafy", **{name: value})]), {}
def deps(value): return job("Leafy", DEPS=value), {}
def entry(value): return job("Leafy", DEPS=[job("Fine"), value]), {}
def default(name, value): return job("Top"), {name: value}
def cycle(length):
    jobs = [job("C%d" % i) for i in range(length)]
    for here, there in zip(jobs, jobs[1:] + jobs[:1]): here.DEPS = [there]
    return job("Top", DEPS=[jobs[0]]), {}
def twins():
    return job("Top", DEPS=[job("Twin"), job("Middle", DEPS=[job("Twin")])]), {}

CASES = {
    "root-None": (None, {}), "root-name": ("Top", {}),
    "root-instance": (dojobber.DummyJob(), {}), "root-other-class": (dict, {}),
    "deps-None": deps(None), "deps-int": deps(7), "deps-string": deps("Fine"),
    "deps-bytes": deps(b"Leaf"), "deps-bytearray": deps(bytearray(b"Leaf")),
    "deps-dict": deps({"Fine": 1}),
    "deps-iter-raises": deps(BadDeps("iter", RuntimeError("no DEPS today"))),
    "deps-iter-raises-TypeError": deps(BadDeps("iter", TypeError("not now"))),
    "deps-next-raises": deps(BadDeps("next", OSError("disk gone"))),
    "deps-repr-raises": deps(BadDeps("repr", ValueError("half"))),
    "deps-entry-name": entry("Fine"), "deps-entry-None": entry(None),
    "deps-entry-instance": entry(dojobber.DummyJob()), "deps-entry-other-class": entry(int),
    "deps-entry-subclass": entry(type("Sub", (OSError,), {})),
    "deps-entry-abc": entry(type("Abstract", (abc.ABC,), {})),
    "deps-entry-two-bases": entry(type("Both", (OSError, Exception), {})),
    "duplicate-name": twins(), "cycle-self": cycle(1), "cycle-three": cycle(3),
    "tries-string": attribute("TRIES", "3"), "tries-bool": attribute("TRIES", True),
    "tries-complex": attribute("TRIES", 2j), "tries-zero": attribute("TRIES", 0),
    "tries-half": attribute("TRIES", 0.5), "tries-negative": attribute("TRIES", -2),
    "tries-nan": attribute("TRIES", math.nan), "tries-inf": attribute("TRIES", math.inf),
    "tries-minus-inf": attribute("TRIES", -math.inf),
    "tries-decimal-nan": attribute("TRIES", Decimal("NaN")),
    "tries-decimal-inf": attribute("TRIES", Decimal("Infinity")),
    "tries-fraction-half": attribute("TRIES", Fraction(1, 2)),
    "delay-string": attribute("RETRY_DELAY", "1"), "delay-bool": attribute("RETRY_DELAY", False),
    "delay-negative": attribute("RETRY_DELAY", -0.5),
    "delay-minus-inf": attribute("RETRY_DELAY", -math.inf),
    "delay-decimal-minus-inf": attribute("RETRY_DELAY", Decimal("-Infinity")),
    "delay-nan": attribute("RETRY_DELAY", math.nan), "delay-inf": attribute("RETRY_DELAY", math.inf),
    "delay-decimal-snan": attribute("RETRY_DELAY", Decimal("sNaN")),
    "delay-decimal-negative": attribute("RETRY_DELAY", Decimal("-1")),
    "delay-too-long": attribute("RETRY_DELAY", 1e300),
    "default-tries-zero": default("default_tries", 0),
    "default-tries-inf": default("default_tries", math.inf),
    "default-tries-None": default("default_tries", None),
    "default-delay-negative": default("default_retry_delay", -1),
    "default-delay-string": default("default_retry_delay", "1"),
}
raised = {}
for name, (root, kwargs) in CASES.items():
    try:
        dojobber.DoJobber().configure(root, **kwargs)
        raised[name] = None
    except Exception as error:
        raised[name] = [kind.__name__ for kind in type(error).__mro__]
print(json.dumps(raised))
'''

OLD_PYTHON = Path(__file__).resolve().parent.parent / (
    "benchmarks/.cache/dojobber-0.6.2/bin/python")


@pytest.mark.skipif(not OLD_PYTHON.exists(),
                    reason="no DoJobber 0.6.2 here (`sh dev.sh bench` builds it)")
def test_0_6_2_itself_raised_what_the_table_says(tmp_path: Path) -> None:
    done = subprocess.run([str(OLD_PYTHON), "-c", OLD_PROBE], cwd=tmp_path, text=True,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    raised = json.loads(done.stdout)
    assert set(raised) == set(RAISED_BY_0_6_2)
    for name, kind in RAISED_BY_0_6_2.items():
        if kind is None:
            assert raised[name] is None, name
        else:
            assert raised[name] is not None and kind.__name__ in raised[name], name
