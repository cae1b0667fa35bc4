"""The built-in Location processor: reads a Location's targets and emits what they hold."""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import urljoin

from greenroom.catalog.model import check_envelope, entity_ref_of
from greenroom.catalog.processing.rules import CatalogRules
from greenroom.catalog.processing.types import DeferredEntity, ProcessingContext
from greenroom.catalog.reading import Readers, locate_field_line, parse_documents
from greenroom.errors import GreenroomError, InputError, NotAllowedError, NotFoundError
from greenroom.jsonutil import sha1_hex

MANAGED_BY_LOCATION = "backstage.io/managed-by-location"
MANAGED_BY_ORIGIN = "backstage.io/managed-by-origin-location"
VIEW_URL = "backstage.io/view-url"
SOURCE_LOCATION = "backstage.io/source-location"


def split_git_target(target: str) -> tuple[str, str, str]:
    """`<remote>[//<path>][?ref=<ref>]` as (remote, path, query-with-?)."""
    query = ""
    if "?" in target:
        target, query = target.split("?", 1)
        query = "?" + query
    scheme_end = target.find("://")
    search_from = scheme_end + 3 if scheme_end >= 0 else 0
    split = target.find("//", search_from)
    if scheme_end >= 0 and target.startswith("file://"):
        # file:///srv/x.git//path: the remote's own path starts with "/"
        split = target.find("//", len("file:///"))
    if split < 0:
        return target, "", query
    return target[:split], target[split + 2 :], query


def check_type_switch(parent_location: str | None, type_: str, target: str) -> None:
    """Content read from the network may only lead to more network reads.

    A Location found in a url or git location is someone else's file: it may point
    at url targets (host-checked by `reading.allow`), at files of its own git
    repository, or at other http(s) git remotes, but never at this server's own
    files or local repositories.
    """
    parent_type, _, parent_target = (parent_location or "").partition(":")
    if parent_type not in ("url", "git") or type_ == "url":
        return
    if type_ == "git":
        remote = split_git_target(target)[0]
        same_repository = parent_type == "git" and remote == split_git_target(parent_target)[0]
        if same_repository or remote.startswith(("http://", "https://")):
            return
    raise NotAllowedError(
        f"A Location read from a {parent_type} location may only point at url targets, "
        f"its own repository or http(s) git remotes, not {type_}:{target}"
    )


def resolve_target(parent_location: str | None, type_: str, target: str) -> str:
    """A Location target resolved against the file that declared it (same type only)."""
    if not parent_location or ":" not in parent_location:
        return target
    parent_type, parent_target = parent_location.split(":", 1)
    if parent_type != type_:
        return target
    if type_ == "file":
        if target.startswith("."):
            return posixpath.normpath(posixpath.join(posixpath.dirname(parent_target), target))
        return target
    if type_ == "url":
        return urljoin(parent_target, target)
    if type_ == "git" and target.startswith(("./", "../")):
        remote, path, query = split_git_target(parent_target)
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        return f"{remote}//{joined}{query}"
    return target


class LocationEntityProcessor:
    """Turns each Location entity into the entities its targets hold."""

    name = "builtin:location"

    def __init__(self, readers: Readers, rules: CatalogRules) -> None:
        self.readers = readers
        self.rules = rules

    def process(self, entity: dict[str, Any], context: ProcessingContext) -> dict[str, Any]:
        if entity.get("kind") != "Location":
            return entity
        spec = entity.get("spec") or {}
        parent_type = context.location.split(":", 1)[0] if context.location else None
        type_ = spec.get("type") or parent_type or "url"
        targets = ([spec["target"]] if spec.get("target") else []) + list(spec.get("targets") or [])
        optional = spec.get("presence") == "optional"
        files = []
        for index, raw_target in enumerate(targets):
            target = resolve_target(context.location, type_, raw_target)
            field = (
                "spec.target"
                if spec.get("target") and index == 0
                else f"spec.targets.{index - (1 if spec.get('target') else 0)}"
            )
            file_errors: list[GreenroomError] = []
            try:
                check_type_switch(context.location, type_, target)
                files.extend(self.readers.read_location(type_, target, errors=file_errors))
            except NotFoundError as error:
                if not optional:
                    context.add_error(error.at(file=context.location, field=field))
                    context.preserve_all_children = True
            except GreenroomError as error:
                context.add_error(error.at(file=context.location, field=field))
                context.preserve_all_children = True
            # One file of a glob that could not be read (too big, a symlink out of the
            # root): the other files still count, and what that file brought in before stays.
            for error in file_errors:
                context.add_error(error.at(file=context.location, field=field))
                if error.file:
                    context.preserve_location_keys.add(error.file)
        for file in files:
            context.record_input(file.location, sha1_hex(file.content))
        # Same files, same bytes, same rules: the children are those of the last run.
        context.skip_if_unchanged()
        for file in files:
            self._emit_file(file.location, file.content, type_, context)
        return entity

    def _emit_file(
        self, location: str, content: bytes, type_: str, context: ProcessingContext
    ) -> None:
        documents, errors = parse_documents(content, source=location)
        if errors:
            context.preserve_location_keys.add(location)
            for error in errors:
                context.add_error(error.at(file=location))
        text: str | None = None
        for doc in documents:
            data = doc.data
            try:
                check_envelope(data)
            except InputError as error:
                context.preserve_location_keys.add(location)
                if error.field and text is None:
                    text = content.decode("utf-8", errors="replace")
                line = (
                    locate_field_line(text, doc.line, error.field) if error.field and text else None
                )
                context.add_error(error.at(file=location, line=line or doc.line))
                continue
            ref = entity_ref_of(data)
            if not self.rules.is_allowed(data["kind"], location=location, origin=context.origin):
                if text is None:
                    text = content.decode("utf-8", errors="replace")
                context.add_error(
                    NotAllowedError(
                        f"Entity {ref} at {location}, originated at {context.origin}, "
                        "is not of an allowed kind for that location",
                        file=location,
                        line=locate_field_line(text, doc.line, "kind") or doc.line,
                        field="kind",
                    )
                )
                continue
            context.emit_child(
                DeferredEntity(annotate(data, location, context.origin, type_), location, doc.line)
            )


def annotate(
    entity: dict[str, Any], location: str, origin: str | None, type_: str
) -> dict[str, Any]:
    """The managed-by annotations every emitted entity carries (forced, as in Backstage)."""
    metadata = entity.get("metadata")
    annotations = metadata.get("annotations")
    annotations = dict(annotations) if isinstance(annotations, dict) else {}
    annotations[MANAGED_BY_LOCATION] = location
    annotations[MANAGED_BY_ORIGIN] = origin or location
    if type_ == "url":
        url = location.split(":", 1)[1]
        annotations.setdefault(VIEW_URL, url)
        annotations.setdefault(SOURCE_LOCATION, f"url:{url.rsplit('/', 1)[0]}/")
    if metadata.get("annotations") is not None and not isinstance(
        metadata.get("annotations"), dict
    ):
        # Leave a mistyped annotations field for validation to report.
        return entity
    return {**entity, "metadata": {**metadata, "annotations": annotations}}
