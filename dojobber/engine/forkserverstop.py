"""Preloaded by the forkserver of a pool ``dojobber run`` starts: the server outlives SIGTERM.

SIGTERM to the process group would end the forkserver, and with it the
pool's view of every worker (each then reads as ended, status 255): the
pool breaks, and the answer of a try cut short in a worker is lost with
it. Ignoring SIGTERM there (Python's forkserver already ignores SIGINT),
the server ends as it always does, when the process that started it does;
the workers take their signals themselves (workerstop.py).
"""

import signal
import sys


def _in_forkserver() -> bool:
    """Whether this is a forkserver process, as ``multiprocessing`` starts one."""
    return sys.argv[:1] == ["-c"] and "multiprocessing.forkserver" in sys.modules


if _in_forkserver():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
