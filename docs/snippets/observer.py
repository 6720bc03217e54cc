"""An Observer of your own: a timeline of tries, passed to configure()."""

from dojobber import DoJobber, Job, Observer


class Timeline(Observer):
    """Prints when each try starts and how it ends."""

    def try_started(self, job, number):
        print(f"{job}: try {number}")

    def try_ended(self, job, outcome, error):
        print(f"{job}: {outcome}" + (f" ({error})" if error else ""))

    def run_ended(self, result):
        print("run over")


class Queue(Job):
    """Has to be asked twice."""

    RETRY_DELAY = 0

    def Check(self, *args, **kwargs):
        if self.global_storage.get("asked", 0) < 2:
            raise RuntimeError("queue not ready")

    def Run(self, *args, **kwargs):
        self.global_storage["asked"] = self.global_storage.get("asked", 0) + 1


class Worker(Job):
    DEPS = (Queue,)

    def Check(self, *args, **kwargs):
        return "working"

    def Run(self, *args, **kwargs):
        pass


dojob = DoJobber()
dojob.configure(Worker, observers=[Timeline()])
dojob.checknrun()
