"""Corners 0.6.2 scripts meet: the developer log at level 0, the recheck's
error with the first Check's as its context, and a Check that returns False.

Each in every engine where it applies: sequential, threads, under time
limits, and on executors (a thread pool and a process pool).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest

from dojobber import DoJobber, DoJobberWarning, DummyJob, Job, RunonlyJob
from dojobber.executor import RemoteTraceback


ENGINES = ["sequential", "threads", "time-limit", "threads-time-limit", "thread-pool",
           "process-pool"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """configure()'s options for each engine."""
    name = request.param
    if name == "process-pool":
        yield {"executor": request.getfixturevalue("process_pool")}
    elif name == "thread-pool":
        with ThreadPoolExecutor(2) as pool:
            yield {"executor": pool}
    else:
        options: dict[str, Any] = {"workers": 3 if "threads" in name else 1}
        if "time-limit" in name:
            options["default_timeout"] = 600  # a limit that never runs out
        yield options


def run(root: type[Job], engine: dict[str, Any], **configure: Any) -> DoJobber:
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0, **engine, **configure)
    dojob.checknrun()
    return dojob


# 2. dojobber_loglevel=0 is "not set": silent, as in 0.6.2

QUIET_SCRIPT = """\
import logging, sys
import dojobber

class Unmakeable(dojobber.Job):
    def __init__(self):
        raise OSError("no way")
    def Check(self, *args, **kwargs):
        pass

level = eval(sys.argv[1])
dojob = dojobber.DoJobber(dojobber_loglevel=level)
dojob.configure(Unmakeable, default_tries=1)
dojob.checknrun()
print(dojob.nodestatus)
"""


@pytest.mark.parametrize("level", ["0", "logging.NOTSET", "'NOTSET'", "None", "False"])
def test_loglevel_not_set_is_silent(tmp_path: Path, level: str) -> None:
    (tmp_path / "quiet.py").write_text(QUIET_SCRIPT)
    done = subprocess.run([sys.executable, "quiet.py", level], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "{'Unmakeable': False}\n", "")
    # The same script at ERROR prints the line: the test can see it.
    loud = subprocess.run([sys.executable, "quiet.py", "logging.ERROR"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert loud.stderr == (
        'DoJobber ERROR              : Could not create Job "Unmakeable" - check its __init__\n')


# 3. The recheck's error has the first Check's as its __context__


class NotYet(Job):
    """Check fails with KeyError, Run fails, the recheck fails with ValueError."""

    TRIES = 1

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if self._check_phase == "check":
            raise KeyError("not there yet")
        raise ValueError("still not there")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        raise OSError("the run went wrong")


class Recovers(Job):
    """Check fails, Run fixes it: no error is kept."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if self._check_phase == "check":
            raise KeyError("not yet")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class Both(Job):
    DEPS = (NotYet, Recovers)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


def test_the_rechecks_error_has_the_checks_as_context(
    engine: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    dojob = run(NotYet, engine, verbose=True)
    error = dojob.nodeexceptions["NotYet"]
    assert (type(error), str(error)) == (ValueError, "still not there")
    context = error.__context__
    assert (type(context), str(context)) == (KeyError, "'not there yet'")
    # The verbose lines are what they were.
    assert capsys.readouterr().err.splitlines() == [
        "NotYet.check: fail", "NotYet.run: fail", 'NotYet.recheck: fail "still not there"']


def test_debug_shows_both_errors(engine: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    dojob = run(Both, engine, debug=True)
    assert dojob.nodestatus == {"NotYet": False, "Recovers": True, "Both": None}
    err = capsys.readouterr().err
    recheck = err[err.index('NotYet.recheck: fail "still not there"\n  Error was:\n'):]
    recheck = recheck[:recheck.index("NotYet.cleanup") if "NotYet.cleanup" in recheck else None]
    # The first Check's error, then the recheck's, as Python chains them.
    first = recheck.index("  KeyError: 'not there yet'\n")
    during = recheck.index("During handling of the above exception, another exception occurred")
    last = recheck.index("ValueError: still not there")
    assert first < during < last
    # Recovers passed after its Run: nothing about its Check's error is shown.
    assert "'not yet'" not in err


def test_a_runonly_jobs_recheck_and_runs_errors_chain_as_in_0_6_2(engine: dict[str, Any]) -> None:
    dojob = run(RunonlyFails, engine)
    error = dojob.nodeexceptions["RunonlyFails"]
    assert (type(error), str(error)) == (OSError, "the run went wrong")
    context = error.__context__
    assert (type(context), str(context)) == (
        RuntimeError, "Runonly node check intentionally fails first time.")


class RunonlyFails(RunonlyJob):
    TRIES = 1

    def Run(self, *args: Any, **kwargs: Any) -> None:
        raise OSError("the run went wrong")


def test_on_an_executor_the_printed_traceback_is_the_workers(process_pool: Any) -> None:
    dojob = run(NotYet, {"executor": process_pool})
    error = dojob.nodeexceptions["NotYet"]
    assert isinstance(error.__cause__, RemoteTraceback)
    printed = "".join(traceback.format_exception(error))
    assert printed.index("KeyError: 'not there yet'") < printed.index(
        "During handling of the above exception") < printed.index("ValueError: still not there")


# 5. A Check that returns False passes, with one warning per job class

class ReturnsFalse(Job):
    def Check(self, *args: Any, **kwargs: Any) -> bool:
        return False


class FalseAfterRun(Job):
    def Check(self, *args: Any, **kwargs: Any) -> bool:
        if self._check_phase == "check":
            raise KeyError("not yet")
        return False

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class ReturnsZero(Job):
    def Check(self, *args: Any, **kwargs: Any) -> int:
        return 0


class RunReturnsFalse(RunonlyJob):
    """Its recheck returns what Run returned: not a mistake."""

    def Run(self, *args: Any, **kwargs: Any) -> bool:
        return False


class RunonlyOwnCheck(RunonlyJob):
    """A RunonlyJob with a Check of its own: that Check is the user's."""

    def Check(self, *args: Any, **kwargs: Any) -> bool:
        return False


class AllFalse(Job):
    DEPS = (ReturnsFalse, FalseAfterRun, ReturnsZero, RunReturnsFalse, RunonlyOwnCheck)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


def false_message(name: str) -> str:
    return (f"{name}.Check returned False, and {name} passed: a Check fails only by raising, "
            "as in DoJobber 0.6.2. To fail, raise an exception (for instance 'if not "
            "os.path.exists(path): raise FileNotFoundError(path)'); to pass, return None or "
            "any value but False")


def test_a_check_returning_false_passes_with_a_warning(engine: dict[str, Any]) -> None:
    dojob = DoJobber()
    dojob.configure(AllFalse, default_retry_delay=0, **engine)
    for _ in range(2):  # each run says it again
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dojob.checknrun()  # the line the warnings point at
        assert [w.category for w in caught] == [DoJobberWarning] * 3
        assert sorted(str(w.message) for w in caught) == sorted(
            false_message(name) for name in ("ReturnsFalse", "FalseAfterRun", "RunonlyOwnCheck"))
        assert {(w.filename, w.lineno) for w in caught} == {
            (__file__, test_a_check_returning_false_passes_with_a_warning.__code__.co_firstlineno
             + 6)}
        # The outcome is 0.6.2's: they passed.
        assert dojob.success() is True
        assert dojob.noderesults["ReturnsFalse"] is False
        assert dojob.noderesults["FalseAfterRun"] is False
        assert dojob.noderesults["RunReturnsFalse"] is False


def test_false_warnings_come_once_per_class_by_default(tmp_path: Path) -> None:
    script = tmp_path / "falsy.py"
    script.write_text(textwrap.dedent("""\
        import dojobber

        class Exists(dojobber.Job):
            def Check(self, *args, **kwargs):
                return False

        dojob = dojobber.DoJobber()
        dojob.configure(Exists)
        for _ in range(3):
            dojob.checknrun()
        print(dojob.nodestatus)
        """))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "{'Exists': True}\n")
    assert done.stderr == (f"{script}:10: DoJobberWarning: {false_message('Exists')}\n"
                           "  dojob.checknrun()\n")


def test_the_command_shows_the_runs_warnings(tmp_path: Path) -> None:
    (tmp_path / "jobs.py").write_text(textwrap.dedent("""\
        import os
        import dojobber

        class Exists(dojobber.Job):
            def Check(self, *args, **kwargs):
                return os.path.exists("made")

            def Run(self, *args, **kwargs):
                pass
        """))
    done = subprocess.run(
        [sys.executable, "-m", "dojobber", "run", "jobs.py:Exists", "--log-file", "run.log"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    line = f"dojobber: warning: {false_message('Exists')}"
    assert done.returncode == 0
    assert line in done.stderr.splitlines()
    assert line in (tmp_path / "run.log").read_text().splitlines()
    assert "DoJobberWarning" not in done.stderr


# 4. A job without Check (or Run) fails as in 0.6.2, whose Job had neither:
#    the AttributeError Python gives for the missing method

class NoCheck(Job):
    pass


class NoRun(RunonlyJob):
    pass


class Lacking(Job):
    DEPS = [NoCheck, NoRun]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


def test_a_job_without_check_or_run_fails_with_0_6_2s_attribute_error(
    engine: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.warns(DoJobberWarning, match="^NoCheck defines no Check, so every try"):
        dojob = run(Lacking, engine, verbose=True, default_tries=1)
    errors = dojob.nodeexceptions
    assert {name: (type(error), str(error)) for name, error in errors.items()} == {
        "NoCheck": (AttributeError, "'NoCheck' object has no attribute 'Check'"),
        "NoRun": (AttributeError, "'NoRun' object has no attribute 'Run'"),
    }
    # What 0.6.2 prints for these two jobs (threads may interleave them).
    lines = capsys.readouterr().err.splitlines()
    for name, method in (("NoCheck", "Check"), ("NoRun", "Run")):
        assert [line for line in lines if line.startswith(name + ".")] == [
            f"{name}.check: fail",
            f"{name}.run: fail",
            f"{name}.recheck: fail \"'{name}' object has no attribute '{method}'\"",
        ]


def test_the_missing_check_error_is_pythons_own_for_any_name() -> None:
    """The interpreter words it: a long name is shortened as CPython does."""
    long_name = type("Job" + "x" * 150, (Job,), {})
    with pytest.warns(DoJobberWarning):
        dojob = run(long_name, {}, default_tries=1, cleanup=False)
    error = dojob.nodeexceptions[long_name.__name__]
    with pytest.raises(AttributeError) as python_says:
        type(long_name.__name__, (), {})().Check  # noqa: B018 - the lookup is the test
    assert str(error) == str(python_says.value)
    # Shortened (to 50 characters before Python 3.12, 100 since), as 0.6.2's
    # lookup was on the same interpreter.
    assert str(error) != f"'{long_name.__name__}' object has no attribute 'Check'"
    assert (error.name, error.obj.__class__) == ("Check", long_name)


# 5. A DoJobber subclass's cleanup() and success(): 0.6.2's checknrun called
#    them on self, so an override is called at the same points

CALLS: list[str] = []


class Cleaned(Job):
    """Records its Cleanup (in this process, whichever engine made the try)."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass

    def Cleanup(self) -> None:
        CALLS.append(f"{type(self).__name__}.Cleanup")


class Leaf(Cleaned):
    pass


class Middle(Cleaned):
    DEPS = [Leaf]


class Top(Cleaned):
    DEPS = [Middle]


class Closing(DoJobber):
    """An override that wraps the Cleanups, as a 0.6.2 script may."""

    def cleanup(self) -> None:
        CALLS.append("cleanup() begins")
        super().cleanup()
        super().cleanup()  # again: nothing is cleaned up twice
        CALLS.append("cleanup() ends")


def test_checknrun_ends_with_an_overridden_cleanup(engine: dict[str, Any]) -> None:
    CALLS.clear()
    dojob = Closing()
    dojob.configure(Top, **engine)
    dojob.checknrun()
    assert CALLS == ["cleanup() begins", "Top.Cleanup", "Middle.Cleanup", "Leaf.Cleanup",
                     "cleanup() ends"]
    assert dojob.success()
    # With cleanup=False the run calls it not; the script does, as with 0.6.2.
    CALLS.clear()
    dojob.configure(Top, cleanup=False, **engine)
    dojob.checknrun()
    assert CALLS == []
    dojob.cleanup()
    assert CALLS == ["cleanup() begins", "Top.Cleanup", "Middle.Cleanup", "Leaf.Cleanup",
                     "cleanup() ends"]


class Keeping(DoJobber):
    """An override that runs no Cleanup (0.6.2 ran none then either)."""

    def cleanup(self) -> None:
        CALLS.append("kept them")


def test_cleanups_an_override_leaves_stay_pending_for_a_later_call() -> None:
    CALLS.clear()
    dojob = Keeping()
    dojob.configure(Top)
    dojob.checknrun()
    assert CALLS == ["kept them"]
    DoJobber.cleanup(dojob)  # what the override's super().cleanup() would do
    assert CALLS == ["kept them", "Top.Cleanup", "Middle.Cleanup", "Leaf.Cleanup"]


class Interrupting(Cleaned):
    DEPS = [Middle]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if self._check_phase == "check":
            raise KeyError("not yet")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        signal.raise_signal(signal.SIGINT)  # Ctrl-C, as a terminal sends it


def test_after_ctrl_c_the_cleanups_run_but_not_the_override() -> None:
    """The decision of docs/migrating.rst: 0.6.2 called no cleanup() after
    Ctrl-C; here every pending Cleanup runs, the override does not."""
    CALLS.clear()
    dojob = Closing()
    dojob.configure(Interrupting)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    assert CALLS == ["Interrupting.Cleanup", "Middle.Cleanup", "Leaf.Cleanup"]
    # A script that wants its cleanup() then calls it: nothing is cleaned twice.
    dojob.cleanup()
    assert CALLS[3:] == ["cleanup() begins", "cleanup() ends"]
    # A run that ends normally calls the override, as 0.6.2 did.
    CALLS.clear()
    dojob.configure(Top)
    dojob.checknrun()
    assert CALLS[0] == "cleanup() begins"


class Important(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        CALLS.append("Important")


class Flaky(Job):
    TRIES = 3

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if self._check_phase == "check":
            CALLS.append("Flaky")
        raise ValueError("not today")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class Goal(DummyJob):
    DEPS = [Important, Flaky]


class Enough(DoJobber):
    """Success is Important passing: 0.6.2 then stopped retrying Flaky."""

    asked: list[tuple[dict[str, bool | None], bool]]

    def __init__(self, stop: bool):
        super().__init__()
        self.stop = stop
        self.asked = []

    def success(self) -> bool:
        answer = super().success() or (self.stop and self.nodestatus.get("Important") is True)
        self.asked.append((dict(self.nodestatus), answer))
        return answer


SO_FAR = {"Important": True, "Flaky": False, "Goal": None}


@pytest.mark.parametrize("engine", ["sequential", "time-limit"], indirect=True)
@pytest.mark.parametrize(("stop", "tries"), [(True, 1), (False, 3)])
def test_an_overridden_success_is_asked_after_each_pass(
    engine: dict[str, Any], stop: bool, tries: int
) -> None:
    """What 0.6.2 itself does with this script: asked once a pass, it sees
    the run so far; a true answer ends the run; failure() asks it too."""
    CALLS.clear()
    dojob = Enough(stop)
    dojob.configure(Goal, default_retry_delay=0, **engine)
    dojob.checknrun()
    assert CALLS == ["Important"] + ["Flaky"] * tries
    assert dojob.asked == [(SO_FAR, stop)] * tries
    assert dojob.failure() is not stop
    assert dojob.asked[-1] == (SO_FAR, stop)


@pytest.mark.parametrize("options", [{"workers": 3}, {"executor": "thread_pool"}])
def test_only_runs_in_passes_ask_success_after_a_pass(
    options: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    """Threads and executors start each job as soon as it may: no passes,
    so an overridden success() is not asked during the run (a documented
    difference); the run goes on to the end of every job's tries."""
    # In passes (the sequential engine), it is asked, and stops the run.
    dojob = Enough(True)
    dojob.configure(Goal, default_retry_delay=0)
    dojob.checknrun()
    assert dojob.asked == [(SO_FAR, True)]
    if options.get("executor") == "thread_pool":
        options = {"executor": request.getfixturevalue("thread_pool")}
    CALLS.clear()
    dojob = Enough(True)
    dojob.configure(Goal, default_retry_delay=0, **options)
    dojob.checknrun()
    assert sorted(CALLS) == ["Flaky"] * 3 + ["Important"]
    assert dojob.asked == []
    assert dojob.success() is True
