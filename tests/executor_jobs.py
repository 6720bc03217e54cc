"""Job classes for tests/test_executor.py, importable by worker processes.

Worker processes unpickle job classes by reference (module and name), so
these live at module level here rather than inside the tests. Whatever a
job must remember between tries is kept in ``global_storage``, the one
state that travels between the caller and the workers.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import types
from typing import Any

from dojobber import Job

#: (job, pid of the process that made the instance, pid of the Cleanup),
#: appended by Cleanups, which run in the calling process.
CLEANED: list[tuple[str, int, int]] = []


# --- Random graphs: behaviour from the arguments, state in global_storage ---


class Scripted(Job):
    """Behaves as ``kwargs['script'][name]`` says: ``(checks that fail, run
    raises on these tries)``. Counts its Checks in ``global_storage[name]``
    and, passing, returns that count and its dependencies' counts."""

    def Check(self, *args: Any, script: dict[str, Any], deps: dict[str, list[str]]) -> Any:
        name = type(self).__name__
        # One key per job: two jobs that change one key at once would
        # race (the later-ending try's value wins).
        counts = self.global_storage.setdefault(f"checks.{name}", [])
        counts.append(self._check_phase)  # mutated in place: must come back
        failing, _ = script[name]
        if len(counts) <= failing:
            raise RuntimeError(f"{name} not yet ({len(counts)})")
        return (len(counts), [len(self.global_storage[f"checks.{d}"]) for d in deps[name]])

    def Run(self, *args: Any, script: dict[str, Any], deps: dict[str, list[str]]) -> Any:
        name = type(self).__name__
        runs = self.global_storage.get(f"runs.{name}", 0) + 1
        self.global_storage[f"runs.{name}"] = runs
        if runs in script[name][1]:
            raise ValueError(f"{name} run {runs} fails")


#: Twelve jobs for random graphs; their DEPS are set by the test in the caller
#: (workers never read DEPS: the calling process schedules).
SCRIPTED = [type(f"S{k}", (Scripted,), {"__module__": __name__}) for k in range(12)]
for _cls in SCRIPTED:
    globals()[_cls.__name__] = _cls


# --- Cleanups, storage, verbose lines ----------------------------------------


class Made(Job):
    """Passes after one Run; remembers the process that made it."""

    def Check(self, *args: Any, **kwargs: Any) -> int:
        if self._check_phase == "check":
            raise RuntimeError("not made yet")
        return os.getpid()

    def Run(self, *args: Any, **kwargs: Any) -> None:
        self.pid = os.getpid()
        self.global_storage.setdefault("made", []).append(type(self).__name__)

    def Cleanup(self) -> None:
        CLEANED.append((type(self).__name__, getattr(self, "pid", 0), os.getpid()))


class MadeFirst(Made):
    pass


class MadeSecond(Made):
    DEPS = [MadeFirst]


class Forgets(Job):
    """Deletes a key of global_storage that MadeFirst's Run set."""

    DEPS = [MadeSecond]

    def Check(self, *args: Any, **kwargs: Any) -> list[str]:
        return self.global_storage.pop("made")


class SlowWriter(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.4)
        self.global_storage["key"] = "slow"


class FastWriter(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        self.global_storage["key"] = "fast"


class ReadsKey(Job):
    DEPS = [SlowWriter, FastWriter]

    def Check(self, *args: Any, **kwargs: Any) -> str:
        return self.global_storage["key"]  # type: ignore[no-any-return]


class SetsTags(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        # 0 and 8 share a slot of a small set: their order depends on
        # insertion, so an equal set can pickle differently.
        self.global_storage["tags"] = {0, 8}


class RebuildsTags(Job):
    """Slowly puts the same set back, built in another order: no change."""

    DEPS = [SetsTags]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.4)
        self.global_storage["tags"] = set(sorted(self.global_storage["tags"], reverse=True))


class AddsTag(Job):
    DEPS = [SetsTags]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        self.global_storage["tags"].add(16)


class ReadsTags(Job):
    DEPS = [RebuildsTags, AddsTag]

    def Check(self, *args: Any, **kwargs: Any) -> list[int]:
        return sorted(self.global_storage["tags"])


# --- What cannot be sent -----------------------------------------------------


class ReturnsLock(Job):
    def Check(self, *args: Any, **kwargs: Any) -> Any:
        return threading.Lock()


class LockedError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.lock = threading.Lock()


class RaisesLockedError(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise LockedError("held a lock")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class NeedsTwoArguments(Exception):
    """Pickles, but cannot be unpickled: its __init__ wants two arguments."""

    def __init__(self, first: str, second: str):
        super().__init__(f"{first} and {second}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Said outright: importing distributed (tblib) changes how
        # exceptions pickle by default.
        return (type(self), (str(self),))


class RaisesOddError(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise NeedsTwoArguments("this", "that")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class StoresLock(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        self.global_storage["lock"] = threading.Lock()


class KeepsLockForCleanup(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        self.lock = threading.Lock()

    def Cleanup(self) -> None:
        CLEANED.append(("KeepsLockForCleanup", 0, os.getpid()))


class StoresOddKey(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        self.global_storage[threading.Lock()] = 1


class BadStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no words")


class RaisesBadStr(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise BadStr()

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class Fine(Job):
    def Check(self, *args: Any, **kwargs: Any) -> str:
        return "fine"


class AllOfThem(Job):
    DEPS = [ReturnsLock, RaisesLockedError, RaisesOddError, StoresLock, KeepsLockForCleanup,
            StoresOddKey, RaisesBadStr, Fine]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


# --- Dying workers, Ctrl-C, logging ------------------------------------------


class Dies(Job):
    """Its Run ends the worker process it runs in, as a crash would."""

    TRIES = 1

    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("not yet")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.1)
        os._exit(3)


class Beside(Job):
    """Runs beside Dies, long enough to be in flight when the pool breaks."""

    TRIES = 1

    def Check(self, *args: Any, **kwargs: Any) -> int:
        time.sleep(0.5)
        return os.getpid()


class AfterBeside(Job):
    DEPS = [Beside]

    def Check(self, *args: Any, **kwargs: Any) -> str:
        return "after"


class Survivors(Job):
    DEPS = [Dies, AfterBeside]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


class Interrupts(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    def Cleanup(self) -> None:
        CLEANED.append(("Interrupts", 0, os.getpid()))


class BadInit(Job):
    def __init__(self) -> None:
        raise OSError("no init today")

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


class ScriptedRoot(Job):
    """The root of a random graph (DEPS set by the test)."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


# --- TIMEOUT -------------------------------------------------------------------


class Sleeps(Job):
    """Its Run outlasts its TIMEOUT."""

    TIMEOUT = 0.3
    TRIES = 1

    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("not yet")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        time.sleep(3)


class Immune(Job):
    """Blocks the alarm that enforces its TIMEOUT, then outlasts it."""

    TIMEOUT = 0.3
    TRIES = 1

    def Check(self, *args: Any, **kwargs: Any) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(30)


class StuckBesideOthers(Job):
    DEPS = [Immune, AfterBeside]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


class FailsAtOnce(Job):
    TRIES = 1

    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("no")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class FailFastRoot(Job):
    DEPS = [FailsAtOnce, Fine]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


# --- Jobs made at run time (issue 26) ------------------------------------------

#: The classes of the instances cleaned up, appended by KeepsClass's Cleanup.
CLEANED_TYPES: list[type] = []


class KeepsClass(Job):
    """Base of jobs made at run time: passes after Run, returns the names
    its DEPS give in the worker, and remembers its class when cleaned up."""

    def Check(self, *args: Any, **kwargs: Any) -> list[str]:
        if self._check_phase == "check":
            raise RuntimeError("not yet")
        return [dep.__name__ for dep in type(self).DEPS]

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass

    def Cleanup(self) -> None:
        CLEANED_TYPES.append(type(self))


class RaisesStubborn(Job):
    TRIES = 1

    def Check(self, *args: Any, **kwargs: Any) -> None:
        # Made here, so that no pickling hook knows it: importing Dask's
        # distributed has tblib change how the exception classes that
        # exist then pickle.
        class Stubborn(Exception):
            """An exception whose attributes cannot be set, as some libraries' are."""

            def __setattr__(self, name: str, value: Any) -> None:
                raise AttributeError(f"{name} is read-only")

        raise Stubborn("stubborn")


def _made_in_the_worker() -> Any:
    """An instance of a class whose module exists only in this process."""
    module = sys.modules.get("made_in_the_worker")
    if module is None:
        module = sys.modules["made_in_the_worker"] = types.ModuleType("made_in_the_worker")
        module.Thing = type("Thing", (), {"__module__": module.__name__})  # type: ignore[attr-defined]
    return module.Thing()  # type: ignore[attr-defined]


class StoresWorkerKey(Job):
    TRIES = 1

    def Check(self, *args: Any, **kwargs: Any) -> None:
        self.global_storage[_made_in_the_worker()] = 1


class StoresWorkerValue(Job):
    TRIES = 1

    def Check(self, *args: Any, **kwargs: Any) -> None:
        self.global_storage["thing"] = _made_in_the_worker()


class CannotComeBack(Job):
    DEPS = [RaisesStubborn, StoresWorkerKey, StoresWorkerValue, Fine]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass
