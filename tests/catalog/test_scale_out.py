"""Several worker processes share one database; a killed worker loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from bench.gen_catalog import generate
from sqlalchemy import create_engine, text

from greenroom.catalog.model import BUILTIN_KIND_NAMES
from greenroom.db.engine import normalize_url

pytestmark = pytest.mark.slow


def _count(url: str, sql: str) -> int:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    except Exception:
        return 0
    finally:
        engine.dispose()


def _worker(config: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "greenroom", "worker", "-c", str(config), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_workers_share_the_work_and_survive_a_kill(database_url: str, tmp_path: Path) -> None:
    manifest = generate(3000, tmp_path / "catalog", seed=7, chunk=150)
    config = tmp_path / "greenroom.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "dataDir": str(tmp_path / "data"),
                "database": {"url": database_url},
                "catalog": {
                    "rules": [{"allow": list(BUILTIN_KIND_NAMES)}],
                    "locations": [
                        {"type": "file", "target": str(tmp_path / "catalog" / "catalog-info.yaml")}
                    ],
                    "processingInterval": {"hours": 1},
                    # small batches and a short lease, so the kill lands mid-batch and recovers fast
                    "batchSize": 100,
                    "leaseSeconds": 3,
                },
            }
        )
    )
    subprocess.run(
        [sys.executable, "-m", "greenroom", "migrate", "-c", str(config)],
        check=True,
        capture_output=True,
    )
    victim = _worker(config)
    survivor = _worker(config)
    procs = [victim, survivor]
    try:
        deadline = time.monotonic() + 60
        while _count(database_url, "SELECT count(*) FROM final_entities") < 200:
            assert time.monotonic() < deadline, "workers made no progress"
            time.sleep(0.05)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        # the survivor, and a latecomer, finish everything, including the victim's leased batch
        procs.append(_worker(config))
        expected = (
            manifest["expected_entities"] + 1
        )  # plus the config location's own Location entity
        deadline = time.monotonic() + 240
        while True:
            entities = _count(database_url, "SELECT count(*) FROM final_entities")
            waiting = _count(database_url, "SELECT count(*) FROM stitch_queue")
            unprocessed = _count(
                database_url, "SELECT count(*) FROM refresh_state WHERE result_hash IS NULL"
            )
            if entities == expected and not waiting and not unprocessed:
                break
            assert time.monotonic() < deadline, (
                f"stuck at {entities}/{expected} entities, {waiting} to stitch"
            )
            time.sleep(0.2)
        relations = _count(database_url, "SELECT count(*) FROM search WHERE key LIKE 'relations.%'")
        assert relations == manifest["expected_relations"]
        errors = _count(database_url, "SELECT count(*) FROM refresh_state WHERE errors IS NOT NULL")
        assert errors == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
