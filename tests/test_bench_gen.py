"""The synthetic catalog generator (bench/gen_catalog.py): valid, consistent, deterministic."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import gen_catalog  # noqa: E402

N = 500
NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
TAG_RE = re.compile(r"^[a-z0-9:+#]+(\-[a-z0-9:+#]+)*$")

# Backstage's relation rules (catalog.md §6): kind -> (spec field, forward, reverse, default kind)
RULES = {
    "Component": [
        ("owner", "ownedBy", "ownerOf", "group"),
        ("system", "partOf", "hasPart", "system"),
        ("subcomponentOf", "partOf", "hasPart", "component"),
        ("providesApis", "providesApi", "apiProvidedBy", "api"),
        ("consumesApis", "consumesApi", "apiConsumedBy", "api"),
        ("dependsOn", "dependsOn", "dependencyOf", None),
        ("dependencyOf", "dependencyOf", "dependsOn", None),
    ],
    "API": [
        ("owner", "ownedBy", "ownerOf", "group"),
        ("system", "partOf", "hasPart", "system"),
    ],
    "Resource": [
        ("owner", "ownedBy", "ownerOf", "group"),
        ("system", "partOf", "hasPart", "system"),
        ("dependsOn", "dependsOn", "dependencyOf", None),
        ("dependencyOf", "dependencyOf", "dependsOn", None),
    ],
    "System": [
        ("owner", "ownedBy", "ownerOf", "group"),
        ("domain", "partOf", "hasPart", "domain"),
    ],
    "Domain": [
        ("owner", "ownedBy", "ownerOf", "group"),
        ("subdomainOf", "partOf", "hasPart", "domain"),
    ],
    "Group": [
        ("parent", "childOf", "parentOf", "group"),
        ("children", "parentOf", "childOf", "group"),
        ("members", "hasMember", "memberOf", "user"),
    ],
    "User": [("memberOf", "memberOf", "hasMember", "group")],
    "Template": [("owner", "ownedBy", "ownerOf", "group")],
    "Location": [],
}
REQUIRED_SPEC = {
    "Component": {"type", "lifecycle", "owner"},
    "API": {"type", "lifecycle", "owner", "definition"},
    "Resource": {"type", "owner"},
    "System": {"owner"},
    "Domain": {"owner"},
    "Group": {"type", "children"},
    "User": {"memberOf"},
    "Template": {"type", "steps"},
    "Location": set(),
}


def parse_ref(ref: str, default_kind: str | None) -> str:
    kind, sep, rest = ref.partition(":")
    if not sep:
        assert default_kind, f"{ref!r} needs a kind"
        kind, rest = default_kind, ref
    namespace, sep, name = rest.partition("/")
    if not sep:
        namespace, name = "default", rest
    return f"{kind}:{namespace}/{name}".lower()


def entity_ref(e: dict) -> str:
    return (
        f"{e['kind']}:{e['metadata'].get('namespace', 'default')}/{e['metadata']['name']}".lower()
    )


def load(out: Path) -> dict[str, list[dict]]:
    docs = {}
    for path in sorted(out.glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            docs[path.name] = [d for d in yaml.safe_load_all(fh) if d is not None]
    return docs


def forward_relations(e: dict):
    """(field, forward, reverse, target ref) for every reference in the entity's spec."""
    for field, fwd, rev, default_kind in RULES[e["kind"]]:
        value = e["spec"].get(field)
        if value is None:
            continue
        for target in [value] if isinstance(value, str) else value:
            yield field, fwd, rev, parse_ref(target, default_kind)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    out = tmp_path_factory.mktemp("catalog")
    manifest = gen_catalog.generate(N, out, seed=1)
    docs = load(out)
    entities = [e for file_docs in docs.values() for e in file_docs]
    return out, manifest, docs, entities


def test_manifest_is_written_and_returned(catalog):
    out, manifest, _, _ = catalog
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["n"] == N and manifest["seed"] == 1
    assert sum(manifest["by_kind"].values()) == manifest["expected_entities"]
    assert manifest["expected_entities"] == N + manifest["by_kind"]["Location"]


def test_counts_per_kind_match_manifest(catalog):
    _, manifest, docs, entities = catalog
    assert len(entities) == manifest["expected_entities"]
    assert dict(Counter(e["kind"] for e in entities)) == manifest["by_kind"]
    assert set(manifest["by_kind"]) == {*gen_catalog.KIND_ORDER, "Location"}
    # the mix: 0.2 % Domain, 2 % System, 2 % Group, 20 % User, 15 % API, 14.5 % Resource,
    # 0.3 % Template, the rest Component
    mix = {"Domain": 1, "System": 10, "Group": 10, "User": 100, "API": 75, "Resource": 73}
    mix |= {"Template": 2, "Component": 229, "Location": 8}
    assert manifest["by_kind"] == mix
    # every data file holds one kind and at most `chunk` entities
    for name, file_docs in docs.items():
        assert len(file_docs) <= 2000
        if name != "catalog-info.yaml":
            assert len({e["kind"] for e in file_docs}) == 1, name


def test_entities_are_valid(catalog):
    _, _, _, entities = catalog
    seen: dict[str, set[str]] = {}
    for e in entities:
        assert set(e) == {"apiVersion", "kind", "metadata", "spec"}
        expected_api = (
            "scaffolder.backstage.io/v1beta3"
            if e["kind"] == "Template"
            else "backstage.io/v1alpha1"
        )
        assert e["apiVersion"] == expected_api
        name = e["metadata"]["name"]
        assert isinstance(name, str) and len(name) <= 63 and NAME_RE.match(name), name
        assert name not in seen.setdefault(e["kind"], set()), f"duplicate {e['kind']} {name}"
        seen[e["kind"]].add(name)
        for tag in e["metadata"].get("tags", []):
            assert isinstance(tag, str) and len(tag) <= 63 and TAG_RE.match(tag), tag
        for key, value in e["metadata"].get("labels", {}).items():
            assert NAME_RE.match(key) and isinstance(value, str) and NAME_RE.match(value)
        for value in e["metadata"].get("annotations", {}).values():
            assert isinstance(value, str) and value
        for link in e["metadata"].get("links", []):
            assert link["url"].startswith("https://")
        assert REQUIRED_SPEC[e["kind"]] <= set(e["spec"]), e
        for field in (
            "memberOf",
            "children",
            "members",
            "providesApis",
            "consumesApis",
            "dependsOn",
        ):
            value = e["spec"].get(field, [])
            assert isinstance(value, list) and all(isinstance(x, str) and x for x in value)
    defs = [e["spec"]["definition"] for e in entities if e["kind"] == "API"]
    openapi = [d for d in defs if d.startswith("openapi:")]
    assert openapi and all(300 <= len(d) <= 800 for d in openapi)
    assert all(isinstance(yaml.safe_load(d), dict) for d in openapi)


def test_every_reference_resolves(catalog):
    _, _, _, entities = catalog
    refs = {entity_ref(e) for e in entities}
    n_refs = 0
    for e in entities:
        for field, _, _, target in forward_relations(e):
            assert target in refs, f"{entity_ref(e)} {field} -> {target}"
            assert target != entity_ref(e)
            n_refs += 1
        if e["kind"] == "Component":
            assert all(
                d.startswith(("component:", "resource:")) for d in e["spec"].get("dependsOn", [])
            )
    assert n_refs > N


def test_org_shape(catalog):
    _, _, _, entities = catalog
    groups = {e["metadata"]["name"]: e["spec"] for e in entities if e["kind"] == "Group"}
    types = Counter(g["type"] for g in groups.values())
    assert types["organization"] == 1 and types["department"] >= 1 and types["team"] >= 1
    for name, g in groups.items():
        for child in g["children"]:
            assert groups[child]["parent"] == name
        if "parent" in g:
            assert name in groups[g["parent"]]["children"]
    teams = {n for n, g in groups.items() if g["type"] == "team"}
    users = [e["spec"] for e in entities if e["kind"] == "User"]
    assert all(1 <= len(u["memberOf"]) <= 2 and set(u["memberOf"]) <= teams for u in users)
    assert all(u["profile"]["displayName"] and "@" in u["profile"]["email"] for u in users)


def test_relations_match_independent_recount(catalog):
    _, manifest, _, entities = catalog
    rows = set()
    for e in entities:
        source = entity_ref(e)
        for _, fwd, rev, target in forward_relations(e):
            rows.add((source, fwd, target))
            rows.add((target, rev, source))
    assert len(rows) == manifest["expected_relations"]
    assert dict(Counter(t for _, t, _ in rows)) == manifest["relations_by_type"]
    # what a Backstage client sees: per served entity, its distinct (type, target) pairs
    served = {}
    for e in entities:
        served[entity_ref(e)] = set()
    for source, rtype, target in rows:
        if source in served:
            served[source].add((rtype, target))
    assert sum(len(v) for v in served.values()) == manifest["expected_relations_backstage"]
    # group membership is stated from both sides for some edges, from one side for others
    member_of = {(s, t) for s, rt, t in rows if rt == "memberOf"}
    users = [e for e in entities if e["kind"] == "User"]
    by_user = {(entity_ref(u), parse_ref(g, "group")) for u in users for g in u["spec"]["memberOf"]}
    assert by_user < member_of


def test_location_targets_cover_every_data_file(catalog):
    out, manifest, docs, _ = catalog
    locations = docs["catalog-info.yaml"]
    assert all(e["kind"] == "Location" for e in locations)
    targets = [t for e in locations for t in e["spec"]["targets"]]
    assert all(t.startswith("./") for t in targets)
    data_files = sorted(p.name for p in out.glob("*.yaml") if p.name != "catalog-info.yaml")
    assert sorted(t[2:] for t in targets) == data_files == sorted(manifest["files"])
    assert len(locations) == len(data_files)  # per-file layout
    assert manifest["root_file"] == "catalog-info.yaml"


def test_samples_name_existing_entities(catalog):
    _, manifest, _, entities = catalog
    names = {(e["kind"], e["metadata"]["name"]) for e in entities}
    tags = {t for e in entities for t in e["metadata"].get("tags", [])}
    assert len(manifest["sample_components"]) == 200
    assert len(set(manifest["sample_components"])) == 200
    assert all(("Component", n) in names for n in manifest["sample_components"])
    teams = [e for e in entities if e["kind"] == "Group" and e["spec"]["type"] == "team"]
    assert len(manifest["sample_teams"]) == min(50, len(teams))
    assert all(("Group", n) in names for n in manifest["sample_teams"])
    assert len(manifest["sample_users"]) == 50
    assert all(("User", n) in names for n in manifest["sample_users"])
    assert manifest["sample_tags"] and set(manifest["sample_tags"]) <= tags
    assert manifest["fulltext_terms"]


def test_single_location_layout_and_small_chunks(tmp_path):
    manifest = gen_catalog.generate(N, tmp_path, seed=1, chunk=50, layout="single-location")
    docs = load(tmp_path)
    (location,) = docs.pop("catalog-info.yaml")
    assert sorted(t[2:] for t in location["spec"]["targets"]) == sorted(docs)
    assert len(docs) == len(manifest["files"]) > 8
    assert all(0 < len(d) <= 50 for d in docs.values())
    assert manifest["by_kind"]["Location"] == 1
    assert manifest["expected_entities"] == N + 1 == 1 + sum(len(d) for d in docs.values())


def test_deterministic(tmp_path, catalog):
    out, manifest, _, _ = catalog
    again = gen_catalog.generate(N, tmp_path / "again", seed=1)
    assert again == manifest
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(p.name for p in (tmp_path / "again").iterdir())
    for name in files:
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    other = tmp_path / "other"
    gen_catalog.generate(N, other, seed=2)
    assert (other / "components-000.yaml").read_bytes() != (
        out / "components-000.yaml"
    ).read_bytes()


def test_cli(tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gen_catalog.py"), "--n", "40", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    summary = json.loads(proc.stdout)
    assert (
        summary["expected_entities"]
        == json.loads((out / "manifest.json").read_text())["expected_entities"]
    )
    bad = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gen_catalog.py"), "--n", "5", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "at least" in bad.stderr
