"""A run that takes its time: docs/reading-a-run.rst stops it with SIGTERM."""

import time

from dojobber import DummyJob, Job


class Tunnel(Job):
    """An SSH tunnel is open for the jobs after it (and closed at the end)."""

    def Check(self, *args, **kwargs):
        pass

    def Cleanup(self):
        print("Tunnel: closed")


class Sync(Job):
    """A long copy through the tunnel."""

    DEPS = (Tunnel,)

    def Check(self, *args, **kwargs):
        raise FileNotFoundError("not synced yet")

    def Run(self, *args, **kwargs):
        open("syncing", "w").close()
        time.sleep(60)


class Nightly(DummyJob):
    DEPS = (Tunnel, Sync)
