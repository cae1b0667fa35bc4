"""The rules for registering, changing and removing locations at run time.

`catalog.allowedLocationTypes` and `catalog.readonly` govern the catalog API and the
portal's pages alike; both call these checks, so the two can never disagree.
"""

from __future__ import annotations

import orjson

from greenroom.config import Config
from greenroom.errors import InputError, NotAllowedError


def check_location_type(config: Config, type_: str) -> None:
    """Refuse a location type `catalog.allowedLocationTypes` does not list (400)."""
    allowed = config.catalog.allowed_location_types
    if type_ not in allowed:
        raise InputError(
            f"Registered locations must be of an allowed type {orjson.dumps(allowed).decode()}"
        )


def check_writable(config: Config) -> None:
    """Refuse changes to registered locations when `catalog.readonly` is set (403)."""
    if config.catalog.readonly:
        raise NotAllowedError("This operation not allowed in readonly mode")
