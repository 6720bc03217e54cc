"""``dojobber list``: the target's jobs in run order, or the Job classes of a module."""

from __future__ import annotations

import argparse
import sys

from ..graph import build_plan
from ..terminal import escape
from .exits import OK, UsageError
from .target import TARGET_HELP, job_classes, load_module, load_target
from .writing import emit


def add_arguments(listing: argparse.ArgumentParser) -> None:
    """What ``list`` takes: the target, or only its module or file."""
    listing.add_argument("target", metavar="TARGET",
                         help=TARGET_HELP + ", or only the module or file")
    listing.add_argument("-d", "--debug", action="store_true", help="show tracebacks of errors")


def main(options: argparse.Namespace) -> int:
    """Print what the parsed ``options`` ask for; return the exit status."""
    target = options.target
    if ":" not in target:
        # Only a module or file: which Job classes could be the root?
        module = load_module(target)  # nothing more to import
        found = job_classes(module, defined_in=module.__name__)
        if not found:
            raise UsageError(f"{target} defines no Job classes")
        emit(sys.stdout, "".join(escape(name) + "\n" for name in found), "stdout")
        return OK
    plan = build_plan(load_target(target, ["difflib"]))  # a misspelt name's hint
    # Escaped: a job's name must not drive the terminal it is listed on.
    names = [escape(name) for name in plan.names]
    lines = []
    for name, deps in zip(names, plan.deps, strict=True):
        lines.append(name + (" <- " + ", ".join(names[d] for d in deps) if deps else ""))
    emit(sys.stdout, "".join(line + "\n" for line in lines), "stdout")
    return OK
