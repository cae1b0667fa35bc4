"""Opaque paging cursors: base64 of JSON, as Backstage's clients expect.

The official client decodes a cursor and, when it has a `query` key, sends the
next page to POST /entities/by-query; both routes accept every cursor we issue.
A cursor is client input like any other: it is parsed strictly, and what it holds
is re-validated (a forged cursor can only ask what a filter could have asked).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from greenroom.errors import InputError

MAX_CURSOR_LENGTH = 64 * 1024


def encode_cursor(data: dict[str, Any]) -> str:
    return base64.b64encode(orjson.dumps(data)).decode("ascii")


def decode_cursor(cursor: str) -> dict[str, Any]:
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise InputError("Malformed cursor: empty or too long")
    try:
        data = orjson.loads(base64.b64decode(cursor.encode("ascii"), validate=True))
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise InputError(f"Malformed cursor: {error}") from None
    if not isinstance(data, dict):
        raise InputError("Malformed cursor: not an object")
    return data
