"""Ingestion benchmark: a synthetic (or given) catalog into a fresh database.

    python bench/ingest.py --n 100000 --db postgresql [--workers 2]
    python bench/ingest.py --catalog DIR --db sqlite

Prints one JSON line: n, entities, relations, seconds, entities_per_s,
peak_rss_mb (the largest worker process), refresh_seconds (a no-change
refresh of everything). Workers are real `greenroom worker --until-idle`
processes sharing the database, as in production.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from greenroom.catalog.model import BUILTIN_KIND_NAMES

PG_URL = os.environ.get("GREENROOM_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_admin_url() -> str:
    return (
        make_url(PG_URL).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    )


def fresh_database(kind: str, work: Path) -> tuple[str, callable]:
    """A new empty database URL and a function that drops it."""
    if kind == "sqlite":
        path = work / "bench.db"
        return f"sqlite:///{path}", lambda: None
    name = f"greenroom_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return url, drop


def run_workers(config: Path, workers: int) -> float:
    """Start `workers` processes, wait for all; returns wall seconds."""
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "greenroom", "worker", "--until-idle", "-c", str(config)],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f"a worker failed: exit codes {codes}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000, help="entities to generate")
    parser.add_argument(
        "--catalog", type=Path, help="ingest this catalog folder (its catalog-info.yaml) instead"
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--batch-size", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and database")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="greenroom-bench-"))
    drop = lambda: None  # noqa: E731
    try:
        if args.catalog:
            catalog = args.catalog.resolve()
        else:
            from bench.gen_catalog import generate

            catalog = work / "catalog"
            generate(args.n, catalog, seed=args.seed)
        url, drop = fresh_database(args.db, work)
        config = work / "greenroom.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "dataDir": str(work / "data"),
                    "database": {"url": url},
                    "catalog": {
                        "rules": [{"allow": list(BUILTIN_KIND_NAMES)}],
                        "locations": [
                            {"type": "file", "target": str(catalog / "catalog-info.yaml")}
                        ],
                        "processingInterval": {"hours": 24},
                        "batchSize": args.batch_size,
                    },
                }
            )
        )
        subprocess.run(
            [sys.executable, "-m", "greenroom", "migrate", "-c", str(config)],
            check=True,
            capture_output=True,
        )
        seconds = run_workers(config, args.workers)

        from greenroom.config import load_config
        from greenroom.portal import Portal

        portal = Portal(load_config(config))
        entities = portal.catalog.entity_count()
        relations = portal.catalog.relation_count()
        portal.catalog.refresh_all()
        refresh_seconds = run_workers(config, args.workers)
        portal.close()
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        n = args.n if not args.catalog else entities
        print(
            json.dumps(
                {
                    "n": n,
                    "db": args.db,
                    "workers": args.workers,
                    "entities": entities,
                    "relations": relations,
                    "seconds": round(seconds, 2),
                    "entities_per_s": round(entities / seconds, 1),
                    "peak_rss_mb": round(peak_kb / 1024, 1),
                    "refresh_seconds": round(refresh_seconds, 2),
                    # With --keep: serve what was loaded with `greenroom serve -c <config>`.
                    **({"config": str(config)} if args.keep else {}),
                }
            )
        )
    finally:
        if not args.keep:
            drop()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
