"""Static checks of the demo catalog shipped as package data (PyYAML only, no catalog code).

The demo catalog is what new users see first, so it must be valid Backstage input: names,
tags and links follow the upstream field-format rules, every relation points at an entity
that exists, every ``$text`` placeholder and every Location target resolves, and the root
Location reaches every entity file exactly once.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from greenroom.demo import demo_catalog_root, demo_location_target

NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
TAG_RE = re.compile(r"^[a-z0-9:+#]+(\-[a-z0-9:+#]+)*$")
DNS_LABEL_RE = re.compile(r"^[a-z0-9]+(?:\-+[a-z0-9]+)*$")

# kind -> (min, max) number of entities
KIND_RANGES = {
    "Domain": (3, 4),
    "System": (8, 10),
    "Group": (14, 20),
    "User": (35, 45),
    "Component": (40, 50),
    "API": (12, 18),
    "Resource": (10, 16),
    "Template": (3, 3),
    "Location": (1, 3),
}
TOTAL_RANGE = (130, 170)

# spec field -> default kind of its references (None: the reference must name its kind)
REF_FIELDS: dict[str, str | None] = {
    "owner": "group",
    "system": "system",
    "domain": "domain",
    "subcomponentOf": "component",
    "subdomainOf": "domain",
    "providesApis": "api",
    "consumesApis": "api",
    "dependsOn": None,
    "dependencyOf": None,
    "memberOf": "group",
    "parent": "group",
    "children": "group",
    "members": "user",
}


@dataclass(frozen=True)
class Doc:
    path: Path
    index: int
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def name(self) -> str:
        return self.data["metadata"]["name"]

    @property
    def namespace(self) -> str:
        return self.data["metadata"].get("namespace") or "default"

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}".lower()

    def where(self) -> str:
        return f"{self.path.relative_to(demo_catalog_root())}#{self.index}"


def _text_placeholders(node: Any) -> list[str]:
    if isinstance(node, dict):
        if set(node) == {"$text"}:
            return [node["$text"]]
        return [t for v in node.values() for t in _text_placeholders(v)]
    if isinstance(node, list):
        return [t for v in node for t in _text_placeholders(v)]
    return []


def _looks_like_entity(data: Any) -> bool:
    return isinstance(data, dict) and "apiVersion" in data and "kind" in data


@functools.cache
def _load() -> tuple[tuple[Doc, ...], frozenset[Path]]:
    """All entity documents, plus the files pulled in through $text placeholders."""
    root = demo_catalog_root()
    parsed: dict[Path, list[Any]] = {}
    for path in sorted(root.rglob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            parsed[path] = [d for d in yaml.safe_load_all(fh) if d is not None]

    text_targets: set[Path] = set()
    for path, docs in parsed.items():
        for data in docs:
            if _looks_like_entity(data):
                text_targets.update((path.parent / t).resolve() for t in _text_placeholders(data))

    entity_docs = []
    for path, docs in parsed.items():
        if path.resolve() in text_targets or path.name in ("mkdocs.yaml", "mkdocs.yml"):
            continue
        assert docs, f"{path}: empty YAML file"
        for i, data in enumerate(docs):
            assert isinstance(data, dict), f"{path}#{i}: expected a mapping at the root"
            entity_docs.append(Doc(path, i, data))
    return tuple(entity_docs), frozenset(text_targets)


def entities() -> tuple[Doc, ...]:
    return _load()[0]


def _parse_ref(ref: str, default_kind: str | None, default_namespace: str) -> str:
    """Upstream parsing of `[kind:][namespace/]name` into a lowercase canonical ref."""
    assert isinstance(ref, str) and ref, f"reference must be a non-empty string: {ref!r}"
    colon, slash = ref.find(":"), ref.find("/")
    if colon != -1 and (slash == -1 or colon < slash):
        kind, rest = ref[:colon], ref[colon + 1 :]
    else:
        kind, rest = None, ref
    namespace, _, name = rest.partition("/") if "/" in rest else (None, "", rest)
    assert kind != "" and namespace != "" and name, f"malformed reference {ref!r}"
    kind = kind or default_kind
    assert kind, f"reference {ref!r} needs an explicit kind"
    return f"{kind}:{namespace or default_namespace}/{name}".lower()


def _refs_of(doc: Doc) -> list[tuple[str, str]]:
    spec = doc.data.get("spec") or {}
    out = []
    for field, default_kind in REF_FIELDS.items():
        if field not in spec or (doc.kind == "Template" and field != "owner"):
            continue
        values = spec[field] if isinstance(spec[field], list) else [spec[field]]
        out.extend((field, _parse_ref(v, default_kind, doc.namespace)) for v in values)
    return out


def _location_targets(doc: Doc) -> list[str]:
    spec = doc.data["spec"]
    return list(spec.get("targets", [])) + ([spec["target"]] if "target" in spec else [])


# --------------------------------------------------------------------------- tests


def test_package_helpers_point_at_the_root_location() -> None:
    root = demo_catalog_root()
    assert root.is_dir() and root.is_absolute()
    target = Path(demo_location_target())
    assert target.is_absolute() and target == root / "catalog-info.yaml"
    with target.open(encoding="utf-8") as fh:
        (root_doc,) = list(yaml.safe_load_all(fh))
    assert root_doc["kind"] == "Location"


def test_envelope_and_field_formats() -> None:
    for doc in entities():
        d, where = doc.data, doc.where()
        assert set(d) <= {"apiVersion", "kind", "metadata", "spec"}, f"{where}: foreign root keys"
        assert isinstance(d.get("apiVersion"), str) and d["apiVersion"], where
        assert isinstance(d.get("kind"), str) and re.fullmatch(
            r"[a-zA-Z][a-z0-9A-Z]*", d["kind"]
        ), where
        assert isinstance(d.get("spec"), dict), f"{where}: spec must be a mapping"
        meta = d.get("metadata")
        assert isinstance(meta, dict) and isinstance(meta.get("name"), str), (
            f"{where}: metadata.name"
        )
        assert len(meta["name"]) <= 63 and NAME_RE.match(meta["name"]), (
            f"{where}: bad name {meta['name']!r}"
        )
        if "namespace" in meta:
            assert DNS_LABEL_RE.match(meta["namespace"]), where
        for tag in meta.get("tags", []):
            assert isinstance(tag, str) and len(tag) <= 63 and TAG_RE.match(tag), (
                f"{where}: bad tag {tag!r}"
            )
        for key, value in (meta.get("annotations") or {}).items():
            assert isinstance(value, str), f"{where}: annotation {key} must be a string"
        for key, value in (meta.get("labels") or {}).items():
            assert isinstance(value, str) and (value == "" or NAME_RE.match(value)), (
                f"{where}: label {key}"
            )
        for link in meta.get("links", []):
            url = urlparse(link["url"])
            assert url.scheme in ("http", "https") and url.netloc, (
                f"{where}: link url {link['url']!r}"
            )
            for key in ("title", "icon", "type"):
                if key in link:
                    assert isinstance(link[key], str) and link[key].strip(), f"{where}: link {key}"


def test_kind_specific_required_fields() -> None:
    required = {
        "Component": ("type", "lifecycle", "owner"),
        "API": ("type", "lifecycle", "owner", "definition"),
        "Resource": ("type", "owner"),
        "System": ("owner",),
        "Domain": ("owner",),
        "Group": ("type", "children"),
        "User": ("memberOf",),
        "Template": ("type", "steps"),
    }
    for doc in entities():
        spec = doc.data["spec"]
        for field in required.get(doc.kind, ()):
            assert field in spec, f"{doc.where()}: spec.{field} is required for {doc.kind}"
        if doc.kind == "Template":
            assert doc.data["apiVersion"] == "scaffolder.backstage.io/v1beta3"
        else:
            assert doc.data["apiVersion"] == "backstage.io/v1alpha1", doc.where()


def test_counts_per_kind() -> None:
    counts = Counter(doc.kind for doc in entities())
    assert set(counts) == set(KIND_RANGES), counts
    for kind, (low, high) in KIND_RANGES.items():
        assert low <= counts[kind] <= high, f"{kind}: {counts[kind]} not in [{low}, {high}]"
    total = sum(counts.values())
    assert TOTAL_RANGE[0] <= total <= TOTAL_RANGE[1], total

    group_types = Counter(doc.data["spec"]["type"] for doc in entities() if doc.kind == "Group")
    assert group_types["organization"] == 1
    assert group_types["department"] >= 2
    assert 10 <= group_types["team"] <= 15

    api_types = {doc.data["spec"]["type"] for doc in entities() if doc.kind == "API"}
    assert {"openapi", "asyncapi", "graphql", "grpc"} <= api_types

    lifecycles = {doc.data["spec"]["lifecycle"] for doc in entities() if doc.kind == "Component"}
    assert {"production", "experimental", "deprecated"} <= lifecycles


def test_entity_refs_are_unique() -> None:
    counts = Counter(doc.ref for doc in entities())
    assert [ref for ref, n in counts.items() if n > 1] == []


def test_text_placeholders_resolve() -> None:
    seen = 0
    for doc in entities():
        for target in _text_placeholders(doc.data):
            seen += 1
            assert target.startswith("./"), (
                f"{doc.where()}: $text target should be relative: {target}"
            )
            path = (doc.path.parent / target).resolve()
            assert path.is_file(), f"{doc.where()}: $text target {target} does not exist"
            assert demo_catalog_root() in path.parents, (
                f"{doc.where()}: {target} leaves the catalog"
            )
            assert path.read_text(encoding="utf-8").strip(), f"{doc.where()}: {target} is empty"
    assert seen >= 12


def test_api_definitions_are_real_specs() -> None:
    for doc in entities():
        if doc.kind != "API":
            continue
        (target,) = _text_placeholders(doc.data["spec"]["definition"])
        text = (doc.path.parent / target).read_text(encoding="utf-8")
        api_type = doc.data["spec"]["type"]
        if api_type == "openapi":
            spec = yaml.safe_load(text)
            assert str(spec["openapi"]).startswith("3."), doc.where()
            assert spec["info"]["title"] and spec["info"]["version"] and spec["paths"], doc.where()
            for path, item in spec["paths"].items():
                assert path.startswith("/"), f"{doc.where()}: {path}"
                for method, op in item.items():
                    if method in {"get", "put", "post", "delete", "patch"}:
                        assert op.get("responses"), (
                            f"{doc.where()}: {method} {path} has no responses"
                        )
        elif api_type == "asyncapi":
            spec = yaml.safe_load(text)
            assert str(spec["asyncapi"]).startswith("2."), doc.where()
            assert spec["channels"], doc.where()
        elif api_type == "graphql":
            assert "type Query" in text, doc.where()
        elif api_type == "grpc":
            assert 'syntax = "proto3";' in text and "service " in text, doc.where()


def test_relations_resolve() -> None:
    known = {doc.ref for doc in entities()}
    dangling = []
    for doc in entities():
        for field, ref in _refs_of(doc):
            if ref not in known:
                dangling.append(f"{doc.where()} {doc.ref}: spec.{field} -> {ref}")
    assert dangling == []


def test_depends_on_names_its_kind() -> None:
    for doc in entities():
        for ref in doc.data["spec"].get("dependsOn", []):
            assert re.match(r"^(component|resource):", ref), f"{doc.where()}: {ref}"


def test_group_hierarchy_and_membership_agree() -> None:
    docs = {doc.ref: doc for doc in entities()}
    for doc in entities():
        spec = doc.data["spec"]
        if doc.kind == "Group":
            for child in spec["children"]:
                child_doc = docs[_parse_ref(child, "group", doc.namespace)]
                parent = child_doc.data["spec"].get("parent")
                assert parent and _parse_ref(parent, "group", doc.namespace) == doc.ref, (
                    child_doc.where()
                )
            if "parent" in spec:
                parent_doc = docs[_parse_ref(spec["parent"], "group", doc.namespace)]
                children = [
                    _parse_ref(c, "group", doc.namespace)
                    for c in parent_doc.data["spec"]["children"]
                ]
                assert doc.ref in children, doc.where()
            else:
                assert spec["type"] == "organization", f"{doc.where()}: only the root has no parent"
            for member in spec.get("members", []):
                user = docs[_parse_ref(member, "user", doc.namespace)]
                groups = [
                    _parse_ref(g, "group", doc.namespace) for g in user.data["spec"]["memberOf"]
                ]
                assert doc.ref in groups, f"{user.where()}: missing memberOf {doc.ref}"
        elif doc.kind == "User":
            assert spec["memberOf"], f"{doc.where()}: every demo user belongs to a group"
            assert spec["profile"]["displayName"] and spec["profile"]["email"], doc.where()
            for group in spec["memberOf"]:
                group_doc = docs[_parse_ref(group, "group", doc.namespace)]
                members = [
                    _parse_ref(m, "user", doc.namespace)
                    for m in group_doc.data["spec"].get("members", [])
                ]
                assert doc.ref in members, f"{group_doc.where()}: missing member {doc.ref}"


def _walk_locations(path: Path, reached: list[Path]) -> None:
    with path.open(encoding="utf-8") as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d is not None]
    for data in docs:
        if data.get("kind") != "Location":
            continue
        spec = data["spec"]
        for target in list(spec.get("targets", [])) + (
            [spec["target"]] if "target" in spec else []
        ):
            assert target.startswith("./"), f"{path}: Location targets must be relative: {target}"
            matches = sorted(p for p in path.parent.glob(target[2:]) if p.is_file())
            assert matches, f"{path}: target {target} matches no file"
            for match in matches:
                reached.append(match)
                _walk_locations(match, reached)


def test_root_location_reaches_every_entity_file_once() -> None:
    root = Path(demo_location_target())
    reached: list[Path] = [root]
    _walk_locations(root, reached)
    duplicates = [p for p, n in Counter(reached).items() if n > 1]
    assert duplicates == [], "files reached through more than one target"
    entity_files = {doc.path for doc in entities()}
    assert set(reached) == entity_files, {
        "not reached": sorted(str(p) for p in entity_files - set(reached)),
        "reached but not entity files": sorted(str(p) for p in set(reached) - entity_files),
    }
    for doc in entities():
        if doc.kind == "Location":
            for target in _location_targets(doc):
                assert list(doc.path.parent.glob(target[2:])), f"{doc.where()}: {target}"


def test_techdocs_components_have_docs_next_to_them() -> None:
    documented = [
        doc
        for doc in entities()
        if doc.data["metadata"].get("annotations", {}).get("backstage.io/techdocs-ref") is not None
    ]
    assert len(documented) >= 5
    for doc in documented:
        assert doc.data["metadata"]["annotations"]["backstage.io/techdocs-ref"] == "dir:.", (
            doc.where()
        )
        folder = doc.path.parent
        mkdocs = folder / "mkdocs.yml"
        assert mkdocs.is_file(), f"{doc.where()}: no mkdocs.yml next to the entity"
        with mkdocs.open(encoding="utf-8") as fh:
            config = yaml.safe_load(fh)
        assert config["site_name"], mkdocs
        assert "techdocs-core" in config["plugins"], mkdocs
        assert (folder / "docs" / "index.md").is_file(), folder

        def pages(nav: Any) -> list[str]:
            if isinstance(nav, str):
                return [nav]
            if isinstance(nav, list):
                return [p for item in nav for p in pages(item)]
            if isinstance(nav, dict):
                return [p for v in nav.values() for p in pages(v)]
            return []

        nav_pages = pages(config["nav"])
        assert len(nav_pages) >= 3, mkdocs
        for page in nav_pages:
            assert (folder / "docs" / page).is_file(), f"{mkdocs}: nav page {page} missing"


def test_templates_are_usable_scaffolder_templates() -> None:
    templates = [doc for doc in entities() if doc.kind == "Template"]
    for doc in templates:
        spec = doc.data["spec"]
        actions = [step["action"] for step in spec["steps"]]
        assert {"fetch:template", "publish:github", "catalog:register"} <= set(actions), doc.where()
        pages = spec["parameters"] if isinstance(spec["parameters"], list) else [spec["parameters"]]
        assert all(page.get("properties") for page in pages), doc.where()
        fetch = next(s for s in spec["steps"] if s["action"] == "fetch:template")
        assert any("${{ parameters." in str(v) for v in fetch["input"]["values"].values()), (
            doc.where()
        )


def test_no_template_expressions_outside_templates() -> None:
    template_files = {doc.path for doc in entities() if doc.kind == "Template"}
    for path in demo_catalog_root().rglob("*"):
        if (
            path.is_file()
            and path not in template_files
            and path.suffix in {".yaml", ".yml", ".md"}
        ):
            assert "${{" not in path.read_text(encoding="utf-8"), f"{path}: scaffolder expression"


@pytest.mark.parametrize("kind", ["Component", "API", "Resource"])
def test_owned_kinds_belong_to_a_system(kind: str) -> None:
    for doc in entities():
        if doc.kind == kind:
            assert doc.data["spec"].get("system"), f"{doc.where()}: no system"
