import threading

from dojobber import DoJobber, Job


class DeadHost(Job):
    TIMEOUT = 0.5  # seconds for one try: Check, Run and recheck together
    TRIES = 2
    RETRY_DELAY = 0

    def Check(self, *args, **kwargs):
        threading.Event().wait()  # waits forever, like a host that never answers

    def Run(self, *args, **kwargs):
        pass


class Report(Job):
    def Check(self, *args, **kwargs):
        return "written"


class Everything(Job):
    DEPS = (DeadHost, Report)

    def Check(self, *args, **kwargs):
        pass


dojob = DoJobber()
dojob.configure(Everything, verbose=True)
dojob.checknrun()
print(dojob.nodestatus)
error = dojob.nodeexceptions["DeadHost"]
print(type(error).__name__, error.job, error.phase, error.timeout)
