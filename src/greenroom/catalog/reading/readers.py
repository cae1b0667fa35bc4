"""Readers: turn a location (`file`, `url`, `git`) into file contents, within limits.

Location refs of what was read (``ReadResult.location``) are what entities get
as their managed-by-location and what placeholders resolve against:

* ``file:/abs/path/catalog-info.yaml``
* ``url:https://host/x/catalog-info.yaml`` (the URL asked for, not a redirect target)
* ``git:<remote>//<path in repository>[?ref=<ref>]`` (``?ref`` only when the
  location named one; without it the remote's HEAD is read)

Every error names the location (``file=``) it is about and never carries a stack
trace. Nothing is read outside its root: symlinks are followed only when the file
they resolve to stays inside the root (the non-glob directory of a file
location, the checkout of a git location), placeholders (`read_relative`) stay
under the location root, and URLs (and each redirect hop) must pass the
`ReadingPolicy` host rules.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import parse_qsl, unquote

import httpx

from greenroom.catalog.reading.policy import ReadingPolicy
from greenroom.errors import GreenroomError, InputError, NotAllowedError, NotFoundError

__all__ = ["FileReader", "GitReader", "ReadResult", "Readers", "UrlReader", "parse_git_target"]


@dataclass(slots=True)
class ReadResult:
    """One file read: its location ref and its bytes."""

    location: str
    content: bytes


# --------------------------------------------------------------------------
# local files and globs
# --------------------------------------------------------------------------

_MAGIC = re.compile(r"[*?\[{]")
_O_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def _has_magic(text: str) -> bool:
    return _MAGIC.search(text) is not None


def _expand_braces(pattern: str) -> list[str]:
    """`a/{b,c}/d` -> [`a/b/d`, `a/c/d`] (nested braces work; no comma = literal)."""
    depth = 0
    start = -1
    for i, ch in enumerate(pattern):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                inner = pattern[start + 1 : i]
                parts, level, last = [], 0, 0
                for j, c in enumerate(inner):
                    if c == "{":
                        level += 1
                    elif c == "}":
                        level -= 1
                    elif c == "," and level == 0:
                        parts.append(inner[last:j])
                        last = j + 1
                parts.append(inner[last:])
                if len(parts) == 1:
                    continue  # `{x}` is literal
                head, tail = pattern[:start], pattern[i + 1 :]
                out: list[str] = []
                for part in parts:
                    for expanded in _expand_braces(head + part + tail):
                        if expanded not in out:
                            out.append(expanded)
                return out
    return [pattern]


def _glob(base: str, segments: list[str]) -> set[str]:
    """Files under directory `base` matching path `segments` (`*`, `?`, `[..]`, `**`).

    Like a shell glob: names starting with a dot are only matched by a segment
    that starts with a dot. `**` matches any number of directories but does not
    descend into symlinked directories (no loops, no escapes through them).
    """
    if segments and segments[-1] == "**":
        segments = [*segments, "*"]
    found: set[str] = set()

    def entries(directory: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(directory) as it:
                return list(it)
        except OSError:
            return []

    def walk(directory: str, i: int) -> None:
        seg = segments[i]
        last = i == len(segments) - 1
        if seg == "**":
            walk(directory, i + 1)
            for entry in entries(directory):
                if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                    walk(entry.path, i)
            return
        if not _has_magic(seg):
            path = os.path.join(directory, seg)
            if last:
                if os.path.isfile(path):
                    found.add(path)
            elif os.path.isdir(path):
                walk(path, i + 1)
            return
        for entry in entries(directory):
            name = entry.name
            if name.startswith(".") and not seg.startswith("."):
                continue
            if not fnmatchcase(name, seg):
                continue
            try:
                if last:
                    if entry.is_file():
                        found.add(entry.path)
                elif entry.is_dir():
                    walk(entry.path, i + 1)
            except OSError:
                continue

    if segments:
        walk(base, 0)
    return found


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _read_file(path: str, *, root_real: str, location: str, max_bytes: int) -> bytes:
    """Read one regular file whose real path must stay under `root_real`.

    The size is checked with fstat before reading, so an oversized file is never
    loaded; the read itself stops at the limit in case the file grows meanwhile.
    """
    real = os.path.realpath(path)
    if not _inside(real, root_real):
        raise NotAllowedError(
            f"{location} is a symlink that points outside the location root", file=location
        )
    try:
        fd = os.open(real, _O_FLAGS)
    except FileNotFoundError:
        raise NotFoundError(f"{location} does not exist", file=location) from None
    except OSError as e:
        raise InputError(f"Unable to read {location}: {e.strerror}", file=location) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{location} is a directory, not a file", file=location)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{location} is not a regular file", file=location)
        if st.st_size > max_bytes:
            raise _too_big(location, st.st_size, max_bytes)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb", buffering=0) as f:
        chunks: list[bytes] = []
        total = 0
        while True:
            block = f.read(min(1 << 20, max_bytes + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
            if total > max_bytes:  # it grew after the fstat
                raise _too_big(location, max_bytes, max_bytes, at_least=True)
    return b"".join(chunks)


def _too_big(location: str, size: int, limit: int, *, at_least: bool = False) -> InputError:
    more = "more than " if at_least else ""
    return InputError(
        f"{location} is {more}{size} bytes, over the limit of {limit} bytes (reading.maxFileBytes)",
        file=location,
    )


def _each_file(
    paths: list[str],
    read: Callable[[str], ReadResult],
    errors: list[GreenroomError] | None,
) -> list[ReadResult]:
    """`read` of every path; failures go to `errors` (if given) so one bad file costs only itself."""
    out: list[ReadResult] = []
    for path in paths:
        try:
            out.append(read(path))
        except GreenroomError as error:
            if errors is None:
                raise
            errors.append(error)
    return out


def _match_files(root: str, pattern: str) -> list[str]:
    """Sorted files matching `pattern` (relative, '/'-separated, braces allowed) under `root`."""
    found: set[str] = set()
    for expanded in _expand_braces(pattern):
        segments = [s for s in expanded.split("/") if s not in ("", ".")]
        found |= _glob(root, segments)
    return sorted(found)


class FileReader:
    """Reads `file` locations: an absolute path or glob (``**`` supported)."""

    def __init__(self, policy: ReadingPolicy) -> None:
        self.policy = policy

    def read(self, target: str, *, errors: list[GreenroomError] | None = None) -> list[ReadResult]:
        """The file, or every file a glob matches, sorted.

        With `errors`, a matched file that cannot be read (too big, a symlink out
        of the root, not a regular file) is reported there and the others are
        still returned; without it, the first such file raises.
        """
        location = f"file:{target}"
        if not target or not os.path.isabs(target):
            raise InputError(
                f"A file location target must be an absolute path, got {target!r}", file=location
            )
        if target.endswith(("/", os.sep)):
            raise InputError(
                f"A file location target must not end with a path separator: {target}",
                file=location,
            )
        target_norm = os.path.normpath(target)
        if not _has_magic(target_norm):
            if not os.path.exists(target_norm):
                raise NotFoundError(f"file {target} does not exist", file=location)
            root = os.path.dirname(target_norm)
            content = self._read(target_norm, root)
            return [ReadResult(f"file:{target_norm}", content)]
        paths: set[str] = set()
        roots: dict[str, str] = {}
        for expanded in _expand_braces(target_norm):
            parts = expanded.split(os.sep)
            first_magic = next(
                i for i, p in enumerate(parts) if _has_magic(p) or i == len(parts) - 1
            )
            base = os.sep.join(parts[:first_magic]) or os.sep
            for path in _glob(base, parts[first_magic:]):
                paths.add(path)
                roots.setdefault(path, base)
        if not paths:
            raise NotFoundError(f"file {target} does not exist", file=location)
        return _each_file(
            sorted(paths), lambda p: ReadResult(f"file:{p}", self._read(p, roots[p])), errors
        )

    def _read(self, path: str, root: str) -> bytes:
        return _read_file(
            path,
            root_real=os.path.realpath(root),
            location=f"file:{path}",
            max_bytes=self.policy.max_file_bytes,
        )


# --------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------

_MAX_REDIRECTS = 10


def _host_of(url: httpx.URL) -> str:
    host = url.host
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{url.port}" if url.port else host


class UrlReader:
    """Reads `url` locations over http(s), host-checked on every redirect hop."""

    def __init__(self, policy: ReadingPolicy, client: httpx.Client | None = None) -> None:
        self.policy = policy
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    follow_redirects=False,
                    timeout=httpx.Timeout(self.policy.timeout_s),
                    headers={"User-Agent": "greenroom-catalog"},
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def read(self, url: str, *, check_hop: Callable[[str], None] | None = None) -> ReadResult:
        """GET `url`; `check_hop` may refuse a redirect target (raise) beyond the host rules."""
        try:
            self.policy.check_url(url)  # before any request
        except GreenroomError as e:
            e.file = f"url:{url}"
            raise
        deadline = time.monotonic() + self.policy.timeout_s
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            target = httpx.URL(current)
            host = _host_of(target)
            try:
                with self.client.stream("GET", target) as response:
                    if response.is_redirect:
                        nxt = str(response.url.join(response.headers["location"]))
                        try:
                            self.policy.check_url(nxt)
                            if check_hop is not None:
                                check_hop(nxt)
                        except GreenroomError as e:
                            raise NotAllowedError(
                                f"Unable to read url, {url} redirects to {nxt}, which is "
                                f"refused: {e.message}",
                                file=f"url:{url}",
                            ) from None
                        current = nxt
                        continue
                    return ReadResult(
                        f"url:{url}", self._body(response, url, current, host, deadline)
                    )
            except httpx.TimeoutException:
                raise GreenroomError(
                    f"Unable to read url, {url}: host {host} did not answer within "
                    f"{self.policy.timeout_s:g} s",
                    file=f"url:{url}",
                ) from None
            except httpx.HTTPError as e:
                reason = str(e) or type(e).__name__
                raise GreenroomError(
                    f"Unable to read url, {url}: could not connect to host {host} ({reason})",
                    file=f"url:{url}",
                ) from None
        raise GreenroomError(
            f"Unable to read url, {url}: more than {_MAX_REDIRECTS} redirects", file=f"url:{url}"
        )

    def _body(
        self, response: httpx.Response, url: str, current: str, host: str, deadline: float
    ) -> bytes:
        location = f"url:{url}"
        status = response.status_code
        if status in (404, 410):
            raise NotFoundError(
                f"Unable to read url, {current} was not found (HTTP {status})", file=location
            )
        if status >= 400:
            raise GreenroomError(
                f"Unable to read url, {current} answered HTTP {status} "
                f"{response.reason_phrase} (host {host})",
                file=location,
            )
        limit = self.policy.max_file_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _too_big(location, int(declared), limit)
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise _too_big(location, limit, limit, at_least=True)
            if time.monotonic() > deadline:
                raise GreenroomError(
                    f"Unable to read url, {url}: host {host} did not send the whole file "
                    f"within {self.policy.timeout_s:g} s",
                    file=location,
                )
        return bytes(body)


# --------------------------------------------------------------------------
# git
# --------------------------------------------------------------------------

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?(\[[^\]]+\]|[^:/\[]+):(?!//)")
_REF_OK = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/+\-]*$")
_NOT_FOUND_HINTS = (
    "not found",
    "does not appear to be a git repository",
    "does not exist",
    "couldn't find remote ref",
    "no such file or directory",
    "could not read from remote repository",
)


def parse_git_target(target: str) -> tuple[str, str, str | None]:
    """``<remote>[//<path>][?ref=<ref>]`` -> (remote, path, ref or None).

    The path defaults to ``catalog-info.yaml``. Only ``ref`` is a known option.
    """
    remote, path, ref = _parse_git(target)
    return remote, path or "catalog-info.yaml", ref


def _parse_git(target: str) -> tuple[str, str, str | None]:
    location = f"git:{target}"
    rest = target.strip()
    ref: str | None = None
    if "?" in rest:
        rest, query = rest.rsplit("?", 1)
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key != "ref":
                raise InputError(f"Unknown git location option {key!r} in {target}", file=location)
            ref = value or None
    m = _SCHEME.match(rest)
    start = m.end() if m else 1
    sep = rest.find("//", start)
    if sep >= 0:
        remote, path = rest[:sep], rest[sep + 2 :]
    else:
        remote, path = rest, ""
    if not remote:
        raise InputError(f"Missing git remote in {target}", file=location)
    if ref is not None and (not _REF_OK.match(ref) or ".." in ref):
        raise InputError(f"Invalid git ref {ref!r} in {target}", file=location)
    return remote, path, ref


def _git_location(remote: str, path: str, ref: str | None) -> str:
    return f"git:{remote}//{path}" + (f"?ref={ref}" if ref else "")


def _check_repo_path(path: str, location: str) -> str:
    """A '/'-separated path inside a repository, normalized; `..` escapes are refused."""
    if path.startswith("/") or "\\" in path:
        raise NotAllowedError(
            f"Path {path} is outside the location root (the repository checkout)", file=location
        )
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise NotAllowedError(
            f"Path {path} is outside the location root (the repository checkout)", file=location
        )
    return "/".join(parts)


class GitReader:
    """Reads `git` locations from shallow clones kept in `cache_dir`.

    One checkout per (remote, ref), under ``cache_dir/<sha1>``; access to a
    checkout is serialized across threads and processes with ``flock`` on
    ``cache_dir/<sha1>.lock``. A first read clones; later reads fetch and reset
    (so each read sees the newest commit).
    """

    def __init__(self, policy: ReadingPolicy, cache_dir: Path) -> None:
        self.policy = policy
        self.cache_dir = Path(cache_dir)

    def check_remote(self, remote: str, location: str) -> None:
        """Network remotes must be on an allowed host; local ones are fine."""
        m = _SCHEME.match(remote)
        if m:
            scheme = m.group(1).lower()
            if scheme in ("http", "https"):
                try:
                    self.policy.check_url(remote)
                except GreenroomError as e:
                    e.file = location
                    raise
                return
            if scheme == "file":
                return
            if scheme in ("ssh", "git"):
                url = httpx.URL("http://" + remote[m.end() :])
                default = 22 if scheme == "ssh" else 9418
                port = None if url.port in (None, default) else url.port
                if self.policy.host_allowed(url.host, port, url.path):
                    return
                raise NotAllowedError(
                    f"Reading from host {_host_of(url)} is not allowed; add it to reading.allow "
                    f"in the configuration (git remote {remote})",
                    file=location,
                )
            raise NotAllowedError(
                f"git remotes with scheme {scheme} are not allowed: {remote}", file=location
            )
        if os.path.isabs(remote):
            return
        if "::" in remote:
            raise NotAllowedError(f"git remote helpers are not allowed: {remote}", file=location)
        scp = _SCP_LIKE.match(remote)
        if scp:
            host = scp.group(1).strip("[]")
            if self.policy.host_allowed(host, None):
                return
            raise NotAllowedError(
                f"Reading from host {host} is not allowed; add it to reading.allow in the "
                f"configuration (git remote {remote})",
                file=location,
            )
        raise InputError(
            f"git remote must be a URL or an absolute path, got {remote!r}", file=location
        )

    def read(self, target: str, *, errors: list[GreenroomError] | None = None) -> list[ReadResult]:
        """Every file the target's path or glob matches in a fresh checkout, sorted.

        `errors` works as in `FileReader.read`.
        """
        remote, pattern, ref = parse_git_target(target)
        location = f"git:{target}"
        self.check_remote(remote, location)
        pattern = _check_repo_path(pattern, location)
        with self.checkout(remote, ref, refresh=True, location=location) as root:
            root_real = os.path.realpath(root)
            if _has_magic(pattern):
                paths = _match_files(root, pattern)
            else:
                full = os.path.join(root, *pattern.split("/"))
                paths = [full] if os.path.exists(full) else []
            if not paths:
                where = f"{remote}" + (f" (ref {ref})" if ref else "")
                raise NotFoundError(
                    f"Unable to read git location, no files matching {pattern} in {where}",
                    file=location,
                )

            def read_one(path: str) -> ReadResult:
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                file_location = _git_location(remote, rel, ref)
                content = _read_file(
                    path,
                    root_real=root_real,
                    location=file_location,
                    max_bytes=self.policy.max_file_bytes,
                )
                return ReadResult(file_location, content)

            return _each_file(paths, read_one, errors)

    def read_path(self, remote: str, ref: str | None, path: str, *, root: str = "") -> ReadResult:
        """One file of a checkout (no refresh if there is one); `root` limits symlinks."""
        location = _git_location(remote, path, ref)
        self.check_remote(remote, location)
        path = _check_repo_path(path, location)
        with self.checkout(remote, ref, refresh=False, location=location) as checkout:
            full = os.path.join(checkout, *path.split("/"))
            root_dir = os.path.join(checkout, *[p for p in root.split("/") if p])
            if not os.path.lexists(full):
                raise NotFoundError(f"{location} does not exist", file=location)
            content = _read_file(
                full,
                root_real=os.path.realpath(root_dir),
                location=location,
                max_bytes=self.policy.max_file_bytes,
            )
            return ReadResult(location, content)

    @contextlib.contextmanager
    def checkout(
        self, remote: str, ref: str | None, *, refresh: bool, location: str
    ) -> Iterator[str]:
        """Hold the lock of the (remote, ref) checkout, cloning or refreshing it first."""
        key = hashlib.sha1(f"{remote}\0{ref or ''}".encode()).hexdigest()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        directory = self.cache_dir / key
        fd = os.open(self.cache_dir / f"{key}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if (directory / ".git").is_dir():
                if refresh:
                    self._git(
                        ["fetch", "--quiet", "--depth", "1", "--no-tags", "origin", ref or "HEAD"],
                        remote, location, cwd=directory,
                    )  # fmt: skip
                    self._git(
                        ["reset", "--quiet", "--hard", "FETCH_HEAD"],
                        remote,
                        location,
                        cwd=directory,
                    )
            else:
                if directory.exists():  # a broken leftover
                    shutil.rmtree(directory, ignore_errors=True)
                tmp = tempfile.mkdtemp(prefix=f"{key}.tmp-", dir=self.cache_dir)
                try:
                    args = ["clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags"]
                    if ref:
                        args.append(f"--branch={ref}")
                    self._git([*args, "--", remote, os.path.join(tmp, "repo")], remote, location)
                    os.rename(os.path.join(tmp, "repo"), directory)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
            yield str(directory)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _git(self, args: list[str], remote: str, location: str, cwd: Path | None = None) -> None:
        env = dict(os.environ)
        env.update(
            GIT_TERMINAL_PROMPT="0",
            GCM_INTERACTIVE="never",
            GIT_LFS_SKIP_SMUDGE="1",
            GIT_ALLOW_PROTOCOL="file:git:http:https:ssh",
            LC_ALL="C",
        )
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        command = [
            "git",
            "-c", "protocol.ext.allow=never",
            "-c", "http.followRedirects=false",
            "-c", "core.hooksPath=" + os.devnull,
            *args,
        ]  # fmt: skip
        what = f"git {args[0]} of {remote}"
        try:
            proc = subprocess.run(
                command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.policy.git_timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise GreenroomError(
                f"{what} timed out after {self.policy.git_timeout_s:g} s", file=location
            ) from None
        except OSError as e:
            raise GreenroomError(f"{what} failed: cannot run git ({e})", file=location) from None
        if proc.returncode == 0:
            return
        lines = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines()]
        lines = [ln for ln in lines if ln]
        first = next(
            (ln for ln in lines if ln.startswith(("fatal:", "error:"))),
            lines[0] if lines else f"exit status {proc.returncode}",
        )
        if any(hint in first.lower() for hint in _NOT_FOUND_HINTS):
            raise NotFoundError(f"Unable to read git repository {remote}: {first}", file=location)
        raise GreenroomError(f"{what} failed: {first}", file=location)


# --------------------------------------------------------------------------
# facade
# --------------------------------------------------------------------------

_URL_LIKE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+:")


def _split_location(location: str) -> tuple[str, str]:
    kind, sep, target = location.partition(":")
    if not sep or not kind.strip() or not target.strip():
        raise InputError(f"Invalid location ref {location!r}, expected <type>:<target>")
    return kind.strip(), target.strip()


class Readers:
    """Chooses the reader by location type and resolves placeholder paths safely."""

    def __init__(self, policy: ReadingPolicy, *, cache_dir: Path) -> None:
        self.policy = policy
        self.files = FileReader(policy)
        self.urls = UrlReader(policy)
        self.git = GitReader(policy, Path(cache_dir))

    def close(self) -> None:
        self.urls.close()

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_location(
        self, type: str, target: str, *, errors: list[GreenroomError] | None = None
    ) -> list[ReadResult]:
        """Every file of a location, sorted (one for `url`).

        With `errors`, a file of a glob that cannot be read is reported there
        (its `file` names it) and the other files are still returned; errors
        about the target as a whole (not found, host not allowed) always raise.
        """
        if type == "file":
            return self.files.read(target, errors=errors)
        if type == "url":
            return [self.urls.read(target)]
        if type == "git":
            return self.git.read(target, errors=errors)
        raise InputError(
            f"Unsupported location type {type!r} (supported: file, url, git)",
            file=f"{type}:{target}",
        )

    def root_of(self, base_location: str) -> str:
        """Default placeholder root of a file's location ref, as a location ref.

        ``file:/dir`` (the file's directory), ``url:https://host/dir/`` (the URL's
        directory) or ``git:<remote>//<empty>[?ref=..]`` (the whole checkout).
        """
        kind, target = _split_location(base_location)
        if kind == "file":
            return "file:" + os.path.dirname(os.path.normpath(target))
        if kind == "url":
            return "url:" + str(httpx.URL(target).join("./"))
        if kind == "git":
            remote, _, ref = _parse_git(target)
            return _git_location(remote, "", ref)
        raise InputError(f"Unsupported location type {kind!r}", file=base_location)

    def read_relative(
        self, base_location: str, relative: str, *, root: str | None = None
    ) -> ReadResult:
        """Read `relative` resolved against the file `base_location`, inside the root.

        `root` is a location ref as returned by `root_of` (or, for file and url
        locations, a bare directory path or URL prefix; for git, a path inside
        the repository). Defaults: the base file's directory (file), the same
        host (url), the whole checkout (git).
        """
        kind, target = _split_location(base_location)
        if relative.startswith(("http://", "https://")):
            # An absolute URL is an ordinary url read, as in Backstage: it is
            # allowed or refused by `reading.allow`, whatever the base location.
            return self.urls.read(relative)
        if kind == "file":
            return self._relative_file(base_location, target, relative, root)
        if kind == "url":
            return self._relative_url(base_location, target, relative, root)
        if kind == "git":
            return self._relative_git(base_location, target, relative, root)
        raise InputError(f"Unsupported location type {kind!r}", file=base_location)

    @staticmethod
    def _escape(relative: str, root: str, base_location: str) -> NotAllowedError:
        return NotAllowedError(
            f"{relative} is outside the location root {root}", file=base_location
        )

    def _relative_file(
        self, base_location: str, base: str, relative: str, root: str | None
    ) -> ReadResult:
        base = os.path.normpath(base)
        root_dir = os.path.dirname(base) if root is None else root.removeprefix("file:")
        root_dir = os.path.normpath(root_dir)
        if _URL_LIKE.match(relative) and not os.path.isabs(relative):
            raise self._escape(relative, root_dir, base_location)
        candidate = os.path.normpath(os.path.join(os.path.dirname(base), relative))
        if not _inside(candidate, root_dir):
            raise self._escape(relative, root_dir, base_location)
        if not os.path.lexists(candidate):
            raise NotFoundError(f"file {candidate} does not exist", file=base_location)
        location = f"file:{candidate}"
        try:
            content = _read_file(
                candidate,
                root_real=os.path.realpath(root_dir),
                location=location,
                max_bytes=self.policy.max_file_bytes,
            )
        except NotAllowedError:
            raise self._escape(relative, root_dir, base_location) from None
        return ReadResult(location, content)

    def _relative_url(
        self, base_location: str, base: str, relative: str, root: str | None
    ) -> ReadResult:
        base_url = httpx.URL(base)
        try:
            resolved = base_url.join(relative)
        except (httpx.InvalidURL, ValueError) as e:
            raise InputError(f"Invalid URL {relative}: {e}", file=base_location) from None
        root_url = base_url.join("/") if root is None else httpx.URL(root.removeprefix("url:"))
        shown_root = str(root_url)

        prefix = unquote(root_url.path)
        if not prefix.endswith("/"):
            prefix += "/"

        def check(url: str) -> None:
            u = httpx.URL(url)
            origin = (u.scheme, u.host, u.port)
            path = unquote(u.path)  # encoded dot segments count as escapes too
            if (
                origin != (root_url.scheme, root_url.host, root_url.port)
                or ".." in path.split("/")
                or "\\" in path
                or not (path if path.endswith("/") else path + "/").startswith(prefix)
            ):
                raise self._escape(relative, shown_root, base_location)

        check(str(resolved))
        return self.urls.read(str(resolved), check_hop=check)

    def _relative_git(
        self, base_location: str, target: str, relative: str, root: str | None
    ) -> ReadResult:
        remote, path, ref = parse_git_target(target)
        if root is None:
            root_path = ""
        elif root.startswith("git:"):
            r_remote, root_path, r_ref = _parse_git(root[4:])
            if (r_remote, r_ref) != (remote, ref):
                raise InputError(
                    f"Root {root} is not in the repository of {base_location}", file=base_location
                )
        else:
            root_path = root
        root_path = _check_repo_path(root_path, base_location)
        shown_root = _git_location(remote, root_path, ref)
        if _URL_LIKE.match(relative):
            raise self._escape(relative, shown_root, base_location)
        if relative.startswith("/"):
            joined = relative.lstrip("/")  # repository root
        else:
            joined = posixpath.join(posixpath.dirname(path), relative)
        normalized = posixpath.normpath(joined) if joined else "."
        if (
            normalized == ".."
            or normalized.startswith("../")
            or "\\" in relative
            or (root_path and not (normalized + "/").startswith(root_path + "/"))
        ):
            raise self._escape(relative, shown_root, base_location)
        try:
            return self.git.read_path(remote, ref, normalized, root=root_path)
        except NotAllowedError as e:
            if "outside the location root" in e.message:
                raise self._escape(relative, shown_root, base_location) from None
            raise
