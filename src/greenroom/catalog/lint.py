"""`greenroom catalog validate`: the catalog's own checks, run on files, for CI."""

from __future__ import annotations

import glob
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from greenroom.catalog.model import check_envelope
from greenroom.catalog.processing.engine import make_readers
from greenroom.catalog.processing.locations import annotate
from greenroom.catalog.processing.pipeline import process_entity
from greenroom.catalog.processing.rules import CatalogRules
from greenroom.catalog.processing.types import ProcessingEnvironment
from greenroom.catalog.reading import locate_field_line, parse_documents
from greenroom.config import Config
from greenroom.errors import GreenroomError, InputError, error_message
from greenroom.plugins import collect, make_plugin_manager

_YAML_SUFFIXES = (".yaml", ".yml")


def _github_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF are escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """A workflow command's property value (`file=`, `title=`): also `:` and `,`."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    field: str | None
    message: str

    def format(self, style: str = "text") -> str:
        if style == "github":
            # GitHub workflow command syntax: the message escapes %, CR and LF; the
            # properties also `:` and `,`, which would end the value early.
            title = f",title={_github_property(self.field)}" if self.field else ""
            return (
                f"::error file={_github_property(self.path)},line={self.line or 1}{title}"
                f"::{_github_data(self.message)}"
            )
        field = f" [{self.field}]" if self.field else ""
        return f"{self.path}:{self.line or 1}: {self.message}{field}"


def expand_paths(paths: list[str]) -> list[Path]:
    """Files as given, directories searched for *.yaml/*.yml, globs expanded; sorted, unique."""
    found: list[Path] = []
    for raw in paths:
        if glob.has_magic(raw):
            found.extend(
                Path(p) for p in sorted(glob.glob(raw, recursive=True)) if Path(p).is_file()
            )
        elif os.path.isdir(raw):
            for root, dirs, files in os.walk(raw):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / f for f in sorted(files) if f.endswith(_YAML_SUFFIXES))
        else:
            found.append(Path(raw))
    return list(dict.fromkeys(found))


def _read_at_most(f: BinaryIO, limit: int) -> bytes:
    """Up to `limit` bytes, read in blocks (one `read(limit)` would allocate `limit` at once)."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        block = f.read(min(1 << 20, limit - total))
        if not block:
            break
        chunks.append(block)
        total += len(block)
    return b"".join(chunks)


def _origin_for(path: Path, root: Path) -> str:
    """The origin location a file is checked as coming from: placeholders may read under its folder.

    During ingestion placeholders may read anywhere under the root of the location
    the file came through (the folder of the config or registered location), not only
    next to the file. Here that root is `root`: the origin is a file location in it.
    A file outside `root` is its own origin, as a location of its own would be.
    """
    resolved = path.resolve()
    # A root with glob characters would be taken for a pattern (whose root is higher up).
    if resolved.is_relative_to(root) and not glob.has_magic(str(root)):
        return f"file:{root / 'catalog-info.yaml'}"
    return f"file:{resolved}"


def lint_paths(
    paths: list[str], config: Config, *, root: str | Path | None = None
) -> tuple[list[Problem], int]:
    """All problems in the given files, and how many entities were checked.

    `root` (default: the current folder) is the folder placeholders may read under,
    like the root of the location files come through when they are ingested.
    """
    root = Path(root if root is not None else Path.cwd()).resolve()
    pm = make_plugin_manager(config)
    readers = make_readers(config)
    # Location targets are not followed: each file is checked on its own.
    env = ProcessingEnvironment(
        config=config, readers=readers, kinds=tuple(collect(pm.hook.catalog_kinds())), processors=()
    )
    rules = CatalogRules(config)
    problems: list[Problem] = []
    checked = 0
    for path in expand_paths(paths):
        shown = str(path)
        location = f"file:{path.resolve()}"
        limit = config.reading.max_file_bytes
        try:
            # Size and type are checked before reading: a huge file is refused, never
            # loaded, and a FIFO or device is not opened (that could block).
            if not stat.S_ISREG(path.stat().st_mode):
                problems.append(Problem(shown, None, None, "InputError: not a regular file"))
                continue
            with path.open("rb", buffering=0) as f:
                size = os.fstat(f.fileno()).st_size
                content = _read_at_most(f, limit + 1) if size <= limit else b""
        except OSError as exc:
            problems.append(
                Problem(shown, None, None, f"NotFoundError: cannot read file: {exc.strerror}")
            )
            continue
        if size > limit or len(content) > limit:
            size = max(size, len(content))
            problems.append(
                Problem(
                    shown,
                    None,
                    None,
                    f"InputError: file is {size} bytes, over the limit of {limit} bytes (reading.maxFileBytes)",
                )
            )
            continue

        def add(error: GreenroomError, shown: str = shown) -> None:
            problems.append(Problem(shown, error.line, error.field, error_message(error)))

        documents, errors = parse_documents(content, source=location)
        for error in errors:
            add(error)
        text = None
        for doc in documents:
            checked += 1
            try:
                check_envelope(doc.data)
            except InputError as error:
                if error.field:
                    text = text or content.decode("utf-8", "replace")
                    error.line = locate_field_line(text, doc.line, error.field) or doc.line
                add(error.at(line=doc.line))
                continue
            entity = annotate(doc.data, location, _origin_for(path, root), "file")
            outcome = process_entity(entity, env, rules, source_line=doc.line)
            for error in outcome.errors:
                add(error)
    problems.sort(key=lambda p: (p.path, p.line or 0))
    return problems, checked
