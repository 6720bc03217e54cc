#!/usr/bin/env python3
"""The movie night: DoJobber's example job graph, as a module and a script.

Friends come over to watch a movie. Each step is a small job; some fail for
a while (popcorn takes several tries, pizza arrives on the third), some fail
until you change the command line (``--battery_state charged``,
``--couch_space``). Run it with ``-v`` to watch the passes and retries::

    python tests/dojobber_example.py -v --no-x11

Old test suites import it (``import dojobber_example as doex``), so the job
names, DEPS order, TRIES and keyword arguments are fixed.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
from typing import Any, Sequence

import dojobber
from dojobber import DummyJob, Job, RunonlyJob

AVAILABLE_MOVIES = ["Noises Off", "MST3K", "Babylon 5"]

app_log = logging.getLogger("dojobber_example")


class CleanCouch(Job):
    """Vacuum the couch; borrowing the duster is undone in Cleanup."""

    DEPS = ()

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if not self.storage.get("runran"):
            raise RuntimeError("Couch is dirty.")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        self.storage["runran"] = True
        # Tests pass a dict in and read what Cleanup did to it.
        self.global_storage["unittest_dict"] = kwargs.get("unittest_dict", {})

    def Cleanup(self) -> None:
        borrowed = self.global_storage.get("unittest_dict")
        if borrowed is not None:
            borrowed["duster_returned"] = True


class FindTVRemote(Job):
    """The remote is always where you left it."""

    DEPS = ()

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class FluffPillows(RunonlyJob):
    """Nobody can tell whether pillows are fluffed, so just fluff them."""

    DEPS = ()

    def Run(self, *args: Any, **kwargs: Any) -> None:
        app_log.info("Fluffing the pillows.")


class PickTimeAndDate(Job):
    """Choose when the movie starts and share it with the other jobs."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if not self.global_storage.get("Start-DateTime"):
            raise RuntimeError("No start time picked yet.")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        self.global_storage["Start-DateTime"] = random.choice(
            ["Friday 19:30", "Saturday 20:00"]
        )


class ValidateMovie(Job):
    """Only movies we own can be watched."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        movie = kwargs.get("movie")
        if movie not in AVAILABLE_MOVIES:
            raise ValueError(f"{movie} not one of the available movies.")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class InsertDVD(Job):
    """Put the (valid) movie in the player."""

    DEPS = (ValidateMovie,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class PrepareRoom(DummyJob):
    """Groups the room's chores."""

    DEPS = (CleanCouch, FluffPillows)


class PopcornBowl(DummyJob):
    """The bowl is in the dishwasher: each try runs one more cycle."""

    TRIES = 8
    RETRY_DELAY = 0.001

    def Check(self, *args: Any, **kwargs: Any) -> None:
        needed = kwargs.get("bowl_success_try") or self.TRIES
        if self.global_storage.get("bowl_failcount", 0) < needed:
            raise RuntimeError("Dishwasher cycle not done yet.")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        self.global_storage["bowl_failcount"] = (
            self.global_storage.get("bowl_failcount", 0) + 1
        )


class Pizza(RunonlyJob):
    """Phone the pizzeria until the pizza has arrived."""

    TRIES = 3

    def Run(self, *args: Any, **kwargs: Any) -> None:
        count = self.global_storage["pizza_failcount"] = (
            self.global_storage.get("pizza_failcount", 0) + 1
        )
        if count < (kwargs.get("pizza_success_try") or self.TRIES):
            raise RuntimeError("Giordano's did not arrive yet.")


class Popcorn(Job):
    """Pop the corn once the bowl is clean; it takes a few tries."""

    DEPS = (PopcornBowl,)
    TRIES = PopcornBowl.TRIES - 3

    def Check(self, *args: Any, **kwargs: Any) -> None:
        needed = kwargs.get("pop_success_try") or self.TRIES
        if self.global_storage.get("pop_failcount", 0) < needed:
            raise RuntimeError("Still popping...")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        self.global_storage["pop_failcount"] = (
            self.global_storage.get("pop_failcount", 0) + 1
        )


class Food(DummyJob):
    """Groups the snacks."""

    DEPS = (Popcorn, Pizza)


class SitOnCouch(Job):
    """Sit down, if there is room."""

    DEPS = (PrepareRoom,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("couch_space"):
            raise RuntimeError("No space on couch.")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class DetermineDetails(DummyJob):
    """What and when: the invitations need both."""

    DEPS = (ValidateMovie, PickTimeAndDate)


class InviteFriends(DummyJob):
    """Gains one Invite job per friend, made at run time by invite_friends()."""

    DEPS = [DetermineDetails]


class SendInvite(Job):
    """Template for the Invite jobs: set EMAIL and NAME in a subclass."""

    DEPS = (DetermineDetails,)
    EMAIL: str | None = None
    NAME: str | None = None

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if not self.storage.get("sent"):
            raise RuntimeError(f"{self.NAME} has not been invited yet.")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        invitation = (
            f"To: {self.NAME} <{self.EMAIL}>\n"
            f"Come watch {kwargs.get('movie')} with us, "
            f"{self.global_storage['Start-DateTime']}."
        )
        app_log.info("Sending invitation:\n%s", invitation)
        self.storage["sent"] = True


def invite_friends(people: Sequence[dict[str, str]]) -> None:
    """Add an ``Invite <name>`` job per person (dicts with name and email)."""
    for person in people:
        job = type(f"Invite {person['name']}", (SendInvite,), {})
        job.EMAIL = person["email"]
        job.NAME = person["name"]
        InviteFriends.DEPS.append(job)


class FriendsArrive(Job):
    """Everyone invited shows up."""

    DEPS = (InviteFriends,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class TurnOnTV(Job):
    """The TV only turns on with charged batteries in the remote."""

    DEPS = (FindTVRemote,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("battery_state") != "charged":
            raise RuntimeError("Remote batteries are dead.")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class StartMovie(Job):
    """Press play once everything is ready."""

    DEPS = (FriendsArrive, PrepareRoom, TurnOnTV, InsertDVD, SitOnCouch, Food)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


class WatchMovie(Job):
    """The goal."""

    DEPS = (StartMovie,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The example's command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--no-act", dest="no_act", action="store_true",
                        help="only Check; never Run")
    parser.add_argument("-v", dest="verbose", action="store_true",
                        help="print a line per check/run/recheck on stderr")
    parser.add_argument("-d", dest="debug", action="store_true",
                        help="like -v, plus tracebacks of failures")
    parser.add_argument("--app-logs", dest="app_logs", action="store_true",
                        help="show the jobs' own log lines (INFO)")
    parser.add_argument("--x11", dest="x11", action="store_true", default=True,
                        help="show the result graph when DISPLAY is set (default)")
    parser.add_argument("--no-x11", dest="x11", action="store_false",
                        help="never show the graph on screen")
    parser.add_argument("--display_prerungraph", action="store_true",
                        help="show the graph before running it")
    parser.add_argument("--png_output", metavar="FILE",
                        help="write the result graph as PNG to FILE")
    parser.add_argument("--svg_output", metavar="FILE",
                        help="write the result graph as SVG to FILE "
                             "(hover over a job for its tries and last error)")
    parser.add_argument("--movie", default="Noises Off",
                        choices=AVAILABLE_MOVIES + ["Zardoz"],
                        help="the movie to watch (default: %(default)s)")
    parser.add_argument("--battery_state", default="dead",
                        choices=["dead", "charged"],
                        help="the TV remote's batteries (default: %(default)s)")
    parser.add_argument("--couch_space", action="store_true",
                        help="there is room on the couch")
    for job in (PopcornBowl, Popcorn, Pizza):
        option = {"PopcornBowl": "bowl", "Popcorn": "pop", "Pizza": "pizza"}[job.__name__]
        parser.add_argument(f"--{option}_success_try", type=int, metavar="N",
                            help=f"{job.__name__} passes on try N "
                                 f"(default: its TRIES, {job.TRIES})")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="run up to N jobs at once in threads "
                             "(default: %(default)s, the sequential order)")
    return parser.parse_args(argv)


def _picture(action: Any, *args: Any, **kwargs: Any) -> bool:
    """Draw or show the graph; on failure say why on stderr and go on."""
    try:
        # strict: a missing screen or Graphviz raises, to be said our way
        # (without it DoJobber would warn and return, as 0.6.2 returned).
        action(*args, strict=True, **kwargs)
    except (dojobber.RenderError, OSError) as error:
        print(f"dojobber_example: no picture: {error}", file=sys.stderr)
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the movie night; 0 when everything passed, 1 otherwise, 2 when a
    requested picture file could not be written."""
    args = parse_args(argv)
    if args.app_logs:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    invite_friends([
        {"name": "Wendell Bagg", "email": "bagg@example.com"},
        {"name": "Lawyer Cat", "email": "lawyercat@example.com"},
    ])
    show = args.x11 and bool(os.environ.get("DISPLAY"))

    dojob = dojobber.DoJobber()
    dojob.configure(WatchMovie, no_act=args.no_act, verbose=args.verbose,
                    debug=args.debug, default_retry_delay=0,
                    workers=args.workers)
    dojob.set_args(**vars(args))
    if args.display_prerungraph:
        _picture(dojob.display_graph)
    dojob.checknrun()
    written = True
    for path, fmt in ((args.png_output, "png"), (args.svg_output, "svg")):
        if path:
            written = _picture(dojob.write_graph, path, fmt=fmt) and written
    if show:
        _picture(dojob.display_graph)

    if dojob.success():
        print("Success: every job passed. Enjoy the movie!")
        return 0 if written else 2
    failed = sorted(name for name, ok in dojob.nodestatus.items() if ok is False)
    blocked = sorted(name for name, ok in dojob.nodestatus.items() if ok is None)
    print(f"Not done yet. Failed: {', '.join(failed) or 'none'}. "
          f"Blocked: {', '.join(blocked) or 'none'}.")
    return 1 if written else 2


if __name__ == "__main__":
    sys.exit(main())
