"""``import dojobber`` stays light: pictures, threads, JSON and the CLI load on first use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pydot", "subprocess", "pygraph", "json", "dojobber.render",
         "dojobber.engine.threads", "dojobber.cli", "numbers", "dojobber.executor",
         "dojobber.engine.executor", "dojobber.engine.worker", "dojobber.engine.pool",
         "concurrent.futures", "multiprocessing", "pickle", "dataclasses",
         "dojobber.report", "dojobber.eventlog", "dojobber.html", "dojobber.engine.timelimit",
         "dojobber.reportparts", "dojobber.runreport", "dojobber.dot", "cloudpickle",
         "dojobber.engine.transfer")


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))


def test_import_dojobber_loads_no_pictures_threads_or_cli() -> None:
    bare = modules_after("")
    loaded = modules_after("import dojobber") - bare
    assert {"dojobber.engine.sequential", "dojobber.engine.ready",
            "dojobber.engine.trying"} <= loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_what_was_left_out_loads_when_used() -> None:
    loaded = modules_after(
        "import dojobber\n"
        "class Leaf(dojobber.Job):\n"
        "    def Check(self): pass\n"
        "d = dojobber.DoJobber()\n"
        "d.configure(Leaf, workers=2, default_tries=1.5)\n"
        "d.checknrun()\n"
        "d.report().to_json()\n"
        "d.graph_dot()\n")
    assert {"pydot", "pygraph", "json", "dojobber.render", "dojobber.engine.threads"} <= loaded


def test_timeouts_load_only_for_runs_that_have_one() -> None:
    run = (
        "import dojobber\n"
        "class Leaf(dojobber.Job):\n"
        "    TIMEOUT = {}\n"
        "    def Check(self): pass\n"
        "d = dojobber.DoJobber()\n"
        "d.configure(Leaf)\n"
        "d.checknrun()\n"
    )
    assert "dojobber.engine.timelimit" not in modules_after(run.format(None))
    assert "dojobber.engine.timelimit" in modules_after(run.format(30))


def test_the_commands_help_loads_no_pictures_or_executors() -> None:
    bare = modules_after("")  # e.g. coverage's own, when it measures
    loaded = modules_after(
        "import contextlib, io\n"
        "from dojobber import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()) as text:\n"
        "    try:\n"
        "        cli.main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "assert 'usage: dojobber' in text.getvalue()\n") - bare
    assert "dojobber.cli" in loaded
    assert sorted(loaded & {"pydot", "dojobber.render", "concurrent.futures",
                            "multiprocessing", "dojobber.executor"}) == []


#: What each subcommand's module loads that its arguments do not need.
SUBCOMMAND_WEIGHT = {"dojobber.command.run", "dojobber.command.graph",
                     "dojobber.command.listing", "dojobber.command.report",
                     "dojobber.command.history", "dojobber.report", "dojobber.eventlog",
                     "dojobber.history.store", "sqlite3", "json", "dataclasses"}


@pytest.mark.parametrize("command, modules", [
    ((), []),
    (("run",), ["dojobber.command.runoptions"]),
    (("history",), ["dojobber.command.historyoptions"]),
    (("report",), ["dojobber.command.report"]),
    (("graph",), ["dojobber.command.graph"]),
    (("list",), ["dojobber.command.listing"]),
])
def test_help_loads_only_the_arguments_of_its_subcommand(
        command: tuple[str, ...], modules: list[str]) -> None:
    # ``dojobber --help`` and each subcommand's --help start as quickly as
    # argparse can: the subcommands' own modules load only for a subcommand
    # that runs, their arguments only for the subcommand given.
    bare = modules_after("")
    loaded = modules_after(
        "import contextlib, io\n"
        "from dojobber import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()) as text:\n"
        "    try:\n"
        f"        cli.main([*{list(command)!r}, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"assert 'usage: dojobber {' '.join(command)}'.strip() in text.getvalue()\n") - bare
    arguments = {"dojobber.command.runoptions", "dojobber.command.historyoptions"}
    assert sorted(loaded & (SUBCOMMAND_WEIGHT | arguments)) == modules
