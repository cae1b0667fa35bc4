"""Fast JSON (orjson) and content hashes, used on every entity."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS


def dumps(value: Any) -> str:
    """Stable JSON text (sorted keys), so equal values give equal text and hashes."""
    return orjson.dumps(value, option=_SORTED).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


def sha1_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()
