"""Bad input gets a clear error and loses nothing: one end-to-end engine test per case.

Each test runs on SQLite and PostgreSQL and checks that (1) the good entities
next to the bad input are served and (2) the error is stored on the Location
entity (or, for an entity that was valid before, on the entity itself) with its
Backstage error name, a clear message and `sourceLocation` naming the file, the
line and the field wherever they apply.
"""

from __future__ import annotations

import os
import textwrap
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from greenroom.catalog.providers import location_entity_name
from greenroom.portal import Portal

from .helpers import component, location_ref, make_portal, write
from .test_readers import (
    LocalServer,
    closed_port,
    commit_files,
    git,
    make_repo,
    needs_git,
)

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def errors_of(entity: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The serialized errors in `status.items` of a served entity."""
    assert entity is not None, "the entity is not served"
    return [item["error"] for item in entity.get("status", {}).get("items", [])]


def the_error(entity: dict[str, Any] | None, name: str, *contains: str) -> dict[str, Any]:
    """The one error called `name` whose message contains every string of `contains`."""
    errors = errors_of(entity)
    found = [e for e in errors if e["name"] == name and all(c in e["message"] for c in contains)]
    assert len(found) == 1, f"expected one {name} with {contains} among {errors}"
    return found[0]


def position(error: dict[str, Any]) -> dict[str, Any]:
    return error.get("sourceLocation", {})


def line_of(path: Path, text: str, occurrence: int = 1, *, after: str | None = None) -> int:
    """1-based line of the `occurrence`-th line of `path` containing `text` (after the line with `after`)."""
    start = line_of(path, after) if after else 0
    hits = [
        n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line and n > start
    ]
    assert len(hits) >= occurrence, f"{text!r} is not in {path}"
    return hits[occurrence - 1]


def assert_served(portal: Portal, *refs: str) -> None:
    for ref in refs:
        assert portal.catalog.entity_by_ref(ref) is not None, f"{ref} is not served"


def assert_not_served(portal: Portal, *refs: str) -> None:
    for ref in refs:
        assert portal.catalog.entity_by_ref(ref) is None, f"{ref} is served"


def file_portal(database_url: str, tmp_path: Path, *targets: Path | str, **sections: Any) -> Portal:
    catalog = sections.pop("catalog", {})
    locations = [{"type": "file", "target": str(t)} for t in targets]
    return make_portal(database_url, tmp_path, {"locations": locations, **catalog}, **sections)


def refresh(portal: Portal) -> None:
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()


def url_location_ref(type_: str, target: str) -> str:
    return f"location:default/{location_entity_name(type_, target)}"


def entity(
    kind: str,
    name: str,
    spec: str,
    *,
    metadata: str = "",
    api_version: str = "backstage.io/v1alpha1",
) -> str:
    """A YAML document; `spec` and `metadata` are extra lines (dedented, indented here)."""
    meta = textwrap.indent(textwrap.dedent(metadata), "  ")
    return (
        f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}\n{meta}"
        f"spec:\n{textwrap.indent(textwrap.dedent(spec), '  ')}"
    )


def location_doc(name: str, *targets: str) -> str:
    """A Location entity; without spec.type its targets are of the type of its own file."""
    listed = "".join(f"  - {t}\n" for t in targets)
    return entity("Location", name, f"targets:\n{listed}")


def api(name: str, definition: str) -> str:
    return entity(
        "API",
        name,
        f"type: openapi\nlifecycle: production\nowner: team-a\ndefinition:\n  $text: {definition}\n",
    )


def join(*documents: str) -> str:
    return "---\n".join(doc if doc.endswith("\n") else doc + "\n" for doc in documents)


OPENAPI = "openapi: 3.0.0\ninfo: {title: Orders, version: '1'}\npaths: {}\n"
SECRET = "TOP SECRET: do not ingest\n"


# --------------------------------------------------------------------------
# 1. malformed YAML
# --------------------------------------------------------------------------


def test_malformed_yaml_document_is_reported_with_its_line(
    database_url: str, tmp_path: Path
) -> None:
    catalog = write(
        tmp_path / "catalog-info.yaml",
        join(
            component("good-one"),
            # a key indented deeper than its siblings: "mapping values are not allowed"
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: wrongly-indented\n"
            "   owner: team-a\nspec: {}\n",
            component("good-two"),
            # `@` cannot start a plain scalar
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: @reserved\n",
            # a repeated key
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: twice\n  name: again\n",
            component("good-three"),
        ),
    )
    portal = file_portal(database_url, tmp_path, catalog)
    portal.catalog.process_until_idle()
    assert_served(
        portal,
        "component:default/good-one",
        "component:default/good-two",
        "component:default/good-three",
    )
    assert_not_served(portal, "component:default/wrongly-indented", "component:default/twice")

    location = portal.catalog.entity_by_ref(location_ref(catalog))
    assert len(errors_of(location)) == 3, errors_of(location)
    expected = [
        ("mapping values are not allowed", line_of(catalog, "   owner: team-a")),
        ("cannot start any token", line_of(catalog, "name: @reserved")),
        ('Map keys must be unique; "name" is repeated', line_of(catalog, "name: again")),
    ]
    for text, line in expected:
        error = the_error(location, "InputError", "YAML error", text)
        assert f"line {line}" in error["message"], error
        assert position(error) == {"file": f"file:{catalog}", "line": line}

    # once the file is fixed the errors go and the entities come in
    write(catalog, join(component("good-one"), component("wrongly-indented"), component("twice")))
    refresh(portal)
    assert_served(portal, "component:default/wrongly-indented", "component:default/twice")
    assert errors_of(portal.catalog.entity_by_ref(location_ref(catalog))) == []


# --------------------------------------------------------------------------
# 2. YAML bombs and deep nesting
# --------------------------------------------------------------------------

BILLION_LAUGHS = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: lol
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
spec:
  type: service
  lifecycle: production
  owner: team-a
"""


def deep_aliases(levels: int) -> str:
    """Each level is a list holding the previous one: few nodes, very deep once expanded."""
    chain = "  d0: &d0 [x]\n" + "".join(f"  d{i}: &d{i} [*d{i - 1}]\n" for i in range(1, levels))
    return (
        entity("Component", "deep-aliases", "type: service\nlifecycle: production\nowner: team-a\n")
        + chain
    )


def test_yaml_bomb_and_deep_nesting_are_refused(database_url: str, tmp_path: Path) -> None:
    deep_plain = entity(
        "Component", "deep-plain", "type: service\nlifecycle: production\nowner: team-a\n"
    )
    deep_plain += "  x: " + "[" * 300 + "]" * 300 + "\n"
    catalog = write(
        tmp_path / "catalog-info.yaml",
        join(
            component("before"),
            BILLION_LAUGHS,
            component("between"),
            deep_aliases(260),
            deep_plain,
            component("after"),
        ),
    )
    portal = file_portal(database_url, tmp_path, catalog)
    portal.catalog.process_until_idle()
    assert_served(
        portal, "component:default/before", "component:default/between", "component:default/after"
    )
    assert_not_served(
        portal,
        "component:default/lol",
        "component:default/deep-aliases",
        "component:default/deep-plain",
    )

    location = portal.catalog.entity_by_ref(location_ref(catalog))
    assert len(errors_of(location)) == 3, errors_of(location)
    bomb = the_error(location, "InputError", "YAML bomb", "more than 100000 nodes")
    # counted on the node graph: refused at the first list whose expansion passes the limit
    assert position(bomb) == {"file": f"file:{catalog}", "line": line_of(catalog, "f: &f [")}

    # d197 is the first list whose alias (*d196) expands deeper than 200 levels
    # (the root, spec and 198 nested lists, plus the scalar)
    aliases = the_error(location, "InputError", "nested deeper than 200 levels", "column")
    assert position(aliases) == {"file": f"file:{catalog}", "line": line_of(catalog, "d197: &d197")}

    plain = the_error(
        location,
        "InputError",
        "nested deeper than 200 levels",
        f"at line {line_of(catalog, '  x: [[[')}",
    )
    assert position(plain) == {"file": f"file:{catalog}", "line": line_of(catalog, "  x: [[[")}


# --------------------------------------------------------------------------
# 3. huge files
# --------------------------------------------------------------------------


def test_file_over_max_file_bytes_in_a_glob_is_refused(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    write(folder / "a-good.yaml", component("good"))
    huge = folder / "b-huge.yaml"
    with huge.open("wb") as f:
        f.write(component("huge").encode())
        f.write(b"# padding\n" * (2 * 1024 * 1024 // 10))
    write(folder / "c-good.yaml", component("also-good"))
    target = folder / "*.yaml"
    portal = file_portal(database_url, tmp_path, target, reading={"maxFileBytes": 1024 * 1024})
    portal.catalog.process_until_idle()
    # the other files matched by the glob still flow
    assert_served(portal, "component:default/good", "component:default/also-good")
    assert_not_served(portal, "component:default/huge")
    location = portal.catalog.entity_by_ref(location_ref(target))
    error = the_error(
        location, "InputError", "over the limit of 1048576 bytes", "reading.maxFileBytes"
    )
    assert str(huge) in error["message"]
    assert position(error) == {"file": f"file:{huge}", "field": "spec.target"}

    write(huge, component("huge"))  # back under the limit
    refresh(portal)
    assert_served(portal, "component:default/good", "component:default/huge")
    assert errors_of(portal.catalog.entity_by_ref(location_ref(target))) == []


def test_a_50_mb_file_is_refused_without_being_read(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    write(folder / "good.yaml", component("good"))
    huge = folder / "huge.yaml"
    with huge.open("wb") as f:
        f.write(component("huge").encode())
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB long, written in no time
    target = folder / "*.yaml"
    portal = file_portal(database_url, tmp_path, target)  # the default limit, 10 MiB

    tracemalloc.start()
    try:
        portal.catalog.process_until_idle()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024, f"{peak} bytes allocated: the huge file was read"

    assert_served(portal, "component:default/good")
    assert_not_served(portal, "component:default/huge")
    location = portal.catalog.entity_by_ref(location_ref(target))
    error = the_error(location, "InputError", "52428800 bytes", "over the limit of 10485760 bytes")
    assert position(error) == {"file": f"file:{huge}", "field": "spec.target"}


# --------------------------------------------------------------------------
# 4. documents that are not mappings
# --------------------------------------------------------------------------


def test_documents_that_are_not_mappings(database_url: str, tmp_path: Path) -> None:
    catalog = write(
        tmp_path / "catalog-info.yaml",
        join(
            component("good-one"),
            "- apiVersion: backstage.io/v1alpha1\n- kind: Component\n",
            "just a string\n",
            "42\n",
            component("good-two"),
        ),
    )
    portal = file_portal(database_url, tmp_path, catalog)
    portal.catalog.process_until_idle()
    assert_served(portal, "component:default/good-one", "component:default/good-two")
    location = portal.catalog.entity_by_ref(location_ref(catalog))
    assert len(errors_of(location)) == 3
    for got, line in [
        ("array", line_of(catalog, "- apiVersion")),
        ("string", line_of(catalog, "just a string")),
        ("number", line_of(catalog, "42")),
    ]:
        error = the_error(location, "InputError", f"Expected object at root, got {got}")
        assert position(error) == {"file": f"file:{catalog}", "line": line}


# --------------------------------------------------------------------------
# 5. unknown apiVersion, unknown kind, kinds not allowed for a location
# --------------------------------------------------------------------------

WIDGET = entity("Widget", "gadget", "size: 3\n", api_version="example.com/v1")
GROUP = entity("Group", "{name}", "type: team\nchildren: []\n")


def test_unknown_api_version_and_unknown_kind(database_url: str, tmp_path: Path) -> None:
    future = component("future").replace("backstage.io/v1alpha1", "backstage.io/v9")
    catalog = write(tmp_path / "catalog-info.yaml", join(component("good"), future, WIDGET))
    portal = file_portal(database_url, tmp_path, catalog)
    portal.catalog.process_until_idle()
    assert_served(portal, "component:default/good")
    assert_not_served(portal, "component:default/future", "widget:default/gadget")
    location = portal.catalog.entity_by_ref(location_ref(catalog))

    version = the_error(
        location, "InputError", "component:default/future", "No processor recognized"
    )
    assert position(version) == {
        "file": f"file:{catalog}",
        "line": line_of(catalog, "apiVersion: backstage.io/v9"),
        "field": "apiVersion",
    }
    kind = the_error(location, "NotAllowedError", "widget:default/gadget", "not of an allowed kind")
    assert position(kind) == {
        "file": f"file:{catalog}",
        "line": line_of(catalog, "kind: Widget"),
        "field": "kind",
    }


def test_kind_not_allowed_for_that_location(database_url: str, tmp_path: Path) -> None:
    main = write(
        tmp_path / "catalog-info.yaml", join(component("svc"), GROUP.format(name="sneaky"))
    )
    org = write(tmp_path / "org.yaml", join(GROUP.format(name="team-a"), component("hidden")))
    portal = make_portal(
        database_url,
        tmp_path,
        {
            "rules": [{"allow": ["Component", "Location"]}],
            "locations": [
                {"type": "file", "target": str(main)},
                {"type": "file", "target": str(org), "rules": [{"allow": ["Group"]}]},
            ],
        },
    )
    portal.catalog.process_until_idle()
    # Groups may come from org.yaml only; Components from anywhere
    assert_served(
        portal, "component:default/svc", "group:default/team-a", "component:default/hidden"
    )
    assert_not_served(portal, "group:default/sneaky")
    error = the_error(
        portal.catalog.entity_by_ref(location_ref(main)), "NotAllowedError", "group:default/sneaky"
    )
    assert "not of an allowed kind for that location" in error["message"]
    assert position(error) == {
        "file": f"file:{main}",
        "line": line_of(main, "kind: Group"),
        "field": "kind",
    }
    assert errors_of(portal.catalog.entity_by_ref(location_ref(org))) == []


# --------------------------------------------------------------------------
# 6. metadata fields that break Backstage's rules
# --------------------------------------------------------------------------

SERVICE = "type: service\nlifecycle: production\nowner: team-a\n"

BAD_METADATA = [
    # (name, extra metadata lines, field, text on the field's line, in the message)
    ("Bad_Name!", "", "metadata.name", "name: Bad_Name!", '"metadata.name" is not valid'),
    (
        "ns",
        "namespace: Upper\n",
        "metadata.namespace",
        "namespace: Upper",
        '"metadata.namespace" is not valid',
    ),
    (
        "tagged",
        "tags:\n  - good\n  - Bad Tag\n",
        "metadata.tags.1",
        "- Bad Tag",
        '"tags.1" is not valid',
    ),
    (
        "annotated",
        "annotations:\n  ok: fine\n  foo: 1\n",
        "metadata.annotations.foo",
        "foo: 1",
        "/metadata/annotations/foo must be string",
    ),
    (
        "labelled",
        "labels:\n  good: yes\n  bad: not ok!\n",
        "metadata.labels.bad",
        "bad: not ok!",
        '"labels.bad" is not valid',
    ),
    (
        "linked",
        "links:\n  - url: https://example.com\n  - url: not a url\n    title: Broken\n",
        "metadata.links.1.url",
        "url: not a url",
        '"links.1.url" is not valid',
    ),
]


def test_bad_metadata_fields_name_the_field_and_its_line(database_url: str, tmp_path: Path) -> None:
    documents = [component("good-one")]
    documents += [
        entity("Component", name, SERVICE, metadata=meta) for name, meta, *_ in BAD_METADATA
    ]
    catalog = write(tmp_path / "catalog-info.yaml", join(*documents, component("good-two")))
    portal = file_portal(database_url, tmp_path, catalog)
    portal.catalog.process_until_idle()
    assert_served(portal, "component:default/good-one", "component:default/good-two")
    assert_not_served(portal, "component:default/bad_name!", "component:upper/ns")
    for name in ("tagged", "annotated", "labelled", "linked"):
        assert_not_served(portal, f"component:default/{name}")
    location = portal.catalog.entity_by_ref(location_ref(catalog))
    assert len(errors_of(location)) == len(BAD_METADATA), errors_of(location)
    for name, _, field, on_line, text in BAD_METADATA:
        error = the_error(location, "InputError", text)
        assert name.lower() in error["message"]
        assert position(error) == {
            "file": f"file:{catalog}",
            "line": line_of(catalog, on_line),
            "field": field,
        }


def test_entity_that_breaks_its_metadata_keeps_its_last_good_version(
    database_url: str, tmp_path: Path
) -> None:
    catalog = write(tmp_path / "catalog-info.yaml", join(component("good"), component("svc")))
    portal = file_portal(database_url, tmp_path, catalog)
    portal.catalog.process_until_idle()
    before = portal.catalog.entity_by_ref("component:default/svc")
    write(
        catalog,
        join(
            component("good"),
            component("svc").replace("name: svc\n", "name: svc\n  tags: [Bad Tag]\n"),
        ),
    )
    refresh(portal)
    svc = portal.catalog.entity_by_ref("component:default/svc")
    assert (
        svc["metadata"].get("tags") is None and svc["metadata"]["uid"] == before["metadata"]["uid"]
    )
    error = the_error(svc, "InputError", '"tags.0" is not valid')
    assert position(error) == {
        "file": f"file:{catalog}",
        "line": line_of(catalog, "tags: [Bad Tag]"),
        "field": "metadata.tags.0",
    }
    assert errors_of(portal.catalog.entity_by_ref("component:default/good")) == []


# --------------------------------------------------------------------------
# 7. spec fields: missing or mistyped
# --------------------------------------------------------------------------

BAD_SPEC = [
    # (name, spec, in the message)
    ("null-owner", "type: service\nlifecycle: production\nowner:\n", "/spec/owner must be string"),
    (
        "number-owner",
        "type: service\nlifecycle: production\nowner: 42\n",
        "/spec/owner must be string",
    ),
    (
        "list-owner",
        "type: service\nlifecycle: production\nowner: [a, b]\n",
        "/spec/owner must be string",
    ),
    ("number-type", "type: 7\nlifecycle: production\nowner: team-a\n", "/spec/type must be string"),
]


def test_missing_and_mistyped_spec_fields(database_url: str, tmp_path: Path) -> None:
    documents = [entity("Component", name, spec) for name, spec, _ in BAD_SPEC]
    missing = entity("Component", "no-owner", "type: service\nlifecycle: production\n")
    catalog = write(
        tmp_path / "catalog-info.yaml",
        join(component("good-one"), *documents, missing, component("good-two")),
    )
    portal = file_portal(database_url, tmp_path, catalog)
    portal.catalog.process_until_idle()
    assert_served(portal, "component:default/good-one", "component:default/good-two")
    location = portal.catalog.entity_by_ref(location_ref(catalog))
    assert len(errors_of(location)) == len(BAD_SPEC) + 1, errors_of(location)
    for name, _spec, text in BAD_SPEC:
        assert_not_served(portal, f"component:default/{name}")
        error = the_error(location, "InputError", f"component:default/{name}", text)
        field = "spec.type" if name == "number-type" else "spec.owner"
        line = line_of(catalog, f"  {field.split('.')[1]}:", after=f"name: {name}")
        assert position(error) == {"file": f"file:{catalog}", "line": line, "field": field}

    error = the_error(
        location, "InputError", "component:default/no-owner", "must have required property 'owner'"
    )
    assert position(error)["field"] == "spec.owner"
    assert position(error)["file"] == f"file:{catalog}"
    start = line_of(catalog, "name: no-owner") - 3
    assert start <= position(error)["line"] <= start + 6


def test_missing_spec_field_points_at_its_parent(database_url: str, tmp_path: Path) -> None:
    catalog = write(
        tmp_path / "catalog-info.yaml",
        entity("Component", "no-owner", "type: service\nlifecycle: production\n"),
    )
    portal = file_portal(database_url, tmp_path, catalog)
    portal.catalog.process_until_idle()
    error = the_error(
        portal.catalog.entity_by_ref(location_ref(catalog)),
        "InputError",
        "required property 'owner'",
    )
    assert position(error) == {
        "file": f"file:{catalog}",
        "line": line_of(catalog, "spec:"),
        "field": "spec.owner",
    }


# --------------------------------------------------------------------------
# 8. the same entity from two locations
# --------------------------------------------------------------------------


def test_conflicting_location_gets_an_error_and_takes_over_when_the_first_lets_go(
    database_url: str, tmp_path: Path
) -> None:
    first = write(
        tmp_path / "a" / "catalog-info.yaml",
        join(component("shared", owner="team-a"), component("only-a")),
    )
    second = write(
        tmp_path / "b" / "catalog-info.yaml",
        join(component("other"), component("shared", owner="team-b")),
    )
    portal = file_portal(database_url, tmp_path, first)
    portal.catalog.process_until_idle()
    portal.catalog.add_location("file", str(second))
    portal.catalog.process_until_idle()

    shared = portal.catalog.entity_by_ref("component:default/shared")
    assert shared["spec"]["owner"] == "team-a"
    assert shared["metadata"]["annotations"]["backstage.io/managed-by-location"] == f"file:{first}"
    assert_served(portal, "component:default/other", "component:default/only-a")
    conflict = the_error(
        portal.catalog.entity_by_ref(location_ref(second)),
        "ConflictError",
        "component:default/shared",
    )
    assert f"file:{first}" in conflict["message"] and "the first one is kept" in conflict["message"]
    assert position(conflict) == {
        "file": f"file:{second}",
        "line": line_of(second, "apiVersion", 2),
    }
    assert errors_of(portal.catalog.entity_by_ref(location_ref(first))) == []

    # the first location lets the entity go: the second one takes it over
    write(first, component("only-a"))
    for _ in range(3):
        refresh(portal)
        shared = portal.catalog.entity_by_ref("component:default/shared")
        if shared and shared["spec"]["owner"] == "team-b":
            break
    assert shared is not None and shared["spec"]["owner"] == "team-b"
    assert shared["metadata"]["annotations"]["backstage.io/managed-by-location"] == f"file:{second}"
    assert "backstage.io/orphan" not in shared["metadata"]["annotations"]
    assert errors_of(portal.catalog.entity_by_ref(location_ref(second))) == []
    assert_served(portal, "component:default/other", "component:default/only-a")


# --------------------------------------------------------------------------
# 9. reading outside the location root
# --------------------------------------------------------------------------


def test_text_placeholder_escaping_the_location_root(database_url: str, tmp_path: Path) -> None:
    write(tmp_path / "secret.txt", SECRET)
    write(tmp_path / "catalog" / "openapi.yaml", OPENAPI)
    catalog = write(
        tmp_path / "catalog" / "catalog-info.yaml",
        join(
            api("orders-api", "./openapi.yaml"),
            api("passwd-api", "../../etc/passwd"),
            api("sibling-api", "../secret.txt"),
            component("good"),
        ),
    )
    portal = file_portal(database_url, tmp_path, catalog)
    portal.catalog.process_until_idle()
    assert_served(portal, "component:default/good")
    assert portal.catalog.entity_by_ref("api:default/orders-api")["spec"]["definition"] == OPENAPI
    assert_not_served(portal, "api:default/passwd-api", "api:default/sibling-api")
    location = portal.catalog.entity_by_ref(location_ref(catalog))
    for name, target in [("passwd-api", "../../etc/passwd"), ("sibling-api", "../secret.txt")]:
        error = the_error(
            location,
            "NotAllowedError",
            f"api:default/{name}",
            f"could not read {target}",
            "outside the location root",
        )
        assert position(error) == {
            "file": f"file:{catalog}",
            "line": line_of(catalog, f"$text: {target}") - 1,
            "field": "spec.definition",
        }


def test_symlinks_out_of_the_location_folder(database_url: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside / "secret.yaml", component("secret"))
    write(outside / "openapi.yaml", SECRET)
    folder = tmp_path / "catalog"
    write(folder / "good.yaml", component("good"))
    (folder / "link.yaml").symlink_to(outside / "secret.yaml")
    write(folder / "parts" / "a.yaml", component("part-a"))
    (folder / "parts" / "b.yaml").symlink_to(outside / "secret.yaml")
    (folder / "openapi.yaml").symlink_to(outside / "openapi.yaml")
    write(folder / "apis.yaml", api("leaky-api", "./openapi.yaml"))
    index = write(
        folder / "catalog-info.yaml",
        location_doc("index", "./good.yaml", "./link.yaml", "./parts/*.yaml", "./apis.yaml"),
    )
    portal = file_portal(database_url, tmp_path, index)
    portal.catalog.process_until_idle()
    assert_served(
        portal, "location:default/index", "component:default/good", "component:default/part-a"
    )
    assert_not_served(portal, "component:default/secret", "api:default/leaky-api")

    location = portal.catalog.entity_by_ref("location:default/index")
    direct = the_error(
        location,
        "NotAllowedError",
        f"file:{folder / 'link.yaml'}",
        "points outside the location root",
    )
    assert position(direct) == {"file": f"file:{folder / 'link.yaml'}", "field": "spec.targets.1"}
    globbed = the_error(
        location, "NotAllowedError", f"file:{folder / 'parts' / 'b.yaml'}", "points outside"
    )
    assert position(globbed) == {
        "file": f"file:{folder / 'parts' / 'b.yaml'}",
        "field": "spec.targets.2",
    }
    text = the_error(
        location, "NotAllowedError", "api:default/leaky-api", "could not read ./openapi.yaml"
    )
    apis = folder / "apis.yaml"
    assert position(text) == {
        "file": f"file:{apis}",
        "line": line_of(apis, "definition:"),
        "field": "spec.definition",
    }
    assert errors_of(portal.catalog.entity_by_ref(location_ref(index))) == []


# --------------------------------------------------------------------------
# 10. url locations
# --------------------------------------------------------------------------


@pytest.fixture
def web(tmp_path: Path) -> Iterator[LocalServer]:
    root = tmp_path / "www"
    root.mkdir()
    server = LocalServer(root)
    yield server
    server.close()


@pytest.mark.network
def test_url_on_a_host_not_allowed_is_refused_without_a_request(
    database_url: str, tmp_path: Path, web: LocalServer
) -> None:
    write(web.root / "catalog-info.yaml", component("remote"))
    good = write(tmp_path / "catalog-info.yaml", component("good"))
    portal = file_portal(
        database_url, tmp_path, good, reading={"allow": [{"host": "git.example.com"}]}
    )
    url = web.url("/catalog-info.yaml")
    portal.catalog.add_location("url", url)
    portal.catalog.process_until_idle()
    assert_served(portal, "component:default/good")
    assert_not_served(portal, "component:default/remote")
    error = the_error(
        portal.catalog.entity_by_ref(url_location_ref("url", url)),
        "NotAllowedError",
        f"host {web.host} is not allowed",
    )
    assert "reading.allow" in error["message"]
    assert position(error) == {"file": f"url:{url}", "field": "spec.target"}
    assert web.requests == []


@pytest.mark.network
def test_unreachable_url(database_url: str, tmp_path: Path) -> None:
    port = closed_port()
    good = write(tmp_path / "catalog-info.yaml", component("good"))
    portal = file_portal(
        database_url,
        tmp_path,
        good,
        reading={"allow": [{"host": f"127.0.0.1:{port}"}], "timeoutSeconds": 5},
    )
    url = f"http://127.0.0.1:{port}/catalog-info.yaml"
    portal.catalog.add_location("url", url)
    portal.catalog.process_until_idle()
    assert_served(portal, "component:default/good")
    error = the_error(
        portal.catalog.entity_by_ref(url_location_ref("url", url)),
        "Error",
        f"could not connect to host 127.0.0.1:{port}",
    )
    assert position(error) == {"file": f"url:{url}", "field": "spec.target"}


@pytest.mark.network
def test_url_location_with_relative_targets_and_placeholders(
    database_url: str, tmp_path: Path, web: LocalServer
) -> None:
    org = web.root / "org"
    write(
        org / "catalog-info.yaml",
        location_doc("org-index", "./components/svc.yaml", "./apis/orders.yaml", "./missing.yaml"),
    )
    write(org / "components" / "svc.yaml", join(component("svc"), "just a string\n"))
    write(
        org / "apis" / "orders.yaml",
        join(api("orders-api", "./openapi.yaml"), api("escape-api", "../../secret.txt")),
    )
    write(org / "apis" / "openapi.yaml", OPENAPI)
    write(web.root / "secret.txt", SECRET)
    portal = make_portal(database_url, tmp_path, reading={"allow": [{"host": web.host}]})
    url = web.url("/org/catalog-info.yaml")
    portal.catalog.add_location("url", url)
    portal.catalog.process_until_idle()

    svc = portal.catalog.entity_by_ref("component:default/svc")
    assert (
        svc["metadata"]["annotations"]["backstage.io/managed-by-location"]
        == f"url:{web.url('/org/components/svc.yaml')}"
    )
    assert svc["metadata"]["annotations"]["backstage.io/managed-by-origin-location"] == f"url:{url}"
    orders = portal.catalog.entity_by_ref("api:default/orders-api")
    assert orders["spec"]["definition"] == OPENAPI
    assert_not_served(portal, "api:default/escape-api")
    assert "/secret.txt" not in web.requests

    index = portal.catalog.entity_by_ref("location:default/org-index")
    missing = the_error(index, "NotFoundError", web.url("/org/missing.yaml"))
    assert position(missing) == {
        "file": f"url:{web.url('/org/missing.yaml')}",
        "field": "spec.targets.2",
    }
    not_a_map = the_error(index, "InputError", "Expected object at root, got string")
    assert position(not_a_map) == {"file": f"url:{web.url('/org/components/svc.yaml')}", "line": 10}
    escape = the_error(
        index, "NotAllowedError", "api:default/escape-api", "outside the location root"
    )
    # in a url file the error names the document's first line: the file is not fetched again to find the field
    assert position(escape) == {
        "file": f"url:{web.url('/org/apis/orders.yaml')}",
        "line": line_of(org / "apis" / "orders.yaml", "apiVersion", 2),
        "field": "spec.definition",
    }
    assert errors_of(portal.catalog.entity_by_ref(url_location_ref("url", url))) == []


# --------------------------------------------------------------------------
# 11. git locations
# --------------------------------------------------------------------------


@pytest.mark.network
@needs_git
def test_git_location_ingests_reports_and_follows_new_commits(
    database_url: str, tmp_path: Path
) -> None:
    secret = write(tmp_path / "outside" / "secret.yaml", component("secret"))
    work, bare = make_repo(
        tmp_path,
        {
            "catalog-info.yaml": join(component("svc"), api("orders-api", "./docs/openapi.yaml")),
            "docs/openapi.yaml": OPENAPI,
            "services/a.yaml": component("part-a"),
            "services/b.yaml": f"symlink:{secret}",
            "services/c.yaml": component("part-c", owner="42"),
        },
    )
    good = write(tmp_path / "local" / "catalog-info.yaml", component("local"))
    portal = file_portal(database_url, tmp_path, good)
    target = f"file://{bare}//catalog-info.yaml?ref=main"
    portal.catalog.add_location("git", target)
    services = f"file://{bare}//services/*.yaml?ref=main"
    portal.catalog.add_location("git", services)
    missing_remote = f"file://{tmp_path}/nope.git"
    missing = f"{missing_remote}//catalog-info.yaml?ref=main"
    portal.catalog.add_location("git", missing)
    portal.catalog.process_until_idle()

    assert_served(portal, "component:default/local")
    svc = portal.catalog.entity_by_ref("component:default/svc")
    assert svc["spec"]["owner"] == "team-a"
    assert svc["metadata"]["annotations"]["backstage.io/managed-by-location"] == f"git:{target}"
    assert portal.catalog.entity_by_ref("api:default/orders-api")["spec"]["definition"] == OPENAPI
    assert errors_of(portal.catalog.entity_by_ref(url_location_ref("git", target))) == []

    error = the_error(
        portal.catalog.entity_by_ref(url_location_ref("git", missing)),
        "NotFoundError",
        missing_remote,
    )
    assert position(error) == {"file": f"git:{missing}", "field": "spec.target"}

    # a glob in the repository: a symlink out of the checkout costs only itself
    assert_served(portal, "component:default/part-a")
    assert_not_served(portal, "component:default/secret", "component:default/part-c")
    services_location = portal.catalog.entity_by_ref(url_location_ref("git", services))
    escape = the_error(services_location, "NotAllowedError", "points outside the location root")
    assert position(escape) == {
        "file": f"git:file://{bare}//services/b.yaml?ref=main",
        "field": "spec.target",
    }
    # the field's line is found in the checkout
    owner = the_error(services_location, "InputError", "component:default/part-c")
    assert position(owner) == {
        "file": f"git:file://{bare}//services/c.yaml?ref=main",
        "line": line_of(work / "services" / "c.yaml", "owner: 42"),
        "field": "spec.owner",
    }

    commit_files(
        work,
        {
            "catalog-info.yaml": join(
                component("svc", owner="team-b"), api("orders-api", "./docs/openapi.yaml")
            )
        },
        "owner",
    )
    git("push", "-q", "origin", "main", cwd=work)
    refresh(portal)
    assert portal.catalog.entity_by_ref("component:default/svc")["spec"]["owner"] == "team-b"
    assert portal.catalog.entity_by_ref("api:default/orders-api")["spec"]["definition"] == OPENAPI


# --------------------------------------------------------------------------
# 12. a Location's file that breaks later: its children stay
# --------------------------------------------------------------------------


def _make_unreadable(path: Path, how: str) -> None:
    if how == "deleted":
        path.unlink()
    elif how == "directory":
        path.unlink()
        path.mkdir()
    elif how == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif how == "too-big":
        path.write_text(path.read_text() + "# padding\n" * 300)
    elif how == "unparseable":
        path.write_text("key: [unclosed\n")
    else:  # pragma: no cover
        raise AssertionError(how)


UNREADABLE = {
    "deleted": ("NotFoundError", "does not exist"),
    "directory": ("InputError", "is a directory"),
    "fifo": ("InputError", "is not a regular file"),
    "too-big": ("InputError", "over the limit of 2000 bytes"),
    "unparseable": ("InputError", "YAML error"),
}


@pytest.mark.parametrize("how", list(UNREADABLE))
def test_children_stay_when_a_location_file_becomes_unreadable(
    database_url: str, tmp_path: Path, how: str
) -> None:
    folder = tmp_path / "catalog"
    team_a = write(folder / "team-a.yaml", join(component("a-one"), component("a-two")))
    write(folder / "team-b.yaml", component("b-one"))
    index = write(
        folder / "catalog-info.yaml", location_doc("index", "./team-a.yaml", "./team-b.yaml")
    )
    portal = file_portal(database_url, tmp_path, index, reading={"maxFileBytes": 2000})
    portal.catalog.process_until_idle()
    refs = [
        "location:default/index",
        "component:default/a-one",
        "component:default/a-two",
        "component:default/b-one",
    ]
    assert_served(portal, *refs)

    _make_unreadable(team_a, how)
    refresh(portal)
    refresh(portal)
    assert_served(portal, *refs)
    for ref in refs[1:]:
        annotations = portal.catalog.entity_by_ref(ref)["metadata"]["annotations"]
        assert "backstage.io/orphan" not in annotations, ref
    name, text = UNREADABLE[how]
    error = the_error(portal.catalog.entity_by_ref("location:default/index"), name, text)
    assert position(error)["file"] == f"file:{team_a}"
    if how == "unparseable":
        assert position(error)["line"] == 1
    else:
        assert position(error)["field"] == "spec.targets.0"


def test_children_stay_when_the_location_file_itself_is_deleted(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "catalog"
    write(folder / "team-a.yaml", component("a-one"))
    index = write(folder / "catalog-info.yaml", location_doc("index", "./team-a.yaml"))
    portal = file_portal(database_url, tmp_path, index)
    portal.catalog.process_until_idle()
    index.unlink()
    refresh(portal)
    refresh(portal)
    assert_served(portal, "location:default/index", "component:default/a-one")
    error = the_error(
        portal.catalog.entity_by_ref(location_ref(index)), "NotFoundError", str(index)
    )
    assert position(error) == {"file": f"file:{index}", "field": "spec.target"}
    # and it all comes back once the file does
    write(index, location_doc("index", "./team-a.yaml"))
    refresh(portal)
    assert errors_of(portal.catalog.entity_by_ref(location_ref(index))) == []


# --------------------------------------------------------------------------
# 13. content read from elsewhere may not take over what it does not own
# --------------------------------------------------------------------------


@pytest.mark.network
def test_a_url_location_may_not_point_at_local_files(
    database_url: str, tmp_path: Path, web: LocalServer
) -> None:
    secret_dir = tmp_path / "server-disk"
    write(secret_dir / "catalog-info.yaml", component("local-only"))
    write(
        web.root / "catalog-info.yaml",
        """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: sneaky
spec:
  type: file
  targets: [%s]
"""
        % (secret_dir / "catalog-info.yaml"),
    )
    portal = make_portal(database_url, tmp_path, reading={"allow": [{"host": web.host}]})
    url = web.url("/catalog-info.yaml")
    portal.catalog.add_location("url", url)
    portal.catalog.process_until_idle()
    assert_not_served(portal, "component:default/local-only")
    error = the_error(
        portal.catalog.entity_by_ref("location:default/sneaky"),
        "NotAllowedError",
        "may only point at url targets",
    )
    assert position(error)["field"] == "spec.targets.0"


def test_a_catalog_file_cannot_replace_a_root_location(database_url: str, tmp_path: Path) -> None:
    real = write(tmp_path / "real" / "catalog-info.yaml", component("real-svc"))
    target_name = location_ref(real).split("/", 1)[1]
    attacker = write(
        tmp_path / "team" / "catalog-info.yaml",
        join(
            component("team-svc"),
            f"""\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: {target_name}
spec:
  type: file
  target: {tmp_path / "team" / "evil.yaml"}
""",
        ),
    )
    write(tmp_path / "team" / "evil.yaml", component("evil-svc"))
    portal = make_portal(
        database_url,
        tmp_path,
        {
            "locations": [
                {"type": "file", "target": str(real)},
                {"type": "file", "target": str(attacker)},
            ]
        },
    )
    portal.catalog.process_until_idle()
    assert_served(portal, "component:default/real-svc")
    assert_served(portal, "component:default/team-svc")
    assert_not_served(portal, "component:default/evil-svc")
    root = portal.catalog.entity_by_ref(location_ref(real))
    assert root["spec"]["target"] == str(real)
    conflict = the_error(
        portal.catalog.entity_by_ref(location_ref(attacker)), "ConflictError", location_ref(real)
    )
    assert position(conflict)["file"] == f"file:{attacker}"
