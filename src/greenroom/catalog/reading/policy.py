"""What the readers may read: allowed hosts, size and time limits.

Configured under ``reading`` (Backstage's equivalent is ``backend.reading``)::

    reading:
      allow:
        - host: example.com          # exactly this host, default port of the scheme
        - host: "*.corp.example"     # any subdomain (not corp.example itself)
        - host: 127.0.0.1:8080       # this host and port
          paths: [/catalog/]         # optional: only URLs under these path prefixes
      maxFileBytes: 10485760         # largest file read (default 10 MiB)
      timeoutSeconds: 30             # longest a single URL read may take
      gitTimeoutSeconds: 300         # longest one git command may take

A rule without a port only matches URLs on the scheme's default port, as in
Backstage (whose rules compare ``URL.host``, which carries a non-default port).
Hosts compare case-insensitively.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from greenroom.errors import ConfigError, InputError, NotAllowedError

__all__ = ["HostRule", "ReadingPolicy", "check_host", "check_path_prefixes"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22}


def _split_host_port(text: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]`, `[v6]:port` -> (lowercase host without brackets, port)."""
    text = text.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"unterminated IPv6 address in {text!r}")
        host, rest = text[1:end], text[end + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":") or not rest[1:].isdigit():
            raise ValueError(f"bad port in {text!r}")
        return host, int(rest[1:])
    if text.count(":") == 1:
        host, port = text.split(":")
        if not port.isdigit():
            raise ValueError(f"bad port in {text!r}")
        return host, int(port)
    if ":" in text:  # a bare IPv6 address
        return text, None
    return text, None


@dataclass(frozen=True, slots=True)
class HostRule:
    """One entry of ``reading.allow``."""

    host: str  # as configured: "example.com", "*.corp.example", "127.0.0.1:8080"
    paths: tuple[str, ...] | None = None  # optional URL path prefixes

    def matches(self, hostname: str, port: int | None, path: str = "/") -> bool:
        """Does this rule allow `hostname` (lowercase) on `port` (None = scheme default)?"""
        rule_host, rule_port = _split_host_port(self.host)
        if rule_port != port:
            return False
        if rule_host.startswith("*."):
            if not hostname.endswith(rule_host[1:]):
                return False
        elif hostname != rule_host:
            return False
        if self.paths is None:
            return True
        clean = posixpath.normpath(unquote(path) or "/")
        return any(
            clean == p.rstrip("/") or clean.startswith(p if p.endswith("/") else p + "/")
            for p in self.paths
        )


@dataclass
class ReadingPolicy:
    """Limits applied by every reader."""

    allow: list[HostRule] = field(default_factory=list)
    max_file_bytes: int = 10 * 1024 * 1024
    timeout_s: float = 30.0
    git_timeout_s: float = 300.0

    def host_allowed(self, hostname: str, port: int | None, path: str = "/") -> bool:
        """`port` is None for the scheme's default port."""
        hostname = hostname.lower().strip("[]")
        return any(rule.matches(hostname, port, path) for rule in self.allow)

    def check_url(self, url: str) -> None:
        """Raise NotAllowedError unless `url` is http(s) on an allowed host."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as e:
            raise InputError(f"Invalid URL {url}: {e}", file=url) from None
        scheme = parsed.scheme.lower()
        if scheme not in ("http", "https"):
            raise NotAllowedError(
                f"Only http and https URLs can be read, not {scheme or 'a relative URL'}: {url}",
                file=url,
            )
        host = parsed.host
        if not host:
            raise InputError(f"Invalid URL {url}: no host", file=url)
        port = parsed.port
        if port == _DEFAULT_PORTS[scheme]:
            port = None
        if not self.host_allowed(host, port, parsed.path):
            shown = _host_display(host, port)
            raise NotAllowedError(
                f"Reading from host {shown} is not allowed; add it to reading.allow in the "
                f"configuration (while reading {url})",
                file=url,
            )

    @classmethod
    def from_config(cls, section: dict[str, Any] | None) -> ReadingPolicy:
        """Build from the ``reading`` config section; ConfigError names the bad key."""
        if section is None:
            return cls()
        if not isinstance(section, dict):
            raise ConfigError("reading must be an object")
        known = {"allow", "maxFileBytes", "timeoutSeconds", "gitTimeoutSeconds"}
        for key in section:
            if key not in known:
                raise ConfigError(
                    f"reading.{key} is not a known setting (known: {', '.join(sorted(known))})"
                )
        policy = cls()
        allow = section.get("allow")
        if allow is not None:
            if not isinstance(allow, list):
                raise ConfigError("reading.allow must be a list of {host: ...} objects")
            for i, item in enumerate(allow):
                policy.allow.append(_host_rule(item, f"reading.allow[{i}]"))
        if "maxFileBytes" in section:
            policy.max_file_bytes = _number(section["maxFileBytes"], "reading.maxFileBytes", int)
        if "timeoutSeconds" in section:
            policy.timeout_s = _number(section["timeoutSeconds"], "reading.timeoutSeconds", float)
        if "gitTimeoutSeconds" in section:
            policy.git_timeout_s = _number(
                section["gitTimeoutSeconds"], "reading.gitTimeoutSeconds", float
            )
        return policy


def _host_display(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port is not None else host


def _number(value: Any, key: str, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key} must be a positive number, got {value!r}")
    if kind is int and not float(value).is_integer():
        raise ConfigError(f"{key} must be a whole number, got {value!r}")
    if value <= 0:
        raise ConfigError(f"{key} must be a positive number, got {value!r}")
    return kind(value)


def check_host(host: Any) -> str:
    """The syntax check of one ``reading.allow[].host``; returns it stripped.

    Raises ValueError with a message meant to follow the key (``...host: <message>``).
    The configuration loader calls this too, so a bad host fails at start for every
    command, with the same wording as here.
    """
    if not isinstance(host, str) or not host.strip():
        raise ValueError("must be a non-empty string")
    host = host.strip()
    if not all(c.isalnum() or c in "-._*:[]%" for c in host):
        raise ValueError(f"must be a host name with an optional port, got {host!r}")
    if "*" in host and (not host.startswith("*.") or "*" in host[2:]):
        raise ValueError(f"may only use a wildcard as a leading '*.', got {host!r}")
    name, port = _split_host_port(host)
    if not name or name == "*.":
        raise ValueError(f"must be a host name with an optional port, got {host!r}")
    if port is not None and port > 65535:
        raise ValueError(f"bad port in {host!r}")
    return host


def check_path_prefixes(paths: Any) -> tuple[str, ...]:
    """The check of ``reading.allow[].paths``: a list of paths starting with '/'."""
    if not isinstance(paths, list | tuple) or not all(
        isinstance(p, str) and p.startswith("/") for p in paths
    ):
        raise ValueError("must be a list of paths starting with '/'")
    return tuple(paths)


def _host_rule(item: Any, key: str) -> HostRule:
    if not isinstance(item, dict):
        raise ConfigError(f"{key} must be an object like {{host: example.com}}")
    for k in item:
        if k not in ("host", "paths"):
            raise ConfigError(f"{key}.{k} is not a known setting (known: host, paths)")
    try:
        host = check_host(item.get("host"))
    except ValueError as e:
        raise ConfigError(f"{key}.host: {e}") from None
    paths = item.get("paths")
    if paths is not None:
        try:
            paths = check_path_prefixes(paths)
        except ValueError as e:
            raise ConfigError(f"{key}.paths: {e}") from None
    return HostRule(host, paths)
