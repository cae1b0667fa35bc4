"""Entities as the plain data pages show (and their JSON twins return).

Pages never hand raw entities to templates: these functions pick, humanize and
link the fields, so a template is only layout and the JSON says what is shown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from greenroom.catalog.model.refs import RefError, entity_ref_of, parse_entity_ref

# Relation types as the cards of the entity page group them, with their headings.
RELATION_CARDS: tuple[tuple[str, str], ...] = (
    ("hasPart", "Has parts"),
    ("partOf", "Part of"),
    ("providesApi", "Provides APIs"),
    ("consumesApi", "Consumes APIs"),
    ("apiProvidedBy", "Provided by"),
    ("apiConsumedBy", "Consumed by"),
    ("dependsOn", "Depends on"),
    ("dependencyOf", "Dependency of"),
    ("ownerOf", "Owns"),
    ("hasMember", "Members"),
    ("memberOf", "Member of"),
    ("parentOf", "Child groups"),
    ("childOf", "Parent group"),
)
SAFE_URL_SCHEMES = ("http", "https", "mailto")


def entity_url(ref: str) -> str:
    """The entity page of a ref (`kind:namespace/name`), as Backstage links it."""
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    return "/catalog/" + "/".join(quote(part, safe="") for part in (namespace, kind.lower(), name))


def display_ref(ref: str, *, context_kind: str | None = None) -> str:
    """`team-a` rather than `group:default/team-a` where the kind goes without saying."""
    try:
        parsed = parse_entity_ref(ref, default_kind="unknown")
    except RefError:
        return ref
    name = parsed.name
    if parsed.namespace.lower() != "default":
        name = f"{parsed.namespace}/{name}"
    if context_kind is None or parsed.kind.lower() != context_kind.lower():
        return f"{parsed.kind.lower()}:{name}"
    return name


def ref_link(ref: str, *, context_kind: str | None = None) -> dict[str, str]:
    return {
        "ref": ref,
        "label": display_ref(ref, context_kind=context_kind),
        "url": entity_url(ref),
    }


def safe_url(url: Any) -> str | None:
    """A link target users wrote into YAML, or None when it could run script (`javascript:`)."""
    if not isinstance(url, str) or not url:
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url if scheme in SAFE_URL_SCHEMES else None


def summary(entity: dict[str, Any]) -> dict[str, Any]:
    """What a table row or a list item shows of an entity."""
    metadata = entity.get("metadata") or {}
    spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
    ref = entity_ref_of(entity)
    owner = _relation_target(entity, "ownedBy") or (
        spec.get("owner") if isinstance(spec.get("owner"), str) else None
    )
    system = _relation_target(entity, "partOf", kind="system")
    profile = spec.get("profile") if isinstance(spec.get("profile"), dict) else {}
    title = metadata.get("title") or profile.get("displayName")
    return {
        "ref": ref,
        "url": entity_url(ref),
        "kind": entity.get("kind", ""),
        "namespace": metadata.get("namespace") or "default",
        "name": metadata.get("name", ""),
        "title": title if isinstance(title, str) else None,
        "description": metadata.get("description")
        if isinstance(metadata.get("description"), str)
        else None,
        "type": spec.get("type") if isinstance(spec.get("type"), str) else None,
        "lifecycle": spec.get("lifecycle") if isinstance(spec.get("lifecycle"), str) else None,
        "owner": ref_link(owner, context_kind="group") if owner and ":" in owner else None,
        "system": ref_link(system, context_kind="system") if system else None,
        "tags": [t for t in metadata.get("tags") or [] if isinstance(t, str)],
        "error_count": len(_status_errors(entity)),
    }


def _relation_target(entity: dict[str, Any], type_: str, *, kind: str | None = None) -> str | None:
    for relation in entity.get("relations") or []:
        target = relation.get("targetRef", "")
        if relation.get("type") == type_ and (kind is None or target.startswith(kind + ":")):
            return target
    return None


def _status_errors(entity: dict[str, Any]) -> list[dict[str, Any]]:
    status = entity.get("status") if isinstance(entity.get("status"), dict) else {}
    return [item for item in status.get("items") or [] if item.get("level") == "error"]


def status_errors(entity: dict[str, Any]) -> list[dict[str, str]]:
    """Processing errors stitched onto the entity, as the banner shows them."""
    out = []
    for item in _status_errors(entity):
        error = item.get("error") if isinstance(item.get("error"), dict) else {}
        out.append(
            {
                "name": str(error.get("name") or item.get("type") or "Error"),
                "message": str(error.get("message") or ""),
            }
        )
    return out


def relation_refs(entity: dict[str, Any]) -> dict[str, list[str]]:
    """Target refs by relation type, sorted, without duplicates."""
    grouped: dict[str, set[str]] = {}
    for relation in entity.get("relations") or []:
        type_, target = relation.get("type"), relation.get("targetRef")
        if isinstance(type_, str) and isinstance(target, str):
            grouped.setdefault(type_, set()).add(target)
    return {type_: sorted(targets) for type_, targets in grouped.items()}


def links(entity: dict[str, Any]) -> list[dict[str, str]]:
    """`metadata.links` plus the source, view and edit links Backstage derives from annotations."""
    metadata = entity.get("metadata") or {}
    out: list[dict[str, str]] = []
    for link in metadata.get("links") or []:
        if isinstance(link, dict) and (url := safe_url(link.get("url"))):
            out.append({"title": str(link.get("title") or url), "url": url, "icon": "external"})
    return out


def source_links(entity: dict[str, Any]) -> list[dict[str, str]]:
    annotations = (entity.get("metadata") or {}).get("annotations") or {}
    out: list[dict[str, str]] = []
    source = annotations.get("backstage.io/source-location")
    if isinstance(source, str) and source.startswith("url:") and (url := safe_url(source[4:])):
        out.append({"title": "View source", "url": url, "icon": "code"})
    for key, title, icon in (
        ("backstage.io/view-url", "View", "external"),
        ("backstage.io/edit-url", "Edit", "edit"),
    ):
        if url := safe_url(annotations.get(key)):
            out.append({"title": title, "url": url, "icon": icon})
    return out


def managed_by(entity: dict[str, Any]) -> dict[str, str | None]:
    annotations = (entity.get("metadata") or {}).get("annotations") or {}
    return {
        "location": annotations.get("backstage.io/managed-by-location"),
        "origin": annotations.get("backstage.io/managed-by-origin-location"),
    }
