"""Graph building: follow DEPS from the root, validate every job, make a Plan."""

from __future__ import annotations

import logging
import math
import sys
import threading
from array import array
from collections.abc import Mapping
from functools import cached_property
from itertools import accumulate
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence, cast, overload

from .backoff import Backoff
from .errors import (
    ConfigurationError,
    DependencyCycleError,
    DuplicateJobNameError,
    JobTypeError,
)
from .errortext import one_line, short_name, text_of
from .hints import LOWER_CASE_METHODS
from .jobs import Job

if TYPE_CHECKING:
    from pygraph.classes.digraph import digraph

log = logging.getLogger("DoJobber")

# build_plan's marks for a job whose DEPS are being walked: a usual job
# (it takes the default settings), or not (see _walk).
WALKING = -1
WALKING_UNUSUAL = -2


class Plan:
    """The validated job graph as flat lists, indexed in the root's run order.

    Index ``i`` is the ``i``-th job of the root's depth-first post-order, so
    ``range(len(names))`` is already the order of a run from the root, and
    every job's dependencies have smaller indices.
    """

    # A plain class, not a dataclass: ``import dojobber`` stays lighter.
    def __init__(
        self,
        names: list[str],
        classes: list[type[Job]],
        deps: Sequence[Sequence[int]] | FlatDeps,
        tries: list[int],
        delays: Sequence[float],
        timeouts: dict[int, float] | None = None,
        backoff: dict[int, Backoff] | None = None,
        unusual: Sequence[int] | None = None,
        waits: bool | None = None,
    ):
        self.names = names
        self.classes = classes
        if not isinstance(deps, FlatDeps):  # one sequence of indices per job
            deps = _flat(deps)
        #: The DEPS of job ``i`` are ``dep_jobs[dep_start[i]:dep_start[i + 1]]``:
        #: two arrays of machine integers rather than a tuple per job, which
        #: on big graphs is much less memory kept and nothing for the
        #: garbage collector to go through.
        self.dep_start, self.dep_jobs = deps.start, deps.jobs
        self.tries = tries
        self.delays = delays
        #: Job index -> TIMEOUT in seconds, for the jobs that have a limit.
        self.timeouts: dict[int, float] = timeouts or {}
        #: Job index -> its Backoff, for the jobs whose RETRY_BACKOFF,
        #: RETRY_DELAY_MAX or RETRY_JITTER is not the default (1, none, 0).
        self.backoff: dict[int, Backoff] = backoff or {}
        #: The jobs whose class (or a base) sets a setting or a name
        #: hints.py looks at, a metaclass or several bases; None: not known.
        self.unusual = unusual
        #: Whether some job waits between its tries (a RETRY_DELAY or a
        #: backoff): a run of a plan where none does never reads the clock.
        self.waits = bool(self.backoff) or any(delays) if waits is None else waits
        self._orders: dict[int, list[int]] = {}

    def __len__(self) -> int:
        return len(self.names)

    @property
    def deps(self) -> Deps:
        """Each job's dependencies, as indices: ``deps[i]``."""
        return Deps(self.dep_start, self.dep_jobs)

    @cached_property
    def index(self) -> dict[str, int]:
        """Job name -> index (made on first use: only ``checknrun(node)`` needs it)."""
        return {name: i for i, name in enumerate(self.names)}

    @cached_property
    def dependents(self) -> tuple[array[int], array[int]]:
        """The DEPS edges reversed, as ``(start, jobs)``.

        The jobs whose DEPS list job ``i`` are ``jobs[start[i]:start[i + 1]]``,
        ascending.
        """
        counts = [0] * len(self.names)
        for dep in self.dep_jobs:
            counts[dep] += 1
        start = array("i", accumulate(counts, initial=0))
        free = start[:-1]  # where the next dependent of each job goes
        jobs = array("i", bytes(4 * start[-1]))
        for i, job_deps in enumerate(self.deps):
            for dep in job_deps:
                jobs[free[dep]] = i
                free[dep] += 1
        return start, jobs

    def positions(self, order: Sequence[int]) -> Sequence[int]:
        """Each job's position in ``order``, or -1 for a job ``order`` lacks."""
        if isinstance(order, range):
            return order  # the root's order: every job, at the position of its index
        position = [-1] * len(self.names)
        for p, i in enumerate(order):
            position[i] = p
        return position

    def order_from(self, start: int) -> Sequence[int]:
        """The jobs reachable from ``start``, dependencies first (post-order)."""
        if start == len(self.names) - 1:
            return range(len(self.names))
        order = self._orders.get(start)
        if order is None:
            order = self._orders[start] = _post_order(start, self.deps)
        return order

    def to_digraph(self) -> digraph:
        """A pygraph digraph with an edge from every job to each dependency."""
        from pygraph.classes.digraph import digraph  # on first use: most runs never draw

        graph = digraph()
        names = self.names
        for name in names:
            graph.add_node(name)
        for name, deps in zip(names, self.deps, strict=True):
            for dep in deps:
                graph.add_edge((name, names[dep]))
        return graph


class Deps(Sequence["array[int]"]):
    """A Plan's dependencies as a sequence: item ``i`` lists job ``i``'s."""

    __slots__ = ("_start", "_jobs")

    def __init__(self, start: array[int], jobs: array[int]):
        self._start = start
        self._jobs = jobs

    def __len__(self) -> int:
        return len(self._start) - 1

    @overload
    def __getitem__(self, i: int) -> array[int]: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[array[int]]: ...
    def __getitem__(self, i: int | slice) -> array[int] | Sequence[array[int]]:
        if isinstance(i, slice):
            return [self[k] for k in range(len(self))[i]]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("job index out of range")
        return self._jobs[self._start[i]:self._start[i + 1]]

    def __iter__(self) -> Iterator[array[int]]:
        jobs, start = self._jobs, self._start
        for i in range(len(start) - 1):
            yield jobs[start[i]:start[i + 1]]


class FlatDeps:
    """Every job's dependencies in two arrays, as a Plan keeps them (see
    Plan.dep_start)."""

    __slots__ = ("start", "jobs")

    def __init__(self, start: array[int], jobs: array[int]):
        self.start = start
        self.jobs = jobs


def _flat(deps: Sequence[Sequence[int]]) -> FlatDeps:
    """FlatDeps from one sequence of indices per job."""
    jobs = array("i")
    start = array("i", [0])
    for job_deps in deps:
        jobs.extend(job_deps)
        start.append(len(jobs))
    return FlatDeps(start, jobs)


def _post_order(start: int, deps: Sequence[Sequence[int]]) -> list[int]:
    order: list[int] = []
    seen = {start}
    stack: list[tuple[int, Iterator[int]]] = [(start, iter(deps[start]))]
    while stack:
        node, pending = stack[-1]
        for dep in pending:
            if dep not in seen:
                seen.add(dep)
                stack.append((dep, iter(deps[dep])))
                break
        else:
            stack.pop()
            order.append(node)
    return order


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
    # keeps ``import dojobber`` lighter.
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
        raise ConfigurationError(
            f"{where} must be a finite number >= 1, got {value!r}", job, value
        )
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
        raise ConfigurationError(
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


#: Every setting a job class may have (all None on Job).
_SETTINGS = ("TRIES", "RETRY_DELAY", "TIMEOUT", "RETRY_BACKOFF", "RETRY_DELAY_MAX",
             "RETRY_JITTER")
#: The job attributes for timeouts and backoff; all None on most jobs.
_read_limits = attrgetter(*_SETTINGS[2:])
_PLAIN = Backoff()


def _job_limits(
    cls: type[Job], name: str, default_timeout: float | None, default_backoff: Backoff
) -> tuple[float | None, Backoff]:
    """The TIMEOUT (None: no limit) and Backoff of job ``cls``, validated."""
    timeout, factor, cap, jitter = _read_limits(cls)
    return (
        default_timeout if timeout is None else check_timeout(timeout, name),
        Backoff(
            default_backoff.factor if factor is None else check_backoff(factor, name),
            default_backoff.cap if cap is None else check_delay_max(cap, name),
            default_backoff.jitter if jitter is None else check_jitter(jitter, name),
        ),
    )


def _is_job_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Job)


def _read_deps(cls: type[Job], name: str) -> tuple[type[Job], ...]:
    """The job's DEPS as distinct Job classes, in declaration order."""
    value = getattr(cls, "DEPS", ())
    kind = type(value)
    if kind is not tuple and kind is not list:  # the usual DEPS need no more checks
        _check_deps_kind(value, name)
    try:
        entries = tuple(value)
    except Exception as error:
        if isinstance(error, TypeError) and not _has_iter(kind):
            message = f'DEPS for {name} is not iterable; is "{text_of(value)}"'
            log.critical(message)
            raise JobTypeError(message, name, value) from None
        raise JobTypeError(
            f"DEPS of job {name!r} cannot be read: iterating {text_of(value, repr)} "
            f"raised {one_line(error)}",
            name,
            value,
        ) from error
    # Each entry is checked to be a Job class when the walk first meets it,
    # not once per edge; one that cannot even be hashed is refused here.
    try:
        if len(entries) > 1 and len(set(entries)) < len(entries):
            return tuple(dict.fromkeys(entries))
    except TypeError:
        _refuse_entries(entries, name)
    return entries


def _refuse_entries(entries: Sequence[Any], job: str) -> None:
    """Raise for the first entry of ``entries`` that is not a Job class."""
    for entry in entries:
        if not _is_job_class(entry):
            raise JobTypeError(
                f"DEPS of job {job!r} lists {text_of(entry, repr)}, which is not a Job class",
                job,
                entry,
            )


def _check_deps_kind(value: Any, name: str) -> None:
    """Refuse the iterables that cannot be a list of Job classes."""
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        # Iterating would complain about its first letter (or byte), which misleads.
        instead = "names"
    elif isinstance(value, Mapping):
        # Iterating gives its keys: its values would be silently ignored.
        instead = "a mapping"
    else:
        return
    kind = "string" if isinstance(value, str) else short_name(type(value))
    raise JobTypeError(
        f"DEPS of job {name!r} is the {kind} {text_of(value, repr)}; "
        f"list Job classes, not {instead}",
        name,
        value,
    )


def _has_iter(kind: type) -> bool:
    """Whether iter() would try instances of ``kind`` at all."""
    return getattr(kind, "__iter__", None) is not None or hasattr(kind, "__getitem__")


def _check_name(cls: type[Job], by_name: dict[str, type[Job]]) -> None:
    """Add ``cls`` to ``by_name``, or raise if another class has its name."""
    name = cls.__name__
    other = by_name.setdefault(name, cls)
    if other is not cls:
        raise DuplicateJobNameError(
            f"two different job classes are named {name!r}: {other!r} and {cls!r}",
            name,
            (other, cls),
        )


def build_plan(
    root: Any,
    default_tries: int,
    default_delay: float,
    *,
    default_timeout: float | None = None,
    default_backoff: Backoff = _PLAIN,
) -> Plan:
    """Discover every job reachable from ``root`` and validate it.

    The defaults apply to jobs whose attribute is None; they must be
    validated already (``check_tries``, ``check_delay``, ``check_timeout``,
    ``check_backoff_defaults``).

    Walks DEPS depth-first without recursion, so graph depth is unlimited.
    Raises a ConfigurationError subclass naming the job and the bad value.
    """
    if not _is_job_class(root):
        raise JobTypeError(f"root must be a Job class, got {root!r}", None, root)
    # Names are checked after the walk, in one pass over them: a set of
    # names filled as the walk goes costs about twice as much on a graph of
    # 100,000 jobs, where its table no longer stays in the CPU's cache
    # between one job and the next. The debug log shows the walk step by
    # step, so there the check is made on the way.
    index: dict[type[Job], int] = {}
    by_name: dict[str, type[Job]] | None = (
        {} if log.isEnabledFor(logging.DEBUG) else None
    )
    try:
        plan = _walk(
            root, default_tries, default_delay, index, by_name,
            default_timeout, default_backoff,
        )
    except Exception:
        # A duplicate name met before the error is the error to report, as
        # a check on the way would have: ``index`` is in the order met.
        _check_names(index)
        raise
    # Freed first, so that on a big graph the set of names takes the
    # index's memory, not new memory the system must hand out page by page.
    del index
    if len(set(plan.names)) < len(plan.names):
        # Walked again with the check on the way, for the pair met first.
        _walk(root, default_tries, default_delay, {}, {}, default_timeout, default_backoff)
        _check_names(plan.classes)  # not reached unless a DEPS changed meanwhile
    return plan


def _check_names(classes: Iterable[type[Job]]) -> None:
    by_name: dict[str, type[Job]] = {}
    for cls in classes:
        _check_name(cls, by_name)


#: The names that make a job class unusual when its class dict, or a base
#: class's, sets them: the settings read from a job (all None on Job) and
#: the misspellings hints.py warns about.
_UNUSUAL = frozenset(_SETTINGS) | LOWER_CASE_METHODS
#: What a base class is, for the classes that subclass it (see _base_kind).
UNUSUAL, PLAIN, PLAIN_WITH_CHECK, NOT_JOB = 0, 1, 2, 3


def _base_kind(base: type) -> int:
    """NOT_JOB when ``base`` is not a Job class; PLAIN when no class of its
    MRO sets a name of _UNUSUAL (Job's settings all None) and no metaclass
    is in play, PLAIN_WITH_CHECK when its Check is also not Job's; else
    UNUSUAL."""
    if not issubclass(base, Job):
        return NOT_JOB
    for cls in base.__mro__[:-1]:  # not object
        if type(cls) is not type:
            return UNUSUAL
        if cls is Job:
            if any(getattr(Job, name) is not None for name in _SETTINGS) or not (
                LOWER_CASE_METHODS.isdisjoint(vars(Job))
            ):
                return UNUSUAL  # someone changed Job itself
        elif not _UNUSUAL.isdisjoint(vars(cls)):
            return UNUSUAL
    return PLAIN if base.Check is Job.Check else PLAIN_WITH_CHECK


def _walk(
    root: type[Job],
    default_tries: int,
    default_delay: float,
    index: dict[type[Job], int],
    by_name: dict[str, type[Job]] | None,
    default_timeout: float | None = None,
    default_backoff: Backoff = _PLAIN,
) -> Plan:
    """build_plan's walk: every check but the one for duplicate names,
    which it makes only when given ``by_name`` (and then logs each step).

    ``index`` maps each class met to its index once all its DEPS have one,
    and to WALKING (or WALKING_UNUSUAL) before that; its order is the order
    they were met.
    """
    debug = by_name is not None
    names: list[str] = []
    classes: list[type[Job]] = []
    # Machine integers from the start: a list would keep an int object per
    # job (megabytes of fresh memory on a big graph) until the end.
    dep_start = array("i", [0])
    dep_jobs = array("i")
    # The jobs with a setting or a hint to look at: index -> (TRIES, RETRY_DELAY).
    unusual: dict[int, tuple[int, float]] = {}
    timeouts: dict[int, float] = {}
    backoff: dict[int, Backoff] = {}
    plain = default_timeout is None and default_backoff == _PLAIN
    # Base class -> what it is (_base_kind); most graphs have a few bases.
    base_kinds: dict[type, int] = {}
    # The walk's path from the root, as parallel lists rather than a list of
    # frames: on a deep graph those frames would be many long-lived objects
    # for the garbage collector to go through. Where each job's walk of its
    # DEPS stands is a tuple iterator: a ``for`` over it costs less per
    # dependency than a position kept by hand (the walk is 4-10% faster,
    # with the collector on as well as off, on 100,000 jobs in a chain too).
    path: list[type[Job]] = []
    path_names: list[str] = []
    path_deps: list[tuple[type[Job], ...]] = []
    pending: list[Iterator[type[Job]]] = []  # the DEPS entries not visited yet
    index_of, index_at = index.get, index.__getitem__
    new: Any = root  # the job to enter next
    entering = True
    while True:
        if entering:  # a job met for the first time
            # A plain class (no metaclass) with one base is a Job class when
            # its base is one: what a base is, is worked out once per base.
            kind = UNUSUAL
            if type(new) is type and len(bases := new.__bases__) == 1:
                kind = base_kinds.get(bases[0], -1)
                if kind < 0:
                    kind = base_kinds[bases[0]] = _base_kind(bases[0])
            if kind == NOT_JOB or (kind == UNUSUAL and not _is_job_class(new)):
                _refuse_entries([new], path_names[-1])
            # All that is read from its class is read now, while the class
            # is in the CPU's cache: on a big graph, walking its DEPS first
            # would push it out.
            name = new.__name__
            if debug:
                _check_name(new, by_name)  # type: ignore[arg-type]
                log.debug("Adding job %s", name)
            job_deps = new.DEPS
            # Most DEPS are tuples of distinct classes: no copy, no more
            # checks. Up to three entries, comparing them costs less than a set.
            count = len(job_deps) if type(job_deps) is tuple else -1
            try:
                usual = count >= 0 and (
                    count < 2
                    or (count == 2 and job_deps[0] != job_deps[1])
                    or (count == 3 and job_deps[0] != job_deps[1] != job_deps[2] != job_deps[0])
                    or (count > 3 and len(set(job_deps)) == count)
                )
            except Exception:  # an odd entry (unhashable...): _read_deps says which
                usual = False
            # A usual job (its class and bases set no setting or misspelt
            # method, one base, no metaclass) takes the defaults: one set
            # operation on its class dict instead of six lookups through its
            # MRO, each a miss of the type cache on a graph of many classes.
            own = new.__dict__
            index[new] = WALKING if plain and (
                kind == PLAIN_WITH_CHECK or (kind == PLAIN and "Check" in own)
            ) and _UNUSUAL.isdisjoint(own) else WALKING_UNUSUAL
            if not usual:
                job_deps = _read_deps(new, name)
            path.append(new)
            path_names.append(name)
            path_deps.append(job_deps)
            pending.append(iter(job_deps))
            entering = False
        try:
            for new in pending[-1]:
                state = index_of(new)
                if state is None:
                    entering = True
                    break
                if state < 0:  # being walked: a cycle
                    cycle = [c.__name__ for c in path[path.index(new):]]
                    raise DependencyCycleError(cycle + [new.__name__])
        except TypeError:  # an unhashable entry: never a Job class
            _refuse_entries(path_deps[-1], path_names[-1])
        if entering:
            continue
        # Every dependency has an index: the job gets the next one.
        cls = path.pop()
        name = path_names.pop()
        cls_deps = path_deps.pop()
        del pending[-1]
        if debug:
            for dep in cls_deps:
                log.debug("Adding dependency %s -> %s", name, dep.__name__)
        usual = index[cls] == WALKING
        i = index[cls] = len(names)
        names.append(name)
        classes.append(cls)
        dep_jobs.extend(map(index_at, cls_deps))
        dep_start.append(len(dep_jobs))
        if not usual:
            unusual[i] = _read_settings(cls, name, i, default_tries, default_delay,
                                        default_timeout, default_backoff, timeouts, backoff)
        if not path:
            break
    # Filled in at once (the usual jobs take the defaults), then corrected;
    # delays as machine floats rather than a float object per job.
    tries = [default_tries] * len(names)
    delays = array("d", [default_delay]) * len(names)
    for i, (job_tries, job_delay) in unusual.items():
        tries[i] = job_tries
        delays[i] = job_delay
    waits = bool(backoff) or default_delay > 0 or any(delay for _, delay in unusual.values())
    return Plan(names, classes, FlatDeps(dep_start, dep_jobs),
                tries, delays, timeouts, backoff, array("i", unusual), waits)


def _read_settings(
    cls: type[Job],
    name: str,
    i: int,
    default_tries: int,
    default_delay: float,
    default_timeout: float | None,
    default_backoff: Backoff,
    timeouts: dict[int, float],
    backoff: dict[int, Backoff],
) -> tuple[int, float]:
    """Read and validate job ``i``'s settings: its TIMEOUT and backoff go
    into ``timeouts`` and ``backoff``; returns its (TRIES, RETRY_DELAY)."""
    job_tries, job_delay = cls.TRIES, cls.RETRY_DELAY
    tries = default_tries if job_tries is None else check_tries(job_tries, name)
    delay = default_delay if job_delay is None else check_delay(job_delay, name)
    limit, rule = _job_limits(cls, name, default_timeout, default_backoff)
    if limit is not None:
        timeouts[i] = limit
    if rule != _PLAIN:
        backoff[i] = rule
    return tries, delay
