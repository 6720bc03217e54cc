"""Preloaded by the forkserver of the pool ``dojobber run`` starts: it and its workers ignore stops.

SIGTERM to the process group would end the forkserver, and with it the
pool's view of every worker (each then reads as ended, status 255): the
pool breaks, and the answer of a try cut short in a worker is lost with
it. Ignoring SIGTERM there, the server ends as it always does, when the
process that started it does. Ignoring SIGINT too before the server
starts serving (the preload comes first), every worker it forks starts
with both ignored, and a signal while a worker is starting cannot print a
traceback; the pool's initializer then gives the worker its own handling
(workerstop.py).
"""

import signal
import sys


def _in_forkserver() -> bool:
    """Whether this is a forkserver process, as ``multiprocessing`` starts one."""
    return sys.argv[:1] == ["-c"] and "multiprocessing.forkserver" in sys.modules


if _in_forkserver():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Blocked if it was started in a quiet_start (workerstop.py): from now
    # on a stop that comes is ignored, not pending.
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))
