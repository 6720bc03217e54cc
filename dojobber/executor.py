"""The executor engine: each try is one task on a concurrent.futures Executor."""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
import traceback
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .errors import ExecutorError, JobTimeoutError, TransferError, WorkerLostError
from .events import Observer
from .parallel import ParallelScheduler
from .plan import Plan
from .results import Outcome, Phase, RunResult
from .scheduler import FAILED, Scheduler
from .settings import check_executor

log = logging.getLogger("DoJobber")

#: Both sides run the same Python, so the newest protocol is understood.
PROTOCOL = pickle.HIGHEST_PROTOCOL

#: Seconds past a try's TIMEOUT after which the caller stops waiting for it.
#: The worker enforces TIMEOUT itself; this is for a try that defeats that
#: (blocks the alarm, or never returns to Python code).
STUCK_AFTER = 5.0


def executor_size(executor: Executor) -> int:
    """How many tries ``executor`` runs at once, where it can be known.

    Process and thread pools (and loky's) tell their ``max_workers``; a Dask
    executor the threads of its cluster's workers. Otherwise: the CPUs here.
    """
    size = getattr(executor, "_max_workers", None)
    if isinstance(size, int) and size > 0:
        return size
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        try:
            return max(1, int(sum(client.nthreads().values())))
        except Exception as error:
            log.debug("Could not ask the Dask cluster its size: %s", error)
    return os.cpu_count() or 1


class RemoteTraceback(Exception):
    """The traceback of an exception as it was in the worker.

    An exception that comes back from a worker has lost its own traceback;
    this is set as its ``__cause__``, so a printed traceback shows both.
    """

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return "in the worker:\n" + self.text.rstrip("\n")


class ExecutorScheduler(ParallelScheduler):
    """The parallel engine with each try sent to ``executor`` as one task.

    Scheduling (order, tries, delays, dependencies) is the parallel
    engine's, in this process; a worker thread here submits a try and waits
    for its result, then replays the try's events, merges its
    ``global_storage`` changes and keeps its instance for Cleanup.
    ``workers`` bounds the tries in flight (default: the executor's size).
    """

    def __init__(
        self, plan: Plan, *, executor: Executor, workers: int | None = None, **options: Any
    ):
        executor = check_executor(executor)
        super().__init__(
            plan, workers=executor_size(executor) if workers is None else workers, **options
        )
        self.executor = executor
        self._remote: _Remote | None = None

    def _passes(
        self,
        result: RunResult,
        cwd: str | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self._remote = _Remote(self, args, kwargs)
        try:
            super()._passes(result, cwd, args, kwargs)
        finally:
            self._remote.close()
            self._remote = None

    def _executor(self) -> Callable[..., None]:
        assert self._remote is not None
        return self._remote.try_


# --- The worker's side ----------------------------------------------------


@dataclass
class SentError:
    """An exception as a worker sends it: pickled if it can be, described always."""

    data: bytes | None
    type: str
    text: str
    traceback: str
    #: Why it could not be pickled (``data`` is None then).
    problem: str = ""


@dataclass
class TryRecord:
    """What one try sends back to the calling process.

    ``events`` are ``(time.time(), event, phase, error)`` for each
    ``not_created`` and ``phase_ended``, ``error`` an index in ``errors``.
    Values travel pickled on their own (``value``, ``instance``,
    ``changed``) so the caller can name the one it cannot unpickle.
    """

    outcome: Outcome
    events: list[tuple[float, str, Phase | None, int | None]]
    errors: list[SentError]
    error: int | None = None
    value: bytes | None = None
    instance: bytes | None = None
    #: global_storage keys the try set or changed, to their pickled values.
    changed: dict[Any, bytes] = field(default_factory=dict)
    #: global_storage keys the try deleted.
    deleted: list[Any] = field(default_factory=list)
    #: The DoJobber log records of the try: ``(level, message)``.
    logs: list[tuple[int, str]] = field(default_factory=list)
    #: KeyboardInterrupt ended the try (Ctrl-C reached the worker, or a job
    #: raised it): the caller stops the run, as if it happened there.
    interrupted: bool = False


def run_try(task: bytes) -> bytes:
    """One try in a worker: the function each task calls.

    ``task`` is pickled by ``_Remote._task``; the answer is a pickled
    TryRecord. Both are pickled by DoJobber itself, part by part, so that
    whatever cannot travel fails its try with a TransferError naming it.
    """
    name, number, no_act, timeout, level, class_data, args_data, storage = pickle.loads(task)
    capture = _LogCapture()
    log.addFilter(capture)
    if log.level != level:
        log.setLevel(level)
    try:
        record = _try_here(name, number, no_act, timeout, class_data, args_data, storage)
    finally:
        log.removeFilter(capture)
    record.logs = capture.records
    return pickle.dumps(record, PROTOCOL)


def _try_here(
    name: str,
    number: int,
    no_act: bool,
    timeout: float | None,
    class_data: bytes,
    args_data: bytes,
    storage: dict[Any, bytes],
) -> TryRecord:
    events: list[tuple[float, str, Phase | None, int | None]] = []
    errors = _Errors()
    try:
        cls = _received(class_data, name, "the class")
        args, kwargs = _received(args_data, name, "the arguments (set_args)")
        global_storage = {
            key: _received(data, name, f"global_storage[{key!r}]") for key, data in storage.items()
        }
    except TransferError as problem:
        sent = errors.add(problem)
        events.append((time.time(), "not_created", None, sent))
        return TryRecord(FAILED, events, errors.sent, sent)

    # The same TIMEOUT as in the caller, enforced here (dojobber/timeouts.py):
    # an alarm in a process pool's worker, an abandoned thread in Dask's.
    plan = Plan([name], [cls], [()], [1], [0.0], timeouts=None if timeout is None else {0: timeout})
    scheduler = Scheduler(plan, no_act=no_act, observers=[_Recorder(events, errors)])
    result = RunResult(plan, [0])
    result.tries[0] = number
    interrupted = False
    try:
        scheduler._executor()(0, result, None, args, kwargs, global_storage)
    except KeyboardInterrupt:
        interrupted = True

    outcome, error = result.outcome[0], result.errors[0]
    record = TryRecord(outcome, events, errors.sent, interrupted=interrupted)
    problems: list[TransferError] = []
    if outcome is not FAILED:
        record.value = _sent(result.results[0], name, "the value returned by Check", problems)
    record.changed, record.deleted = _changes(storage, global_storage, name, problems)
    if scheduler.instances:
        job = scheduler.instances[-1][1]
        try:
            # The caller gives it the run's global_storage back.
            job.global_storage = None  # type: ignore[assignment]
        except Exception:
            pass
        record.instance = _sent(job, name, "the instance (for its Cleanup)", problems)
    if problems and outcome is not FAILED and not interrupted:
        # The try passed here but cannot pass there: the Check that passed
        # is reported failing with what could not be sent.
        record.outcome = FAILED
        error = problems.pop(0)
        when, event, phase, _ = events[-1]
        events[-1] = (when, event, phase, errors.add(error))
    for unsent in problems:
        log.warning("%s", unsent)
    if error is not None:
        record.error = errors.add(error)
    return record


class _Recorder(Observer):
    """Keeps a try's events, to be replayed in the calling process."""

    def __init__(self, events: list[tuple[float, str, Phase | None, int | None]], errors: _Errors):
        self.events = events
        self.errors = errors

    def not_created(self, job: str, error: BaseException) -> None:
        self.events.append((time.time(), "not_created", None, self.errors.add(error)))

    def phase_ended(self, job: str, phase: Phase, error: BaseException | None) -> None:
        sent = None if error is None else self.errors.add(error)
        self.events.append((time.time(), "phase_ended", phase, sent))


class _Errors:
    """A try's exceptions as they will be sent, each once."""

    def __init__(self) -> None:
        self.sent: list[SentError] = []
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
            data = pickle.dumps(error, PROTOCOL)
        except Exception as cause:
            problem = _why(cause)
        self.sent.append(SentError(data, f"{kind.__module__}.{kind.__qualname__}", text,
                                   trace, problem))
        self._known[id(error)] = number = len(self.sent) - 1
        self._keep.append(error)
        return number


def _received(data: bytes, job: str, what: str) -> Any:
    """Unpickle what the caller sent, or say which thing of which job failed."""
    try:
        return pickle.loads(data)
    except Exception as cause:
        raise TransferError(
            f"cannot receive {what} of job {job!r} in the worker: {_why(cause)} "
            "(job classes and everything they are given must be importable there)",
            job,
            what,
        ) from None


def _sent(value: Any, job: str, what: str, problems: list[TransferError]) -> bytes | None:
    try:
        return pickle.dumps(value, PROTOCOL)
    except Exception as cause:
        problems.append(TransferError(
            f"cannot send {what} of job {job!r} back from the worker: {_why(cause)}", job, what
        ))
        return None


def _changes(
    before: dict[Any, bytes],
    after: dict[Any, Any],
    job: str,
    problems: list[TransferError],
) -> tuple[dict[Any, bytes], list[Any]]:
    """The global_storage keys a try set, changed (in place too) or deleted.

    A value changed when it pickles differently and no longer equals what
    was sent: a set pickles in another order in another process, yet is
    unchanged.
    """
    changed: dict[Any, bytes] = {}
    for key, value in list(after.items()):
        sent = before.get(key)
        what = f"global_storage[{key!r}]"
        if sent is None and _sent(key, job, what + " (its key)", problems) is None:
            continue
        data = _sent(value, job, what, problems)
        if data is not None and data != sent and not _equal(value, sent):
            changed[key] = data
    deleted = [key for key in before if key not in after]
    return changed, deleted


def _equal(value: Any, sent: bytes | None) -> bool:
    if sent is None:
        return False
    try:
        return bool(pickle.loads(sent) == value)
    except Exception:
        return False


def _why(cause: BaseException) -> str:
    return f"{type(cause).__name__}: {cause}"


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


# --- The caller's side ----------------------------------------------------


class _Remote:
    """One run's link to its executor: what was sent, and the replay of what
    comes back. A worker thread of the parallel engine calls ``try_``."""

    def __init__(self, scheduler: ExecutorScheduler, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self.scheduler = scheduler
        self.pool = _Pool(scheduler.executor)
        self.lock = threading.Lock()  # global_storage and its pickled copy
        self.replay = threading.Lock()  # one try's events together
        #: The run's global_storage as pickled, key by key: what a try gets.
        self.wire: dict[Any, bytes] = {}
        self.args = (args, kwargs)
        self._args_data: bytes | None = None
        self._args_problem = ""
        self._classes: dict[int, bytes | TransferError] = {}

    def close(self) -> None:
        self.pool.close()

    def try_(
        self,
        i: int,
        result: RunResult,
        cwd: str | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        global_storage: dict[str, Any],
    ) -> None:
        """One try of job ``i`` on the executor, reported here as if run here."""
        scheduler = self.scheduler
        name = scheduler.plan.names[i]
        events = scheduler.events
        result.started[i] = result.stamp()
        for notify in events.try_started:
            notify(name, result.tries[i])
        limit = scheduler.plan.timeouts.get(i)
        try:
            task = self._task(i, name, result.tries[i], limit)
            record: TryRecord = pickle.loads(self.pool.run(task, name, limit))
        except (ExecutorError, JobTimeoutError) as error:
            # Nothing ran, or nothing came back: like a job not created.
            log.error('Could not run a try of Job "%s" on the executor: %s', name, error)
            for notify in events.not_created:
                notify(name, error)
            return scheduler._end(i, result, FAILED, None, error)
        self._replay(i, name, record, result, global_storage)

    def _task(self, i: int, name: str, number: int, limit: float | None) -> bytes:
        plan = self.scheduler.plan
        class_data = self._classes.get(i)
        if class_data is None:
            class_data = self._classes[i] = _pickled(plan.classes[i], name, "the class")
        if isinstance(class_data, TransferError):
            raise class_data
        args_data = self._args_data
        if args_data is None and not self._args_problem:
            try:
                args_data = self._args_data = pickle.dumps(self.args, PROTOCOL)
            except Exception as cause:
                self._args_problem = _why(cause)
        if args_data is None:
            what = "the arguments (set_args)"
            raise TransferError(
                f"cannot send {what} of job {name!r} to the executor: {self._args_problem}",
                name, what,
            )
        with self.lock:
            storage = dict(self.wire)
        return pickle.dumps(
            (name, number, self.scheduler.no_act, limit, log.getEffectiveLevel(),
             class_data, args_data, storage),
            PROTOCOL,
        )

    def _replay(
        self,
        i: int,
        name: str,
        record: TryRecord,
        result: RunResult,
        global_storage: dict[str, Any],
    ) -> None:
        """Report a try that came back: its log lines, events, outcome, changes."""
        scheduler = self.scheduler
        events = scheduler.events
        errors = [_error(name, sent) for sent in record.errors]
        problems: list[TransferError] = []
        outcome = record.outcome
        value: Any = None
        job: Any = None
        if outcome is not FAILED and record.value is not None:
            value = _unpickled(record.value, name, "the value returned by Check", problems)
            value = None if value is _LOST else value
        if record.instance is not None:
            job = _unpickled(record.instance, name, "the instance (for its Cleanup)", problems)
        changed = {
            key: _unpickled(data, name, f"global_storage[{key!r}]", problems)
            for key, data in record.changed.items()
        }
        error = None if record.error is None else errors[record.error]
        if problems and outcome is not FAILED:
            outcome = FAILED
            error = problems.pop(0)
            when, event, phase, _ = record.events[-1]
            record.events[-1] = (when, event, phase, len(errors))
            errors.append(error)
        for level, message in record.logs:
            log.log(level, "%s", message)
        for problem in problems:
            log.warning("%s", problem)
        with self.replay:
            for _, event, phase, number in record.events:
                sent = None if number is None else errors[number]
                if event == "not_created":
                    for notify in events.not_created:
                        notify(name, sent)
                else:
                    for notify in events.phase_ended:
                        notify(name, phase, sent)
        # Merged as tries end: when two tries change one key, the later-ending wins.
        with self.lock:
            for key, data in record.changed.items():
                if changed[key] is not _LOST:
                    global_storage[key] = changed[key]
                    self.wire[key] = data
            for key in record.deleted:
                global_storage.pop(key, None)
                self.wire.pop(key, None)
        if not record.interrupted:
            scheduler._end(i, result, outcome, value, error)
        if job is not None and job is not _LOST:
            try:
                job.global_storage = global_storage
            except Exception:
                pass
            scheduler._remember(i, name, job)
        if record.interrupted:
            raise KeyboardInterrupt


def _pickled(value: Any, job: str, what: str) -> bytes | TransferError:
    try:
        return pickle.dumps(value, PROTOCOL)
    except Exception as cause:
        return TransferError(
            f"cannot send {what} of job {job!r} to the executor: {_why(cause)}", job, what
        )


def _unpickled(data: bytes, job: str, what: str, problems: list[TransferError]) -> Any:
    try:
        return pickle.loads(data)
    except Exception as cause:
        problems.append(TransferError(
            f"cannot receive {what} of job {job!r} from the worker: {_why(cause)}", job, what
        ))
        return _LOST


#: What ``_unpickled`` gives for what it could not unpickle.
_LOST = object()


def _error(job: str, sent: SentError) -> BaseException:
    """The exception a worker sent, its worker traceback as its ``__cause__``.

    One that could not travel becomes a TransferError that quotes it.
    """
    error: BaseException | None = None
    problem = sent.problem
    if sent.data is not None:
        try:
            error = pickle.loads(sent.data)
        except Exception as cause:
            problem = _why(cause)
    if not isinstance(error, BaseException):
        error = TransferError(
            f"{sent.type}: {sent.text} (raised by job {job!r} in the worker; "
            f"the exception itself cannot be sent back: {problem})",
            job,
            "the exception",
        )
    error.__cause__ = RemoteTraceback(sent.traceback)
    return error


class _Pool:
    """The run's executor, replaced when it breaks (a worker process died).

    A broken ``ProcessPoolExecutor`` fails every try it was running, not
    only the one whose process died, and cannot say which it was. So the
    tries it was running are sent again, each alone on a new pool: one that
    breaks the pool when alone failed with WorkerLostError; the others get
    their result as if nothing happened (a try is only counted once).
    """

    def __init__(self, executor: Executor):
        self.executor = executor
        self.generation = 0
        self.made: list[Executor] = []  # replacements, shut down at the end of the run
        self.state = threading.Condition()
        self.running = 0  # tries submitted and not returned, outside of isolation
        self.alone = False  # a try runs alone
        self.queued_alone = 0
        self.in_flight: dict[int, int] = {}  # generation -> tries it has not returned

    def close(self) -> None:
        for executor in self.made:
            executor.shutdown(wait=True)
        self.made.clear()

    def run(self, task: bytes, name: str, limit: float | None) -> bytes:
        """Send ``task`` and wait for its answer (at most ``limit`` and
        STUCK_AFTER seconds, when the job has a TIMEOUT)."""
        wait = None if limit is None else limit + STUCK_AFTER
        with self._shared():
            generation, future = self._submit(task, name)
            lost: type[BaseException] | None = None
            try:
                return _answer(future, name, wait)
            except (BrokenExecutor, _Stuck) as error:
                lost = type(error)
                with self.state:
                    # The pool's other tries stay counted: they broke with it.
                    alone = self.in_flight[generation] == 1
            finally:
                if lost is None:
                    with self.state:
                        self.in_flight[generation] -= 1
        if lost is _Stuck:
            self._abandon(generation, future, name)
            raise JobTimeoutError(name, "its try on the executor", limit or 0.0)
        self._renew(generation, name)
        if alone:
            raise WorkerLostError(_lost(name), name)
        with self._isolated():
            generation, future = self._submit(task, name)
            try:
                return _answer(future, name, wait)
            except BrokenExecutor:
                self._renew(generation, name)
                raise WorkerLostError(_lost(name), name) from None
            except _Stuck:
                self._abandon(generation, future, name)
                raise JobTimeoutError(name, "its try on the executor", limit or 0.0) from None

    def _abandon(self, generation: int, future: Future[bytes], name: str) -> None:
        """Give up on a stuck try; its answer, if it ever comes, is dropped.

        The processes of a standard-library process pool are killed (the
        stuck one among them) and the pool replaced: the tries that were
        running beside it are sent again. Other executors cannot be told to
        stop a task: it keeps its worker busy until it ends by itself.
        """
        future.cancel()
        from concurrent.futures import ProcessPoolExecutor

        with self.state:
            executor = self.executor if generation == self.generation else None
        if executor is None:
            return  # that pool broke and was replaced already: its processes are gone
        if not isinstance(executor, ProcessPoolExecutor):
            log.warning("The try of Job \"%s\" is stuck past its TIMEOUT; it keeps "
                        "running on the executor", name)
            return
        kill = getattr(executor, "kill_workers", None)  # Python 3.14
        if callable(kill):
            kill()
        else:
            for process in list((getattr(executor, "_processes", None) or {}).values()):
                process.kill()
        self._renew(generation, name)

    def _submit(self, task: bytes, name: str) -> tuple[int, Future[bytes]]:
        for _ in range(2):
            with self.state:
                generation, executor = self.generation, self.executor
                self.in_flight[generation] = self.in_flight.get(generation, 0) + 1
            try:
                return generation, executor.submit(run_try, task)
            except BrokenExecutor:
                # Broke before this run, or between two tries: nothing ran.
                with self.state:
                    self.in_flight[generation] -= 1
                self._renew(generation, name)
            except Exception as error:
                raise ExecutorError(
                    f"the executor refused a try of job {name!r}: {_why(error)}", name
                ) from error
        raise ExecutorError(f"the executor breaks at once for job {name!r}", name)

    def _renew(self, generation: int, name: str) -> None:
        with self.state:
            if generation != self.generation:
                return  # another try renewed it already
            try:
                executor = _replacement(self.executor)
            except Exception as error:
                raise ExecutorError(
                    f"the executor is broken and cannot be replaced (job {name!r}): "
                    f"{_why(error)}", name
                ) from error
            self.executor = executor
            self.made.append(executor)
            self.generation += 1
            log.warning("A worker process died or was stopped; the process pool was replaced")

    @contextmanager
    def _shared(self) -> Iterator[None]:
        with self.state:
            while self.alone or self.queued_alone:
                self.state.wait()
            self.running += 1
        try:
            yield
        finally:
            with self.state:
                self.running -= 1
                self.state.notify_all()

    @contextmanager
    def _isolated(self) -> Iterator[None]:
        with self.state:
            self.queued_alone += 1
            while self.alone or self.running:
                self.state.wait()
            self.queued_alone -= 1
            self.alone = True
        try:
            yield
        finally:
            with self.state:
                self.alone = False
                self.state.notify_all()


class _Stuck(Exception):
    """A try did not come back in time (its TIMEOUT and STUCK_AFTER)."""


def _answer(future: Future[bytes], name: str, wait: float | None) -> bytes:
    """The future's result within ``wait`` seconds (None: no limit), else _Stuck.

    BrokenExecutor and KeyboardInterrupt pass; the rest (cancelled, a
    worker lost as the executor reports it) is an ExecutorError.
    """
    try:
        return future.result(wait)
    except FutureTimeout:
        raise _Stuck() from None
    except (BrokenExecutor, KeyboardInterrupt):
        raise
    except CancelledError as error:
        raise ExecutorError(f"the executor cancelled the try of job {name!r}", name) from error
    except Exception as error:
        raise ExecutorError(
            f"the executor could not run the try of job {name!r}: {_why(error)}", name
        ) from error


def _lost(name: str) -> str:
    return (f"the worker process running the try of job {name!r} died "
            "(os._exit, a signal or out of memory) before the try ended")


def _replacement(executor: Executor) -> Executor:
    """A new pool like ``executor``: only process pools are known how to make."""
    from concurrent.futures import ProcessPoolExecutor

    if not isinstance(executor, ProcessPoolExecutor):
        raise TypeError(f"DoJobber only replaces a ProcessPoolExecutor, not {executor!r}")
    # Private attributes, read with care: the pool keeps no public copy.
    options: dict[str, Any] = {
        "max_workers": getattr(executor, "_max_workers", None),
        "mp_context": getattr(executor, "_mp_context", None),
        "initializer": getattr(executor, "_initializer", None),
        "initargs": getattr(executor, "_initargs", ()),
    }
    per_child = getattr(executor, "_max_tasks_per_child", None)
    if per_child is not None:
        options["max_tasks_per_child"] = per_child
    return ProcessPoolExecutor(**options)


__all__ = ["ExecutorScheduler", "RemoteTraceback", "TryRecord", "executor_size", "run_try"]
