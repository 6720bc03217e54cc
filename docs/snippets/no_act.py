"""A dry run: every job whose dependencies pass is checked; nothing is run."""

import os
import tempfile

from dojobber import DoJobber, Job

os.chdir(tempfile.mkdtemp())


class Directory(Job):
    def Check(self, *args, **kwargs):
        if not os.path.isdir("data"):
            raise FileNotFoundError("data/ does not exist")

    def Run(self, *args, **kwargs):
        os.mkdir("data")


class Readme(Job):
    def Check(self, *args, **kwargs):
        if not os.path.isfile("README"):
            raise FileNotFoundError("README does not exist")

    def Run(self, *args, **kwargs):
        with open("README", "w") as readme:
            readme.write("Data lives in data/.\n")


class Listing(Job):
    DEPS = (Directory,)

    def Check(self, *args, **kwargs):
        if not os.path.isfile("data/index"):
            raise FileNotFoundError("data/index does not exist")

    def Run(self, *args, **kwargs):
        open("data/index", "w").close()


class Everything(Job):
    DEPS = (Directory, Readme, Listing)

    def Check(self, *args, **kwargs):
        pass

    def Run(self, *args, **kwargs):
        pass


# The starting state: the README is there, data/ is not.
with open("README", "w") as readme:
    readme.write("Data lives in data/.\n")

dojob = DoJobber()
dojob.configure(Everything, no_act=True, verbose=True)
dojob.checknrun()
print(dojob.nodestatus)
print("would run:", [job for job, status in dojob.nodestatus.items() if status is False])
print("unchanged:", sorted(os.listdir(".")))
