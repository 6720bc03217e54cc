"""Hints for likely mistakes: misspelt job methods, a missing Check, a Check
that returns False, a near-miss name."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Iterable, Sequence

from .errors import DoJobberWarning
from .jobs import Job, RunonlyJob

if TYPE_CHECKING:
    from .results import RunResult

# The methods DoJobber calls, and the spelling people type by habit.
_METHODS = (("check", "Check"), ("run", "Run"), ("cleanup", "Cleanup"))


def job_mistakes(job: type[Job]) -> list[str]:
    """What looks wrong with the class ``job``, one sentence each (often none).

    A lower-case ``check``, ``run`` or ``cleanup`` where DoJobber calls the
    capitalised name (and the class has no capitalised one), and a plain Job
    with no ``Check`` at all: every try of it fails.
    """
    name = job.__name__
    found = []
    misspelt_check = False
    for lower, proper in _METHODS:
        if callable(getattr(job, lower, None)) and (
            getattr(job, proper, None) is getattr(Job, proper, None)
        ):
            found.append(
                f"{name} defines {lower}() but DoJobber calls {proper}(): "
                f"rename it to {proper}"
            )
            misspelt_check = misspelt_check or lower == "check"
    if job.Check is Job.Check and not misspelt_check:
        found.append(
            f"{name} defines no Check, so every try of it fails: define "
            "Check(self, *args, **kwargs), or subclass RunonlyJob for a job "
            "that only runs"
        )
    return found


def warn_about_jobs(jobs: Iterable[type[Job]], stacklevel: int = 3) -> None:
    """Issue a DoJobberWarning for each likely mistake in ``jobs``.

    ``stacklevel`` 3 points at the caller of the function calling this one
    (the line that called ``configure``).
    """
    plain = Job.Check
    known: dict[type, bool] = {}
    for job in jobs:
        # The usual class passes these lookups; only then build sentences.
        if job.Check is not plain and not _has_lower_case_method(job, known):
            continue
        for message in job_mistakes(job):
            warnings.warn(message, DoJobberWarning, stacklevel=stacklevel)


def false_check_message(name: str) -> str:
    """The warning for job ``name``, whose Check passed by returning False."""
    return (
        f"{name}.Check returned False, and {name} passed: a Check fails only by "
        "raising, as in DoJobber 0.6.2. To fail, raise an exception (for instance "
        "'if not os.path.exists(path): raise FileNotFoundError(path)'); to pass, "
        "return None or any value but False"
    )


def warn_about_false_checks(result: RunResult, stacklevel: int = 3) -> None:
    """A DoJobberWarning for each job of the run ``result`` that passed by a
    Check returning exactly False: almost always a Check written to fail by
    its return value. Not for RunonlyJob's own Check, which returns what
    Run returned. One warning per job class, as a class is one job of a run.
    """
    classes, names = result.plan.classes, result.plan.names
    for i in result.false_checks:
        if getattr(classes[i], "Check", None) is not RunonlyJob.Check:
            warnings.warn(false_check_message(names[i]), DoJobberWarning,
                          stacklevel=stacklevel)


#: The lower-case names hints look for (graph.py's walk looks for them too).
LOWER_CASE_METHODS = frozenset(lower for lower, _ in _METHODS)


def _has_lower_case_method(job: type, known: dict[type, bool]) -> bool:
    """Whether ``job`` or a base class defines check, run or cleanup.

    Set operations on the class dicts (three failing attribute lookups per
    class cost twice as much), and each class looked at once however many
    jobs share it as a base (``known``): on a big graph of jobs made from a
    few base classes, going through every job's whole MRO cost 3 times more.
    """
    found = known.get(job)
    if found is None:
        found = not LOWER_CASE_METHODS.isdisjoint(vars(job))
        if not found:
            for base in job.__bases__:
                if _has_lower_case_method(base, known):
                    found = True
                    break
        known[job] = found
    return found


def did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """``"; did you mean 'Root'?"`` when a candidate is close to ``name``, else ``""``."""
    import difflib  # only for a command line's mistake

    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        lowered = {candidate.lower(): candidate for candidate in candidates}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f"; did you mean {close[0]!r}?" if close else ""
