#!/usr/bin/env python3
"""A data pipeline: generate readings, clean them, write their checksums.

What it teaches:

* jobs created at run time, one pair per input file (``Generate NAME`` and
  ``Clean NAME``), made with ``type()`` from two base classes and listed in
  the DEPS of a root class that is also made at run time;
* Checks that compare content, so a damaged or deleted file is rebuilt and
  everything downstream of it follows, and nothing else is touched;
* a dry run (``-n``, DoJobber's ``no_act``): every job is checked, nothing
  is run, and the script lists what a real run would change;
* the same jobs on other processes (``--executor``): a process pool, or a
  Dask cluster on this machine. Jobs made at run time, or defined in the
  script being run, travel to the workers as they are (by value).

Run it, then run it again (nothing changes), then damage a file and ask what
a run would do::

    python examples/data_pipeline.py /tmp/pipeline -v
    python examples/data_pipeline.py /tmp/pipeline -v
    echo junk >> /tmp/pipeline/clean/north.csv
    python examples/data_pipeline.py /tmp/pipeline -n
    python examples/data_pipeline.py /tmp/pipeline -v --executor spawn
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import random
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from dojobber import DoJobber, Job

STATIONS = ["north", "south", "east", "west"]
CHECKSUMS = "SHA256SUMS"


def raw_readings(station: str) -> str:
    """The station's raw CSV: the same every time, with a few bad rows."""
    rng = random.Random(station)  # seeded by name: reproducible
    lines = ["hour,celsius"]
    for hour in range(24):
        value = "n/a" if rng.random() < 0.1 else f"{rng.uniform(-5, 25):.1f}"
        lines.append(f"{hour},{value}")
    return "\n".join(lines) + "\n"


def clean_readings(raw: str) -> str:
    """Drop rows without a reading; add the temperature in Fahrenheit."""
    lines = ["hour,celsius,fahrenheit"]
    for row in raw.splitlines()[1:]:
        hour, celsius = row.split(",")
        try:
            value = float(celsius)
        except ValueError:
            continue
        lines.append(f"{hour},{value:.1f},{value * 9 / 5 + 32:.1f}")
    return "\n".join(lines) + "\n"


class Directories(Job):
    """raw/ and clean/ under the target directory."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"] = Path(kwargs["target"]).resolve()
        for sub in ("raw", "clean"):
            if not (target / sub).is_dir():
                raise FileNotFoundError(f"{target / sub} does not exist")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        for sub in ("raw", "clean"):
            (self.global_storage["target"] / sub).mkdir(parents=True, exist_ok=True)


class FileJob(Job):
    """A file whose content must equal ``wanted()``; Run writes it.

    Base class of the dynamic jobs: ``STATION`` is set on each subclass.
    """

    DEPS = (Directories,)
    STATION = ""
    FOLDER = ""

    def path(self) -> Path:
        target: Path = self.global_storage["target"]
        return target / self.FOLDER / f"{self.STATION}.csv"

    def wanted(self) -> str:
        raise NotImplementedError

    def Check(self, *args: Any, **kwargs: Any) -> str:
        path = self.path()
        if not path.is_file() or path.read_text(encoding="utf-8") != self.wanted():
            raise ValueError(f"{path} is missing or out of date")
        return str(path)

    def Run(self, *args: Any, **kwargs: Any) -> None:
        self.path().write_text(self.wanted(), encoding="utf-8")


class GenerateReadings(FileJob):
    """raw/STATION.csv: what the station reported."""

    FOLDER = "raw"

    def wanted(self) -> str:
        return raw_readings(self.STATION)


class CleanReadings(FileJob):
    """clean/STATION.csv: the raw file, cleaned (depends on its Generate job)."""

    FOLDER = "clean"

    def wanted(self) -> str:
        raw = self.global_storage["target"] / "raw" / f"{self.STATION}.csv"
        return clean_readings(raw.read_text(encoding="utf-8"))


class WriteChecksums(Job):
    """SHA256SUMS lists every cleaned file with its SHA-256 (``sha256sum -c`` format)."""

    def wanted(self) -> str:
        target = self.global_storage["target"]
        lines = []
        for path in sorted((target / "clean").glob("*.csv")):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.relative_to(target).as_posix()}\n")
        return "".join(lines)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        path = self.global_storage["target"] / CHECKSUMS
        if not path.is_file() or path.read_text(encoding="utf-8") != self.wanted():
            raise ValueError(f"{path} is missing or out of date")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        path = self.global_storage["target"] / CHECKSUMS
        path.write_text(self.wanted(), encoding="utf-8")


def build_graph(stations: Sequence[str]) -> type[Job]:
    """Make the jobs for these stations and return the root job class.

    Fresh classes on every call: calling it twice (say, for two different
    station lists) never mixes the graphs.
    """
    cleaned: list[type[Job]] = []
    for station in stations:
        generate = type(f"Generate {station}", (GenerateReadings,), {"STATION": station})
        clean = type(
            f"Clean {station}", (CleanReadings,),
            {"STATION": station, "DEPS": (Directories, generate)},
        )
        cleaned.append(clean)
    return type("Checksums", (WriteChecksums,), {"DEPS": cleaned})


def describe_dry_run(dojob: DoJobber) -> list[str]:
    """What a real run would do, from the statuses of a no_act run."""
    would_run = [name for name, status in dojob.nodestatus.items() if status is False]
    waiting = [name for name, status in dojob.nodestatus.items() if status is None]
    lines = []
    if would_run:
        lines.append("would run: " + ", ".join(would_run))
    if waiting:
        lines.append("then check (and run if needed): " + ", ".join(waiting))
    return lines or ["nothing to do: every job passes"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="pipeline-demo",
                        help="the pipeline's directory (default: ./pipeline-demo)")
    parser.add_argument("--stations", nargs="+", default=STATIONS,
                        help=f"input files to make (default: {' '.join(STATIONS)})")
    parser.add_argument("-n", "--no-act", action="store_true",
                        help="dry run: check everything, change nothing")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-d", "--debug", action="store_true")
    parser.add_argument("--executor", choices=["forkserver", "spawn", "dask"],
                        help="run each try on a process pool whose processes start "
                        "this way, or on a Dask LocalCluster (needs dojobber[dask])")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes of the --executor (default: 2)")
    return parser.parse_args(argv)


@contextmanager
def started(kind: str | None, workers: int) -> Iterator[Executor | None]:
    """The executor ``--executor`` asks for (None: tries run here), shut down after."""
    if kind is None:
        yield None
    elif kind == "dask":
        from distributed import Client, LocalCluster

        # Its web page on any free port: another cluster may hold the usual one.
        with LocalCluster(n_workers=workers, threads_per_worker=1,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            yield client.get_executor()
    else:
        context = multiprocessing.get_context(kind)
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            yield pool


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    dojob = DoJobber()
    with started(args.executor, args.workers) as executor:
        dojob.configure(build_graph(args.stations), no_act=args.no_act,
                        verbose=args.verbose, debug=args.debug, executor=executor)
        # Absolute: workers elsewhere need not share this working directory.
        dojob.set_args(target=str(Path(args.target).resolve()))
        dojob.checknrun()
    if args.no_act:
        for line in describe_dry_run(dojob):
            print(line)
    elif dojob.success():
        print(f"{args.target}: {len(args.stations)} files cleaned, {CHECKSUMS} up to date")
    else:
        for name, error in dojob.nodeexceptions.items():
            print(f"{name}: {error}", file=sys.stderr)
    return 0 if dojob.success() else 1


if __name__ == "__main__":
    sys.exit(main())
