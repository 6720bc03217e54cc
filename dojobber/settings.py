"""Settings: configure's options and each job's TRIES, RETRY_DELAY, TIMEOUT and
backoff, each validated in one place."""

from __future__ import annotations

import math
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, Sequence, cast

from .backoff import Backoff
from .errors import ConfigurationError, InfiniteTriesError, JobTypeError, RetrySettingError
from .events import Observer

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from .jobs import Job


def _finite_number(value: Any) -> bool | None:
    """None when ``value`` is no real number (bools and strings are not);
    else whether it is finite. Decimal is accepted like ``numbers.Real``,
    as 0.6.2 did (it compared and rounded whatever it was given)."""
    kind = type(value)
    if kind is int:
        return True
    if kind is float:
        return bool(-math.inf < value < math.inf)
    # Other types are rare: ``numbers`` is imported only for them, which
    # keeps ``import dojobber`` lighter (tests/test_import_cost.py).
    import numbers

    if isinstance(value, bool):
        return None
    if not isinstance(value, numbers.Real):
        # A Decimal can only exist once its module is imported: looking it up
        # there keeps ``import dojobber`` from importing it.
        decimal = sys.modules.get("decimal")
        if decimal is None or not isinstance(value, decimal.Decimal):
            return None
        return bool(value.is_finite())  # a NaN would raise on comparison
    # Compared, not converted: float() of a huge int would overflow.
    return -math.inf < cast(float, value) < math.inf


def check_tries(value: Any, job: str | None, what: str = "TRIES") -> int:
    """Validate a TRIES value and return the budget it allows (rounded up)."""
    where = f"{what} of job {job!r}" if job else what
    finite = _finite_number(value)
    if finite is None:
        raise JobTypeError(f"{where} must be a number >= 1, got {value!r}", job, value)
    if not (finite and value >= 1):
        # The type 0.6.2 raised kept as a base: a RuntimeError below 1, an
        # OverflowError for an infinity (a NaN is a ValueError, as there).
        kind = (RetrySettingError if finite else
                InfiniteTriesError if _infinite(value) else ConfigurationError)
        raise kind(f"{where} must be a finite number >= 1, got {value!r}", job, value)
    return int(math.ceil(value))


def check_delay(value: Any, job: str | None, what: str = "RETRY_DELAY") -> float:
    """Validate a RETRY_DELAY value (seconds) and return it as a float."""
    where = f"{what} of job {job!r}" if job else what
    finite = _finite_number(value)
    if finite is None:
        raise JobTypeError(
            f"{where} must be a number of seconds >= 0, got {value!r}", job, value
        )
    if not (finite and value >= 0):
        # A RuntimeError too where 0.6.2 raised one: negative, -inf included.
        kind = RetrySettingError if finite or _minus_infinity(value) else ConfigurationError
        raise kind(
            f"{where} must be a finite number of seconds >= 0, got {value!r}",
            job,
            value,
        )
    # A longer wait cannot be slept (time.sleep raises OverflowError mid-run).
    if value > threading.TIMEOUT_MAX:
        raise ConfigurationError(
            f"{where} must be at most {threading.TIMEOUT_MAX:g} seconds, got {value!r}",
            job,
            value,
        )
    return float(value)


def _minus_infinity(value: Any) -> bool:
    try:
        return bool(value == -math.inf)
    except ArithmeticError:  # a signalling NaN refuses even to be compared
        return False


def _infinite(value: Any) -> bool:
    try:
        return bool(value == math.inf or value == -math.inf)
    except ArithmeticError:
        return False


def check_workers(value: Any) -> int:
    """Validate the ``workers`` knob of ``configure``: an int >= 1 (not a bool)."""
    if type(value) is not int:
        import numbers  # only for the rare other integer types

        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise JobTypeError(f"workers must be an int >= 1, got {value!r}", None, value)
    if value < 1:
        raise ConfigurationError(f"workers must be an int >= 1, got {value!r}", None, value)
    return int(value)


def _finite(value: Any, job: str | None, what: str, wanted: str) -> bool:
    """Whether ``value`` is finite; JobTypeError when it is no real number."""
    finite = _finite_number(value)
    if finite is None:
        raise JobTypeError(f"{_where(job, what)} must be {wanted}, got {value!r}", job, value)
    return finite


def _out_of_range(job: str | None, what: str, wanted: str, value: Any) -> ConfigurationError:
    return ConfigurationError(f"{_where(job, what)} must be {wanted}, got {value!r}", job, value)


def _where(job: str | None, what: str) -> str:
    return f"{what} of job {job!r}" if job else what


def check_timeout(value: Any, job: str | None, what: str = "TIMEOUT") -> float | None:
    """Validate a TIMEOUT (seconds > 0; ``math.inf`` means no limit).

    Returns the limit as a float, or None for no limit.
    """
    wanted = "a number of seconds > 0 (math.inf for no limit)"
    if not _finite(value, job, what, wanted):
        if value == math.inf:
            return None
        raise _out_of_range(job, what, wanted, value)
    if not value > 0:
        raise _out_of_range(job, what, wanted, value)
    # Longer than a thread or timer can wait for.
    if value > threading.TIMEOUT_MAX:
        raise _out_of_range(job, what, f"at most {threading.TIMEOUT_MAX:g} seconds", value)
    return float(value)


def check_backoff(value: Any, job: str | None, what: str = "RETRY_BACKOFF") -> float:
    """Validate a RETRY_BACKOFF (the factor each retry delay grows by: >= 1)."""
    wanted = "a finite number >= 1"
    if not (_finite(value, job, what, wanted) and value >= 1):
        raise _out_of_range(job, what, wanted, value)
    return float(value)


def check_delay_max(value: Any, job: str | None, what: str = "RETRY_DELAY_MAX") -> float:
    """Validate a RETRY_DELAY_MAX (seconds >= 0; ``math.inf`` means no cap)."""
    wanted = "a number of seconds >= 0 (math.inf for no cap)"
    if not _finite(value, job, what, wanted):
        if value == math.inf:
            return math.inf
        raise _out_of_range(job, what, wanted, value)
    if not value >= 0:
        raise _out_of_range(job, what, wanted, value)
    return float(value)


def check_jitter(value: Any, job: str | None, what: str = "RETRY_JITTER") -> float:
    """Validate a RETRY_JITTER (the largest fraction a retry delay is cut by: 0 to 1)."""
    wanted = "a number from 0 to 1"
    if not (_finite(value, job, what, wanted) and 0 <= value <= 1):
        raise _out_of_range(job, what, wanted, value)
    return float(value)


def check_backoff_defaults(backoff: Any, delay_max: Any, jitter: Any) -> Backoff:
    """Validate ``configure``'s default_retry_backoff, default_retry_delay_max
    (None for no cap) and default_retry_jitter."""
    return Backoff(
        check_backoff(backoff, None, "default_retry_backoff"),
        math.inf
        if delay_max is None
        else check_delay_max(delay_max, None, "default_retry_delay_max"),
        check_jitter(jitter, None, "default_retry_jitter"),
    )


def check_executor(value: Any) -> Executor:
    """Validate ``configure``'s ``executor``: anything with a ``submit`` method."""
    if not callable(getattr(value, "submit", None)):
        raise JobTypeError(
            f"executor must be a concurrent.futures.Executor (an object with submit()), "
            f"got {value!r}",
            None,
            value,
        )
    return value  # type: ignore[no-any-return]


def check_observers(value: Sequence[Any]) -> list[Observer]:
    """Validate ``configure``'s ``observers``: Observer instances."""
    observers = list(value)
    for observer in observers:
        if not isinstance(observer, Observer):
            raise ConfigurationError(
                f"observers must be dojobber.Observer instances, got {observer!r}",
                None,
                observer,
            )
    return observers


def check_flag(value: Any, what: str) -> bool:
    """Validate an option that must be exactly True or False."""
    if not isinstance(value, bool):
        raise JobTypeError(f"{what} must be True or False, got {value!r}", None, value)
    return value


def check_history(value: Any, what: str) -> str:
    """Validate a run history's place: a SQLite file path or a
    ``postgresql://`` URL; ``""`` means none."""
    if value == "":
        return ""
    from .history.place import check_place  # only runs that record load it

    return check_place(value, what)


#: What a job that sets nothing gets for its backoff: 0.6.2's fixed delay.
PLAIN_BACKOFF = Backoff()


class Settings:
    """What ``DoJobber.configure`` takes besides the root, validated: the one
    place its options are named, with their defaults.

    ``configure`` (whose signature a test holds to this one), the command
    line and the report all go through it. The raw values stay readable
    under their option names; what the plan and the engines use is
    validated: ``tries``, ``delay``, ``timeout`` and ``backoff``.
    Invalid input raises a ConfigurationError (JobTypeError for a wrong
    type) naming the option and the value.
    """

    def __init__(
        self,
        no_act: bool = False,
        verbose: bool = False,
        debug: bool = False,
        cleanup: bool = True,
        default_tries: float = 3,
        default_retry_delay: float = 1,
        *,
        observers: Sequence[Observer] = (),
        workers: int | None = None,
        executor: Executor | None = None,
        default_timeout: float | None = None,
        fail_fast: bool = False,
        default_retry_backoff: float = 1,
        default_retry_delay_max: float | None = None,
        default_retry_jitter: float = 0,
        history: str | os.PathLike[str] | None = None,
    ):
        # no_act, verbose, debug and cleanup are read for their truth, as
        # 0.6.2 read them.
        self.no_act = no_act
        self.verbose = verbose
        self.debug = debug
        self.cleanup = cleanup
        # Checked in this order: the first bad option is the one reported.
        self.workers = None if workers is None else check_workers(workers)
        self.executor = None if executor is None else check_executor(executor)
        self.fail_fast = check_flag(fail_fast, "fail_fast")
        self.observers = check_observers(observers)
        self.default_tries = default_tries
        self.tries = check_tries(default_tries, None, "default_tries")
        self.default_retry_delay = default_retry_delay
        self.delay = check_delay(default_retry_delay, None, "default_retry_delay")
        self.default_timeout = default_timeout
        self.timeout = (
            None if default_timeout is None
            else check_timeout(default_timeout, None, "default_timeout")
        )
        self.default_retry_backoff = default_retry_backoff
        self.default_retry_delay_max = default_retry_delay_max
        self.default_retry_jitter = default_retry_jitter
        self.backoff = check_backoff_defaults(
            default_retry_backoff, default_retry_delay_max, default_retry_jitter
        )
        # Checked here, so that a bad place fails configure(), not the run's end.
        self.history = None if history is None else check_history(history, "history")

    def history_place(self) -> str | None:
        """Where the run history is recorded: ``history``, else the
        DOJOBBER_HISTORY variable (checked now); None for nowhere. An empty
        ``history`` records nowhere, whatever the variable says."""
        if self.history is not None:
            return self.history or None
        place = os.environ.get("DOJOBBER_HISTORY")
        return check_history(place, "DOJOBBER_HISTORY") or None if place else None

    @property
    def engine(self) -> str:
        """Where the tries run, in words, for the report."""
        workers, executor = self.workers, self.executor
        if executor is not None:
            at_once = f", {workers} tries at once" if workers is not None else ""
            return f"executor {type(executor).__name__}{at_once}"
        if workers is not None and workers > 1:
            return f"threads, {workers} workers"
        return "sequential"

    def for_report(self, root: str) -> dict[str, Any]:
        """What the run report says the run was configured with."""
        return {
            "root": root, "engine": self.engine,
            "default_tries": self.tries, "default_retry_delay": self.delay,
            "default_retry_backoff": self.default_retry_backoff,
            "default_retry_delay_max": self.default_retry_delay_max,
            "default_retry_jitter": self.default_retry_jitter,
            "default_timeout": self.timeout,
            "fail_fast": self.fail_fast, "no_act": self.no_act, "cleanup": self.cleanup,
        }


#: The options, in the order of Settings' (and configure's) parameters.
#: Written out: tests/test_architecture.py holds this list, Settings'
#: signature, configure's and configure's docstring to one list.
OPTIONS: tuple[str, ...] = (
    "no_act", "verbose", "debug", "cleanup", "default_tries", "default_retry_delay",
    "observers", "workers", "executor", "default_timeout", "fail_fast",
    "default_retry_backoff", "default_retry_delay_max", "default_retry_jitter", "history",
)

#: The defaults: what a plan built without settings uses.
DEFAULTS = Settings()

#: Every setting a job class may have (all None on Job).
JOB_SETTINGS = ("TRIES", "RETRY_DELAY", "TIMEOUT", "RETRY_BACKOFF", "RETRY_DELAY_MAX",
                "RETRY_JITTER")


def read_job_settings(
    cls: type[Job], name: str, settings: Settings
) -> tuple[int, float, float | None, Backoff]:
    """Job ``cls``'s TRIES, RETRY_DELAY, TIMEOUT (None: no limit) and
    Backoff, validated; ``settings`` give what the job leaves as None (the
    Backoff is ``settings.backoff`` itself when the job sets none of its
    three values)."""
    job_tries, job_delay = cls.TRIES, cls.RETRY_DELAY
    tries = settings.tries if job_tries is None else check_tries(job_tries, name)
    delay = settings.delay if job_delay is None else check_delay(job_delay, name)
    timeout, factor, cap = cls.TIMEOUT, cls.RETRY_BACKOFF, cls.RETRY_DELAY_MAX
    jitter = cls.RETRY_JITTER
    default = settings.backoff
    return (
        tries,
        delay,
        settings.timeout if timeout is None else check_timeout(timeout, name),
        default if factor is None and cap is None and jitter is None else Backoff(
            default.factor if factor is None else check_backoff(factor, name),
            default.cap if cap is None else check_delay_max(cap, name),
            default.jitter if jitter is None else check_jitter(jitter, name),
        ),
    )


def check_tries_and_delay(
    job_tries: Any,
    job_delay: Any,
    job: str,
    settings: Settings,
    checked: dict[tuple[Any, ...], tuple[int, float]],
) -> tuple[int, float]:
    """Validate job ``job``'s TRIES and RETRY_DELAY, as read_job_settings
    does, for a job whose other settings are all None.

    Answers from ``checked`` a pair met before: it holds each answer under
    ``(job_tries, its type, job_delay, its type)`` when those can be hashed
    (the types tell ``True`` from ``1``, and only one of them is refused).
    """
    key = (job_tries, type(job_tries), job_delay, type(job_delay))
    try:
        return checked[key]
    except (KeyError, TypeError):  # a new pair, or one that cannot be hashed
        pass
    answer = (
        settings.tries if job_tries is None else check_tries(job_tries, job),
        settings.delay if job_delay is None else check_delay(job_delay, job),
    )
    try:
        checked[key] = answer
    except TypeError:  # cannot be hashed: validated for every job
        pass
    return answer
