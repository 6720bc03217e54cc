"""The ready-set: which jobs of a run may start, which wait on a retry delay, and when.

One object for every engine, in the manner of ``graphlib.TopologicalSorter``.
It keeps both orders DoJobber promises:

- **passes** (iterate it): 0.6.2's exact order for the sequential engine.
  A pass tries, in run order, each job that has not passed and whose
  dependencies all have; a job that must wait out its retry delay is
  waited for, in its turn.
- **as soon as may** (``take`` and ``done``): a job starts as soon as its
  dependencies passed; retries go by their try count, then by position,
  and only once their delay is over, each start numbered (``starts``).
  The thread engine adds the threads and the lock around it; the executor
  engine, one thread that sends.

Both count tries, release dependents, apply the retry delay and fail-fast
by the same rules, here.
"""

from __future__ import annotations

import math
from array import array
from heapq import heappop, heappush
from typing import Callable, Iterator, Sequence

from ..plan import Plan
from ..results import RunResult

#: When a job that need not wait may start.
NEVER = -math.inf


class ReadySet:
    """The jobs of one run (``result.order``) and what may start next.

    ``clock`` and ``sleep`` measure and wait out retry delays (injectable
    for tests); with ``no_act`` a failure is final at once; with
    ``fail_fast`` the run stops at the first job that failed with no
    tries left (``result.stopped_by``).
    """

    def __init__(
        self,
        plan: Plan,
        result: RunResult,
        *,
        no_act: bool,
        fail_fast: bool,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        random: Callable[[], float],
        after_pass: Callable[[], object] | None = None,
    ):
        self.plan = plan
        #: Asked at the end of each pass, when set: a true answer ends the
        #: run there (0.6.2 asked ``success()``, see Engine.after_pass).
        self.after_pass = after_pass
        self.result = result
        self.no_act = no_act
        self.fail_fast = fail_fast
        self.clock = clock
        self.sleep = sleep
        self.random = random
        n = len(plan)
        # A retry's delay counts from its job's latest try's start. When
        # ``clock`` is the clock that stamps every try's start (the default),
        # that stamp is the start (1k jobs each setting TRIES and
        # RETRY_DELAY: the run 6% faster than a second reading per try).
        # Else ``began`` keeps it, by ``clock``, for the jobs that wait
        # between tries (if none does, the clock is never read); machine
        # floats, not a float object per job.
        self.waits = plan.waits
        self.stamped = clock is result.stamp
        self.began = array("d", [NEVER]) * n if self.waits and not self.stamped else array("d")
        # Made when first needed: a run where every job passes at its first
        # try never counts dependencies (see _count_waiting).
        self.waiting: list[int] = []
        self.position: Sequence[int] = []
        #: As soon as may: keys (tries * n + position) of the jobs ready
        #: now, and (due, key) of the retries that wait for their delay.
        self.ready: list[int] = []
        self.delayed: list[tuple[float, int]] = []
        #: As soon as may: per job, how many tries of the run started before
        #: its latest one (``take`` counts them; Cleanup goes by it).
        self.starts: list[int] = []
        self.started = 0

    # The rules both orders share

    def start(self, i: int, now: float | None = None) -> None:
        """Count a try of job ``i`` starting (``now``, if the clock was read);
        for a job that waits between tries, note when it started."""
        tries = self.result.tries
        tries[i] = number = tries[i] + 1
        if self.began and self.plan.waiters[i] and number < self.plan.tries[i]:
            self.began[i] = self.clock() if now is None else now

    def due(self, i: int) -> float:
        """When the next try of job ``i`` may start: its retry delay after
        the start of its latest try (NEVER: it need not wait). Worked out
        only for a job that is tried again, so a try that passes costs no
        more than a reading of the clock."""
        if not self.waits or not self.plan.waiters[i]:
            return NEVER
        began = self.result.started[i] if self.stamped else self.began[i]
        return began + self.retry_delay(i, self.result.tries[i])

    def retry_delay(self, i: int, number: int) -> float:
        """The least time from the start of try ``number`` of job ``i`` to its next."""
        plan = self.plan
        rule = plan.backoff.get(i)
        return plan.delays[i] if rule is None else rule.delay(plan.delays[i], number, self.random)

    def may_retry(self, i: int) -> bool:
        """Whether job ``i``, which just failed, has a try left."""
        return not self.no_act and self.result.tries[i] < self.plan.tries[i]

    def stops_the_run(self, i: int) -> bool:
        """Whether the failure of job ``i`` (with no try left) ends the run:
        with fail_fast, the first such failure does."""
        result = self.result
        if self.fail_fast and result.stopped_by is None:
            result.stopped_by = i
            return True
        return False

    def release(self, i: int) -> Iterator[int]:
        """Job ``i`` passed: the dependents of it that may now start (all
        their dependencies passed), in ascending order."""
        first, dependents = self.plan.dependents
        waiting, position = self.waiting, self.position
        for dependent in dependents[first[i]:first[i + 1]]:
            waiting[dependent] -= 1
            if not waiting[dependent] and position[dependent] >= 0:
                yield dependent

    def _count_waiting(self, all_deps: bool) -> None:
        """For each job of the run, how many of its dependencies have not
        passed (all of them, before the run starts)."""
        plan, result = self.plan, self.result
        dep_start, dep_jobs, status = plan.dep_start, plan.dep_jobs, result.status
        self.position = plan.positions(result.order)
        self.waiting = waiting = [0] * len(plan)
        for i in result.order:
            if all_deps:
                waiting[i] = dep_start[i + 1] - dep_start[i]
            elif status[i] is not True:
                waiting[i] = sum(status[dep] is not True
                                 for dep in dep_jobs[dep_start[i]:dep_start[i + 1]])

    # Passes: 0.6.2's order, for one thread

    def __iter__(self) -> Iterator[int]:
        """The jobs to try, in the contract's order of passes, each counted
        and, when it must, waited for.

        A job's try is over when the next job is asked for, so its outcome
        decides what comes next. The first pass walks the whole order. At
        the start of a later pass the only jobs ready are those that failed
        with tries left; a job becomes ready when its last dependency
        passes, and since its dependents come after it in the order, it is
        still tried in this pass, where a full walk would have reached it. A
        heap of positions in the order gives exactly that sequence without
        walking every job every pass: a run costs time in proportion to its
        tries, not passes times jobs.
        """
        # A generator of its own, not ``yield from`` one: delegating costs
        # each job of the first pass one more resumption (layered, 1k jobs:
        # the run 3% slower).
        return self._first_pass()

    def _first_pass(self) -> Iterator[int]:
        """Every job in run order whose dependencies passed, then the later
        passes if some failed with tries left."""
        plan, result = self.plan, self.result
        dep_start, dep_jobs = plan.dep_start, plan.dep_jobs
        status, tries = result.status, result.tries
        waits, began, clock = bool(self.began), self.began, self.clock
        waiters = self.plan.waiters if waits else b""
        retry: list[int] = []  # positions of failed jobs with tries left
        # While every job so far passed, so did each job's dependencies,
        # which come before it: only after a failure are they looked at.
        all_passed = True
        for p, i in enumerate(result.order):
            if not all_passed:
                deps_passed = True
                for dep in dep_jobs[dep_start[i]:dep_start[i + 1]]:
                    if status[dep] is not True:
                        deps_passed = False
                        break
                if not deps_passed:
                    continue
            tries[i] += 1
            # start(i) for a first try, inlined: nothing to wait for yet, and
            # the job has tries left if it waits at all (1k jobs that set
            # TRIES and RETRY_DELAY: the run 4% faster).
            if waits and waiters[i]:
                began[i] = clock()
            yield i
            if not status[i]:
                all_passed = False
                if self.may_retry(i):
                    retry.append(p)
                elif self.stops_the_run(i):
                    result.passes = 1
                    return
        result.passes = 1
        if self.after_pass is not None and self.after_pass():
            return
        if retry:
            yield from self._later_passes(retry)

    def _later_passes(self, ready: list[int]) -> Iterator[int]:
        """The passes after the first, starting with the retries ``ready``
        (positions, ascending)."""
        result = self.result
        status, order = result.status, result.order
        self._count_waiting(all_deps=False)
        while ready:
            retry = []
            while ready:
                p = heappop(ready)
                i = order[p]
                self._wait_and_start(i)
                yield i
                if status[i]:
                    for dependent in self.release(i):
                        heappush(ready, self.position[dependent])
                elif self.may_retry(i):
                    retry.append(p)
                elif self.stops_the_run(i):
                    result.passes += 1
                    return
            result.passes += 1
            if self.after_pass is not None and self.after_pass():
                return
            ready = retry

    def _wait_and_start(self, i: int) -> None:
        """Sleep until job ``i`` may start its next try, then start it."""
        now = None
        due = self.due(i)
        if due > NEVER:
            now = self.clock()
            if due > now:
                self.sleep(due - now)
                now = self.clock()
        self.start(i, now)

    # As soon as may: for the thread engine, which holds its lock around each
    # call, and the executor engine, whose one thread makes every call

    def open(self) -> None:
        """Make ready every job of the run that has no dependency."""
        self._count_waiting(all_deps=True)
        waiting = self.waiting
        # Ascending, so already a heap.
        self.ready = [p for p, i in enumerate(self.result.order) if not waiting[i]]
        self.starts = [0] * len(self.plan)

    def take(self) -> int:
        """A job that may start now, its try counted; -1 when none may."""
        if not self.ready:
            return -1
        i = self.result.order[heappop(self.ready) % len(self.plan)]
        self.start(i)
        self.starts[i] = self.started
        self.started += 1
        return i

    def done(self, i: int) -> bool:
        """The try of job ``i`` ended: make ready what it released, or its
        retry (now, or once its delay is over). True when fail-fast ends
        the run here."""
        if self.result.status[i] is True:
            for dependent in self.release(i):
                heappush(self.ready, self.position[dependent])
        elif self.may_retry(i):
            # First tries go before retries, as in the passes; then the run
            # order decides.
            key = self.result.tries[i] * len(self.plan) + self.position[i]
            due = self.due(i)
            if due <= NEVER or due <= self.clock():
                heappush(self.ready, key)
            else:
                heappush(self.delayed, (due, key))
        else:
            return self.stops_the_run(i)
        return False

    def next_due(self) -> float | None:
        """When the first retry still waiting for its delay may start."""
        return self.delayed[0][0] if self.delayed else None

    def promote(self, now: float) -> int:
        """Make ready the retries whose delay is over by ``now``; how many."""
        delayed, count = self.delayed, 0
        while delayed and delayed[0][0] <= now:
            heappush(self.ready, heappop(delayed)[1])
            count += 1
        return count
