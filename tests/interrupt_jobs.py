"""Job classes for tests/test_interrupted.py, importable by worker processes.

Stops's Run raises KeyboardInterrupt, as Ctrl-C does in a job's own code;
Naps's Run naps so that a test can send a real signal while it runs. Each
has a job after it (never tried) and one beside it that passed before.
"""

from __future__ import annotations

import os
import time
from typing import Any

from dojobber import DummyJob, Job


class Ready(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


class Stops(Job):
    DEPS = (Ready,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("not there yet")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt


class After(Job):
    DEPS = (Stops,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


class Root(DummyJob):
    DEPS = (Ready, After)


class Retried(Job):
    """Fails its first try (its Run does not help); Ctrl-C comes in the Run
    of its second."""

    TRIES = 2

    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("still missing")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        runs = self.global_storage["runs"] = self.global_storage.get("runs", 0) + 1
        if runs == 2:
            raise KeyboardInterrupt


class RetriedRoot(DummyJob):
    DEPS = (Retried,)


def _here(name: str) -> str:
    return os.path.join(os.environ["NAP_DIR"], name)


class Naps(Job):
    """Its Run makes NAP_DIR/napping, naps NAP seconds (60 if unset), then
    makes NAP_DIR/napped, which its Check looks for."""

    DEPS = (Ready,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if not os.path.exists(_here("napped")):
            raise RuntimeError("not napped yet")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        open(_here("napping"), "a").close()
        time.sleep(float(os.environ.get("NAP", "60")))
        open(_here("napped"), "a").close()


class AfterNap(Job):
    DEPS = (Naps,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


class NapRoot(DummyJob):
    DEPS = (Ready, AfterNap)
