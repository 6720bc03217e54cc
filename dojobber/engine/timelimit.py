"""Time limits: a try that runs past its job's TIMEOUT fails with JobTimeoutError.

This sits where a try is made, around ``Try`` (trying.py): a place that
makes tries in this process wraps them with ``within_limits`` when a job of
the plan has a TIMEOUT, and the engines never see the difference. A try that
has a limit is made one of two ways:

- **Interrupted by an alarm**, when the try runs in the main thread on a
  platform with ``signal.setitimer`` (the sequential engine, called from
  the main thread, with no other SIGALRM handler installed): SIGALRM raises
  TryExpired inside the job's code, whatever it is doing (a blocking call
  such as ``time.sleep``, a socket read or a lock wait is interrupted too),
  and the try ends there. Outside the job's code (DoJobber's bookkeeping,
  an observer) the alarm waits until the job's code runs again. Inside
  the job's code counts all that the job's method calls, a DoJobber run
  of its own included, and the ``__str__`` of the job's exception while
  DoJobber describes it (errortext.DESCRIBERS: its text then says so).
- **Abandoned in a helper thread** everywhere else (worker threads of a
  parallel run, a run started from another thread, Windows): the try runs
  in its own daemon thread while the calling thread waits at most the
  limit. Python cannot stop a thread, so a try still running then is left
  behind: from that moment nothing it reports (events, outcome, instance
  to clean up) reaches the run.

Either way the try's outcome is JobTimeoutError, reported as the end of the
phase it was in, and the run goes on. A try reports through its events
and its Sink; a try under a time limit reports to a ``Watch``, which is
its sink and gates its events: what arrives after the limit is dropped.
The watch decides under its lock and calls observers outside it, so that a
slow observer cannot hold the limit up.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType, TracebackType
from typing import Any, Callable

from ..errors import JobTimeoutError, TryExpired
from ..errortext import DESCRIBERS
from ..jobs import Job
from ..results import Outcome
from .trying import JOB_CALLERS, Try, TryFunction

log = logging.getLogger("DoJobber")

#: Seconds between two alarms in a try that caught the first and carried on.
REPEAT = 1.0
#: Seconds until an alarm that went off outside the job's code comes back.
DEFER = 0.005
#: The first part of the name of every module of DoJobber's.
PACKAGE = __name__.split(".")[0] + "."


def within_limits(tries: Try) -> TryFunction:
    """``tries``, with each job's TIMEOUT enforced.

    Jobs without a TIMEOUT are tried exactly as without this wrapper.
    """
    timeouts = tries.result.plan.timeouts

    def execute(i: int) -> None:
        limit = timeouts.get(i)
        if limit is None:
            return tries.make(i)
        watch = Watch(tries, i, limit)
        gated = tries.reporting_to(watch.gated_events(), watch)

        def attempt() -> None:
            gated.make(i)

        if alarm_available():
            watch.under_alarm(attempt)
        else:
            watch.in_thread(attempt)
        return None

    return execute


def alarm_available() -> bool:
    """Whether a try started now can be interrupted by SIGALRM."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        # Someone else's alarm (or an outer run's) is not ours to take over.
        and signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


class GatedEvents:
    """The events of one try under a time limit, each call gated by its Watch."""

    def __init__(self, try_started: list[Callable[..., None]],
                 not_created: list[Callable[..., None]],
                 phase_ended: list[Callable[..., None]],
                 check_passed: list[Callable[..., None]]):
        self.try_started = try_started
        self.not_created = not_created
        self.phase_ended = phase_ended
        self.check_passed = check_passed


class Watch:
    """One try under a time limit: the phase it is in, and whether what it
    reports still counts. It is the try's Sink; ``lock`` orders the try's
    reports against the end of its time."""

    def __init__(self, tries: Try, i: int, limit: float):
        self.events = tries.events  # the run's: what a gated report reaches
        self.sink = tries.sink
        self.no_act = tries.no_act
        self.i = i
        self.name = tries.names[i]
        self.limit = limit
        self.lock = threading.Lock()
        self.phase = "check"
        self.live = True  # what the try reports still reaches the run
        self.ended = False  # the try reported its outcome
        self.due = False  # the limit has passed (the signal way)
        self.expired = False  # the alarm was raised: only a timeout is reported now
        self.armed = False  # the alarm is ours to handle (the signal way)
        self.error: BaseException | None = None  # escaped the try's thread

    def gated_events(self) -> GatedEvents:
        """The run's try events, each gated by this watch; the phase is
        followed before any observer hears of it."""
        events, gate = self.events, self._gate
        return GatedEvents(
            [gate(notify) for notify in events.try_started],
            [gate(notify) for notify in events.not_created],
            [gate(self._phase_ended)] + [gate(notify) for notify in events.phase_ended],
            [gate(notify) for notify in events.check_passed],
        )

    def _gate(self, report: Callable[..., None]) -> Callable[..., None]:
        lock = self.lock

        def gated(*args: Any) -> None:
            with lock:
                passing = self.live and not self.expired
            # Called without the lock: the limit must not wait for an
            # observer. One the try began before its limit may end after it.
            if passing:
                report(*args)

        return gated

    # The Sink of the try

    def keep(self, i: int, name: str, job: Job) -> None:
        # An instance whose try the alarm ended gets its Cleanup: that try
        # is over. One left behind in a thread does not: it may still run.
        with self.lock:
            if self.live:
                self.sink.keep(i, name, job)

    def _phase_ended(self, job: str, phase: str, error: BaseException | None) -> None:
        # The phase that comes next, if any; else the try is in its last one.
        if phase == "run" or (
            phase == "check" and error is not None and not self.no_act
        ):
            self.phase = "run" if phase == "check" else "recheck"

    def record(
        self, i: int, outcome: Outcome, value: Any, error: BaseException | None
    ) -> None:
        with self.lock:
            if not self.live:
                return
            self.ended = True
        if self.due:
            # Finished after the limit: the job caught the alarm and
            # carried on, or the alarm was put off until now.
            self._time_out(None)
        else:
            self.sink.record(i, outcome, value, error)

    def _time_out(self, traceback: TracebackType | None) -> None:
        """Fail the try with JobTimeoutError, as the end of its current phase."""
        error = JobTimeoutError(self.name, self.phase, self.limit)
        error.__traceback__ = traceback
        for notify in self.events.phase_ended:
            notify(self.name, self.phase, error)
        self.sink.record(self.i, Outcome.FAILED, None, error)

    # The signal way

    def under_alarm(self, attempt: Callable[[], None]) -> None:
        """Make the try in this (the main) thread; SIGALRM interrupts it at the limit."""
        previous = signal.signal(signal.SIGALRM, self._alarm)
        self.armed = True
        try:
            signal.setitimer(signal.ITIMER_REAL, self.limit, min(self.limit, REPEAT))
            attempt()
        except TryExpired as expired:
            with self.lock:
                self.ended = True
            self._time_out(_job_frames(expired.__traceback__))
        finally:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _alarm(self, signum: int, frame: FrameType | None) -> None:
        if not self.armed or self.ended:
            return
        self.due = True
        if not _in_job_code(frame):
            # Between two phases, recording an outcome, or in an observer:
            # an exception here would cut DoJobber's bookkeeping in half or
            # switch an observer off. Come back as soon as the job runs.
            signal.setitimer(signal.ITIMER_REAL, DEFER, min(self.limit, REPEAT))
            return
        self.expired = True
        raise TryExpired(self.name, self.limit)

    # The thread way

    def in_thread(self, attempt: Callable[[], None]) -> None:
        """Make the try in a helper thread; wait at most the limit, then abandon it."""
        # Waited for rather than Thread.join: a join that Ctrl-C interrupts
        # can leave the Thread marked as ended while it runs (CPython < 3.13).
        finished = threading.Event()

        def target() -> None:
            try:
                attempt()
            except BaseException as error:
                with self.lock:
                    if self.live:
                        self.error = error  # the waiting thread raises it
                    else:
                        log.debug("Abandoned try of %s raised %r", self.name, error)
            finally:
                finished.set()

        thread = threading.Thread(target=target, name=f"dojobber-try-{self.name}", daemon=True)
        try:
            thread.start()
            finished.wait(self.limit)
        except BaseException:
            # Ctrl-C while waiting: the try is left behind, like the run.
            with self.lock:
                self.live = False
            raise
        with self.lock:
            expired = not finished.is_set() and not self.ended
            if expired:
                self.live = False
        if expired:
            self._time_out(_stack_of(thread))
            return
        # Done, or only its bookkeeping after the outcome is left.
        finished.wait()
        error, self.error = self.error, None
        if error is not None:
            try:
                raise error
            finally:
                error = None  # no frame <-> traceback cycle


def _in_job_code(frame: FrameType | None) -> bool:
    """Whether the alarm's try is in the job's own code at ``frame``.

    Going out from ``frame`` to the try under the alarm, the outermost call
    from DoJobber's code into code that is not DoJobber's decides: a try
    calling the job's method (then anything the job called, a DoJobber run
    of its own included, is the job's), or a describer calling an
    exception's ``__str__``. Any other (an observer being notified) is not
    the job's, nor is DoJobber's bookkeeping, where there is no such call.
    """
    outermost = None
    foreign_callee = False
    while frame is not None and frame.f_code is not UNDER_ALARM:
        ours = _is_ours(frame)
        if ours and foreign_callee:
            outermost = frame.f_code
        foreign_callee = not ours
        frame = frame.f_back
    return outermost in INTERRUPTIBLE


def _is_ours(frame: FrameType) -> bool:
    name = frame.f_globals.get("__name__")
    return isinstance(name, str) and name.startswith(PACKAGE)


def _job_frames(traceback: TracebackType | None) -> TracebackType | None:
    """The part of an alarm's traceback inside the job: where it was stuck.

    DoJobber's own frames are left out (the try's before, the alarm
    handler's after); they would also tie the run's state to the error in a
    reference cycle.
    """
    while traceback is not None and _is_ours(traceback.tb_frame):
        traceback = traceback.tb_next
    last = traceback
    while last is not None and last.tb_next is not None:
        if _is_ours(last.tb_next.tb_frame):
            last.tb_next = None
        else:
            last = last.tb_next
    return traceback


def _stack_of(thread: threading.Thread) -> TracebackType | None:
    """Where a thread left behind is now, as a traceback of its job's frames."""
    frame = sys._current_frames().get(thread.ident or -1)
    traceback = None
    while frame is not None and not _is_ours(frame):
        traceback = TracebackType(traceback, frame, frame.f_lasti, frame.f_lineno)
        frame = frame.f_back
    return traceback


UNDER_ALARM = Watch.under_alarm.__code__
#: Where the alarm may interrupt what DoJobber called (see _in_job_code).
INTERRUPTIBLE = JOB_CALLERS | DESCRIBERS
