"""The worker's side of the executor engine: one try made where the task runs, sent back.

``run_try`` is the function every task calls. It receives a ``TryTask``:
the job class, its arguments and the run's ``global_storage``, pickled
(transfer.py); makes the try with ``Try`` as any engine does (its TIMEOUT
too); and sends back a ``TryRecord``: the outcome, the events and errors,
what changed in ``global_storage``, the instance for its Cleanup, and its
log lines. Both are named records, as ``concurrent.futures`` names its
``_CallItem`` and ``_ResultItem``: built by keyword, read by name.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
import traceback
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, NamedTuple

from ..errors import TransferError
from ..events import Observer
from ..jobs import Job
from ..plan import Plan, flat_deps
from ..results import Outcome, Phase, RunResult
from .sequential import InProcess
from .starts import Word, announce
from .transfer import PROTOCOL, pack, sent_class, unpack
from .trying import FAILED, Try
from .workerstop import in_job_code, worker_signals

log = logging.getLogger("DoJobber")

#: The try's class as the worker received it, its token and its bytes:
#: what sends it back by token (transfer.pack).
Home = tuple[type, str, bytes]


class TryTask(NamedTuple):
    """One try as the caller sends it to a worker: what ``run_try`` reads.

    A NamedTuple rather than a dataclass like ``TryRecord``: it is made
    once per try and never changed. It travels as its fields in their
    order, a plain tuple: the worker makes it a TryTask again
    (``TryTask._make``), so both sides build it and read it by name, and
    neither lists its fields. Pickled as a NamedTuple it would carry its
    class, whose pickling and unpickling cost more per try than the rest
    of the task (benchmarks/bench_overhead.py).
    """

    #: The job's name.
    job: str
    #: The try's number (1 for the first).
    number: int
    no_act: bool
    #: The job's TIMEOUT in seconds, None without one.
    timeout: float | None
    #: The level of the caller's DoJobber logger, set in the worker.
    log_level: int
    #: The job class as ``transfer.pack_class`` pickled it: its token (None
    #: when it travels by reference) and its bytes.
    class_token: str | None
    class_data: bytes
    #: ``(args, kwargs)`` of ``set_args``, pickled.
    args_data: bytes
    #: The run's global_storage: each key and its value, both pickled.
    storage: list[tuple[bytes, bytes]]


class TryEvent(NamedTuple):
    """A ``not_created`` or ``phase_ended`` of a try, as a worker sends it back."""

    #: How long the phase took, as measured in the worker (the time since the
    #: try, or its previous phase, began: the clocks of two hosts are never
    #: compared).
    seconds: float
    #: "not_created" or "phase_ended".
    event: str
    #: The phase that ended (None for ``not_created``).
    phase: Phase | None
    #: The index of its exception in ``TryRecord.errors``, None without one.
    error: int | None


@dataclass
class SentError:
    """An exception as a worker sends it: pickled if it can be, described always."""

    data: bytes | None
    type: str
    text: str
    traceback: str
    #: Why it could not be pickled (``data`` is None then).
    problem: str = ""
    #: The index of its ``__context__`` among the try's errors, when that
    #: was sent too (a recheck's error and the first Check's): pickling
    #: keeps neither ``__context__`` nor ``__traceback__``.
    context: int | None = None


@dataclass
class TryRecord:
    """What one try sends back to the calling process.

    ``events`` are a ``TryEvent`` for each ``not_created`` and
    ``phase_ended``, ``error`` an index in ``errors``.
    Values travel pickled on their own (``value``, ``instance``, the keys
    and values of ``changed`` and ``deleted``) so the caller can name the
    one it cannot unpickle.
    """

    outcome: Outcome
    events: list[TryEvent]
    errors: list[SentError]
    error: int | None = None
    value: bytes | None = None
    instance: bytes | None = None
    #: global_storage keys the try set or changed, with their values: pickled.
    changed: list[tuple[bytes, bytes]] = field(default_factory=list)
    #: global_storage keys the try deleted, pickled.
    deleted: list[bytes] = field(default_factory=list)
    #: The DoJobber log records of the try: ``(level, message)``.
    logs: list[tuple[int, str]] = field(default_factory=list)
    #: KeyboardInterrupt ended the try (Ctrl-C reached the worker, or a job
    #: raised it): the caller stops the run, as if it happened there.
    interrupted: bool = False


def run_try(task: bytes, word: Word | None = None) -> bytes:
    """One try in a worker: the function each task calls.

    ``task`` is a TryTask's fields pickled by ``Remote.task``; the answer
    is a pickled TryRecord. Both are pickled by DoJobber itself, part by
    part, so that whatever cannot travel fails its try with a TransferError
    naming it; a task that is not a TryTask's fields raises TypeError.
    ``word``, given for a try with a TIMEOUT, is sent to the caller as the
    try starts (starts.py): the caller's backstop counts from then.
    """
    # A pool made without it as its initializer: from its first try on.
    worker_signals()
    fields = pickle.loads(task)
    if not isinstance(fields, tuple) or len(fields) != len(TryTask._fields):
        # A caller of another DoJobber version.
        raise TypeError(f"not the fields of a TryTask: {fields!r:.80}")
    sent = TryTask._make(fields)
    capture = _LogCapture()
    log.addFilter(capture)
    if log.level != sent.log_level:
        log.setLevel(sent.log_level)
    try:
        record = _try_here(sent, word)
    finally:
        log.removeFilter(capture)
    record.logs = capture.records
    return pickle.dumps(record, PROTOCOL)


def _try_here(task: TryTask, word: Word | None = None) -> TryRecord:
    name = task.job
    events: list[TryEvent] = []
    errors = _Errors()
    #: Each key of global_storage as received, to its key and value as sent.
    before: dict[Any, tuple[bytes, bytes]] = {}
    global_storage: dict[Any, Any] = {}
    try:
        cls = _received(partial(sent_class, task.class_token, task.class_data), name, "the class")
        args, kwargs = _received(partial(unpack, task.args_data), name,
                                 "the arguments (set_args)")
        for key_data, data in task.storage:
            key = _received(partial(unpack, key_data), name, "a key of global_storage")
            what = f"global_storage[{shown(key)}]"
            global_storage[key] = _received(partial(unpack, data), name, what)
            before[key] = (key_data, data)
    except TransferError as problem:
        number_sent = errors.add(problem)
        events.append(TryEvent(seconds=0.0, event="not_created", phase=None, error=number_sent))
        return TryRecord(outcome=FAILED, events=events, errors=errors.sent, error=number_sent)
    token = task.class_token
    errors.home = home = None if token is None else (cls, token, task.class_data)

    announce(word)
    result, job, interrupted = _make_try(
        cls, task.number, task.no_act, task.timeout, args, kwargs, global_storage,
        _Recorder(events, errors),
    )
    outcome, error = result.outcome[0], result.errors[0]
    record = TryRecord(outcome=outcome, events=events, errors=errors.sent,
                       interrupted=interrupted)
    problems: list[TransferError] = []
    if outcome is not FAILED:
        record.value = _sent(result.results[0], name, "the value returned by Check", problems,
                             home)
    record.changed, record.deleted = _changes(before, global_storage, name, problems, home)
    if job is not None:
        try:
            # The caller gives it the run's global_storage back.
            job.global_storage = None  # type: ignore[assignment]
        except Exception:
            pass
        record.instance = _sent(job, name, "the instance (for its Cleanup)", problems, home)
    if problems and outcome is not FAILED and not interrupted:
        # The try passed here but cannot pass there: the Check that passed
        # is reported failing with what could not be sent.
        record.outcome = FAILED
        error = problems.pop(0)
        events[-1] = events[-1]._replace(error=errors.add(error))
    for unsent in problems:
        log.warning("%s", unsent)
    if error is not None:
        record.error = errors.add(error)
    return record


def _make_try(
    cls: type[Job],
    number: int,
    no_act: bool,
    timeout: float | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    global_storage: dict[str, Any],
    watching: _Recorder,
) -> tuple[RunResult, Job | None, bool]:
    """Make try ``number`` of job ``cls`` here, as the caller would have, its
    TIMEOUT too (timelimit.py): an alarm in a process pool's worker, an
    abandoned thread in Dask's. Returns the one-job result, the instance
    kept for Cleanup (or None), and whether KeyboardInterrupt ended it."""
    plan = Plan([cls.__name__], [cls], ONE_JOB, [1], [0.0],
                timeouts=None if timeout is None else {0: timeout})
    result = RunResult(plan, [0])
    result.tries[0] = number
    sink = _Ending(result)
    tries = Try(result, _Events(watching), sink, no_act=no_act,
                args=args, kwargs=kwargs, global_storage=global_storage, cwd=None)
    interrupted = False
    try:
        with in_job_code():
            InProcess().open(tries)(0)
    except KeyboardInterrupt:
        interrupted = True
    return result, sink.job, interrupted


#: The dependencies of the one job of a worker's plan: none.
ONE_JOB = flat_deps([()])


class _Events:
    """A try's events in the worker, each to its recorder alone: no
    Dispatch, whose guards an observer of DoJobber's own does not need
    (run_try of a no-op job, called in a loop: 107 us with a Dispatch and
    Outcomes, 15 us with these two; each worker makes one per try)."""

    def __init__(self, recorder: _Recorder):
        self.try_started: list[Callable[..., None]] = [recorder.try_started]
        self.not_created: list[Callable[..., None]] = [recorder.not_created]
        self.phase_ended: list[Callable[..., None]] = [recorder.phase_ended]
        self.check_passed = self.phase_ended


class _Ending:
    """The Sink of a try in the worker: its outcome into the one-job
    result, its instance kept to be sent back."""

    def __init__(self, result: RunResult):
        self.result = result
        self.job: Job | None = None

    def record(self, i: int, outcome: Outcome, value: Any, error: BaseException | None) -> None:
        result = self.result
        result.outcome[i], result.results[i], result.errors[i] = outcome, value, error

    def keep(self, i: int, name: str, job: Job) -> None:
        self.job = job


class _Recorder(Observer):
    """Keeps a try's events, each with its phase's duration, to be replayed
    in the calling process."""

    def __init__(self, events: list[TryEvent], errors: _Errors):
        self.events = events
        self.errors = errors
        self.began = time.perf_counter()  # of the try, then of its next phase

    def _took(self) -> float:
        now = time.perf_counter()
        seconds, self.began = now - self.began, now
        return seconds

    def try_started(self, job: str, number: int) -> None:
        self.began = time.perf_counter()

    def not_created(self, job: str, error: BaseException) -> None:
        self.events.append(TryEvent(seconds=self._took(), event="not_created", phase=None,
                                    error=self.errors.add(error)))

    def phase_ended(self, job: str, phase: Phase, error: BaseException | None) -> None:
        seconds = self._took()
        sent = None if error is None else self.errors.add(error)
        self.events.append(TryEvent(seconds=seconds, event="phase_ended", phase=phase,
                                    error=sent))


class _Errors:
    """A try's exceptions as they will be sent, each once."""

    def __init__(self) -> None:
        self.sent: list[SentError] = []
        self.home: Home | None = None
        self._known: dict[int, int] = {}
        self._keep: list[BaseException] = []  # so that no id() is reused meanwhile

    def add(self, error: BaseException) -> int:
        known = self._known.get(id(error))
        if known is not None:
            return known
        kind = type(error)
        try:
            text = str(error)
        except Exception:
            text = f"<{kind.__name__}: str() failed>"
        try:
            trace = "".join(traceback.format_exception(kind, error, error.__traceback__))
        except Exception:
            trace = f"{kind.__name__}: {text}\n"
        data: bytes | None = None
        problem = ""
        try:
            data = pack(error, self.home)
        except Exception as cause:
            problem = why(cause)
        # The context is sent before the error it is the context of.
        context = self._known.get(id(error.__context__))
        self.sent.append(SentError(data=data, type=f"{kind.__module__}.{kind.__qualname__}",
                                   text=text, traceback=trace, problem=problem,
                                   context=context))
        self._known[id(error)] = number = len(self.sent) - 1
        self._keep.append(error)
        return number


def _received(load: Callable[[], Any], job: str, what: str) -> Any:
    """Unpickle what the caller sent, or say which thing of which job failed."""
    try:
        return load()
    except Exception as cause:
        raise TransferError(
            f"cannot receive {what} of job {job!r} in the worker: {why(cause)} "
            "(job classes and everything they are given must be importable there)",
            job,
            what,
        ) from None


def _sent(
    value: Any, job: str, what: str, problems: list[TransferError], home: Home | None
) -> bytes | None:
    try:
        return pack(value, home)
    except Exception as cause:
        problems.append(TransferError(
            f"cannot send {what} of job {job!r} back from the worker: {why(cause)}", job, what
        ))
        return None


def _changes(
    before: dict[Any, tuple[bytes, bytes]],
    after: dict[Any, Any],
    job: str,
    problems: list[TransferError],
    home: Home | None,
) -> tuple[list[tuple[bytes, bytes]], list[bytes]]:
    """The global_storage keys a try set, changed (in place too) or deleted.

    A value changed when it pickles differently and no longer equals what
    was sent: a set pickles in another order in another process, yet is
    unchanged.
    """
    changed: list[tuple[bytes, bytes]] = []
    for key, value in list(after.items()):
        key_data, sent = before.get(key, (None, None))
        what = f"global_storage[{shown(key)}]"
        if key_data is None:
            key_data = _sent(key, job, what + " (its key)", problems, home)
            if key_data is None:
                continue
        data = _sent(value, job, what, problems, home)
        if data is not None and data != sent and not _equal(value, sent):
            changed.append((key_data, data))
    deleted = [key_data for key, (key_data, _) in before.items() if key not in after]
    return changed, deleted


def _equal(value: Any, sent: bytes | None) -> bool:
    if sent is None:
        return False
    try:
        return bool(unpack(sent) == value)
    except Exception:
        return False


def why(cause: BaseException) -> str:
    return f"{type(cause).__name__}: {cause}"


def shown(key: Any) -> str:
    """``repr(key)`` for a message, even when that repr raises."""
    try:
        return repr(key)
    except Exception:
        return f"<{type(key).__name__} object whose repr() fails>"


class _LogCapture(logging.Filter):
    """Takes the DoJobber log records of this thread's try, to be logged by
    the caller (whose logging is set up) instead of here."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.records: list[tuple[int, str]] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread:
            return True
        self.records.append((record.levelno, record.getMessage()))
        return False
