from dojobber import DoJobber, Job


class ServiceUp(Job):
    TRIES = 7
    RETRY_DELAY = 0.5
    RETRY_BACKOFF = 2
    RETRY_DELAY_MAX = 10

    def Check(self, *args, **kwargs):
        raise ConnectionRefusedError("not listening yet")

    def Run(self, *args, **kwargs):
        pass


# A clock of our own, so that the docs need not wait: it moves on sleep().
now = 0.0


def clock():
    return now


def sleep(seconds):
    global now
    print(f"at {now:g} s: waiting {seconds:g} s")
    now += seconds


dojob = DoJobber(clock=clock, sleep=sleep)
dojob.configure(ServiceUp)
dojob.checknrun()
print(dojob.nodestatus)
