"""Cleanup runs after the whole graph, newest instance first, once each."""

from dojobber import DoJobber, Job


class Traced(Job):
    """Passes at its second try; every instance says when it is cleaned up."""

    TRIES = 2
    RETRY_DELAY = 0

    def Check(self, *args, **kwargs):
        if not self.global_storage.get(type(self).__name__):
            raise RuntimeError("not yet")

    def Run(self, *args, **kwargs):
        name = type(self).__name__
        tries = self.global_storage.get(name + " runs", 0) + 1
        self.global_storage[name + " runs"] = tries
        self.storage["try"] = tries
        if tries == 2:
            self.global_storage[name] = True

    def Cleanup(self):
        print(f"cleaning up {type(self).__name__}, try {self.storage['try']}")


class Mount(Traced):
    pass


class Copy(Traced):
    DEPS = (Mount,)


dojob = DoJobber()
dojob.configure(Copy, verbose=True)
dojob.checknrun()
