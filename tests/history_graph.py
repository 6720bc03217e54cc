"""A small graph whose runs differ by the environment, for the run history's tests.

MARK: the file Drifty's Run makes (absent: Drifty needs Run). FAIL set:
Shaky fails. SLEEPY set: Sleepy sleeps that many seconds in its Check.
"""

import os
import time

from dojobber import Job


class Leaf(Job):
    def Check(self):
        pass


class Drifty(Job):
    def Check(self):
        if not os.path.exists(os.environ["MARK"]):
            raise RuntimeError("no mark yet")

    def Run(self):
        open(os.environ["MARK"], "w").close()


class Shaky(Job):
    TRIES = 1
    DEPS = (Leaf,)

    def Check(self):
        if os.environ.get("FAIL"):
            raise ValueError("shaky today")


class Sleepy(Job):
    def Check(self):
        time.sleep(float(os.environ.get("SLEEPY", "0")))


class Root(Job):
    DEPS = (Drifty, Shaky, Sleepy)

    def Check(self):
        pass
