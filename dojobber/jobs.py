"""The job classes users subclass: Job, DummyJob and RunonlyJob."""

from __future__ import annotations

from typing import Any, ClassVar, Iterable


class Job:
    """One idempotent unit of work.

    Subclasses set ``DEPS`` (the Job classes that must pass first) and define
    ``Check`` (raise unless the desired state holds) and ``Run`` (make it so).
    An optional ``Cleanup(self)`` runs after the whole graph has been run.

    ``TRIES``, ``RETRY_DELAY``, ``RETRY_BACKOFF``, ``RETRY_DELAY_MAX``,
    ``RETRY_JITTER`` and ``TIMEOUT`` override the defaults given to
    ``DoJobber.configure`` for this job; ``None`` means "use the default"
    (see docs/timeouts-and-retries.rst).

    A fresh instance is made for every try, with no constructor arguments.
    Before ``Check`` runs the scheduler sets ``storage`` (a dict private to
    this try), ``global_storage`` (shared by every job of one run) and
    ``_check_phase`` (``'check'``, then ``'recheck'`` after ``Run``).
    """

    DEPS: ClassVar[Iterable[type[Job]]] = ()
    TRIES: ClassVar[float | None] = None
    RETRY_DELAY: ClassVar[float | None] = None
    RETRY_BACKOFF: ClassVar[float | None] = None
    RETRY_DELAY_MAX: ClassVar[float | None] = None
    RETRY_JITTER: ClassVar[float | None] = None
    TIMEOUT: ClassVar[float | None] = None

    # Class-level defaults, so that a subclass whose __init__ never calls
    # super().__init__() still has every attribute the scheduler promises.
    storage: dict[str, Any]
    global_storage: dict[str, Any]
    _check_phase: str = "check"
    _check_results: Any = None
    _check_exception: BaseException | None = None
    _run_results: Any = None
    _run_exception: BaseException | None = None
    _recheck_results: Any = None
    _recheck_exception: BaseException | None = None

    def Check(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - 0.6.2 name
        """Raise an exception unless this job's desired state already holds.

        A subclass that defines none fails here as under 0.6.2, whose Job
        had no Check: ``AttributeError: 'NAME' object has no attribute 'Check'``.
        """
        raise missing_method(self, "Check")

    def Run(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - 0.6.2 name
        """Try to bring about the desired state; the outcome is ignored.

        Without one, it fails as Check does (0.6.2's Job had no Run either).
        """
        raise missing_method(self, "Run")


def missing_method(job: Job, method: str) -> AttributeError:
    """The AttributeError Python itself raises when ``job.<method>`` does not
    exist, which is what 0.6.2 recorded for a job without Check or Run.

    Asked of a bare class of the same name, so that the message is the
    interpreter's own, word for word (long names shortened as it does);
    ``obj`` is ``job``, whose lower-case ``check`` a traceback may suggest.
    """
    bare = type(type(job).__name__, (), {"__slots__": ()})
    try:
        getattr(bare(), method)
    except AttributeError as error:
        error.obj = job
        return error.with_traceback(None)
    raise AssertionError(f"{bare!r} has {method}")  # pragma: no cover


class DummyJob(Job):
    """A job that always passes: a node that only groups dependencies."""

    def Check(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
        """Pass at once."""

    def Run(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
        """Do nothing."""


class RunonlyJob(Job):
    """A job with only a ``Run``: it runs on every try and passes if Run did.

    Its first Check always fails, so ``Run`` is called; the recheck then
    reports Run's outcome. In no_act mode Run never happens, so it fails.
    """

    def Check(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        """Fail before Run; afterwards re-raise Run's error or return its value."""
        if self._check_phase != "recheck":
            raise RuntimeError("Runonly node check intentionally fails first time.")
        if self._run_exception is not None:
            raise self._run_exception
        return self._run_results
