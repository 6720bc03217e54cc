"""Cleanup order and lifetime, local and global storage."""

from __future__ import annotations

import pytest

from conftest import make_job
from dojobber import DoJobber, Job


def cleaning_job(name, log, deps=(), fail_times=0, cleanup_error=None, tries=3):
    class Cleaned(Job):
        DEPS = deps
        TRIES = tries

        def __init__(self):  # no super().__init__(): must still work
            self.serial = len(log["made"])
            log["made"].append(name)

        def Check(self, *args, **kwargs):
            count = self.global_storage.get(name, 0)
            if count < fail_times:
                raise RuntimeError(f"{name} #{count}")

        def Run(self, *args, **kwargs):
            self.global_storage[name] = self.global_storage.get(name, 0) + 1

        def Cleanup(self):
            log["cleaned"].append((name, self.serial))
            if cleanup_error:
                raise cleanup_error

    Cleaned.__name__ = Cleaned.__qualname__ = name
    return Cleaned


def new_log():
    return {"made": [], "cleaned": []}


def test_cleanup_is_lifo_once_per_instance():
    log = new_log()
    first = cleaning_job("First", log)
    flaky = cleaning_job("Flaky", log, fail_times=2)
    root = cleaning_job("Root", log, (first, flaky))
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0)
    dojob.checknrun()
    assert dojob.success()
    # Flaky: try 1 fails, try 2 fails... its 3 instances are each cleaned up.
    assert log["made"] == ["First", "Flaky", "Flaky", "Root"]
    assert log["cleaned"] == [("Root", 3), ("Flaky", 2), ("Flaky", 1), ("First", 0)]
    dojob.cleanup()
    assert len(log["cleaned"]) == 4


@pytest.mark.parametrize("workers", [1, 3])
def test_failing_cleanups_do_not_stop_the_rest_and_the_first_propagates(workers):
    """Like contextlib.ExitStack: every Cleanup runs, then the first error."""
    log = new_log()
    first = cleaning_job("First", log)
    messy = cleaning_job("Messy", log, (first,), cleanup_error=OSError("stuck"))
    worse = cleaning_job("Worse", log, (messy,), cleanup_error=KeyError("lost"))
    last = cleaning_job("Last", log, (worse,))
    dojob = DoJobber()
    dojob.configure(last, cleanup=False, workers=workers)
    dojob.checknrun()
    with pytest.raises(KeyError, match="lost") as caught:
        dojob.cleanup()
    assert type(caught.value) is KeyError  # the first failure, newest first
    assert log["cleaned"] == [("Last", 3), ("Worse", 2), ("Messy", 1), ("First", 0)]
    assert [(e.job, str(e.error)) for e in dojob.report().cleanup_errors] == [
        ("Worse", "KeyError: 'lost'"), ("Messy", "OSError: stuck")]
    dojob.cleanup()  # each instance once: nothing is left
    assert len(log["cleaned"]) == 4


def test_checknrun_raises_a_failing_cleanup_after_recording_results():
    log = new_log()
    messy = cleaning_job("Messy", log, cleanup_error=RuntimeError("spilled"))
    dojob = DoJobber()
    dojob.configure(messy)
    with pytest.raises(RuntimeError, match="spilled"):
        dojob.checknrun()
    assert dojob.nodestatus == {"Messy": True}


def test_instances_from_several_runs_wait_for_cleanup():
    log = new_log()
    job = cleaning_job("Job", log)
    dojob = DoJobber()
    dojob.configure(job, cleanup=False)
    dojob.checknrun()
    dojob.checknrun()
    assert log["cleaned"] == []
    dojob.cleanup()
    assert log["cleaned"] == [("Job", 1), ("Job", 0)]


def test_jobs_without_cleanup_are_skipped():
    log = new_log()
    plain = make_job("Plain")
    tidy = cleaning_job("Tidy", log, (plain,))
    dojob = DoJobber()
    dojob.configure(tidy)
    dojob.checknrun()
    assert log["cleaned"] == [("Tidy", 0)]


def test_local_storage_is_private_to_one_try_and_global_is_shared():
    seen = []

    def check(job):
        seen.append((type(job).__name__, job._check_phase, dict(job.storage),
                     dict(job.global_storage)))
        if job._check_phase == "check":
            job.storage["mine"] = type(job).__name__
            raise RuntimeError("again")
        if type(job).__name__ == "Writer" and "tries" not in job.global_storage:
            job.global_storage["tries"] = 1
            raise RuntimeError("once more")

    writer = make_job("Writer", check=check)
    reader = make_job("Reader", (writer,), check=check)
    dojob = DoJobber()
    dojob.configure(reader, default_retry_delay=0)
    dojob.checknrun()
    assert dojob.success()
    assert seen == [
        ("Writer", "check", {}, {}),
        ("Writer", "recheck", {"mine": "Writer"}, {}),
        ("Writer", "check", {}, {"tries": 1}),  # new try, new storage
        ("Writer", "recheck", {"mine": "Writer"}, {"tries": 1}),
        ("Reader", "check", {}, {"tries": 1}),
        ("Reader", "recheck", {"mine": "Reader"}, {"tries": 1}),
    ]
