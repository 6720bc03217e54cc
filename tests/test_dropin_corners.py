"""Corners 0.6.2 scripts rely on (CONTRACT.md, "Corners scripts rely on").

Each test here failed before the behaviour was matched: import paths, the
working directory before every phase, which instances get a Cleanup, the
developer log reaching the application, TRIES/RETRY_DELAY of any real
number type, ``noderesults`` in the order jobs passed, and instances that
refuse the scheduler's attributes.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import subprocess
import sys
import textwrap
import weakref
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import dojobber
from conftest import FakeClock, make_job
from dojobber import DoJobber, DummyJob, Job

ENGINES = pytest.mark.parametrize("workers", [1, 3], ids=["sequential", "threads"])


def run(root: type[Job], workers: int = 1, **configure: Any) -> DoJobber:
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0, workers=workers, **configure)
    dojob.checknrun()
    return dojob


# 1. Import paths


def test_the_old_module_path_gives_every_public_class() -> None:
    from dojobber.dojobber import DoJobber as OldDoJobber
    from dojobber.dojobber import DummyJob as OldDummyJob
    from dojobber.dojobber import Job as OldJob
    from dojobber.dojobber import RunonlyJob as OldRunonlyJob

    assert (OldDoJobber, OldDummyJob, OldJob, OldRunonlyJob) == (
        dojobber.DoJobber, dojobber.DummyJob, dojobber.Job, dojobber.RunonlyJob)


def test_star_import_from_the_old_module_path() -> None:
    namespace: dict[str, Any] = {}
    exec("from dojobber.dojobber import *", namespace)
    assert {"DoJobber", "DummyJob", "Job", "RunonlyJob"} <= set(namespace)
    assert namespace["RunonlyJob"] is dojobber.RunonlyJob


# 2. The working directory before every phase


def test_a_run_that_changes_directory_does_not_move_the_recheck(tmp_path: Path) -> None:
    where: list[tuple[str, str]] = []
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    class Moves(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            where.append((self._check_phase, os.getcwd()))
            if self._check_phase == "check":
                raise ValueError("not yet")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            where.append(("run", os.getcwd()))
            os.chdir(elsewhere)

    start = os.getcwd()
    assert run(Moves).success()
    assert where == [("check", start), ("run", start), ("recheck", start)]
    assert os.getcwd() == start


def test_a_phase_that_cannot_return_fails_without_calling_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Check that removes the run's directory: Run is never called in the
    wrong place; Run and the recheck fail with the reason."""
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    monkeypatch.chdir(doomed)
    ran: list[str] = []

    class Removes(Job):
        TRIES = 1

        def Check(self, *args: Any, **kwargs: Any) -> None:
            if doomed.exists():
                os.chdir(tmp_path)
                doomed.rmdir()
                raise ValueError("removed it")
            ran.append("recheck")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            ran.append("run")

    dojob = run(Removes, verbose=True)
    assert ran == []
    assert dojob.nodestatus == {"Removes": False}
    error = dojob.nodeexceptions["Removes"]
    assert isinstance(error, FileNotFoundError) and error.filename == str(doomed)
    assert capsys.readouterr().err.splitlines() == [
        "Removes.check: fail",
        "Removes.run: fail",
        f"Removes.recheck: fail \"{error}\"",
    ]


# 3. Which instances get a Cleanup


@ENGINES
def test_a_cleanup_set_on_the_instance_during_run_is_called(workers: int) -> None:
    closed: list[str] = []

    class Tunnel(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            if self._check_phase == "check":
                raise ValueError("no tunnel")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            self.Cleanup = lambda: closed.append("tunnel")

    root = type("Root", (DummyJob,), {"DEPS": [Tunnel]})
    assert run(root, workers).success()
    assert closed == ["tunnel"]


@ENGINES
def test_a_cleanup_added_to_the_class_after_configure_is_called(workers: int) -> None:
    cleaned: list[str] = []
    leaf = make_job("Leaf")
    root = make_job("Root", (leaf,))
    dojob = DoJobber()
    dojob.configure(root, workers=workers)
    leaf.Cleanup = lambda self: cleaned.append(type(self).__name__)  # type: ignore[attr-defined]
    dojob.checknrun()
    assert cleaned == ["Leaf"]


def test_a_cleanup_set_to_none_means_none() -> None:
    """``Cleanup = None`` in a subclass switches off an inherited one."""
    cleaned: list[str] = []

    class Base(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            pass

        def Cleanup(self) -> None:
            cleaned.append(type(self).__name__)

    quiet = type("Quiet", (Base,), {"Cleanup": None})
    root = type("Root", (Base,), {"DEPS": [quiet]})
    run(root)
    assert cleaned == ["Root"]


def test_instances_without_a_cleanup_are_not_kept() -> None:
    made: list[weakref.ref[Job]] = []

    class Plain(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            made.append(weakref.ref(self))
            if self._check_phase == "check":
                raise ValueError("again")

    run(Plain, cleanup=False)
    gc.collect()
    assert len(made) == 2 and all(ref() is None for ref in made)


# 4. The developer log reaches the application


def run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent("""\
        import logging, sys
        from dojobber import DoJobber, Job

        class Unmakeable(Job):
            def __init__(self):
                raise OSError("no way")

            def Check(self, *args, **kwargs):
                pass

        def run():
            for _ in range(3):
                DoJobber(dojobber_loglevel=logging.ERROR)
            dojob = DoJobber(dojobber_loglevel=logging.ERROR)
            dojob.configure(Unmakeable, default_tries=1)
            dojob.checknrun()
            assert logging.getLogger("DoJobber").propagate
        """) + textwrap.dedent(body))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          check=True, cwd=tmp_path)


LOGGED = 'Could not create Job "Unmakeable" - check its __init__'


def test_without_logging_configured_dojobber_prints_its_line_once(tmp_path: Path) -> None:
    done = run_script(tmp_path, "run()\n")
    assert done.stderr == f"DoJobber ERROR              : {LOGGED}\n"


def test_the_applications_handlers_receive_the_records_and_nothing_prints_twice(
    tmp_path: Path,
) -> None:
    done = run_script(tmp_path, """\
        logging.basicConfig(format="app %(name)s %(levelname)s %(message)s")
        run()
        """)
    assert done.stderr == f"app DoJobber ERROR {LOGGED}\n"


def test_a_file_handler_of_the_application_gets_the_record(tmp_path: Path) -> None:
    done = run_script(tmp_path, """\
        logging.basicConfig(filename="app.log", format="%(name)s: %(message)s")
        run()
        """)
    assert (tmp_path / "app.log").read_text() == f"DoJobber: {LOGGED}\n"
    assert done.stderr == ""


def test_an_application_that_stops_propagation_gets_dojobbers_own_line(tmp_path: Path) -> None:
    done = run_script(tmp_path, """\
        logging.basicConfig(filename="app.log")
        DoJobber()
        logging.getLogger("DoJobber").propagate = False
        dojob = DoJobber(dojobber_loglevel=logging.ERROR)
        dojob.configure(Unmakeable, default_tries=1)
        dojob.checknrun()
        """)
    assert done.stderr == f"DoJobber ERROR              : {LOGGED}\n"
    assert (tmp_path / "app.log").read_text() == ""


# 5. TRIES and RETRY_DELAY of any real number type


@pytest.mark.parametrize("tries, budget", [
    (Decimal("2.5"), 3), (Fraction(3, 2), 2), (Decimal("1"), 1), (2.0, 2),
])
def test_tries_of_any_real_number_type(tries: Any, budget: int) -> None:
    checks: list[str] = []
    always = make_job("Always", check=lambda job: checks.append("x") or 1 / 0, TRIES=tries)
    run(always)
    assert len(checks) == 2 * budget  # a check and a recheck per try


@pytest.mark.parametrize("delay", [Decimal("0.5"), Fraction(1, 2)])
def test_retry_delay_of_any_real_number_type(delay: Any, clock: FakeClock) -> None:
    flaky = make_job("Flaky", check=lambda job: 1 / 0, TRIES=2, RETRY_DELAY=delay)
    dojob = DoJobber(clock=clock, sleep=clock.sleep)
    dojob.configure(flaky)
    dojob.checknrun()
    assert clock.sleeps == [0.5]


def test_configure_defaults_of_any_real_number_type(clock: FakeClock) -> None:
    checks: list[str] = []
    flaky = make_job("Flaky", check=lambda job: checks.append("x") or 1 / 0)
    dojob = DoJobber(clock=clock, sleep=clock.sleep)
    dojob.configure(flaky, default_tries=Decimal("1.5"), default_retry_delay=Fraction(1, 4))
    dojob.checknrun()
    assert (len(checks), clock.sleeps) == (4, [0.25])


# 6. noderesults in the order jobs passed


@ENGINES
def test_noderesults_lists_jobs_in_the_order_they_passed(workers: int) -> None:
    def late(job: Job) -> str:
        if job._check_phase == "check" and not job.global_storage.get("late"):
            job.global_storage["late"] = True
            raise ValueError("first try fails")
        if job._check_phase == "recheck":
            raise ValueError("recheck fails the first try")
        return "late"

    late_job = make_job("Late", check=late)
    early = make_job("Early", check=lambda job: "early")
    root = make_job("Root", (late_job, early), check=lambda job: "root")
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0.05, workers=workers)
    dojob.checknrun()
    assert list(dojob.nodestatus) == ["Late", "Early", "Root"]
    assert list(dojob.noderesults) == ["Early", "Late", "Root"]
    assert dojob.noderesults == {"Early": "early", "Late": "late", "Root": "root"}


# 7. Instances that refuse the scheduler's attributes


class ReadOnlyStorage(Job):
    @property
    def storage(self) -> dict[str, Any]:  # type: ignore[override]
        return {}

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


class RefusesPhase(Job):
    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_check_phase":
            raise PermissionError(f"{name} is mine")
        super().__setattr__(name, value)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclasses.dataclass(frozen=True)
class Frozen(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


@ENGINES
@pytest.mark.parametrize("refuser, error", [
    (ReadOnlyStorage, AttributeError),
    (RefusesPhase, PermissionError),
    (Frozen, dataclasses.FrozenInstanceError),
], ids=["read-only-property", "setattr-raises", "frozen-dataclass"])
def test_an_instance_that_refuses_fails_its_job_and_the_run_goes_on(
    refuser: type[Job], error: type[BaseException], workers: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    checked: list[str] = []
    sibling = make_job("Sibling", check=lambda job: checked.append("Sibling"))
    root = make_job("Top", (refuser, sibling))
    dojob = run(root, workers, verbose=True, default_tries=2)
    assert dojob.nodestatus == {refuser.__name__: False, "Sibling": True, "Top": None}
    assert type(dojob.nodeexceptions[refuser.__name__]) is error
    assert checked == ["Sibling"]
    lines = capsys.readouterr().err.splitlines()
    assert lines.count(f"{refuser.__name__}.check: fail") == 2  # both tries
    assert "Sibling.check: pass" in lines


def test_node_dicts_are_plain_dicts_a_script_may_read_and_replace() -> None:
    """nodestatus, noderesults and nodeexceptions are made when first read;
    each is a dict, the same object on every read, and assignable."""
    from conftest import make_job

    bad = make_job("Bad", check=lambda job: (_ for _ in ()).throw(OSError("down")), TRIES=1)
    good = make_job("Good", check=lambda job: "fine")
    dojob = DoJobber()
    dojob.configure(make_job("Root", (good, bad)))
    dojob.checknrun()
    errors = dojob.nodeexceptions  # read first: the others agree with it
    assert list(errors) == ["Bad"] and isinstance(errors["Bad"], OSError)
    assert dojob.nodestatus == {"Good": True, "Bad": False, "Root": None}
    assert dojob.noderesults == {"Good": "fine"}
    assert type(dojob.nodestatus) is dict and dojob.nodestatus is dojob.nodestatus
    dojob.nodestatus["Extra"] = True  # a script's own notes stay
    assert dojob.nodestatus["Extra"] is True
    dojob.noderesults = {"replaced": 1}
    assert dojob.noderesults == {"replaced": 1}
    dojob.checknrun()  # a new run: new dicts
    assert "Extra" not in dojob.nodestatus and dojob.noderesults == {"Good": "fine"}
