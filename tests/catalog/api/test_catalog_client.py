"""Backstage's own `@backstage/catalog-client`, installed from npm, against a running Greenroom.

The client is not changed in any way: `client_js/run_client.mjs` builds a `CatalogClient`
whose discovery API points at a real uvicorn server serving `greenroom.app.create_app`,
calls its query, lookup, facet, location and validation methods, and prints what they returned.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from greenroom.app import create_app
from greenroom.catalog.providers import location_entity_name
from greenroom.portal import Portal

from ..helpers import component, example_catalog_config, make_portal, write
from ..test_readers import LocalServer

pytestmark = [pytest.mark.network, pytest.mark.slow, pytest.mark.timeout(600)]

SCRIPT = Path(__file__).parent / "client_js" / "run_client.mjs"

# The client at the version Backstage's catalog-backend 4.0.0 ships with (see the
# lock file of the peer harness in shared/peer). `plugin-catalog-common` is pinned
# beside it because its newest release needs a `plugin-permission-common` that the
# npm registry reachable here does not have; npm does not backtrack, so without the
# pin `npm install` fails with ETARGET.
CLIENT_PACKAGES = ("@backstage/catalog-client@1.16.2", "@backstage/plugin-catalog-common@1.2.0")

# What npm prints when it cannot reach the registry at all: only then is it a skip.
NETWORK_ERRORS = (
    "ENOTFOUND",
    "EAI_AGAIN",
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "ERR_SOCKET_TIMEOUT",
    "network request to",
)

REMOTE_COMPONENT = "client-test-service"


def _missing(reason: str) -> None:
    """Skip on a developer machine; in CI (`CI` set, where .ci/run installs Node) fail."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def client_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway npm project with `@backstage/catalog-client` installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        _missing("node and npm are needed to run @backstage/catalog-client (not on PATH)")
    folder = tmp_path_factory.mktemp("catalog-client")
    env = {**os.environ, "npm_config_update_notifier": "false"}
    subprocess.run(
        [npm, "init", "-y"], cwd=folder, env=env, check=True, capture_output=True, timeout=60
    )
    # `--loglevel=error` rather than `--silent`: quiet, but npm still says why it failed.
    command = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *CLIENT_PACKAGES]
    try:
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        _missing("npm install @backstage/catalog-client took over 300 s (registry unreachable?)")
    if done.returncode != 0:
        output = done.stdout + done.stderr
        network = [line for line in output.splitlines() if any(m in line for m in NETWORK_ERRORS)]
        if network:
            _missing("npm cannot reach its registry: " + " | ".join(network[:3]))
        pytest.fail(f"`{' '.join(command[1:])}` failed ({done.returncode}):\n{output}")
    return folder


@pytest.fixture
def catalog_file_server(tmp_path: Path) -> Iterator[LocalServer]:
    """A stdlib HTTP server on 127.0.0.1 serving one catalog-info.yaml."""
    root = tmp_path / "www"
    write(root / "catalog-info.yaml", component(REMOTE_COMPONENT))
    server = LocalServer(root)
    yield server
    server.close()


@dataclass
class RunningPortal:
    base: str  # http://127.0.0.1:<port>
    counts: dict[str, int]  # served entities per kind, before the client runs
    portal: Portal


@pytest.fixture
def greenroom(
    database_url: str, tmp_path: Path, examples_dir: Path, catalog_file_server: LocalServer
) -> Iterator[RunningPortal]:
    """A real Greenroom server with Backstage's example catalog, as in test_backstage_examples."""
    portal = make_portal(
        database_url,
        tmp_path,
        example_catalog_config(examples_dir),
        reading={"allow": [{"host": catalog_file_server.host}], "timeoutSeconds": 5},
    )
    portal.catalog.process_until_idle()
    counts = portal.catalog.counts_by_kind()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(portal, run_workers=True), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the Greenroom server did not start")
            time.sleep(0.05)
        yield RunningPortal(f"http://127.0.0.1:{port}", counts, portal)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        portal.close()


def run_client(client_dir: Path, base: str, location_url: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node
    try:
        done = subprocess.run(
            [node, str(SCRIPT), base, location_url],
            cwd=client_dir,
            capture_output=True,
            text=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"run_client.mjs did not finish in 180 s; stderr:\n{exc.stderr}")
    lines = done.stdout.strip().splitlines()
    assert lines, f"run_client.mjs printed nothing ({done.returncode}); stderr:\n{done.stderr}"
    out = json.loads(lines[-1])
    if done.returncode != 0 or "error" in out:
        pytest.fail(
            "the catalog client failed at step "
            f"{out.get('error', {}).get('step')!r}:\n{json.dumps(out.get('error'), indent=2)}"
            f"\nresults so far: {json.dumps(out.get('results'))[:6000]}"
            f"\nstderr: {done.stderr[-2000:]}"
        )
    return out["results"]


def kinds_of(refs: list[str]) -> set[str]:
    return {ref.split(":", 1)[0] for ref in refs}


def test_backstage_catalog_client(
    client_dir: Path, greenroom: RunningPortal, catalog_file_server: LocalServer
) -> None:
    location_url = catalog_file_server.url("/catalog-info.yaml")
    r = run_client(client_dir, greenroom.base, location_url)
    counts = greenroom.counts
    components, apis = counts["Component"], counts["API"]

    # getEntities: the legacy list, whole and projected
    listed = r["getEntities"]
    assert listed["count"] == components == len(set(listed["refs"]))
    assert kinds_of(listed["refs"]) == {"component"}
    assert "component:default/artist-lookup" in listed["refs"]
    projected = r["getEntitiesWithFields"]
    assert projected["count"] == components
    for item in projected["items"]:
        assert set(item) == {"kind", "metadata"}
        assert set(item["metadata"]) == {"name"}
    assert {f"component:default/{i['metadata']['name']}" for i in projected["items"]} == set(
        listed["refs"]
    )

    # queryEntities: GET by-query with a filter, then the cursors it hands out
    for step, limit in (("queryEntitiesWalk", 3), ("queryEntitiesPredicateWalk", 4)):
        walk = r[step]
        refs = walk["refs"]
        assert len(refs) == len(set(refs)) == components + apis, step
        assert kinds_of(refs) == {"component", "api"}, step
        assert set(listed["refs"]) <= set(refs), step
        pages = walk["pages"]
        assert len(pages) == math.ceil((components + apis) / limit), step
        assert all(len(page["refs"]) <= limit for page in pages), step
        assert all(page["totalItems"] == components + apis for page in pages), step
        assert [page["hasNext"] for page in pages] == [True] * (len(pages) - 1) + [False], step
        assert [page["hasPrev"] for page in pages] == [False] + [True] * (len(pages) - 1), step
    assert set(r["queryEntitiesPredicateWalk"]["refs"]) == set(r["queryEntitiesWalk"]["refs"])

    # single entities and batches; the client turns 404 and null into undefined
    artist = greenroom.portal.catalog.entity_by_ref("component:default/artist-lookup")
    assert r["getEntityByRef"] == {
        "ref": "component:default/artist-lookup",
        "name": "artist-lookup",
        "uid": artist["metadata"]["uid"],
    }
    assert r["getEntityByRefMissing"] == "<undefined>"
    assert r["getEntitiesByRefs"] == {
        "refs": ["component:default/artist-lookup", "api:default/petstore", "<undefined>"],
        "length": 3,
    }

    # facets: original-case values with entity counts, sorted by value
    facets = r["getEntityFacets"]["facets"]
    assert set(facets) == {"kind", "spec.type"}
    assert {f["value"]: f["count"] for f in facets["kind"]} == counts
    assert [f["value"] for f in facets["kind"]] == sorted(f["value"] for f in facets["kind"])
    spec_types = {f["value"]: f["count"] for f in facets["spec.type"]}
    assert spec_types["service"] > 0 and spec_types["openapi"] > 0
    api_types = {
        f["value"]: f["count"] for f in r["getEntityFacetsFiltered"]["facets"]["spec.type"]
    }
    assert sum(api_types.values()) == apis, f"the kind=API filter was not applied: {api_types}"
    assert "openapi" in api_types

    # locations: register, conflict, look up three ways, wait for processing, unregister
    added = r["addLocation"]
    location = added["location"]
    assert location["type"] == "url" and location["target"] == location_url
    assert location["id"]
    assert location["entityRef"] == f"location:default/{location_entity_name('url', location_url)}"
    assert added["entities"] == []
    again = r["addLocationAgain"]
    assert again["threw"] and again["status"] == 409
    assert again["body"]["error"]["name"] == "ConflictError"
    assert r["getLocationByRef"] == location
    assert r["getLocationById"] == location
    assert location in r["getLocations"]
    assert r["entitiesFromLocation"] == [f"component:default/{REMOTE_COMPONENT}"]
    assert r["getLocationByEntity"] == location
    assert catalog_file_server.requests  # Greenroom really read it over HTTP
    assert r["removeLocationById"] == "<undefined>"
    assert r["getLocationByIdAfterRemove"] == "<undefined>"
    removed_again = r["removeLocationByIdAgain"]
    assert removed_again["threw"] and removed_again["status"] == 404
    assert removed_again["body"]["error"]["name"] == "NotFoundError"

    # validateEntity: 200 is valid, 400 {errors} is invalid
    assert r["validateEntityValid"] == {"valid": True}
    invalid = r["validateEntityInvalid"]
    assert invalid["valid"] is False
    assert invalid["errors"]
    assert all(error.get("name") and error.get("message") for error in invalid["errors"])
    assert any("metadata.name" in error["message"] for error in invalid["errors"])
