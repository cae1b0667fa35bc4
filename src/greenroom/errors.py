"""Error classes shared by every part of Greenroom.

The names follow Backstage's error names (`InputError`, `NotFoundError`, ...)
because they travel to API clients in the error JSON and in `status.items` of
entities. Each error may carry the source position it is about: the file (a
location reference such as ``file:/path/catalog-info.yaml`` or a URL), the
1-based line and the dotted field path. Those three are what a person needs to
fix bad input, so every reader and validator fills in what it knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where in the input an error points: file, line (1-based) and field path."""

    file: str | None = None
    line: int | None = None
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (("file", self.file), ("line", self.line), ("field", self.field))
            if v is not None
        }

    def describe(self) -> str:
        """`file:line` (or what of it is known), for CLI output and messages."""
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""


class GreenroomError(Exception):
    """Base class: an error with a Backstage error name and an HTTP status."""

    name = "Error"
    status = 500

    def __init__(
        self,
        message: str,
        *,
        cause: BaseException | None = None,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
        self.field = field

    @property
    def position(self) -> SourcePosition:
        return SourcePosition(self.file, self.line, self.field)

    def at(
        self, *, file: str | None = None, line: int | None = None, field: str | None = None
    ) -> GreenroomError:
        """Fill in position parts that are still unknown; returns self for chaining."""
        self.file = self.file or file
        self.line = self.line or line
        self.field = self.field or field
        return self

    def to_json(self) -> dict[str, Any]:
        """Serialized like Backstage's `serializeError` (no stack), plus our position."""
        out: dict[str, Any] = {"name": self.name, "message": self.message}
        if self.cause is not None:
            out["cause"] = serialize_error(self.cause)
        pos = self.position.to_json()
        if pos:
            out["sourceLocation"] = pos
        return out

    def __str__(self) -> str:
        return self.message


class InputError(GreenroomError):
    """The input is malformed: bad YAML, a field that breaks a rule, a bad reference."""

    name = "InputError"
    status = 400


class NotFoundError(GreenroomError):
    """A file, URL, repository or entity that was asked for does not exist."""

    name = "NotFoundError"
    status = 404


class NotAllowedError(GreenroomError):
    """Refused by policy: a host not in `reading.allow`, a kind not allowed by rules, a path escape."""

    name = "NotAllowedError"
    status = 403


class ConflictError(GreenroomError):
    """The thing exists already and belongs to someone else (e.g. an entity from another location)."""

    name = "ConflictError"
    status = 409


class ServiceUnavailableError(GreenroomError):
    """The work could not be done now (e.g. a query ran past its time limit); try again."""

    name = "ServiceUnavailableError"
    status = 503


class ConfigError(GreenroomError):
    """The configuration file is invalid; the message names the bad key."""

    name = "ConfigError"
    status = 500


def serialize_error(error: BaseException) -> dict[str, Any]:
    """Any exception as Backstage's serialized error JSON: `{name, message, cause?}`."""
    if isinstance(error, GreenroomError):
        return error.to_json()
    name = type(error).__name__
    if name not in ("TypeError",):
        name = "Error"
    return {"name": name, "message": str(error)}


def error_message(error: BaseException) -> str:
    """`Name: message; caused by Name: message`, the chain format of status items."""
    data = serialize_error(error)
    parts = []
    while data:
        parts.append(f"{data['name']}: {data['message']}")
        data = data.get("cause")
    return "; caused by ".join(parts)
