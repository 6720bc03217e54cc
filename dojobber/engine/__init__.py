"""The engines: which tries run, in which order, and where.

- ``trying``: one try of one job (check, run, recheck), reporting to a Sink.
- ``ready``: the ready-set, which jobs may start and when, in both orders.
- ``sequential``: the sequential engine and what every engine shares.
- ``threads``: the thread engine, several tries at once.
- ``timelimit``: TIMEOUT, around a try made in this process.
- ``executor``, ``worker``, ``pool``: tries as tasks on a concurrent.futures
  Executor: the calling side, the worker's side, the executor that is
  replaced when it breaks.
- ``cleanup``: the Cleanups, newest first.
"""
