"""What nodestatus, noderesults and nodeexceptions hold after a failed run."""

from dojobber import DoJobber, Job


class Disk(Job):
    def Check(self, *args, **kwargs):
        return "42 GB free"

    def Run(self, *args, **kwargs):
        pass


class Download(Job):
    DEPS = (Disk,)
    TRIES = 2
    RETRY_DELAY = 0

    def Check(self, *args, **kwargs):
        raise ConnectionError("mirror unreachable")

    def Run(self, *args, **kwargs):
        pass


class Install(Job):
    DEPS = (Download,)

    def Check(self, *args, **kwargs):
        raise RuntimeError("not installed")

    def Run(self, *args, **kwargs):
        pass


dojob = DoJobber()
dojob.configure(Install)
dojob.checknrun()
print("nodestatus:    ", dojob.nodestatus)
print("noderesults:   ", dojob.noderesults)
print("nodeexceptions:", dojob.nodeexceptions)
print("success:", dojob.success(), " partial:", dojob.partial_success(),
      " failure:", dojob.failure())
