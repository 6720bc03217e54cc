"""Graph building: follow DEPS from the root, validate every job, make a Plan."""

from __future__ import annotations

import logging
from array import array
from collections.abc import Mapping
from typing import Any, Iterable, Iterator, Sequence

from .backoff import Backoff
from .errors import (
    DependencyCycleError,
    DuplicateJobNameError,
    JobTypeError,
)
from .errortext import one_line, short_name, text_of
from .hints import LOWER_CASE_METHODS
from .jobs import Job
from .plan import FlatDeps, Plan
from .settings import (
    DEFAULTS,
    JOB_SETTINGS,
    PLAIN_BACKOFF,
    Settings,
    check_tries_and_delay,
    read_job_settings,
)

log = logging.getLogger("DoJobber")

# build_plan's marks for a job whose DEPS are being walked: a usual job
# (it takes the default settings), one whose TRIES or RETRY_DELAY is all it
# may set, or any other (see _walk).
WALKING = -1
WALKING_TRIES = -2
WALKING_UNUSUAL = -3


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


def build_plan(root: Any, settings: Settings = DEFAULTS) -> Plan:
    """Discover every job reachable from ``root`` and validate it.

    ``settings`` give the TRIES, RETRY_DELAY, TIMEOUT and backoff of the
    jobs whose attribute is None.

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
        plan = _walk(root, settings, index, by_name)
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
        _walk(root, settings, {}, {})
        _check_names(plan.classes)  # not reached unless a DEPS changed meanwhile
    return plan


def _check_names(classes: Iterable[type[Job]]) -> None:
    by_name: dict[str, type[Job]] = {}
    for cls in classes:
        _check_name(cls, by_name)


#: The names that make a job class unusual when its class dict, or a base
#: class's, sets them: the settings read from a job (all None on Job) and
#: the misspellings hints.py warns about.
_UNUSUAL = frozenset(JOB_SETTINGS) | LOWER_CASE_METHODS
#: The same without TRIES and RETRY_DELAY: a class may set those two and
#: still have them read on the walk's short way.
_UNUSUAL_BUT_TRIES = _UNUSUAL - {"TRIES", "RETRY_DELAY"}
#: What a class's bases make of it (see _kind): NOT_JOB, LONG_WAY, or PLAIN
#: with the flags WITH_CHECK and WITH_TRIES.
NOT_JOB, LONG_WAY, PLAIN, WITH_CHECK, WITH_TRIES = 0, 1, 2, 4, 8


def _kind(cls: Any, plain: bool) -> int:
    """What the walk makes of ``cls`` before looking at its own class dict;
    the same for all classes with the same bases and no metaclass.

    NOT_JOB when it is no Job class. LONG_WAY when its settings and hints
    are read the long way: a metaclass, several bases, a base class setting
    a name of _UNUSUAL but TRIES and RETRY_DELAY, Job itself changed, or
    ``plain`` False (configure's default TIMEOUT or backoff is set). Else
    PLAIN, with WITH_CHECK when it inherits a Check that is not Job's, and
    WITH_TRIES when a base class sets TRIES or RETRY_DELAY.
    """
    if not _is_job_class(cls):
        return NOT_JOB
    if type(cls) is not type or len(cls.__bases__) != 1 or not plain:
        return LONG_WAY
    base = cls.__bases__[0]
    if not issubclass(base, Job):
        return LONG_WAY  # Job itself
    kind = PLAIN
    for ancestor in base.__mro__[:-1]:  # not object
        if type(ancestor) is not type:
            return LONG_WAY
        own = vars(ancestor)
        if ancestor is Job:
            if any(getattr(Job, name) is not None for name in JOB_SETTINGS) or not (
                LOWER_CASE_METHODS.isdisjoint(own)
            ):
                return LONG_WAY  # someone changed Job itself
        elif not _UNUSUAL_BUT_TRIES.isdisjoint(own):
            return LONG_WAY
        elif "TRIES" in own or "RETRY_DELAY" in own:
            kind |= WITH_TRIES
    return kind if base.Check is Job.Check else kind | WITH_CHECK


def _lengthen(tries: list[int], delays: array[float], size: int, settings: Settings) -> None:
    """Lengthen ``tries`` and ``delays`` to ``size`` with the defaults, if shorter."""
    more = size - len(tries)
    if more > 0:
        tries += [settings.tries] * more
        delays += array("d", [settings.delay]) * more


def _walk(
    root: type[Job],
    settings: Settings,
    index: dict[type[Job], int],
    by_name: dict[str, type[Job]] | None,
) -> Plan:
    """build_plan's walk: every check but the one for duplicate names,
    which it makes only when given ``by_name`` (and then logs each step).

    ``index`` maps each class met to its index once all its DEPS have one,
    and to WALKING, WALKING_TRIES or WALKING_UNUSUAL before that; its order
    is the order they were met.
    """
    debug = by_name is not None
    names: list[str] = []
    classes: list[type[Job]] = []
    # Machine integers from the start: a list would keep an int object per
    # job (megabytes of fresh memory on a big graph) until the end.
    dep_start = array("i", [0])
    dep_jobs = array("i")
    # Each job's TRIES and RETRY_DELAY: the defaults, doubled in length
    # whenever a job that sets them needs more, and cut to size at the end.
    # With the check of the same objects below, 1k jobs each setting TRIES
    # (or TRIES and RETRY_DELAY): the walk 4-7% faster than a dict of the
    # jobs that set them, filled in afterwards. Delays as machine floats
    # rather than a float object per job.
    tries = [settings.tries] * 64
    delays = array("d", [settings.delay]) * 64
    last_tries: Any = None  # the TRIES and RETRY_DELAY read last,
    last_delay: Any = None
    checked = (settings.tries, settings.delay)  # and their answer
    tries_checked: dict[tuple[Any, ...], tuple[int, float]] = {}
    # The jobs read the long way: the only ones with a hint to look for.
    unusual = array("i")
    timeouts: dict[int, float] = {}
    backoff: dict[int, Backoff] = {}
    default_rule = settings.backoff
    plain_rule = default_rule == PLAIN_BACKOFF
    plain = settings.timeout is None and plain_rule  # else every job the long way
    # Tuple of bases -> what a class with those bases is (_kind).
    kinds: dict[tuple[type, ...], int] = {}
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
            # What its bases make of a class is worked out once per tuple
            # of bases: most graphs have a few. A dict keyed by the tuple
            # (one lookup) costs less than looking at it first (1k jobs,
            # layered: the walk 3% faster).
            if type(new) is type:
                kind = kinds.get(bases := new.__bases__, -1)
                if kind < 0:
                    kind = kinds[bases] = _kind(new, plain)
            else:  # a metaclass, or no class at all
                kind = _kind(new, plain)
            if kind == NOT_JOB:
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
            # The usual job (one base, no metaclass, a Check, no setting or
            # misspelt method in its class or bases) takes the defaults: one
            # set operation on its class dict instead of six lookups through
            # its MRO, each a miss of the type cache on a graph of many
            # classes. One that sets TRIES or RETRY_DELAY, and nothing else
            # of _UNUSUAL, has only those two read, on leaving it.
            own = new.__dict__
            if kind >= PLAIN and (kind & WITH_CHECK or "Check" in own):
                if _UNUSUAL.isdisjoint(own):
                    index[new] = WALKING_TRIES if kind & WITH_TRIES else WALKING
                elif _UNUSUAL_BUT_TRIES.isdisjoint(own):
                    index[new] = WALKING_TRIES
                else:
                    index[new] = WALKING_UNUSUAL
            else:
                index[new] = WALKING_UNUSUAL
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
        walked_as = index[cls]
        i = index[cls] = len(names)
        names.append(name)
        classes.append(cls)
        dep_jobs.extend(map(index_at, cls_deps))
        dep_start.append(len(dep_jobs))
        if walked_as == WALKING_TRIES:
            # Its TRIES and RETRY_DELAY, validated once per distinct pair
            # (and types: True == 1, but TRIES = True is refused). 1k jobs
            # each setting TRIES: the walk 1.3x -> 0.7x the floor's time.
            job_tries, job_delay = cls.TRIES, cls.RETRY_DELAY
            # The same objects as the job before: the same answer.
            if job_tries is not last_tries or job_delay is not last_delay:
                try:
                    checked = tries_checked[job_tries, type(job_tries), job_delay, type(job_delay)]
                except (KeyError, TypeError):  # a new pair, or one that cannot be hashed
                    checked = check_tries_and_delay(job_tries, job_delay, name, settings,
                                                    tries_checked)
                last_tries, last_delay = job_tries, job_delay
            if i >= len(tries):
                _lengthen(tries, delays, 2 * (i + 1), settings)
            tries[i], delays[i] = checked
        elif walked_as == WALKING_UNUSUAL:
            job_tries, job_delay, limit, rule = read_job_settings(cls, name, settings)
            if i >= len(tries):
                _lengthen(tries, delays, 2 * (i + 1), settings)
            tries[i], delays[i] = job_tries, job_delay
            unusual.append(i)
            if limit is not None:
                timeouts[i] = limit
            # The default Backoff is returned as it is, and known to be plain or not.
            if (rule is not default_rule or not plain_rule) and rule != PLAIN_BACKOFF:
                backoff[i] = rule
        if not path:
            break
    _lengthen(tries, delays, len(names), settings)  # the jobs after the last that set them
    del tries[len(names):]
    del delays[len(names):]
    # Counted in C, not a float object per job: 1k jobs that each set a
    # RETRY_DELAY, the walk 2% faster.
    waits = bool(backoff) or delays.count(0.0) < len(delays)
    return Plan(names, classes, FlatDeps(dep_start, dep_jobs),
                tries, delays, timeouts, backoff, unusual, waits)
