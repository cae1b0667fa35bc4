"""RecentAnswers: the last answer is served at once while the current one is computed."""

from __future__ import annotations

import threading

from greenroom.catalog.query.cache import RecentAnswers


def test_first_answer_is_computed_then_kept_for_its_generation() -> None:
    answers = RecentAnswers()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 42

    assert answers.get("k", 1, compute) == 42
    assert answers.get("k", 1, compute) == 42
    assert len(calls) == 1


def test_a_newer_generation_serves_the_old_answer_and_refreshes_in_the_background() -> None:
    answers = RecentAnswers()
    answers.get("k", 1, lambda: "old")
    release = threading.Event()
    done = threading.Event()

    def slow() -> str:
        release.wait(5)
        done.set()
        return "new"

    assert answers.get("k", 2, slow) == "old"  # not held up by the computation
    assert answers.get("k", 2, lambda: "never") == "old"  # one refresh at a time
    release.set()
    assert done.wait(5)
    for _ in range(100):
        if answers.entries["k"] == (2, "new"):
            break
        threading.Event().wait(0.01)
    assert answers.get("k", 2, lambda: "never") == "new"


def test_a_failed_refresh_keeps_the_old_answer() -> None:
    answers = RecentAnswers()
    answers.get("k", 1, lambda: "old")
    failed = threading.Event()

    def broken() -> str:
        failed.set()
        raise RuntimeError("database went away")

    assert answers.get("k", 2, broken) == "old"
    assert failed.wait(5)
    for _ in range(100):
        if "k" not in answers.pending:
            break
        threading.Event().wait(0.01)
    assert answers.get("k", 2, lambda: "retry") == "old"  # and a new refresh was started


def test_an_older_answer_never_replaces_a_newer_one() -> None:
    answers = RecentAnswers()
    answers.get("k", 5, lambda: "five")
    answers._store("k", 3, "three")
    assert answers.entries["k"] == (5, "five")
