#!/usr/bin/env python3
"""The smallest useful job graph: a notes directory and a to-do file in it.

What it teaches: the shape of every DoJobber program (Job classes with
Check, Run and DEPS; configure, set_args, checknrun; reading the results).
It is the program the "Getting started" page walks through::

    python examples/hello.py /tmp/hello
    python examples/hello.py /tmp/hello
"""

import sys
from pathlib import Path

from dojobber import DoJobber, Job


class NotesDirectory(Job):
    """The notes directory exists."""

    def Check(self, *args, **kwargs):
        if not Path(kwargs["home"], "notes").is_dir():
            raise FileNotFoundError("there is no notes directory")

    def Run(self, *args, **kwargs):
        Path(kwargs["home"], "notes").mkdir(parents=True)


class TodoFile(Job):
    """notes/todo.txt exists; its first line is the first thing to do."""

    DEPS = (NotesDirectory,)

    def Check(self, *args, **kwargs):
        todo = Path(kwargs["home"], "notes", "todo.txt")
        if not todo.is_file():
            raise FileNotFoundError(f"{todo} does not exist")
        return todo.read_text().splitlines()[0]

    def Run(self, *args, **kwargs):
        Path(kwargs["home"], "notes", "todo.txt").write_text("- learn DoJobber\n")


def main():
    home = sys.argv[1] if len(sys.argv) > 1 else "hello-demo"
    dojob = DoJobber()
    dojob.configure(TodoFile, verbose=True)
    dojob.set_args(home=home)
    dojob.checknrun()
    print(dojob.nodestatus)
    if dojob.success():
        print("First thing to do:", dojob.noderesults["TodoFile"])
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
