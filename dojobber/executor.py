"""Running tries on a concurrent.futures Executor: the names the docs give, from the engine."""

from .engine.executor import STUCK_AFTER, OnExecutor, RemoteTraceback, executor_size
from .engine.pool import STOP_WAIT
from .engine.transfer import Dependency, send_by_value
from .engine.worker import TryRecord, run_try
from .engine.workerstop import quiet_start, worker_signals
from .settings import check_executor

__all__ = [
    "Dependency", "OnExecutor", "RemoteTraceback", "STOP_WAIT", "STUCK_AFTER", "TryRecord",
    "check_executor",
    "executor_size", "quiet_start", "run_try", "send_by_value", "worker_signals",
]
