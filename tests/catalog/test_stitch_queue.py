"""The stitch queue's requests and leases, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from greenroom.catalog.processing import store
from greenroom.db.transactions import write_transaction

from .helpers import make_portal

A, B = "component:default/a", "component:default/b"
NOW = 1000.0
LEASE = 60.0


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Engine:
    """A catalog database with a stitch request for A, due at NOW."""
    engine = make_portal(database_url, tmp_path).db
    with write_transaction(engine) as conn:
        store.request_stitch(conn, [A], due=NOW)
    return engine


def _claim_with_lease(db: Engine, *, now: float, horizon: float = 0.0) -> list[tuple[str, str]]:
    with write_transaction(db) as conn:
        return store.claim_for_stitching(
            conn, now=now, due_by=now + horizon, lease_until=now + LEASE, limit=10
        )


def _claim(db: Engine, *, now: float, horizon: float = 0.0) -> set[str]:
    return {ref for ref, _ in _claim_with_lease(db, now=now, horizon=horizon)}


def test_an_idle_stitcher_takes_waiting_requests_but_not_leased_ones(db: Engine) -> None:
    with write_transaction(db) as conn:
        # Due later, as a request waiting for its entity's own processing is.
        store.request_stitch(conn, [B], due=NOW + 30)

    assert _claim(db, now=NOW) == {A}
    # With nothing else to do, a stitcher looks further ahead: B, not A, which another
    # stitcher holds (its lease ends within the horizon too).
    assert _claim(db, now=NOW + 1, horizon=LEASE) == {B}
    assert _claim(db, now=NOW + 2, horizon=LEASE) == set()
    # A lease that ran out is anyone's again.
    assert _claim(db, now=NOW + LEASE + 0.5) == {A}


def test_a_new_request_for_a_leased_entity_is_kept_and_claimable(db: Engine) -> None:
    held = _claim_with_lease(db, now=NOW)
    with write_transaction(db) as conn:
        # Hastening leaves a held request alone: it is being served.
        store.hasten_stitches(conn, [A], NOW + 1)
    assert _claim(db, now=NOW + 1, horizon=LEASE) == set()

    with write_transaction(db) as conn:
        store.request_stitch(conn, [A], due=NOW + 2)
        # The first stitcher finishes: the newer request stays.
        store.finish_stitching(conn, held)
    assert _claim(db, now=NOW + 2) == {A}
