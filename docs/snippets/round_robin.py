"""Independent failures are retried round-robin, one try per pass."""

from dojobber import DoJobber, DummyJob, Job


class Slow(Job):
    """Ready once its Run has been called READY times."""

    READY = 0

    def Check(self, *args, **kwargs):
        done = self.global_storage.get(type(self).__name__, 0)
        if done < self.READY:
            raise RuntimeError(f"not ready after {done} tries")

    def Run(self, *args, **kwargs):
        name = type(self).__name__
        self.global_storage[name] = self.global_storage.get(name, 0) + 1


class Database(Slow):
    READY = 3


class Cache(Slow):
    READY = 2


class Config(Slow):
    READY = 0


class Service(DummyJob):
    DEPS = (Database, Cache, Config)


dojob = DoJobber()
dojob.configure(Service, verbose=True, default_retry_delay=0.1)
dojob.checknrun()
print(dojob.nodestatus)
