"""Graph building: follow DEPS from the root, validate every job, make a Plan."""

from __future__ import annotations

import logging
from array import array
from collections.abc import Mapping
from itertools import accumulate, chain, compress, repeat
from operator import attrgetter, contains, not_
from typing import Any, Iterable, Iterator, Sequence

from .backoff import Backoff
from .errors import (
    DependencyCycleError,
    DuplicateJobNameError,
    JobTypeError,
    NamelessJobError,
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
            raise _not_a_class(entry)(
                f"DEPS of job {job!r} lists {text_of(entry, repr)}, which is not a Job class",
                job,
                entry,
            )


def _not_a_class(value: Any) -> type[JobTypeError]:
    """The error for ``value``, which is no Job class: an AttributeError too
    where 0.6.2, reading the ``__name__`` of what is not a string, raised one."""
    if isinstance(value, str):
        return JobTypeError
    try:
        value.__name__  # noqa: B018 - whether it raises is the question
    except AttributeError:
        return NamelessJobError
    except Exception:  # noqa: BLE001 - an odd object: named in the message all the same
        pass
    return JobTypeError


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
    # 0.6.2 read the name of a bytes DEPS's first byte, an int.
    error = (NamelessJobError if isinstance(value, (bytes, bytearray, memoryview))
             else JobTypeError)
    raise error(
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
        raise _not_a_class(root)(f"root must be a Job class, got {root!r}", None, root)
    # Names are checked after the walk, in one pass over them: a set of
    # names filled as the walk goes costs about twice as much on a graph of
    # 100,000 jobs, where its table no longer stays in the CPU's cache
    # between one job and the next. The debug log shows the walk step by
    # step, so there the check is made on the way.
    index: dict[type[Job], int] = {}
    by_name: dict[str, type[Job]] | None = (
        {} if log.isEnabledFor(logging.DEBUG) else None
    )
    # The usual graph takes the quick walk; anything it does not expect
    # (and the debug log) takes the careful walk, which names what is wrong.
    quick = None if by_name is not None else quick_walk(root, settings)
    try:
        plan = quick or _walk(root, settings, index, by_name)
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


def _walked_as(kind: int, own: Mapping[str, Any]) -> int:
    """How the walks read a class that ``kind`` (see _kind) and its class
    dict ``own`` describe: WALKING, the usual job (one base, no metaclass, a
    Check, no setting or misspelt method in its class or bases), which
    takes the defaults; WALKING_TRIES, one that sets TRIES or RETRY_DELAY
    and nothing else of _UNUSUAL, which has only those two read; or
    WALKING_UNUSUAL, read the long way. One set operation on its class
    dict stands for six lookups through its MRO, each a miss of the type
    cache on a graph of many classes."""
    if kind >= PLAIN and (kind & WITH_CHECK or "Check" in own):
        if _UNUSUAL.isdisjoint(own):
            return WALKING_TRIES if kind & WITH_TRIES else WALKING
        if _UNUSUAL_BUT_TRIES.isdisjoint(own):
            return WALKING_TRIES
    return WALKING_UNUSUAL


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
    dep_start = array("I", [0])
    dep_jobs = array("I")
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
    unusual = array("I")
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
            # A job that sets TRIES or RETRY_DELAY has them read on leaving it.
            index[new] = _walked_as(kind, new.__dict__)
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


# The quick walk. 1,000 jobs, GC off, best of 200: the walk 1.33 -> 1.08 ms on
# the layered graph, 1.60 -> 1.35 ms when every job sets TRIES (see
# docs/performance.rst, *Jobs that set TRIES*).

_bases_of = attrgetter("__bases__")
_name_of = attrgetter("__name__")
_deps_of = attrgetter("DEPS")
_tries_of = attrgetter("TRIES", "RETRY_DELAY")


#: The most jobs the quick walk takes. It goes over the classes twice
#: (ordering, then reading them), which pays while they stay in the CPU's
#: caches; the careful walk reads each once. Walk time, quick against
#: careful, layered graphs: 0.8x at 1,000 jobs, 0.86x at 5,000, 0.96x at
#: 10,000, 1.13x at 20,000, 1.42x at 40,000, 1.6x at 100,000. Above the
#: limit the careful walk starts over, which costs what the quick walk
#: did until then: with a limit of 2,048, 1.4 ms at 10,000 jobs (3-4% of
#: the run, enough to take those with TRIES and RETRY_DELAY over 1.5x the
#: floor); with 1,024, 0.7 ms.
QUICK_WALK_MOST = 1_024


def quick_walk(root: type[Job], settings: Settings) -> Plan | None:
    """The plan of a usual graph, as _walk would make it; None for any other.

    A usual graph has at most QUICK_WALK_MOST jobs, no cycle, DEPS that are
    tuples or lists of Job classes with no metaclass, settings that are
    valid, and configure's default TIMEOUT and backoff unset. The quick
    walk only orders the graph, then reads and checks the classes in bulk,
    in run order. It raises nothing: at the first thing it does not expect it gives up, and
    the careful walk says what is wrong, in the order it meets it.
    """
    if settings.timeout is not None or settings.backoff != PLAIN_BACKOFF:
        return None  # every job is read the long way: see _kind
    try:
        walked = _run_order(root)
        return None if walked is None else _quick_plan(*walked, settings)
    except Exception:
        return None


def _run_order(root: type[Job]) -> tuple[list[type[Job]], FlatDeps] | None:
    """Every class reachable from ``root`` in run order (depth-first
    post-order) and their DEPS (duplicates dropped); None for a class with
    a metaclass or with DEPS neither a tuple nor a list, or for a cycle."""
    index: dict[Any, int] = {}
    classes: list[type[Job]] = []
    deps_in_order: list[tuple[type[Job], ...]] = []
    stack: list[tuple[type[Job], tuple[type[Job], ...], Iterator[type[Job]]]] = []
    new: Any = root
    while True:
        if new is not None:  # met for the first time
            if type(new) is not type:  # a metaclass, or no class at all
                return None
            deps = _deps_of(new)
            if type(deps) is not tuple:
                if type(deps) is not list:
                    return None
                deps = tuple(deps)
            count = len(deps)
            # Duplicates are the same class: telling them apart needs no set
            # for the usual two or three entries.
            if count > 1 and (
                (deps[0] is deps[1]) if count == 2
                else (deps[0] is deps[1] or deps[1] is deps[2] or deps[0] is deps[2])
                if count == 3 else len(set(deps)) < count
            ):
                deps = tuple(dict.fromkeys(deps))
            index[new] = -1
            if len(index) > QUICK_WALK_MOST:
                return None
            stack.append((new, deps, iter(deps)))
        cls, deps, pending = stack[-1]
        for new in pending:
            state = index.get(new)
            if state is None:
                break
            if state < 0:
                return None  # a cycle
        else:
            new = None
            del stack[-1]
            index[cls] = len(classes)
            classes.append(cls)
            deps_in_order.append(deps)
            if not stack:
                return classes, _flat_deps(deps_in_order, index)


def _flat_deps(
    deps_in_order: list[tuple[type[Job], ...]], index: dict[type[Job], int]
) -> FlatDeps:
    """The FlatDeps of the jobs whose DEPS are ``deps_in_order``."""
    jobs = map(index.__getitem__, chain.from_iterable(deps_in_order))
    # Unsigned items: stored without PyArg_Parse, about 3x faster than "i"
    # (3,000 indices from a list: 17 against 49 microseconds).
    return FlatDeps(array("I", accumulate(map(len, deps_in_order), initial=0)),
                    array("I", list(jobs)))


def _quick_plan(classes: list[type[Job]], deps: FlatDeps, settings: Settings) -> Plan | None:
    """The Plan of the ordered ``classes``, read as _walk reads them; None
    for a class that is no Job class. Raises for a setting _walk refuses."""
    n = len(classes)
    bases = list(map(_bases_of, classes))
    # What bases make of a class, once per tuple of bases (see _kind).
    kinds = {key: _kind(cls, True) for key, cls in dict(zip(bases, classes, strict=True)).items()}
    if NOT_JOB in kinds.values():
        return None
    tries = [settings.tries] * n
    delays = array("d", [settings.delay]) * n
    unusual = array("I")
    timeouts: dict[int, float] = {}
    backoff: dict[int, Backoff] = {}
    # Most graphs: every class takes the defaults or sets only TRIES or
    # RETRY_DELAY; asked of all their class dicts at once, in C.
    owns = list(map(vars, classes))
    if (
        min(kinds.values()) >= PLAIN
        and _UNUSUAL_BUT_TRIES.isdisjoint(chain.from_iterable(owns))
        and (all(kind & WITH_CHECK for kind in kinds.values())
             or all(map(contains, owns, repeat("Check"))))
    ):
        if any(kind & WITH_TRIES for kind in kinds.values()):
            set_tries: Iterable[int] = range(n)  # a base sets them: read every job's
        elif _UNUSUAL.isdisjoint(chain.from_iterable(owns)):
            set_tries = ()  # no job sets them
        else:  # the jobs whose own class dict sets them
            set_tries = compress(range(n), map(not_, map(_UNUSUAL.isdisjoint, owns)))
    else:
        set_tries = _read_unusual(classes, map(kinds.__getitem__, bases), owns, settings,
                                  (tries, delays, unusual, timeouts, backoff))
    last_tries: Any = None
    last_delay: Any = None
    checked = (settings.tries, settings.delay)
    tries_checked: dict[tuple[Any, ...], tuple[int, float]] = {}
    set_tries = list(set_tries)
    for i, (job_tries, job_delay) in zip(
        set_tries, map(_tries_of, map(classes.__getitem__, set_tries)), strict=True
    ):
        # The same objects as the job before: the same answer.
        if job_tries is not last_tries or job_delay is not last_delay:
            checked = check_tries_and_delay(job_tries, job_delay, classes[i].__name__,
                                            settings, tries_checked)
            last_tries, last_delay = job_tries, job_delay
        tries[i], delays[i] = checked
    # Counted in C, not a float object per job.
    waits = bool(backoff) or delays.count(0.0) < n
    return Plan(list(map(_name_of, classes)), classes, deps, tries, delays, timeouts, backoff,
                unusual, waits)


def _read_unusual(
    classes: list[type[Job]],
    kinds: Iterable[int],
    owns: Sequence[Mapping[str, Any]],
    settings: Settings,
    into: tuple[list[int], array[float], array[int], dict[int, float], dict[int, Backoff]],
) -> list[int]:
    """Read the settings of the jobs that _walk reads the long way (see its
    WALKING_UNUSUAL) into the plan's tries, delays, unusual jobs, timeouts
    and backoff, ``into``; the indices of those that may set TRIES or
    RETRY_DELAY and nothing else, for the caller to read."""
    tries, delays, unusual, timeouts, backoff = into
    set_tries = []
    for i, (kind, own) in enumerate(zip(kinds, owns, strict=True)):
        walked_as = _walked_as(kind, own)
        if walked_as == WALKING_TRIES:
            set_tries.append(i)
        if walked_as != WALKING_UNUSUAL:
            continue
        cls = classes[i]
        tries[i], delays[i], limit, rule = read_job_settings(cls, cls.__name__, settings)
        unusual.append(i)
        if limit is not None:
            timeouts[i] = limit
        if rule != PLAIN_BACKOFF:
            backoff[i] = rule
    return set_tries
