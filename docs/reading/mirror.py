"""Mirror a file and publish its checksum: the jobs docs/reading-a-run.rst runs."""

import hashlib
import os
import shutil

from dojobber import DummyJob, Job


class Fetch(Job):
    """alpha.txt is here, copied from upstream."""

    def Check(self, *args, **kwargs):
        if not os.path.exists("alpha.txt"):
            raise FileNotFoundError("alpha.txt not downloaded")

    def Run(self, *args, source="upstream/alpha.txt", **kwargs):
        shutil.copy(source, "alpha.txt")


class Checksum(Job):
    """alpha.txt.sha256 holds alpha.txt's checksum."""

    DEPS = (Fetch,)

    def Check(self, *args, **kwargs):
        if not os.path.exists("alpha.txt.sha256"):
            raise FileNotFoundError("no checksum yet")

    def Run(self, *args, **kwargs):
        with open("alpha.txt", "rb") as data:
            digest = hashlib.sha256(data.read()).hexdigest()
        with open("alpha.txt.sha256", "w") as out:
            out.write(digest + "\n")


class Publish(DummyJob):
    DEPS = (Fetch, Checksum)
