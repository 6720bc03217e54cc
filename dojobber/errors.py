"""The exceptions DoJobber raises, each carrying the data that caused it."""

from __future__ import annotations

from typing import Any


class DoJobberError(Exception):
    """Base class of every exception DoJobber itself raises."""


class ConfigurationError(DoJobberError, ValueError):
    """The job graph or a configure() argument is invalid; nothing was run.

    ``job`` names the offending job (or ``None`` for a configure argument),
    ``value`` is the bad value itself.
    """

    def __init__(self, message: str, job: str | None = None, value: Any = None):
        super().__init__(message)
        self.job = job
        self.value = value


class JobTypeError(ConfigurationError, TypeError):
    """A value has the wrong type: DEPS not iterable, a DEPS entry or root
    that is not a Job class, a TRIES or RETRY_DELAY that is not a number."""


class NamelessJobError(JobTypeError, AttributeError):
    """A root or DEPS entry that is not a Job class and has no ``__name__``
    (``None``, an instance, a byte of a bytes DEPS): an AttributeError too,
    as DoJobber 0.6.2 raised one when it read the name."""


class DuplicateJobNameError(ConfigurationError):
    """Two different classes share one job name in the same graph."""

    def __init__(self, message: str, job: str, classes: tuple[type, type]):
        super().__init__(message, job, classes)
        self.classes = classes


class RetrySettingError(ConfigurationError, RuntimeError):
    """TRIES below 1 or a negative RETRY_DELAY (a job's, or configure's
    ``default_tries`` and ``default_retry_delay``): a RuntimeError too, as
    DoJobber 0.6.2 raised one, so that its callers' ``except`` still catch it."""


class InfiniteTriesError(ConfigurationError, OverflowError):
    """An infinite TRIES (or ``default_tries``): an OverflowError too, as
    DoJobber 0.6.2 raised one when it made it an int."""


class DependencyCycleError(ConfigurationError, RuntimeError):
    """DEPS form a cycle. ``cycle`` lists the job names, first repeated last.

    A RuntimeError too, as DoJobber 0.6.2 raised one for a cycle.
    """

    def __init__(self, cycle: list[str]):
        super().__init__(
            "Dependency cycle: " + " -> ".join(cycle), cycle[0], cycle
        )
        self.cycle = cycle


class NotConfiguredError(ConfigurationError, AttributeError):
    """``checknrun()`` before ``configure()``: an AttributeError too, as
    DoJobber 0.6.2 raised one."""


class UnknownJobError(ConfigurationError, KeyError):
    """``checknrun(node)`` with a node that is not a job of the configured
    graph (``value``): a KeyError too, as DoJobber 0.6.2 raised one."""

    # The message itself: KeyError would show its repr, in quotes.
    __str__ = BaseException.__str__


class JobTimeoutError(DoJobberError, TimeoutError):
    """A try of a job ran longer than the job's TIMEOUT; that try failed.

    ``job`` is the job's name, ``phase`` the phase the try was in when its
    time ran out (``'check'``, which includes creating the instance,
    ``'run'`` or ``'recheck'``), ``timeout`` the limit in seconds.
    """

    def __init__(self, job: str, phase: str, timeout: float):
        super().__init__(
            f"job {job!r} timed out during {phase}: "
            f"the try took longer than its TIMEOUT of {timeout:g} seconds"
        )
        self.job = job
        self.phase = phase
        self.timeout = timeout

    def __reduce__(self) -> tuple[Any, ...]:
        # OSError's own pickling would pass the message as the only argument.
        return (type(self), (self.job, self.phase, self.timeout))


class TryExpired(BaseException):
    """Raised inside a try, by the alarm of dojobber/timeouts.py, when its
    TIMEOUT has passed; never reaches the caller of ``checknrun``.

    A BaseException, like KeyboardInterrupt, so that a job's ``except
    Exception`` does not swallow it; the scheduler lets it through and the
    try fails with JobTimeoutError.
    """


class RenderError(DoJobberError, RuntimeError):
    """A picture of the graph cannot be produced here; says what to install."""


class ExecutorError(DoJobberError, RuntimeError):
    """A try could not be run on the run's executor; that try failed.

    ``job`` is the job's name. The executor's own exception, if any, is the
    ``__cause__``.
    """

    def __init__(self, message: str, job: str):
        super().__init__(message)
        self.job = job

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.args[0], self.job))


class TransferError(ExecutorError):
    """Something a try needs could not be sent to its worker or back: it
    cannot be pickled on one side or unpickled on the other. ``what``
    names it (``'the class'``, ``"global_storage['key']"``, ``'a key of
    global_storage'``, ``'the answer'``...)."""

    def __init__(self, message: str, job: str, what: str):
        super().__init__(message, job)
        self.what = what

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.args[0], self.job, self.what))


class WorkerLostError(ExecutorError):
    """The worker process running a try died before the try ended."""


class RunDuringImportError(DoJobberError):
    """``checknrun()`` was called while the ``dojobber`` command imported the
    module that defines the graph: the module runs its jobs when imported.
    ``target`` is what the command was importing."""

    def __init__(self, target: str):
        self.target = target
        super().__init__(
            f"checknrun() called while the dojobber command imports {target}: "
            'put the script\'s run under `if __name__ == "__main__":`'
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.target,))


class DoJobberWarning(UserWarning):
    """A likely mistake that does not stop the run, such as a Job whose
    ``check`` should be ``Check``. Shown through :mod:`warnings`."""


class HistoryWarning(DoJobberWarning):
    """The run history could not be written (locked, read-only, full disk,
    corrupt file, server down): the run itself is as it was. Said once per
    run; ``report().history_error`` has the same text."""
