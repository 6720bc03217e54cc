"""The movie example: EXAMPLE.md's expected results and the golden traces."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dojobber
import dojobber_example as doex
from dojobber import RunonlyJob

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
# The project's spec lives beside the clone; our copies must not drift from it.
SPEC = ROOT.parent / "shared" / "spec"
BASE = {"movie": "Noises Off", "battery_state": "dead"}


def run_movie(*args, **kwargs):
    dojob = dojobber.DoJobber()
    dojob.configure(doex.WatchMovie, default_retry_delay=0)
    dojob.set_args(*args, **kwargs)
    dojob.checknrun()
    return dojob


def test_default_arguments_leave_tv_and_couch_failing():
    dojob = run_movie("arg1", **BASE)
    expected = {name: True for name in dojob.nodestatus}
    expected.update(SitOnCouch=False, TurnOnTV=False, StartMovie=None, WatchMovie=None)
    assert dojob.nodestatus == expected
    assert str(dojob.nodeexceptions["TurnOnTV"]) == "Remote batteries are dead."
    assert str(dojob.nodeexceptions["SitOnCouch"]) == "No space on couch."
    assert set(dojob.nodeexceptions) == {"TurnOnTV", "SitOnCouch"}
    assert not dojob.success() and dojob.failure() and dojob.partial_success()


def test_charged_batteries_and_couch_space_pass_everything():
    dojob = run_movie("arg1", movie="MST3K", battery_state="charged", couch_space=True)
    assert set(dojob.nodestatus.values()) == {True}
    assert "WatchMovie" in dojob.nodestatus
    assert dojob.success() is True and dojob.failure() is False
    assert dojob.nodeexceptions == {}


LIMITS = {"bowl_success_try": 8, "pop_success_try": 5, "pizza_success_try": 3}


@pytest.mark.parametrize(
    "over, expected",
    [
        ({}, dict(Food=True, Pizza=True, PopcornBowl=True, Popcorn=True)),
        ({"bowl_success_try": 1}, dict(PopcornBowl=False, Popcorn=None, Food=None)),
        ({"pop_success_try": 1}, dict(Popcorn=False, Food=None)),
        (
            {"pizza_success_try": 1, "pop_success_try": 1},
            dict(Pizza=False, Popcorn=False, Food=None),
        ),
    ],
)
def test_retry_limits(over, expected):
    tries = {key: value + over.get(key, 0) for key, value in LIMITS.items()}
    dojob = run_movie("arg1", **BASE, **tries)
    for name, status in expected.items():
        assert dojob.nodestatus[name] is status, name


def test_tries_match_the_declared_budgets():
    assert doex.PopcornBowl.TRIES == 8
    assert doex.Popcorn.TRIES == 5
    assert doex.Pizza.TRIES == 3


@pytest.mark.parametrize("no_act", [False, True])
def test_runonly_job_results(no_act):
    class Mitchell(RunonlyJob):
        def Run(self, *args, **kwargs):
            return "Mitchell!!!"

    class Broken(RunonlyJob):
        def Run(self, *args, **kwargs):
            raise ValueError("It's broken.")

    for job in (Mitchell, Broken):
        dojob = dojobber.DoJobber()
        dojob.configure(job, no_act=no_act, default_retry_delay=0)
        dojob.checknrun()
        status = dojob.nodestatus[job.__name__]
        error = dojob.nodeexceptions.get(job.__name__)
        if no_act:
            assert status is False
            assert str(error) == "Runonly node check intentionally fails first time."
        elif job is Mitchell:
            assert status is True
            assert dojob.noderesults["Mitchell"] == "Mitchell!!!"
        else:
            assert status is False
            assert isinstance(error, ValueError) and str(error) == "It's broken."


def test_cleanup_false_waits_for_explicit_cleanup():
    borrowed: dict = {}
    dojob = dojobber.DoJobber()
    dojob.configure(doex.WatchMovie, cleanup=False, default_retry_delay=0)
    dojob.set_args(unittest_dict=borrowed, **BASE)
    dojob.checknrun()
    assert "duster_returned" not in borrowed
    dojob.cleanup()
    assert borrowed["duster_returned"] is True


def test_cleanup_runs_by_default():
    borrowed: dict = {}
    run_movie(unittest_dict=borrowed, **BASE)
    assert borrowed == {"duster_returned": True}


def test_failing_init_fails_that_job_and_blocks_its_dependants():
    class BrokenRemote(doex.FindTVRemote):
        def __init__(self):
            raise RuntimeError("remote fell behind the couch")

    class Tv(doex.TurnOnTV):
        DEPS = (BrokenRemote,)

    class Evening(doex.DummyJob):
        DEPS = (Tv, doex.PrepareRoom)

    dojob = dojobber.DoJobber()
    dojob.configure(Evening, default_retry_delay=0)
    dojob.set_args(battery_state="charged")
    dojob.checknrun()
    assert dojob.nodestatus["BrokenRemote"] is False
    assert str(dojob.nodeexceptions["BrokenRemote"]) == "remote fell behind the couch"
    assert dojob.nodestatus["Tv"] is None
    assert dojob.nodestatus["Evening"] is None
    assert dojob.nodestatus["PrepareRoom"] is True  # the rest still ran


def run_script(*args):
    return subprocess.run(
        [sys.executable, "dojobber_example.py", *args],
        cwd=ROOT / "tests",
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "golden, args, code",
    [
        ("default", ["-v", "--no-x11"], 1),
        ("success", ["-v", "--no-x11", "--battery_state", "charged", "--couch_space"], 0),
        ("no-act", ["-n", "-v", "--no-x11"], 1),
    ],
)
def test_script_stderr_is_the_golden_trace(golden, args, code):
    done = run_script(*args)
    expected = (GOLDEN / f"example-verbose-{golden}.txt").read_text()
    assert done.stderr == expected
    assert done.returncode == code
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.skipif(not SPEC.is_dir(), reason="no ../shared/spec beside this clone")
@pytest.mark.parametrize("golden", ["default", "success", "no-act"])
def test_golden_copies_match_the_spec(golden):
    name = f"example-verbose-{golden}.txt"
    assert (GOLDEN / name).read_text() == (SPEC / name).read_text()


def test_script_success_try_options_reach_their_jobs():
    # Each *_success_try option must change its own job's behaviour.
    done = run_script("-v", "--no-x11", "--battery_state", "charged", "--couch_space",
                      "--bowl_success_try", "1", "--pop_success_try", "1",
                      "--pizza_success_try", "1")
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert lines.count("PopcornBowl.recheck: pass") == 1
    assert lines.count("Popcorn.recheck: pass") == 1
    assert lines.count("Pizza.recheck: pass") == 1
    assert not any("recheck: fail" in line for line in lines)


def test_script_zardoz_is_not_available():
    done = run_script("-v", "--no-x11", "--movie", "Zardoz")
    assert done.returncode == 1
    assert "ValidateMovie.check: fail" in done.stderr.splitlines()
    assert 'ValidateMovie.recheck: fail "Zardoz not one of the available movies."' in (
        done.stderr.splitlines()
    )


@pytest.mark.skipif(shutil.which("dot") is None and sys.version_info < (3, 11),
                    reason="Graphviz's dot is not installed, and the in-process renderer "
                    "needs Python 3.11+")
def test_script_writes_png(tmp_path):
    out = tmp_path / "movie.png"
    done = run_script("--no-x11", "--png_output", str(out))
    assert done.returncode == 1
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
