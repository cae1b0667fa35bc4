"""Placeholders: ``{$text: ./x}``, ``{$json: ./x.json}``, ``{$yaml: ./x.yaml}`` in entities.

Semantics follow Backstage's PlaceholderProcessor: an object whose only key is
``$text``, ``$json`` or ``$yaml`` with a string value is replaced by the file
it names (text, parsed JSON, or the one parsed YAML document). An object that
has a ``$``-key but is not exactly such a placeholder (several keys, unknown
``$name``, non-string value) is left alone, as upstream does. Resolved values
are not searched for further placeholders.

Unlike Backstage (where a relative placeholder in a ``file`` location fails
with "Invalid URL"), paths are resolved relative to the file the entity came
from, and never outside the location root (see `Readers.read_relative`).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from greenroom.catalog.reading.readers import Readers
from greenroom.catalog.reading.yamldocs import parse_documents
from greenroom.errors import GreenroomError, InputError, NotAllowedError, NotFoundError

__all__ = ["has_placeholders", "resolve_placeholders"]

_RESOLVERS = ("text", "json", "yaml")
# A placeholder key in JSON text. Inside a JSON string a quote is escaped, so
# `"$text":` can only be an object key.
_PLACEHOLDER_KEY = re.compile(rb'"\$(?:text|json|yaml)":')


def has_placeholders(entity: Any) -> bool:
    """Cheap test (about 1 µs for a typical entity): could `entity` hold a placeholder?"""
    try:
        return _PLACEHOLDER_KEY.search(orjson.dumps(entity)) is not None
    except (TypeError, orjson.JSONEncodeError):
        return _walk_has_dollar_key(entity)


def _walk_has_dollar_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            (isinstance(k, str) and k.startswith("$")) or _walk_has_dollar_key(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_walk_has_dollar_key(v) for v in value)
    return False


def resolve_placeholders(
    entity: dict[str, Any], *, base_location: str, readers: Readers, root: str | None = None
) -> dict[str, Any]:
    """A copy of `entity` with its placeholders replaced; `entity` itself when it has none.

    `base_location` is the location ref of the file the entity was read from;
    `root` limits what placeholders may read (default: see `Readers.read_relative`).
    Errors carry ``file=base_location`` and ``field=`` the dotted path of the
    placeholder (e.g. ``spec.definition``).
    """
    if not has_placeholders(entity):
        return entity
    resolver = _Resolver(base_location, readers, root)
    return resolver.value(entity, "")


class _Resolver:
    def __init__(self, base_location: str, readers: Readers, root: str | None) -> None:
        self.base_location = base_location
        self.readers = readers
        self.root = root

    def value(self, data: Any, path: str) -> Any:
        if isinstance(data, list):
            return [
                self.value(item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(data)
            ]
        if not isinstance(data, dict):
            return data
        if not any(isinstance(k, str) and k.startswith("$") for k in data):
            return {k: self.value(v, f"{path}.{k}" if path else str(k)) for k, v in data.items()}
        if len(data) == 1:
            ((key, target),) = data.items()
            if key[1:] in _RESOLVERS and isinstance(target, str):
                return self.resolve(key[1:], target, path)
        # not a placeholder we handle: left alone, like upstream
        return _copy(data)

    def resolve(self, kind: str, target: str, path: str) -> Any:
        try:
            result = self.readers.read_relative(self.base_location, target, root=self.root)
        except (NotAllowedError, NotFoundError, InputError) as e:
            raise type(e)(
                f"Placeholder ${kind} could not read {target}: {e.message}", **self._at(path)
            ) from None
        except GreenroomError as e:
            raise GreenroomError(
                f"Placeholder ${kind} could not read {target}: {e.message}", **self._at(path)
            ) from None
        if kind == "text":
            return result.content.decode("utf-8", "replace")
        if kind == "json":
            try:
                return orjson.loads(result.content)
            except orjson.JSONDecodeError as e:
                raise InputError(
                    f"Placeholder $json failed to parse JSON data at {target}, {e}",
                    **self._at(path),
                ) from None
        docs, errors = parse_documents(
            result.content, source=result.location, require_mapping=False
        )
        if errors:
            raise InputError(
                f"Placeholder $yaml found an error in the data at {target}, {errors[0].message}",
                **self._at(path),
            )
        if len(docs) != 1:
            raise InputError(
                f"Placeholder $yaml expected to find exactly one document of data at {target}, "
                f"found {len(docs)}",
                **self._at(path),
            )
        return docs[0].data

    def _at(self, path: str) -> dict[str, Any]:
        return {"file": self.base_location, "field": path or None}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
