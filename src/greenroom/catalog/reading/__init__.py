"""The reading layer: location targets to file contents to parsed YAML documents, safely."""

from greenroom.catalog.reading.placeholders import has_placeholders, resolve_placeholders
from greenroom.catalog.reading.policy import HostRule, ReadingPolicy
from greenroom.catalog.reading.readers import (
    FileReader,
    GitReader,
    Readers,
    ReadResult,
    UrlReader,
    parse_git_target,
)
from greenroom.catalog.reading.yamldocs import YamlDocument, locate_field_line, parse_documents

__all__ = [
    "FileReader",
    "GitReader",
    "HostRule",
    "ReadResult",
    "Readers",
    "ReadingPolicy",
    "UrlReader",
    "YamlDocument",
    "has_placeholders",
    "locate_field_line",
    "parse_documents",
    "parse_git_target",
    "resolve_placeholders",
]
