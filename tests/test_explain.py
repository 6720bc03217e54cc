"""Which part of a graph the HTML page draws when the whole is over its limit
(issue 24, item 10): dojobber.explain on graphs written by hand."""

from __future__ import annotations

from dojobber.explain import explaining

# Root needs A and B; A needs A1, which needs A2; B needs B1 and B2.
DEPS = {"Root": ("A", "B"), "A": ("A1",), "A1": ("A2",), "A2": (), "B": ("B1", "B2"),
        "B1": (), "B2": ()}


def test_every_job_passed_explains_nothing() -> None:
    outcomes = dict.fromkeys(DEPS, "passed") | {"A": "passed_after_run"}
    assert explaining(outcomes, DEPS, "Root", 10) == []


def test_a_failure_comes_with_its_way_to_the_root_and_the_direct_dependencies() -> None:
    outcomes = dict.fromkeys(DEPS, "passed") | {"A2": "failed", "A1": "blocked",
                                                "A": "blocked", "Root": "blocked"}
    # B passed: a blocked job's dependency that passed explains nothing.
    assert explaining(outcomes, DEPS, "Root", 10) == ["Root", "A2", "A1", "A"]
    # Its way does not fit: the failure alone, then the blocked nearest the root.
    assert explaining(outcomes, DEPS, "Root", 3) == ["Root", "A2", "A"]
    assert explaining(outcomes, DEPS, "Root", 0) == []


def test_an_outcome_this_version_does_not_know_is_explained_like_a_failure() -> None:
    # An interrupted try (a later outcome) needs explaining as much as a failure.
    outcomes = dict.fromkeys(DEPS, "passed") | {"B2": "interrupted", "B": "blocked",
                                                "Root": "blocked"}
    assert explaining(outcomes, DEPS, "Root", 10) == ["Root", "B2", "B"]


def test_blocked_jobs_nearest_the_root_come_first() -> None:
    outcomes = dict.fromkeys(DEPS, "blocked")
    assert explaining(outcomes, DEPS, "Root", 4) == ["Root", "A", "B", "A1"]


def test_a_failure_whose_way_does_not_fit_comes_alone_after_the_others() -> None:
    outcomes = dict.fromkeys(DEPS, "passed") | {
        "A2": "failed", "A1": "blocked", "A": "blocked", "B1": "failed", "B": "blocked",
        "Root": "blocked"}
    assert explaining(outcomes, DEPS, "Root", 4) == ["Root", "A2", "A1", "A"]
    assert explaining(outcomes, DEPS, "Root", 5) == ["Root", "A2", "A1", "A", "B1"]
    assert explaining(outcomes, DEPS, "Root", 6) == ["Root", "A2", "A1", "A", "B1", "B"]
    assert explaining(outcomes, DEPS, "Root", 9) == ["Root", "A2", "A1", "A", "B1", "B"]


def test_a_failure_comes_with_what_it_ran_after_a_blocked_job_only_with_its_blockers() -> None:
    # A root over a thousand jobs that passed, and one that failed after two
    # jobs of its own: the page draws those four, not the thousand.
    deps: dict[str, tuple[str, ...]] = {f"J{n}": () for n in range(1000)}
    deps |= {"Fails": ("J1", "J2"), "Root": ("Fails", *deps)}
    outcomes = dict.fromkeys(deps, "passed") | {"Fails": "failed", "Root": "blocked"}
    assert explaining(outcomes, deps, "Root", 500) == ["Root", "Fails", "J1", "J2"]
