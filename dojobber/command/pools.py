"""The executor ``dojobber run --executor`` starts: a process, thread or Dask pool."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from ..stopping import signals_held_back
from .exits import UsageError

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Executor, ProcessPoolExecutor

#: The executors ``--executor`` can start.
EXECUTORS = ("process", "thread", "dask")


def check_workers(kind: str | None, workers: int | None) -> None:
    """Refuse a ``--workers`` that the pool of ``kind`` cannot be made with,
    before anything is imported or started."""
    if kind != "process" or workers is None:
        return
    most = most_processes()
    if workers > most:
        raise UsageError(
            f"--workers {workers} is more than --executor process can start: at most {most}")


def most_processes() -> int:
    """The largest process pool Python can make here: its call queue's
    semaphore counts up to SEM_VALUE_MAX, and holds a call more than it has
    workers; Windows waits on at most 61 processes."""
    if sys.platform == "win32":
        return 61
    from concurrent.futures.process import EXTRA_QUEUED_CALLS
    from multiprocessing.synchronize import SEM_VALUE_MAX  # type: ignore[attr-defined,unused-ignore]

    return int(SEM_VALUE_MAX) - EXTRA_QUEUED_CALLS


def pool_needs(kind: str) -> list[str]:
    """The modules a run on the pool of ``kind`` imports once it is started
    (see target.preload)."""
    wanted = ["dojobber.executor", "concurrent.futures.thread"]
    if kind == "process":
        wanted += ["concurrent.futures.process", "multiprocessing.forkserver",
                   "multiprocessing.spawn", "multiprocessing.queues"]
    elif kind == "dask":
        wanted += ["distributed", "multiprocessing.shared_memory"]
    return wanted


@contextmanager
def started_executor(
    kind: str | None, workers: int | None, scheduler: str | None
) -> Iterator[Executor | None]:
    """The executor of ``kind`` (one of EXECUTORS; None: no executor) with
    ``workers`` workers, shut down when the block ends. ``scheduler`` is
    the address of a running Dask scheduler (only with ``dask``)."""
    if scheduler is not None and kind != "dask":
        raise UsageError("--scheduler ADDRESS needs --executor dask")
    if kind is None:
        yield None
    elif kind == "dask":
        with _dask(scheduler, workers) as executor:
            yield executor
    elif kind == "thread":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            yield pool
    else:
        from ..executor import quiet_start, worker_signals

        # Its workers take Ctrl-C and SIGTERM quietly from the start: each
        # starts within a quiet_start (it starts as a try is sent), and
        # its initializer lets the stops through once it can take them.
        with quiet_start():  # starts the resource tracker (see _quiet_pool)
            processes = _quiet_pool()(workers, mp_context=process_context(),
                                      initializer=worker_signals)
        with processes:
            yield processes


def _quiet_pool() -> type[ProcessPoolExecutor]:
    """A ProcessPoolExecutor whose workers (started by ``submit``, as each
    is needed) start with the stops blocked (workerstop.quiet_start)."""
    from concurrent.futures import ProcessPoolExecutor

    class QuietPool(ProcessPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            # The resource tracker is running (quiet_start): holding them
            # back is two system calls.
            with signals_held_back():
                return super().submit(fn, *args, **kwargs)

    return QuietPool


def process_context() -> multiprocessing.context.BaseContext:
    """How ``--executor process`` starts its processes: never by a bare fork.

    The run has threads when the pool starts processes (one per try in
    flight), and forking a process that has threads can deadlock the
    child; "forkserver" (POSIX) or "spawn" start clean processes that
    import the job's module by name.
    """
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The server outlives SIGTERM to the group, so the pool does not break
    # under the tries cut short (forkserverstop.py); it imports the workers'
    # modules before any worker has the target's folder on sys.path, and
    # each worker it forks has them (see target.preload).
    context.set_forkserver_preload(["dojobber.engine.forkserverstop", *WORKER_MODULES])
    return context


#: What a worker of the process pool imports to make tries.
WORKER_MODULES = ["concurrent.futures.process", "dojobber.executor"]


@contextmanager
def _dask(address: str | None, workers: int | None) -> Iterator[Executor]:
    try:
        # Through importlib: an optional extra, and it has no type hints.
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise UsageError(
            "--executor dask needs Dask's distributed: pip install 'dojobber[dask]'"
        ) from None
    if address is not None:
        with distributed.Client(address, timeout=10) as client:
            yield client.get_executor()
        return
    from ..executor import quiet_start

    with ExitStack() as cluster_and_client:
        # Started and closed with the signals held back: a Ctrl-C meanwhile
        # would leave a cluster half made or half closed (Dask then
        # complains at exit); its threads keep them blocked for good, and
        # so do the worker processes they start (quiet_start) until their
        # preload ignores them: their tries run in
        # threads no signal reaches, and a stopping run cancels their tasks
        # and closes the cluster instead.
        with quiet_start():
            cluster = cluster_and_client.enter_context(distributed.LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                # Any free port: None means Dask's usual 8787, and a second run
                # (or any other Dask program) there prints "Port 8787 is
                # already in use".
                dashboard_address=":0",
                preload=["dojobber.engine.workerstop"],
                # Its errors only: a stop that cancels a running try makes
                # its worker and nanny warn (the task was cancelled, the
                # worker killed as the cluster closed) after the command's
                # last line.
                silence_logs=logging.ERROR,
            ))
            client = cluster_and_client.enter_context(distributed.Client(cluster))
        try:
            yield client.get_executor()
        finally:
            with signals_held_back():
                cluster_and_client.close()
