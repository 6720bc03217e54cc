"""The executor engine's side in the calling process: each try sent as one task, then replayed.

The thread engine schedules (order, tries, delays, dependencies) in this
process; ``OnExecutor`` is the place its tries are made: a worker thread
here sends a try to a ``concurrent.futures`` Executor (worker.py makes it
there) and waits for its answer, then replays the try's events, merges its
``global_storage`` changes and keeps its instance for Cleanup, through the
run's own events and Sink, as if the try had been made here.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import threading
from concurrent.futures import Executor
from typing import Any

from ..errors import ExecutorError, JobTimeoutError, TransferError
from ..events import REPLAYING
from .pool import STUCK_AFTER, Answered, Pool
from .transfer import PROTOCOL, forget, pack, pack_class, unpack
from .trying import FAILED, Try, TryFunction
from .worker import SentError, TryRecord, TryTask, shown, why

log = logging.getLogger("DoJobber")


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


# Tracebacks name it where the docs do: the public module that offers it.
RemoteTraceback.__module__ = "dojobber.executor"


class OnExecutor:
    """The place where the tries of a run are made: tasks on ``executor``."""

    def __init__(self, executor: Executor):
        self.executor = executor
        self.remote: Remote | None = None

    def open(self, tries: Try) -> TryFunction:
        self.remote = Remote(tries, self.executor)
        return self.remote.try_

    def close(self) -> None:
        if self.remote is not None:
            self.remote.close()
            self.remote = None

    def stop(self) -> None:
        if self.remote is not None:
            self.remote.pool.stop()


class Remote:
    """One run's link to its executor: what was sent, and the replay of what
    comes back through the run's events and Sink (those of ``tries``). A
    worker thread of the thread engine calls ``try_``."""

    def __init__(self, tries: Try, executor: Executor):
        self.tries = tries
        self.plan = tries.result.plan
        self.pool = Pool(executor)
        self.lock = threading.Lock()  # global_storage and its pickled copy
        self.replay = threading.Lock()  # one try's events together
        #: The run's global_storage as pickled, each key to itself and its
        #: value pickled: what a try gets.
        self.wire: dict[Any, tuple[bytes, bytes]] = {}
        self.args = (tries.args, tries.kwargs)
        self._args_data: bytes | None = None
        self._args_problem = ""
        #: Each job's class, pickled once per run: its token and bytes.
        self._classes: dict[int, tuple[str | None, bytes] | TransferError] = {}
        #: The run's job classes sent by value, to their tokens (transfer.py).
        self.tokens: dict[type, str] = {}

    def close(self) -> None:
        self.pool.close()
        # No answer of this run comes after: its tokens name nothing any more.
        forget(self.tokens.values())

    def try_(self, i: int) -> None:
        """One try of job ``i`` on the executor, reported here as if run here."""
        answers: queue.SimpleQueue[bytes | BaseException] = queue.SimpleQueue()
        self.send(i, answers.put)
        self.receive(i, answers.get())

    def send(self, i: int, answered: Answered) -> None:
        """Start a try of job ``i`` on the executor: ``answered`` gets its
        answer from another thread (or this one, when it cannot be sent),
        to be given to ``receive``. Raises KeyboardInterrupt when the run
        is stopping."""
        tries = self.tries
        result, events = tries.result, tries.events
        name = self.plan.names[i]
        result.started[i] = result.stamp()
        for notify in events.try_started:
            notify(name, result.tries[i])
        limit = self.plan.timeouts.get(i)
        try:
            task = self.task(i, name, result.tries[i], limit)
            self.pool.send(task, name, limit, answered)
        except (ExecutorError, JobTimeoutError) as error:
            answered(error)

    def receive(self, i: int, answer: bytes | BaseException) -> None:
        """Report the try of job ``i`` that ``answer`` ended, as if made here."""
        name = self.plan.names[i]
        if isinstance(answer, bytes):
            try:
                record = _record(answer, name)
            except TransferError as error:
                answer = error
            else:
                return self._replay(i, name, record)
        if isinstance(answer, (ExecutorError, JobTimeoutError)):
            # Nothing ran, or nothing came back: like a job not created.
            log.error('Could not run a try of Job "%s" on the executor: %s', name, answer)
            for notify in self.tries.events.not_created:
                notify(name, answer)
            return self.tries.sink.record(i, FAILED, None, answer)
        raise answer  # KeyboardInterrupt: the run is stopping

    def task(self, i: int, name: str, number: int, limit: float | None) -> bytes:
        """Try ``number`` of job ``i``, pickled for ``worker.run_try``: a TryTask's fields."""
        plan = self.plan
        sent = self._classes.get(i)
        if sent is None:
            try:
                sent = pack_class(plan.classes[i], self.tokens)
            except Exception as cause:
                sent = TransferError(f"cannot send the class of job {name!r} to the executor: "
                                     f"{why(cause)}", name, "the class")
            self._classes[i] = sent
        if isinstance(sent, TransferError):
            raise sent
        args_data = self._args_data
        if args_data is None and not self._args_problem:
            try:
                args_data = self._args_data = pack(self.args)
            except Exception as cause:
                self._args_problem = why(cause)
        if args_data is None:
            what = "the arguments (set_args)"
            raise TransferError(
                f"cannot send {what} of job {name!r} to the executor: {self._args_problem}",
                name, what,
            )
        with self.lock:
            storage = list(self.wire.values())
        token, class_data = sent
        task = TryTask(job=name, number=number, no_act=self.tries.no_act, timeout=limit,
                       log_level=log.getEffectiveLevel(), class_token=token,
                       class_data=class_data, args_data=args_data, storage=storage)
        # Its fields, in their order (see TryTask).
        return pickle.dumps(tuple(task), PROTOCOL)

    def _replay(self, i: int, name: str, record: TryRecord) -> None:
        """Report a try that came back: its log lines, events, outcome, changes."""
        tries = self.tries
        global_storage = tries.global_storage
        errors = _errors(name, record.errors)
        problems: list[TransferError] = []
        outcome = record.outcome
        value: Any = None
        job: Any = None
        if outcome is not FAILED and record.value is not None:
            value = _unpickled(record.value, name, "the value returned by Check", problems)
            value = None if value is _LOST else value
        if record.instance is not None:
            job = _unpickled(record.instance, name, "the instance (for its Cleanup)", problems)
        changed, deleted = _storage_back(record, name, problems)
        error = None if record.error is None else errors[record.error]
        if problems and outcome is not FAILED:
            outcome = FAILED
            error = problems.pop(0)
            record.events[-1] = record.events[-1]._replace(error=len(errors))
            errors.append(error)
        for level, message in record.logs:
            log.log(level, "%s", message)
        for problem in problems:
            log.warning("%s", problem)
        with self.replay:
            self._replay_events(name, record, errors)
        # Merged as tries end: when two tries change one key, the later-ending wins.
        with self.lock:
            for key, value_back, key_data, data in changed:
                global_storage[key] = value_back
                self.wire[key] = (key_data, data)
            for key in deleted:
                global_storage.pop(key, None)
                self.wire.pop(key, None)
        if not record.interrupted:
            tries.sink.record(i, outcome, value, error)
        if job is not None and job is not _LOST:
            try:
                job.global_storage = global_storage
            except Exception:
                pass
            tries.sink.keep(i, name, job)
        if record.interrupted:
            raise KeyboardInterrupt

    def _replay_events(self, name: str, record: TryRecord, errors: list[BaseException]) -> None:
        """The try's events, to the run's observers, each phase as long as
        the worker measured it, the last ending now (see events.Replaying)."""
        events = self.tries.events
        ago = sum(event.seconds for event in record.events)
        try:
            for event in record.events:
                ago -= event.seconds
                REPLAYING.seconds, REPLAYING.ago = event.seconds, max(0.0, ago)
                sent = None if event.error is None else errors[event.error]
                if event.event == "not_created":
                    for notify in events.not_created:
                        notify(name, sent)
                else:
                    for notify in events.phase_ended:
                        notify(name, event.phase, sent)
        finally:
            REPLAYING.seconds = None


def _storage_back(
    record: TryRecord, job: str, problems: list[TransferError]
) -> tuple[list[tuple[Any, Any, bytes, bytes]], list[Any]]:
    """The global_storage keys a try changed, each with its value and both
    as pickled, and the keys it deleted: those that could be unpickled."""
    changed = []
    for key_data, data in record.changed:
        key = _unpickled(key_data, job, "a key of global_storage", problems)
        if key is not _LOST:
            value = _unpickled(data, job, f"global_storage[{shown(key)}]", problems)
            if value is not _LOST:
                changed.append((key, value, key_data, data))
    deleted = [_unpickled(key_data, job, "a key of global_storage", problems)
               for key_data in record.deleted]
    return changed, [key for key in deleted if key is not _LOST]


def _record(answer: bytes, job: str) -> TryRecord:
    """The TryRecord a worker answered (a DoJobber of another version there
    may answer what this one cannot read)."""
    try:
        record = pickle.loads(answer)
        problem = "" if isinstance(record, TryRecord) else f"not a TryRecord: {record!r:.80}"
    except Exception as cause:
        problem = why(cause)
    if problem:
        what = "the answer"
        raise TransferError(f"cannot receive {what} of job {job!r} from the worker: {problem}",
                            job, what)
    return record  # type: ignore[no-any-return]


def _unpickled(data: bytes, job: str, what: str, problems: list[TransferError]) -> Any:
    try:
        return unpack(data)
    except Exception as cause:
        problems.append(TransferError(
            f"cannot receive {what} of job {job!r} from the worker: {why(cause)}", job, what
        ))
        return _LOST


#: What ``_unpickled`` gives for what it could not unpickle.
_LOST = object()


def _errors(job: str, sent: list[SentError]) -> list[BaseException]:
    """The exceptions of a try that came back, each ``__context__`` that came
    with them set again (a recheck's error has the first Check's, as it
    had in the worker: pickling drops it)."""
    errors = [_error(job, one) for one in sent]
    for one, error in zip(sent, errors, strict=True):
        if one.context is not None:
            # As Python sets it: past a __setattr__ of the exception's class that refuses.
            object.__setattr__(error, "__context__", errors[one.context])
    return errors


def _error(job: str, sent: SentError) -> BaseException:
    """The exception a worker sent, its worker traceback as its ``__cause__``.

    One that could not travel becomes a TransferError that quotes it.
    """
    error: BaseException | None = None
    problem = sent.problem
    if sent.data is not None:
        try:
            error = unpack(sent.data)
        except Exception as cause:
            problem = why(cause)
    if not isinstance(error, BaseException):
        error = TransferError(
            f"{sent.type}: {sent.text} (raised by job {job!r} in the worker; "
            f"the exception itself cannot be sent back: {problem})",
            job,
            "the exception",
        )
    # As `raise ... from` sets it: past a __setattr__ that refuses.
    object.__setattr__(error, "__cause__", RemoteTraceback(sent.traceback))
    return error


__all__ = ["OnExecutor", "RemoteTraceback", "STUCK_AFTER", "executor_size"]
