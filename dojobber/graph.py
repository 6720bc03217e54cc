"""Graph building: follow DEPS from the root, validate every job, make a Plan."""

from __future__ import annotations

import logging
from array import array
from collections.abc import Mapping
from itertools import accumulate, chain, compress, count, repeat
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

#: How the walk reads a job's settings (see _read_as): not at all (it takes
#: the defaults), only its TRIES and RETRY_DELAY, or all of them.
USUAL, SETS_TRIES, UNUSUAL = 0, 1, 2


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
    # The walk reads a graph in bulk first, and again carefully when
    # something there is wrong or unusual (or the debug log is on): the
    # careful walk checks each class as it meets it, so that the error
    # raised is the first one met and the debug log stops there (as
    # graphlib's prepare() counts quickly, and only searches for a cycle
    # once it knows there is one).
    if not log.isEnabledFor(logging.DEBUG):
        try:
            plan = plan_in_bulk(root, settings)
        except Exception:  # noqa: BLE001 - the careful walk names it
            pass
        else:
            # Names are checked after the walk, in one set: filled as the
            # walk goes, its table would no longer stay in the CPU's cache
            # from one job to the next on a big graph (benchmark: layered,
            # 100,000 jobs).
            if len(set(plan.names)) == len(plan.names):
                return plan
    return plan_carefully(root, settings)


def plan_in_bulk(root: type[Job], settings: Settings = DEFAULTS) -> Plan:
    """The plan of the graph under ``root``, its classes read in bulk, CHUNK
    at a time; names are not checked. Raises UnusualGraph (or any error)
    for a graph that only the careful walk reads: a DEPS that is no tuple,
    list or set (it may be an iterator, which cannot be read twice), or
    anything wrong."""
    return _plan(root, _Walk(settings, careful=False))


def plan_carefully(root: type[Job], settings: Settings = DEFAULTS) -> Plan:
    """The plan of the graph under ``root``, each class checked when the
    walk meets it and its settings read when it leaves it: raises the
    first problem met, in walk order, and logs each step at DEBUG level."""
    walk = _Walk(settings, careful=True)
    try:
        plan = _plan(root, walk)
    except Exception:
        # A duplicate name met before the error is the error to report.
        _check_names(walk.index)
        raise
    _check_names(walk.index)
    return plan


def _check_names(classes: Iterable[type[Job]]) -> None:
    by_name: dict[str, type[Job]] = {}
    for cls in classes:
        _check_name(cls, by_name)


#: The index's mark for a class whose DEPS are being walked.
WALKING = -1

#: How many classes the walk orders before it reads their settings: few
#: enough that they are still in the CPU's caches, many enough that reading
#: them in bulk pays (benchmarks: layered and settings-tries, 1,000 to
#: 100,000 jobs; docs/performance.rst, *One walk*).
CHUNK = 1_024


class _Walk:
    """One walk's state: the classes in run order, and the plan read from them.

    ``careful``: each class is checked when the walk meets it and its
    settings are read when the walk leaves it, so that the first problem
    met is the one raised. Else the classes are read in bulk, CHUNK at a
    time, and anything unusual raises for the careful walk to take.
    """

    def __init__(self, settings: Settings, careful: bool):
        self.settings = settings
        self.careful = careful
        self.debug = careful and log.isEnabledFor(logging.DEBUG)
        # configure's default TIMEOUT or backoff: every job is read the long way.
        self.plain = settings.timeout is None and settings.backoff == PLAIN_BACKOFF
        #: Class -> WALKING while its DEPS are walked, then its index.
        self.index: dict[Any, int] = {}
        self.classes: list[type[Job]] = []
        self.deps: list[tuple[type[Job], ...]] = []  # of the classes not read yet
        self.odd = False  # a class with a metaclass met: the rest read one by one
        self.by_name: dict[str, type[Job]] = {}
        self.kinds: dict[tuple[type, ...], int] = {}  # bases -> _kind
        self.names: list[str] = []
        self.dep_start = array("I", [0])
        self.dep_jobs = array("I")
        self.tries: list[int] = []
        self.delays = array("d")
        self.timeouts: dict[int, float] = {}
        self.backoff: dict[int, Backoff] = {}
        self.unusual = array("I")  # the jobs read the long way: the only ones hints look at
        #: (TRIES, its type, RETRY_DELAY, its type) -> their answer.
        self.tries_checked: dict[tuple[Any, ...], tuple[int, float]] = {}


def _plan(root: type[Job], walk: _Walk) -> Plan:
    """The Plan of the graph under ``root``: order, then read the rest."""
    _order(root, walk)
    if len(walk.names) < len(walk.classes):
        _read_settings(walk)
    delays = walk.delays
    # Counted in C, not a float object per job (benchmark: settings-tries-delay).
    waits = bool(walk.backoff) or delays.count(0.0) < len(delays)
    return Plan(walk.names, walk.classes, FlatDeps(walk.dep_start, walk.dep_jobs),
                walk.tries, delays, walk.timeouts, walk.backoff, walk.unusual, waits)


def _order(root: type[Job], walk: _Walk) -> None:
    """Order the classes: every class reachable from ``root`` into
    ``walk.classes`` in run order (depth-first post-order), without
    recursion; their settings read every CHUNK classes (or at each class,
    careful). Refuses cycles and DEPS entries that cannot be hashed."""
    index, classes, deps_in_order, careful = walk.index, walk.classes, walk.deps, walk.careful
    enter, read, chunk = ((_enter_carefully, _leave, 1) if careful
                          else (_enter_in_bulk, _read_settings, CHUNK))
    read_last = chunk - 1  # the last class of the chunk read next
    # The path as parallel lists, not a tuple per level: those would be many
    # long-lived objects for the garbage collector (benchmark: chain, GC on).
    # Where each job's DEPS stand is a tuple iterator: it costs less per
    # dependency than a position kept by hand (benchmark: layered).
    path: list[type[Job]] = []
    path_deps: list[tuple[type[Job], ...]] = []
    pending: list[Iterator[type[Job]]] = []
    index_of = index.get
    new: Any = root  # the class met for the first time, or ``done`` with its DEPS
    done = object()
    while True:
        if new is not done:
            # A usual class: one with a tuple of distinct classes as DEPS.
            if careful or type(new) is not type or type(deps := new.DEPS) is not tuple:  # type: ignore[attr-defined]
                deps = enter(new, path, walk)
            elif (count := len(deps)) > 1 and (
                # Up to three, comparing them costs less than a set (benchmark: layered).
                (deps[0] is deps[1]) if count == 2
                else (deps[0] is deps[1] or deps[1] is deps[2] or deps[0] is deps[2])
                if count == 3 else len(set(deps)) < count
            ):
                deps = tuple(dict.fromkeys(deps))
            index[new] = WALKING
            path.append(new)
            path_deps.append(deps)
            pending.append(iter(deps))
        try:
            for new in pending[-1]:
                state = index_of(new)
                if state is None:
                    break
                if state < 0:
                    _refuse_cycle(path, new)
            else:
                new = done
        except TypeError:  # an entry that cannot be hashed: never a Job class
            _refuse_entries(path_deps[-1], path[-1].__name__)
        if new is not done:
            continue
        cls = path.pop()
        deps_in_order.append(path_deps.pop())
        del pending[-1]
        index[cls] = last = len(classes)
        classes.append(cls)
        if last == read_last:
            read(walk)
            read_last += chunk
        if not path:
            return


#: The DEPS that read the same when the careful walk reads them again.
_READ_AGAIN = frozenset({tuple, list, set, frozenset})


class UnusualGraph(Exception):
    """What reading a graph in bulk does not take: the careful walk takes it."""


def _enter_in_bulk(new: Any, path: list[type[Job]], walk: _Walk) -> tuple[type[Job], ...]:
    """The DEPS of a class met for the first time, as distinct classes, when
    they are no tuple or the class has a metaclass (read in bulk)."""
    meta: Any = type(new)
    if meta is not type:
        # Classes equal only to themselves, as _order takes them.
        if meta.__eq__ is not type.__eq__ or meta.__hash__ is not type.__hash__:
            raise UnusualGraph
        walk.odd = True
    deps = new.DEPS
    if type(deps) not in _READ_AGAIN:
        raise UnusualGraph  # it may be an iterator, which cannot be read twice
    return tuple(dict.fromkeys(deps))


def _enter_carefully(new: Any, path: list[type[Job]], walk: _Walk) -> tuple[type[Job], ...]:
    """Check a class met for the first time: a Job class, its name not
    taken (logged, with the debug log), its DEPS; return them as distinct
    classes."""
    if _kind_of(new, walk) == NOT_JOB:
        _refuse_entries([new], path[-1].__name__)
    name = new.__name__
    if walk.debug:  # else checked once the walk ends or fails, as it always was
        _check_name(new, walk.by_name)
        log.debug("Adding job %s", name)
    walk.index[new] = WALKING  # met, whatever its DEPS
    deps = new.DEPS
    count = len(deps) if type(deps) is tuple else -1
    try:  # a tuple of distinct entries is taken as it is, its entries checked when met
        if count >= 0 and (
            count < 2
            or (count == 2 and deps[0] != deps[1])
            or (count == 3 and deps[0] != deps[1] != deps[2] != deps[0])
            or (count > 3 and len(set(deps)) == count)
        ):
            return deps  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001, S110 - an odd entry (unhashable...): _read_deps says which
        pass
    return _read_deps(new, name)


def _refuse_cycle(path: list[type[Job]], new: type[Job]) -> None:
    cycle = [cls.__name__ for cls in path[path.index(new):]]
    raise DependencyCycleError(cycle + [new.__name__])


def _kind_of(cls: Any, walk: _Walk) -> int:
    """_kind of ``cls``, worked out once per tuple of bases (most graphs
    have a few) for the classes without a metaclass."""
    if type(cls) is not type:
        return _kind(cls, walk.plain)
    kind = walk.kinds.get(bases := cls.__bases__, -1)
    if kind < 0:
        kind = walk.kinds[bases] = _kind(cls, walk.plain)
    return kind


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


def _read_as(kind: int, own: Mapping[str, Any]) -> int:
    """How the walk reads the settings of a class that ``kind`` (see _kind)
    and its class dict ``own`` describe: USUAL, the usual job (one base, no
    metaclass, a Check, no setting or misspelt method in its class or
    bases), which takes the defaults; SETS_TRIES, one that sets TRIES or
    RETRY_DELAY and nothing else of _UNUSUAL, which has only those two
    read; or UNUSUAL, read the long way. One set operation on its class
    dict stands for six lookups through its MRO, each a miss of the type
    cache on a graph of many classes (benchmark: layered)."""
    if kind >= PLAIN and (kind & WITH_CHECK or "Check" in own):
        if _UNUSUAL.isdisjoint(own):
            return SETS_TRIES if kind & WITH_TRIES else USUAL
        if _UNUSUAL_BUT_TRIES.isdisjoint(own):
            return SETS_TRIES
    return UNUSUAL


_bases_of = attrgetter("__bases__")
_name_of = attrgetter("__name__")
_tries_of = attrgetter("TRIES", "RETRY_DELAY")


def _read_settings(walk: _Walk) -> None:
    """Read their settings: those of the classes ordered since the last
    call, in bulk, into the plan."""
    start = len(walk.names)
    classes = walk.classes[start:]
    walk.names += map(_name_of, classes)
    _add_deps(walk)
    settings, n = walk.settings, len(classes)
    walk.tries += [settings.tries] * n
    walk.delays += array("d", [settings.delay]) * n
    owns = list(map(vars, classes))
    set_tries = None if walk.odd else _usual_tries(walk, start, classes, owns)
    if set_tries is None:
        for i, cls, own in zip(count(start), classes, owns):
            _read_job(walk, i, cls, own)
    else:
        _read_tries(walk, *set_tries)


def _leave(walk: _Walk) -> None:
    """The careful walk's reading of the class it has just left: its name,
    its DEPS as indices, its settings."""
    cls, deps = walk.classes[-1], walk.deps.pop()
    name = cls.__name__
    if walk.debug:
        for dep in deps:
            log.debug("Adding dependency %s -> %s", name, dep.__name__)
    walk.names.append(name)
    walk.dep_jobs.extend(map(walk.index.__getitem__, deps))
    walk.dep_start.append(len(walk.dep_jobs))
    walk.tries.append(walk.settings.tries)
    walk.delays.append(walk.settings.delay)
    _read_job(walk, len(walk.classes) - 1, cls, vars(cls))


def _add_deps(walk: _Walk) -> None:
    """Add the DEPS read since the last call to the plan's two arrays."""
    deps, jobs = walk.deps, walk.dep_jobs
    walk.dep_start.fromlist(list(accumulate(map(len, deps), initial=len(jobs)))[1:])
    # From a list, as unsigned items: stored without PyArg_Parse, faster
    # than from an iterator or as "i" (benchmark: layered).
    jobs.fromlist(list(map(walk.index.__getitem__, chain.from_iterable(deps))))
    deps.clear()


def _usual_tries(
    walk: _Walk, start: int, classes: list[type[Job]], owns: Sequence[Mapping[str, Any]]
) -> tuple[Iterable[int], Iterable[type[Job]]] | None:
    """The jobs among ``classes`` (the first is job ``start``) that may set
    TRIES or RETRY_DELAY, and their classes, when every one is usual or
    sets only those two; None when one is not. Their class dicts are asked
    all at once, in C: one set operation over their keys stands for six
    lookups through each MRO, each a miss of the type cache (benchmark:
    settings-tries)."""
    bases = list(map(_bases_of, classes))
    known = walk.kinds
    distinct = dict(zip(bases, classes, strict=True))  # bases -> a class with them
    for key, cls in distinct.items():
        if key not in known:
            known[key] = _kind(cls, walk.plain)
    kinds = list(map(known.__getitem__, distinct))
    if NOT_JOB in kinds:
        raise UnusualGraph
    if (
        min(kinds) < PLAIN
        or not _UNUSUAL_BUT_TRIES.isdisjoint(chain.from_iterable(owns))
        or not (all(kind & WITH_CHECK for kind in kinds)
                or all(map(contains, owns, repeat("Check"))))
    ):
        return None
    jobs = range(start, start + len(classes))
    # Every job's, when a base or each class sets them: no need to pick
    # them (benchmark: settings-tries).
    if any(kind & WITH_TRIES for kind in kinds) or all(map(contains, owns, repeat("TRIES"))):
        return jobs, classes
    if _UNUSUAL.isdisjoint(chain.from_iterable(owns)):
        return (), ()  # no job sets them
    picked = list(map(not_, map(_UNUSUAL.isdisjoint, owns)))
    return compress(jobs, picked), compress(classes, picked)


def _read_job(walk: _Walk, i: int, cls: type[Job], own: Mapping[str, Any]) -> None:
    """Read the settings of job ``i``, class ``cls`` whose class dict is ``own``."""
    kind = _kind_of(cls, walk)
    read_as = _read_as(kind, own)
    if read_as == SETS_TRIES:
        walk.tries[i], walk.delays[i] = check_tries_and_delay(
            cls.TRIES, cls.RETRY_DELAY, cls.__name__, walk.settings, walk.tries_checked)
    elif read_as == UNUSUAL:
        if kind == NOT_JOB:  # the careful walk refuses it when it meets it
            raise UnusualGraph
        tries, delay, limit, rule = read_job_settings(cls, cls.__name__, walk.settings)
        walk.tries[i], walk.delays[i] = tries, delay
        walk.unusual.append(i)
        if limit is not None:
            walk.timeouts[i] = limit
        if rule != PLAIN_BACKOFF:
            walk.backoff[i] = rule


def _read_tries(walk: _Walk, jobs: Iterable[int], classes: Iterable[type[Job]]) -> None:
    """Read and check the TRIES and RETRY_DELAY of ``classes``, the jobs
    ``jobs``, once per distinct pair (and types: True == 1, but TRIES =
    True is refused), and not at all for the same two objects as the job
    before (benchmark: settings-tries)."""
    tries, delays = walk.tries, walk.delays
    settings, checked_pairs = walk.settings, walk.tries_checked
    last_tries: Any = None
    last_delay: Any = None
    checked = (settings.tries, settings.delay)  # the answer for None and None
    for i, (job_tries, job_delay) in zip(jobs, map(_tries_of, classes), strict=True):
        if job_tries is not last_tries or job_delay is not last_delay:
            checked = check_tries_and_delay(job_tries, job_delay, walk.classes[i].__name__,
                                            settings, checked_pairs)
            last_tries, last_delay = job_tries, job_delay
        tries[i], delays[i] = checked
