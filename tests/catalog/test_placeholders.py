"""Placeholders ($text, $json, $yaml) in file, url and git locations."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenroom.catalog.reading import Readers, has_placeholders, resolve_placeholders
from greenroom.errors import InputError, NotAllowedError, NotFoundError
from tests.catalog.test_readers import (
    LocalServer,
    make_repo,
    needs_git,
    readers_for,
    write,
)

OPENAPI = "openapi: 3.0.0\ninfo:\n  title: Pets\n"


def entity(**spec: object) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": "pets", "tags": ["a", "b"]},
        "spec": {"type": "openapi", "owner": "team", **spec},
    }


@pytest.fixture
def readers(tmp_path: Path) -> Iterator[Readers]:
    with readers_for(tmp_path) as r:
        yield r


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """repo/svc/catalog-info.yaml with openapi.yaml, data.json, one.yaml next to it."""
    svc = tmp_path / "repo" / "svc"
    write(svc / "catalog-info.yaml", "kind: API\n")
    write(svc / "openapi.yaml", OPENAPI)
    write(svc / "data.json", '{"a": [1, 2], "b": null}')
    write(svc / "one.yaml", "x: 1\ny: [a]\n")
    write(svc / "two.yaml", "x: 1\n---\nx: 2\n")
    write(svc / "broken.json", "{nope")
    write(svc / "sub" / "list.yaml", "- 1\n- 2\n")
    write(tmp_path / "repo" / "shared" / "common.txt", "common\n")
    return svc / "catalog-info.yaml"


def test_text_json_yaml_relative_to_the_file(catalog, readers):
    base = f"file:{catalog}"
    source = entity(
        definition={"$text": "./openapi.yaml"},
        data={"$json": "data.json"},
        nested=[{"deep": {"$yaml": "one.yaml"}}, {"$yaml": "./sub/list.yaml"}],
    )
    before = copy.deepcopy(source)
    result = resolve_placeholders(source, base_location=base, readers=readers)
    assert source == before  # the input is not mutated
    assert result["spec"]["definition"] == OPENAPI
    assert result["spec"]["data"] == {"a": [1, 2], "b": None}
    assert result["spec"]["nested"] == [{"deep": {"x": 1, "y": ["a"]}}, [1, 2]]
    assert result["metadata"] == source["metadata"]
    assert result["metadata"] is not source["metadata"]


def test_no_placeholders_returns_the_same_object(readers):
    source = entity(definition="inline", price="$5", note={"$ref": "x", "other": 1})
    assert resolve_placeholders(source, base_location="file:/x/y.yaml", readers=readers) is source


def test_escaping_the_root_is_refused(catalog, readers):
    base = f"file:{catalog}"
    for target in ["../../etc/passwd", "/etc/passwd", "../shared/common.txt"]:
        with pytest.raises(NotAllowedError) as info:
            resolve_placeholders(
                entity(definition={"$text": target}), base_location=base, readers=readers
            )
        error = info.value
        assert error.field == "spec.definition"
        assert error.file == base
        assert "outside the location root" in error.message
        assert target in error.message


def test_a_wider_root_allows_siblings(catalog, readers):
    base = f"file:{catalog}"
    root = str(catalog.parent.parent)
    result = resolve_placeholders(
        entity(doc={"$text": "../shared/common.txt"}),
        base_location=base,
        readers=readers,
        root=root,
    )
    assert result["spec"]["doc"] == "common\n"


def test_symlink_out_of_the_root_is_refused(catalog, readers, tmp_path):
    write(tmp_path / "secret.txt", "secret\n")
    (catalog.parent / "innocent.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(NotAllowedError) as info:
        resolve_placeholders(
            entity(definition={"$text": "./innocent.txt"}),
            base_location=f"file:{catalog}",
            readers=readers,
        )
    assert info.value.field == "spec.definition"


@pytest.mark.parametrize(
    ("value", "error", "text"),
    [
        ({"$text": "./missing.txt"}, NotFoundError, "does not exist"),
        ({"$json": "./broken.json"}, InputError, "failed to parse JSON"),
        ({"$yaml": "./two.yaml"}, InputError, "exactly one document"),
        ({"$yaml": "./data.json"}, None, None),  # JSON is YAML
    ],
)
def test_placeholder_errors_name_the_field(catalog, readers, value, error, text):
    source = {"metadata": {"name": "x"}, "spec": {"items": [{"ok": 1}, value]}}
    if error is None:
        result = resolve_placeholders(source, base_location=f"file:{catalog}", readers=readers)
        assert result["spec"]["items"][1] == {"a": [1, 2], "b": None}
        return
    with pytest.raises(error) as info:
        resolve_placeholders(source, base_location=f"file:{catalog}", readers=readers)
    assert text in info.value.message
    assert info.value.field == "spec.items.1"
    assert info.value.file == f"file:{catalog}"


def test_objects_that_are_not_exactly_a_placeholder_are_left_alone(catalog, readers):
    source = entity(
        a={"$text": "./openapi.yaml", "extra": 1},
        b={"$unknown": "./openapi.yaml"},
        c={"$text": 42},
        d={"$text": "./openapi.yaml"},
    )
    result = resolve_placeholders(source, base_location=f"file:{catalog}", readers=readers)
    for key in "abc":
        assert result["spec"][key] == source["spec"][key]
        assert result["spec"][key] is not source["spec"][key]
    assert result["spec"]["d"] == OPENAPI


def test_fast_path_is_cheap():
    entities = [entity(description="x" * 200, n=i) for i in range(10_000)]
    start = time.perf_counter()
    assert not any(has_placeholders(e) for e in entities)
    assert time.perf_counter() - start < 1.0
    assert has_placeholders(entity(definition={"$yaml": "x"}))
    assert not has_placeholders(entity(definition='{"$yaml": "x"}'))  # inside a string
    assert has_placeholders({1: {"$text": "x"}})  # not JSON-able keys: falls back to a walk


@pytest.mark.network
def test_placeholder_in_a_url_location(tmp_path):
    root = tmp_path / "www"
    write(root / "org" / "svc" / "catalog-info.yaml", "kind: API\n")
    write(root / "org" / "svc" / "openapi.yaml", OPENAPI)
    write(root / "org" / "other.yaml", "other\n")
    server = LocalServer(root)
    try:
        with readers_for(tmp_path, server.host) as readers:
            (read,) = readers.read_location("url", server.url("/org/svc/catalog-info.yaml"))
            result = resolve_placeholders(
                entity(definition={"$text": "./openapi.yaml"}),
                base_location=read.location,
                readers=readers,
            )
            assert result["spec"]["definition"] == OPENAPI
            with pytest.raises(NotAllowedError) as info:
                resolve_placeholders(
                    entity(definition={"$text": "http://example.com/openapi.yaml"}),
                    base_location=read.location,
                    readers=readers,
                )
            assert info.value.field == "spec.definition"
            with pytest.raises(NotAllowedError):
                resolve_placeholders(
                    entity(definition={"$text": "../other.yaml"}),
                    base_location=read.location,
                    readers=readers,
                    root=readers.root_of(read.location),
                )
    finally:
        server.close()


@pytest.mark.network
@needs_git
def test_placeholder_in_a_git_location(tmp_path, readers):
    _, bare = make_repo(
        tmp_path,
        {"catalog-info.yaml": "kind: API\n", "openapi.yaml": OPENAPI, "api/spec.json": "[1]"},
    )
    (read,) = readers.read_location("git", f"file://{bare}")
    result = resolve_placeholders(
        entity(definition={"$text": "./openapi.yaml"}, data={"$json": "api/spec.json"}),
        base_location=read.location,
        readers=readers,
    )
    assert result["spec"]["definition"] == OPENAPI
    assert result["spec"]["data"] == [1]
    with pytest.raises(NotAllowedError) as info:
        resolve_placeholders(
            entity(definition={"$text": "../../etc/passwd"}),
            base_location=read.location,
            readers=readers,
        )
    assert info.value.field == "spec.definition"
    assert info.value.file == read.location
