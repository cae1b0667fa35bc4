"""`render_definition` on hand-made entities and on Backstage's example API entities."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenroom.catalog.apidocs import (
    MAX_DEFINITION_BYTES,
    DefinitionView,
    read_openapi,
    render_definition,
)

# Independent of the code under test: the HTTP methods an OpenAPI path item may hold.
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def api(definition: Any, api_type: Any = "openapi") -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": "x"},
        "spec": {
            "type": api_type,
            "lifecycle": "production",
            "owner": "me",
            "definition": definition,
        },
    }


def shown_text(markup: str) -> str:
    markup = re.sub(r'<span class="linenos">[^<]*</span>', "", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_openapi_gives_the_doc_and_the_source():
    view = render_definition(
        api("openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths: {/a: {get: {}}}\n", "OpenAPI")
    )
    assert isinstance(view, DefinitionView)
    assert (view.kind, view.api_type, view.language) == ("openapi", "openapi", "yaml")
    assert view.openapi is not None and view.openapi.title == "T"
    assert 'class="tok-nt"' in view.source_html
    assert view.error is None and view.error_line is None


def test_bad_openapi_gives_the_error_and_the_plain_source_with_the_line_marked():
    source = "openapi: 3.0.0\ninfo:\n  title: <script>x</script>\n  bad: [\n"
    view = render_definition(api(source))
    assert view.kind == "error" and view.openapi is None
    assert view.error is not None and view.error.startswith("Not valid YAML")
    assert view.error_line == 4  # libyaml points past the end; the last line is named
    assert view.language == "text"
    assert "tok-nt" not in view.source_html  # shown as plain text
    assert "<script" not in view.source_html and "&lt;script&gt;" in view.source_html
    assert 'id="gr-line-4"' in view.source_html and 'class="hll"' in view.source_html
    assert shown_text(view.source_html).rstrip("\n") == source.rstrip("\n")


def test_not_openapi_at_all():
    view = render_definition(api("asyncapi: 2.6.0\n"))
    assert view.kind == "error"
    assert view.error is not None and "neither an 'openapi' nor a 'swagger' key" in view.error
    assert view.error_line is None and 'class="hll"' not in view.source_html


def test_huge_openapi_is_refused_but_still_shown_plain():
    source = "openapi: 3.0.0\n" + ("# padding\n" * (MAX_DEFINITION_BYTES // 10 + 1))
    view = render_definition(api(source))
    assert view.kind == "error" and view.error is not None and "too large" in view.error
    assert 'class="gr-code-note"' in view.source_html


@pytest.mark.parametrize(
    ("api_type", "language"),
    [
        ("graphql", "graphql"),
        ("GRPC", "protobuf"),
        ("asyncapi", "yaml"),
        ("trpc", "text"),
        (None, "text"),
    ],
)
def test_other_types_are_highlighted_source(api_type: str | None, language: str):
    view = render_definition(api("a: <b>\n", api_type))
    assert (view.kind, view.language, view.openapi) == ("source", language, None)
    assert "<b>" not in view.source_html and "&lt;" in view.source_html
    assert shown_text(view.source_html).rstrip("\n") == "a: <b>"


@pytest.mark.parametrize(
    ("entity", "message"),
    [
        (api(None), "no definition"),
        (api({"$text": "./openapi.yaml"}), "not text"),
        ({"kind": "API"}, "no definition"),
        ({"spec": "nonsense"}, "no definition"),
        ("not even a mapping", "no definition"),
    ],
)
def test_entities_without_a_usable_definition(entity: Any, message: str):
    view = render_definition(entity)
    assert view.kind == "error" and view.error is not None and message in view.error
    assert view.source_html == ""


# --------------------------------------------------------------------------
# Backstage's example API entities
# --------------------------------------------------------------------------


def example_definitions(examples_dir: Path) -> dict[str, tuple[str, str]]:
    """name -> (spec.type, definition text) for every example API whose definition is
    inline or a `$text` file next to it (the `$text` URLs would need the network)."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted((examples_dir / "apis").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(doc, dict) or doc.get("kind") != "API":
                continue
            definition = doc["spec"]["definition"]
            if isinstance(definition, dict):
                target = definition.get("$text", "")
                if "://" in target:
                    continue
                definition = (path.parent / target).read_text(encoding="utf-8")
            found[doc["metadata"]["name"]] = (doc["spec"]["type"], definition)
    return found


def expected_operations(text: str, key: str = "paths") -> list[tuple[str, str]]:
    raw = yaml.safe_load(text)
    return [
        (method.upper(), path)
        for path, item in (raw.get(key) or {}).items()
        for method in item
        if method in HTTP_METHODS
    ]


def test_every_example_openapi_definition(examples_dir: Path):
    examples = example_definitions(examples_dir)
    openapi = {name: text for name, (kind, text) in examples.items() if kind.lower() == "openapi"}
    assert {"petstore", "petstore-webhook"} <= set(openapi), sorted(examples)
    for name, text in openapi.items():
        view = render_definition(api(text))
        assert view.kind == "openapi", (name, view.error)
        doc = view.openapi
        assert doc is not None
        assert [(o.method, o.path) for o in doc.operations] == expected_operations(text), name
        assert [(o.method, o.path) for o in doc.webhooks] == expected_operations(text, "webhooks")
        assert doc.title, name
        # every operation is in at least one group, and groups hold nothing else
        grouped = {id(o) for g in doc.groups for o in g.operations}
        assert grouped == {id(o) for o in doc.operations}, name
        assert doc.notes == [], (name, doc.notes)

    petstore = read_openapi(openapi["petstore"])
    assert len(petstore.operations) == 19
    assert [(g.name, len(g.operations)) for g in petstore.groups] == [
        ("pet", 8),
        ("store", 4),
        ("user", 7),
    ]
    find = next(o for o in petstore.operations if o.operation_id == "findPetsByStatus")
    (status,) = find.parameters
    assert (status.name, status.location, status.required) == ("status", "query", False)
    assert status.schema is not None and status.schema.enum == (
        '"available"',
        '"pending"',
        '"sold"',
    )
    ok = find.responses[0]
    assert ok.status == "200" and ok.content[0].schema is not None
    assert ok.content[0].schema.label == "array of Pet"

    webhook = read_openapi(openapi["petstore-webhook"])
    (new_pet,) = webhook.webhooks
    assert (new_pet.method, new_pet.path) == ("POST", "newPet")
    assert new_pet.request_body is not None
    pet = new_pet.request_body.content[0].schema
    assert pet is not None and pet.ref_name == "Pet" and pet.required == ("id", "name")


@pytest.mark.parametrize(
    ("api_type", "language", "expected"),
    [
        ("asyncapi", "yaml", "Streetlights MQTT API"),
        ("graphql", "graphql", "A single film."),
        ("grpc", "protobuf", "service Greeter"),
    ],
)
def test_example_source_definitions(
    examples_dir: Path, api_type: str, language: str, expected: str
):
    examples = example_definitions(examples_dir)
    texts = [text for kind, text in examples.values() if kind.lower() == api_type]
    if not texts:
        pytest.skip(f"no {api_type} API among the Backstage examples")
    for text in texts:
        view = render_definition(api(text, api_type))
        assert (view.kind, view.language) == ("source", language)
        assert "tok-" in view.source_html
        shown = shown_text(view.source_html)
        assert shown.rstrip("\n") == text.rstrip("\n")  # nothing lost, nothing added
    assert any(
        expected in shown_text(render_definition(api(t, api_type)).source_html) for t in texts
    )
