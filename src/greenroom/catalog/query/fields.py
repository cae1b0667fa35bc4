"""Field projection (`fields=kind,metadata.name`), as Backstage applies it to entities."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from greenroom.errors import InputError

MAX_FIELDS = 100


def parse_fields(raw: Iterable[str]) -> list[list[str]] | None:
    """Comma-separated and/or repeated entries, merged; None means the whole entity."""
    paths: dict[str, None] = {}
    for entry in raw:
        for part in entry.split(","):
            part = part.strip()
            if not part:
                continue
            if "[" in part:
                raise InputError("Invalid fields, array type fields are not supported")
            paths[part] = None
    if len(paths) > MAX_FIELDS:
        raise InputError(f"Invalid fields, at most {MAX_FIELDS} are allowed")
    return [p.split(".") for p in paths] or None


def project(entity: dict[str, Any], paths: list[list[str]]) -> dict[str, Any]:
    """Only the subtrees `paths` name. A segment that is not a key is joined with the
    next one, so `metadata.annotations.backstage.io/techdocs-ref` finds its key."""
    out: dict[str, Any] = {}
    for segments in paths:
        _copy(entity, out, segments)
    return out


def _copy(source: Any, target: dict[str, Any], segments: list[str]) -> None:
    if not isinstance(source, dict):
        return
    for end in range(1, len(segments) + 1):
        key = ".".join(segments[:end])
        if key not in source:
            continue
        rest = segments[end:]
        if not rest:
            target[key] = source[key]
        elif isinstance(source[key], dict):
            child = target.get(key)
            if not isinstance(child, dict):
                child = target[key] = {}
            _copy(source[key], child, rest)
            if not child:
                del target[key]
        return
