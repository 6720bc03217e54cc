"""Start-up cost: ``import dojobber`` and ``dojobber --help`` beside a bare interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: What each timed command runs: a bare interpreter, the import, the help.
COMMANDS = {
    "bare": ["-c", "pass"],
    "import": ["-c", "import dojobber"],
    "help": ["-m", "dojobber", "--help"],
}


@dataclass
class Startup:
    """The best wall time (seconds) of each command."""

    bare: float
    imported: float
    help: float

    @property
    def import_cost(self) -> float:
        """What ``import dojobber`` adds to a bare interpreter, in seconds."""
        return self.imported - self.bare


def measure(rounds: int = 20) -> Startup:
    """Best of ``rounds`` runs of each command, taking turns.

    Compiled bytecode is written first and used, as after any ``pip
    install``: a user never pays for compiling on every start.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    best = dict.fromkeys(COMMANDS, float("inf"))
    for round_number in range(rounds + 1):
        for name, args in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
            elapsed = time.perf_counter() - start
            if round_number:  # the first round only writes the bytecode
                best[name] = min(best[name], elapsed)
    return Startup(best["bare"], best["import"], best["help"])
