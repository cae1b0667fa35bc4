"""Building the served entity from its processed form, relations, parents and errors."""

from __future__ import annotations

from typing import Any

from greenroom.jsonutil import dumps, sha1_hex

ORPHAN_ANNOTATION = "backstage.io/orphan"
PROCESSING_ERROR_TYPE = "backstage.io/catalog-processing"
SCRUBBED_URL = "https://backstage.io/annotation-rejected-for-security-reasons"
_URL_ANNOTATIONS = ("backstage.io/view-url", "backstage.io/edit-url")


def status_items(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Serialized errors as Backstage's `status.items`."""
    items = []
    for error in errors:
        parts = []
        current: dict[str, Any] | None = error
        while current:
            parts.append(f"{current['name']}: {current['message']}")
            current = current.get("cause")
        items.append(
            {
                "type": PROCESSING_ERROR_TYPE,
                "level": "error",
                "message": "; caused by ".join(parts),
                "error": error,
            }
        )
    return items


def stitch_entity(
    processed: dict[str, Any],
    *,
    entity_id: str,
    relations: list[tuple[str, str]],
    has_parents: bool,
    errors: list[dict[str, Any]] | None,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The served entity and its sorted relation list. `processed` is not modified."""
    entity = dict(processed)
    metadata = dict(entity.get("metadata") or {})
    entity["metadata"] = metadata
    annotations = dict(metadata.get("annotations") or {})
    if has_parents:
        annotations.pop(ORPHAN_ANNOTATION, None)
    else:
        annotations[ORPHAN_ANNOTATION] = "true"
    for key in _URL_ANNOTATIONS:
        value = annotations.get(key)
        if isinstance(value, str) and value.strip().lower().startswith("javascript:"):
            annotations[key] = SCRUBBED_URL
    metadata["annotations"] = annotations
    metadata["uid"] = entity_id
    metadata.pop("etag", None)
    relation_list = [{"type": t, "targetRef": r} for t, r in sorted(set(relations))]
    entity["relations"] = relation_list
    if errors:
        entity["status"] = {"items": status_items(errors)}
    else:
        entity.pop("status", None)
    # Unlike Backstage we never keep an etag written in the YAML: it would hide changes.
    metadata["etag"] = sha1_hex(dumps(entity))
    return entity, relation_list


def unstitch(final: dict[str, Any]) -> dict[str, Any]:
    """The processed entity a served entity was stitched from (computed parts removed)."""
    entity = {k: v for k, v in final.items() if k not in ("relations", "status")}
    metadata = {k: v for k, v in final["metadata"].items() if k not in ("uid", "etag")}
    annotations = {
        k: v for k, v in metadata.get("annotations", {}).items() if k != ORPHAN_ANNOTATION
    }
    metadata["annotations"] = annotations
    entity["metadata"] = metadata
    return entity
