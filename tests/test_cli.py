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

from greenroom.catalog.model import BUILTIN_KIND_NAMES

from .catalog.helpers import component, write


def greenroom(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "greenroom", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_validate_good_files_exit_zero(tmp_path: Path) -> None:
    write(tmp_path / "svc" / "catalog-info.yaml", component("svc"))
    result = greenroom("catalog", "validate", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stderr


def test_validate_reports_file_line_and_field(tmp_path: Path) -> None:
    bad = write(
        tmp_path / "catalog-info.yaml",
        component("good") + "---\n" + component("Bad Name") + "---\n" + "key: [\n",
    )
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
    catalog = write(
        tmp_path / "catalog-info.yaml", component("svc-a") + "---\n" + component("svc-b")
    )
    config = tmp_path / "greenroom.yaml"
    config.write_text(yaml.safe_dump({"catalog": {"rules": [{"allow": list(BUILTIN_KIND_NAMES)}]}}))
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
@pytest.mark.parametrize("processes", [1, 2])
def test_serve_demo_answers_healthz_and_loads_the_demo_catalog(
    tmp_path: Path, processes: int
) -> None:
    port = _free_port()
    env = {**os.environ, "GREENROOM_DATA_DIR": str(tmp_path / "data")}
    command = [sys.executable, "-m", "greenroom", "serve", "--demo", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--processes", str(processes)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=2
                ) as response:
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
        url = f"http://127.0.0.1:{port}/api/catalog/entities/by-name/component/default/cart-service"
        for _ in range(4):  # with several processes, more than one of them answers
            with urllib.request.urlopen(url, timeout=5) as response:
                assert json.loads(response.read())["metadata"]["name"] == "cart-service"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_import_help_shows_the_git_syntax() -> None:
    result = greenroom("catalog", "import", "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "git:<remote>[//path][?ref=...]" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["migrate"],
        ["worker", "--until-idle"],
        ["serve", "--port", "0"],
        ["catalog", "validate", "."],
        ["catalog", "import", "."],
    ],
)
def test_a_bad_reading_host_fails_every_command_the_same_way(
    tmp_path: Path, command: list[str]
) -> None:
    config = tmp_path / "greenroom.yaml"
    config.write_text(
        f"dataDir: {tmp_path / 'data'}\nreading:\n  allow:\n    - host: https://git.example.com\n"
    )
    result = greenroom(*command, "-c", str(config), cwd=tmp_path, env={"COLUMNS": "60"})
    assert result.returncode == 2, result.stdout + result.stderr
    expected = (
        f"{config}: reading.allow.0.host: must be a host name with an optional port, "
        "got 'https://git.example.com'"
    )
    assert result.stderr.splitlines() == ["Invalid configuration", expected]


API_WITH_MISSING_DEFINITION = """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: {name}
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: ./missing.json
"""

NESTED_LOCATION = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: {name}
spec:
  targets: [{target}]
"""


def _kind_counts(stdout: str) -> dict[str, int]:
    """The rows of the import's table: `│ Component │ 2 │` -> {"Component": 2}."""
    counts = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 2 and cells[1].isdigit():
            counts[cells[0]] = int(cells[1])
    return counts


def test_import_reports_only_the_errors_of_what_it_brings_in(tmp_path: Path) -> None:
    # Already in the catalog, through the config: an entity with an error.
    elsewhere = write(
        tmp_path / "elsewhere" / "catalog-info.yaml",
        component("other") + "---\n" + API_WITH_MISSING_DEFINITION.format(name="broken-elsewhere"),
    )
    config = tmp_path / "greenroom.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "catalog": {
                    "rules": [{"allow": list(BUILTIN_KIND_NAMES)}],
                    "locations": [{"type": "file", "target": str(elsewhere)}],
                }
            }
        )
    )

    good = write(
        tmp_path / "good" / "catalog-info.yaml", component("svc-a") + "---\n" + component("svc-b")
    )
    result = greenroom("catalog", "import", str(good), "-c", str(config), env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken-elsewhere" not in result.stderr
    assert "0 of the location's entities with errors" in result.stderr
    # The table counts the imported location's entities: its Location and two components.
    assert "Entities from file:" in result.stdout
    assert _kind_counts(result.stdout) == {"Component": 2, "Location": 1}

    # An error two levels down (through a nested Location) is the import's own.
    write(
        tmp_path / "bad" / "sub" / "catalog-info.yaml",
        component("svc-c") + "---\n" + API_WITH_MISSING_DEFINITION.format(name="broken-here"),
    )
    bad = write(
        tmp_path / "bad" / "catalog-info.yaml",
        NESTED_LOCATION.format(name="nested", target="./sub/catalog-info.yaml"),
    )
    result = greenroom("catalog", "import", str(bad), "-c", str(config), env={"COLUMNS": "200"})
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error ")]
    assert len(errors) == 1 and errors[0].startswith("error api:default/broken-here: "), errors
    assert "1 of the location's entities with errors" in result.stderr
    # Served entities: the API never processed without errors, so it is not served.
    assert _kind_counts(result.stdout) == {"Component": 1, "Location": 2}


def test_descendants_follow_every_level_and_stop_at_the_location(
    database_url: str, tmp_path: Path
) -> None:
    from .catalog.helpers import location_ref, make_portal

    write(tmp_path / "a" / "b" / "catalog-info.yaml", component("deep"))
    write(
        tmp_path / "a" / "catalog-info.yaml",
        component("middle")
        + "---\n"
        + NESTED_LOCATION.format(name="to-b", target="./b/catalog-info.yaml"),
    )
    root = write(
        tmp_path / "catalog-info.yaml",
        NESTED_LOCATION.format(name="to-a", target="./a/catalog-info.yaml"),
    )
    other = write(tmp_path / "other.yaml", component("unrelated"))
    portal = make_portal(database_url, tmp_path)
    catalog = portal.catalog
    stored, _ = catalog.add_location("file", str(root))
    catalog.add_location("file", str(other))
    catalog.process_until_idle()

    assert stored.entity_ref == location_ref(root)
    assert catalog.descendants(stored.entity_ref) == {
        "location:default/to-a",
        "component:default/middle",
        "location:default/to-b",
        "component:default/deep",
    }
    assert catalog.descendants("location:default/to-b") == {"component:default/deep"}
    assert catalog.descendants("component:default/deep") == set()
    refs = {stored.entity_ref, *catalog.descendants(stored.entity_ref)}
    assert catalog.counts_by_kind(refs) == {"Component": 2, "Location": 3}
    assert catalog.counts_by_kind()["Component"] == 3


def test_validate_lets_placeholders_read_under_the_current_folder_or_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "shared" / "openapi.json", '{"openapi": "3.0.0"}\n')
    api = write(
        repo / "services" / "a" / "api.yaml",
        API_WITH_MISSING_DEFINITION.format(name="a-api").replace(
            "./missing.json", "../../shared/openapi.json"
        ),
    )
    # At the repository root, as a CI step runs: like ingestion from a location there.
    result = greenroom("catalog", "validate", "services", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    # Run lower down, the shared folder is outside the root...
    result = greenroom("catalog", "validate", str(api), cwd=repo / "services")
    assert result.returncode == 1
    assert "outside the location root" in result.stdout
    # ...unless --root says where the root is.
    result = greenroom("catalog", "validate", "--root", str(repo), str(api), cwd=repo / "services")
    assert result.returncode == 0, result.stdout + result.stderr
    # Nothing escapes the root: not even from a file outside it.
    result = greenroom(
        "catalog", "validate", "--root", str(repo / "services"), str(api), cwd=tmp_path
    )
    assert result.returncode == 1 and "outside the location root" in result.stdout
    result = greenroom("catalog", "validate", "--root", str(tmp_path / "nope"), str(api))
    assert result.returncode == 2
