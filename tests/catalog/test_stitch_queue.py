"""The stitch queue's requests and leases, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from greenroom.catalog.processing import store
from greenroom.db.transactions import write_transaction

from .helpers import make_portal

A, B = "component:default/a", "component:default/b"
LEASE = 60.0


def _claim(db, *, now: float, horizon: float = 0.0) -> set[str]:  # type: ignore[no-untyped-def]
    with write_transaction(db) as conn:
        claimed = store.claim_for_stitching(
            conn, now=now, due_by=now + horizon, lease_until=now + LEASE, limit=10
        )
    return {ref for ref, _ in claimed}


def test_an_idle_stitcher_takes_waiting_requests_but_not_leased_ones(
    database_url: str, tmp_path: Path
) -> None:
    db = make_portal(database_url, tmp_path).db
    now = 1000.0
    with write_transaction(db) as conn:
        store.request_stitch(conn, [A], due=now)
        # Due later, as a request waiting for its entity's own processing is.
        store.request_stitch(conn, [B], due=now + 30)

    assert _claim(db, now=now) == {A}
    # With nothing else to do, a stitcher looks further ahead: B, not A, which another
    # stitcher holds (its lease ends within the horizon too).
    assert _claim(db, now=now + 1, horizon=LEASE) == {B}
    assert _claim(db, now=now + 2, horizon=LEASE) == set()
    # A lease that ran out is anyone's again.
    assert _claim(db, now=now + LEASE + 0.5) == {A}


def test_a_new_request_for_a_leased_entity_is_kept_and_claimable(
    database_url: str, tmp_path: Path
) -> None:
    db = make_portal(database_url, tmp_path).db
    now = 1000.0
    with write_transaction(db) as conn:
        store.request_stitch(conn, [A], due=now)
    with write_transaction(db) as conn:
        held = store.claim_for_stitching(
            conn, now=now, due_by=now, lease_until=now + LEASE, limit=10
        )
    with write_transaction(db) as conn:
        # Hastening leaves a held request alone: it is being served.
        store.hasten_stitches(conn, [A], now + 1)
    assert _claim(db, now=now + 1, horizon=LEASE) == set()

    with write_transaction(db) as conn:
        store.request_stitch(conn, [A], due=now + 2)
        # The first stitcher finishes: the newer request stays.
        store.finish_stitching(conn, held)
    assert _claim(db, now=now + 2) == {A}
