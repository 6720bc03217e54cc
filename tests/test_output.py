"""Exact verbose and debug lines on stderr, and the developer log."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from conftest import application_logs_nowhere, make_job
from dojobber import DoJobber, Job, JobTypeError


def fails_until_run(job):
    if job._check_phase == "check":
        raise RuntimeError("not yet")


def run_quietly(root, **configure):
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0, **configure)
    dojob.checknrun()
    return dojob


def boom(job):
    raise ValueError("boom")


def test_verbose_lines(capsys):
    fine = make_job("Fine")
    fixed = make_job("Fixed", (fine,), check=fails_until_run)
    broken = make_job("Broken", check=lambda job: 1 / 0, run=boom, TRIES=1)
    run_quietly(make_job("Root", (fixed, broken)), verbose=True)
    assert capsys.readouterr().err.splitlines() == [
        "Fine.check: pass",
        "Fixed.check: fail",
        "Fixed.run: pass",
        "Fixed.recheck: pass",
        "Broken.check: fail",
        "Broken.run: fail",
        'Broken.recheck: fail "division by zero"',
    ]


def test_quiet_by_default(capsys):
    run_quietly(make_job("Broken", check=lambda job: 1 / 0, TRIES=1))
    assert capsys.readouterr() == ("", "")


def indented_traceback_ending(lines, start, last):
    """Lines from ``start`` are an indented traceback ending with ``last``."""
    assert lines[start] == "  Traceback (most recent call last):"
    end = lines.index(last, start)
    assert all(line.startswith("  ") for line in lines[start:end + 1])
    return end + 1


DURING = ["  ", "  During handling of the above exception, another exception occurred:", "  "]


def test_debug_adds_tracebacks_for_failed_run_and_recheck(capsys):
    broken = make_job("Broken", check=lambda job: 1 / 0, run=boom, TRIES=1)
    run_quietly(broken, debug=True)
    lines = capsys.readouterr().err.splitlines()
    # A failed first Check is routine: no traceback of its own, Run follows.
    # Run and the recheck ran while it was handled, as in 0.6.2: their
    # tracebacks show it first, as their context.
    assert lines[:3] == ["Broken.check: fail", "Broken.run: fail", "  Error was:"]
    context = indented_traceback_ending(lines, 3, "  ZeroDivisionError: division by zero")
    assert lines[context:context + 3] == DURING
    after = indented_traceback_ending(lines, context + 3, "  ValueError: boom")
    assert lines[after:after + 2] == ['Broken.recheck: fail "division by zero"',
                                      "  Error was:"]
    context = indented_traceback_ending(
        lines, after + 2, "  ZeroDivisionError: division by zero")
    assert lines[context:context + 3] == DURING
    end = indented_traceback_ending(lines, context + 3, "  ZeroDivisionError: division by zero")
    assert end == len(lines)


def test_debug_no_act_shows_the_failed_checks_traceback(capsys):
    run_quietly(make_job("Broken", check=boom), debug=True, no_act=True)
    lines = capsys.readouterr().err.splitlines()
    assert lines[:2] == ["Broken.check: fail", "  Error was:"]
    assert indented_traceback_ending(lines, 2, "  ValueError: boom") == len(lines)


def test_failing_init_lines_and_developer_log(capsys):
    class Unmakeable(Job):
        def __init__(self):
            raise OSError("no way")

        def Check(self, *args, **kwargs):
            pass

    dojob = DoJobber()
    dojob.configure(Unmakeable, verbose=True, default_tries=1)
    dojob.checknrun()
    assert capsys.readouterr().err.splitlines() == ["Unmakeable.check: fail"]

    dojob = DoJobber(dojobber_loglevel=logging.ERROR)
    dojob.configure(Unmakeable, debug=True, default_tries=1)
    with application_logs_nowhere():
        dojob.checknrun()
    lines = capsys.readouterr().err.splitlines()
    assert lines[:3] == [
        'DoJobber ERROR              : Could not create Job "Unmakeable" - check its __init__',
        "Unmakeable.check: fail",
        "  Could not create job, error was ",
    ]
    assert indented_traceback_ending(lines, 3, "  OSError: no way") == len(lines)
    assert isinstance(dojob.nodeexceptions["Unmakeable"], OSError)
    DoJobber()  # back to the CRITICAL default for other tests


def test_cleanup_lines_with_debug(capsys):
    class Tidy(Job):
        def Check(self, *args, **kwargs):
            pass
        def Cleanup(self):
            pass

    run_quietly(Tidy, debug=True)
    assert capsys.readouterr().err.splitlines() == [
        "Tidy.check: pass", "Tidy.cleanup running", "Tidy.cleanup: pass"]


def test_failed_cleanup_is_reported_even_when_quiet(capsys):
    class Messy(Job):
        def Check(self, *args, **kwargs):
            pass
        def Cleanup(self):
            raise RuntimeError("spilled")

    with pytest.raises(RuntimeError, match="spilled"):
        run_quietly(Messy)
    assert capsys.readouterr().err == 'Messy.cleanup: fail "spilled"\n'


def test_developer_log_builds_the_graph_at_debug_without_duplicates(capsys):
    leaf = make_job("Leaf")
    root = make_job("Root", (leaf,))
    for _ in range(3):
        DoJobber(dojobber_loglevel=logging.DEBUG)
    dojob = DoJobber(dojobber_loglevel=logging.DEBUG)
    with application_logs_nowhere():
        dojob.configure(root)
    lines = capsys.readouterr().err.splitlines()
    assert "DoJobber DEBUG              : Adding job Root" in lines
    assert "DoJobber DEBUG              : Adding dependency Root -> Leaf" in lines
    assert len(lines) == len(set(lines))
    DoJobber()
    dojob.configure(root)
    assert capsys.readouterr().err == ""


def test_non_iterable_deps_is_logged_critical_then_raised(capsys):
    bad = make_job("Bad")
    bad.DEPS = 5
    with application_logs_nowhere(), pytest.raises(
            JobTypeError, match='DEPS for Bad is not iterable; is "5"'):
        DoJobber().configure(bad)
    assert capsys.readouterr().err == (
        'DoJobber CRITICAL           : DEPS for Bad is not iterable; is "5"\n')


def test_importing_prints_nothing():
    done = subprocess.run([sys.executable, "-c", "import dojobber, dojobber.dojobber"],
                          capture_output=True, text=True, check=True)
    assert (done.stdout, done.stderr) == ("", "")


def test_unprintable_exception_does_not_break_verbose_output(capsys):
    class Sullen(Exception):
        def __str__(self):
            raise RuntimeError("won't say")

    def sulk(job):
        raise Sullen()

    dojob = run_quietly(make_job("Sulky", check=sulk, TRIES=1), verbose=True)
    assert capsys.readouterr().err.splitlines()[-1] == (
        'Sulky.recheck: fail "<Sullen: str() failed>"')
    assert isinstance(dojob.nodeexceptions["Sulky"], Sullen)
