"""The `greenroom` command line, run as real processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from .catalog.helpers import component, write

ALL_KINDS = ["Component", "API", "Resource", "System", "Domain", "Group", "User", "Location", "Template"]


def greenroom(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "greenroom", *args], capture_output=True, text=True, cwd=cwd,
        env={**os.environ, **(env or {})}, timeout=120,
    )


def test_validate_good_files_exit_zero(tmp_path: Path) -> None:
    write(tmp_path / "svc" / "catalog-info.yaml", component("svc"))
    result = greenroom("catalog", "validate", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stderr


def test_validate_reports_file_line_and_field(tmp_path: Path) -> None:
    bad = write(tmp_path / "catalog-info.yaml", component("good") + "---\n" + component("Bad Name") + "---\n" + "key: [\n")
    result = greenroom("catalog", "validate", str(bad))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"{bad}:13: InputError: ") and "metadata.name" in lines[0], lines
    assert lines[1].startswith(f"{bad}:19: InputError: YAML error"), lines

    github = greenroom("catalog", "validate", "--format", "github", str(bad))
    first = github.stdout.splitlines()[0]
    assert first.startswith(f"::error file={bad},line=13,title=metadata.name::"), first


def test_validate_globs_and_directories(tmp_path: Path) -> None:
    write(tmp_path / "a" / "catalog-info.yaml", component("a"))
    write(tmp_path / "b" / "catalog-info.yml", component("b", owner="'group:'"))
    write(tmp_path / "b" / "notes.txt", "not yaml")
    result = greenroom("catalog", "validate", str(tmp_path / "*" / "catalog-info.y*ml"))
    assert result.returncode == 1
    assert "b/catalog-info.yml:" in result.stdout
    assert "2 entities" in result.stderr or "error(s) in 2 entities" in result.stderr


def test_import_shows_a_summary_and_persists(tmp_path: Path) -> None:
    catalog = write(tmp_path / "catalog-info.yaml", component("svc-a") + "---\n" + component("svc-b"))
    config = tmp_path / "greenroom.yaml"
    config.write_text(yaml.safe_dump({"catalog": {"rules": [{"allow": ALL_KINDS}]}}))
    result = greenroom("catalog", "import", str(catalog), "-c", str(config))
    assert result.returncode == 0, result.stderr
    assert "Component" in result.stdout and "2" in result.stdout
    assert (tmp_path / ".greenroom" / "greenroom.db").exists()


def test_invalid_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "greenroom.yaml"
    config.write_text("catalog:\n  orphanStrategy: maybe\n")
    result = greenroom("migrate", "-c", str(config))
    assert result.returncode == 2
    assert "catalog.orphanStrategy" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_serve_demo_answers_healthz_and_loads_the_demo_catalog(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "GREENROOM_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "greenroom", "serve", "--demo", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                assert proc.poll() is None, "server exited"
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.2)
        assert body["status"] == "ok"
        db = tmp_path / "data" / "greenroom.db"
        from sqlalchemy import create_engine, text

        engine = create_engine(f"sqlite:///{db}")
        deadline = time.monotonic() + 60
        count = 0
        while count < 130 and time.monotonic() < deadline:
            time.sleep(0.5)
            with engine.connect() as conn:
                count = conn.execute(text("SELECT count(*) FROM final_entities")).scalar_one()
        engine.dispose()
        assert count >= 130
    finally:
        proc.terminate()
        proc.wait(timeout=20)
