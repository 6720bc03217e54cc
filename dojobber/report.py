"""The run report's public import path: the report, its parts and its recorder."""

# The report is made of three modules, each below the next: its parts
# (reportparts.py), the whole (runreport.py) and the recorder that times a
# run for it (recorder.py, which ``import dojobber`` loads). This module
# imports them and defines nothing, so that none of them imports it.

from .recorder import ReportRecorder
from .reportparts import (
    DRY_RUN_LABELS,
    NOT_CHECKED,
    RUN_LABELS,
    WOULD_RUN,
    CleanupError,
    JobError,
    JobReport,
    ObserverError,
    PhaseReport,
    TryReport,
    duration,
)
from .runreport import RunReport

__all__ = [
    "DRY_RUN_LABELS",
    "NOT_CHECKED",
    "RUN_LABELS",
    "WOULD_RUN",
    "CleanupError",
    "JobError",
    "JobReport",
    "ObserverError",
    "PhaseReport",
    "ReportRecorder",
    "RunReport",
    "TryReport",
    "duration",
]
