"""A job file with a common slip: docs/reading-a-run.rst shows the warning."""

from dojobber import Job


class Greet(Job):
    def check(self, *args, **kwargs):  # DoJobber calls Check
        pass
