"""Readers on real parts: temp directories, a local HTTP server, local git repositories."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from greenroom.catalog.reading import (
    HostRule,
    Readers,
    ReadingPolicy,
    ReadResult,
    parse_git_target,
)
from greenroom.errors import ConfigError, GreenroomError, InputError, NotAllowedError, NotFoundError

# --------------------------------------------------------------------------
# helpers shared with test_placeholders
# --------------------------------------------------------------------------


class LocalServer:
    """http.server on 127.0.0.1 (port 0) serving `root`, plus custom `routes`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                try:
                    if route is not None:
                        route(self)
                        return
                    path = server.root / self.path.lstrip("/").split("?")[0]
                    if not path.is_file():
                        self.send_error(404)
                        return
                    body = path.read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    root = tmp_path / "www"
    root.mkdir()
    srv = LocalServer(root)
    yield srv
    srv.close()


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    return proc.stdout


def make_repo(tmp_path: Path, files: dict[str, str], name: str = "team") -> tuple[Path, Path]:
    """A work tree with `files` committed on `main`, and a bare clone of it: (work, bare)."""
    work = tmp_path / f"{name}-work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    commit_files(work, files, "initial")
    bare = tmp_path / f"{name}.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    git("remote", "add", "origin", str(bare), cwd=work)
    return work, bare


def commit_files(work: Path, files: dict[str, str], message: str) -> None:
    for rel, text in files.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if text.startswith("symlink:"):
            path.symlink_to(text.removeprefix("symlink:"))
        else:
            path.write_text(text)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readers_for(
    tmp_path: Path, *hosts: str, max_file_bytes: int = 10 * 1024 * 1024, timeout: float = 5.0
) -> Readers:
    policy = ReadingPolicy(
        allow=[HostRule(h) for h in hosts], max_file_bytes=max_file_bytes, timeout_s=timeout
    )
    return Readers(policy, cache_dir=tmp_path / "cache")


@pytest.fixture
def readers(tmp_path: Path) -> Iterator[Readers]:
    with readers_for(tmp_path) as r:
        yield r


# --------------------------------------------------------------------------
# policy
# --------------------------------------------------------------------------


def test_policy_from_config():
    policy = ReadingPolicy.from_config(
        {
            "allow": [
                {"host": "example.com"},
                {"host": "*.corp.example"},
                {"host": "127.0.0.1:8080"},
                {"host": "git.example", "paths": ["/org/"]},
            ],
            "maxFileBytes": 1000,
            "timeoutSeconds": 3,
        }
    )
    assert policy.max_file_bytes == 1000
    assert policy.timeout_s == 3.0
    for ok in [
        "https://example.com/x.yaml",
        "https://EXAMPLE.com:443/x.yaml",
        "http://example.com/x",
        "https://a.corp.example/x",
        "https://a.b.corp.example/x",
        "http://127.0.0.1:8080/x",
        "https://git.example/org/repo/x.yaml",
    ]:
        policy.check_url(ok)
    for refused in [
        "https://example.com:8443/x",
        "https://corp.example/x",
        "https://evilcorp.example/x",
        "https://example.com.evil.net/x",
        "https://example.com@evil.net/x",
        "http://127.0.0.1/x",
        "http://127.0.0.1:8081/x",
        "https://git.example/other/x",
        "https://git.example/org/../other/x",
        "https://git.example/org/%2e%2e/other/x",
    ]:
        with pytest.raises(NotAllowedError) as info:
            policy.check_url(refused)
        assert "not allowed" in info.value.message
        assert info.value.file == refused


def test_policy_refuses_other_schemes():
    policy = ReadingPolicy(allow=[HostRule("example.com")])
    for url in ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/"]:
        with pytest.raises(NotAllowedError, match="Only http and https"):
            policy.check_url(url)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"allow": "example.com"}, "reading.allow"),
        ({"allow": [{"hots": "x"}]}, "reading.allow[0].hots"),
        ({"allow": [{"host": ""}]}, "reading.allow[0].host"),
        ({"allow": [{"host": "a.*.com"}]}, "reading.allow[0].host"),
        ({"allow": [{"host": "https://x.com"}]}, "reading.allow[0].host"),
        ({"maxFileBytes": -1}, "reading.maxFileBytes"),
        ({"maxFileBytes": "big"}, "reading.maxFileBytes"),
        ({"surprise": 1}, "reading.surprise"),
    ],
)
def test_policy_config_errors_name_the_key(section, key):
    with pytest.raises(ConfigError) as info:
        ReadingPolicy.from_config(section)
    assert key in info.value.message


def test_policy_defaults():
    policy = ReadingPolicy.from_config(None)
    assert policy.allow == []
    assert policy.max_file_bytes == 10 * 1024 * 1024
    with pytest.raises(NotAllowedError):
        policy.check_url("https://example.com/")


# --------------------------------------------------------------------------
# file locations
# --------------------------------------------------------------------------


def write(path: Path, text: str = "kind: A\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_read_one_file(tmp_path, readers):
    path = write(tmp_path / "cat" / "catalog-info.yaml")
    assert readers.read_location("file", str(path)) == [ReadResult(f"file:{path}", b"kind: A\n")]


def test_glob_with_double_star_sorted(tmp_path, readers):
    root = tmp_path / "cat"
    for rel in [
        "b/catalog-info.yaml",
        "a/x/catalog-info.yaml",
        "catalog-info.yaml",
        "c/other.yaml",
    ]:
        write(root / rel, rel)
    write(root / ".hidden" / "catalog-info.yaml")
    results = readers.read_location("file", f"{root}/**/catalog-info.yaml")
    assert [r.location for r in results] == [
        f"file:{root}/a/x/catalog-info.yaml",
        f"file:{root}/b/catalog-info.yaml",
        f"file:{root}/catalog-info.yaml",
    ]
    assert results[1].content == b"b/catalog-info.yaml"
    star = readers.read_location("file", f"{root}/*/*.yaml")
    assert [r.location for r in star] == [
        f"file:{root}/b/catalog-info.yaml",
        f"file:{root}/c/other.yaml",
    ]
    braces = readers.read_location("file", f"{root}/{{a/x,c}}/*.yaml")
    assert [r.location for r in braces] == [
        f"file:{root}/a/x/catalog-info.yaml",
        f"file:{root}/c/other.yaml",
    ]


def test_missing_file_and_empty_glob(tmp_path, readers):
    target = str(tmp_path / "nope.yaml")
    with pytest.raises(NotFoundError) as info:
        readers.read_location("file", target)
    assert info.value.message == f"file {target} does not exist"
    assert info.value.file == f"file:{target}"
    glob = str(tmp_path / "**" / "*.yaml")
    with pytest.raises(NotFoundError, match="does not exist"):
        readers.read_location("file", glob)


def test_bad_file_targets(tmp_path, readers):
    with pytest.raises(InputError, match="absolute path"):
        readers.read_location("file", "relative/catalog-info.yaml")
    with pytest.raises(InputError, match="path separator"):
        readers.read_location("file", str(tmp_path) + "/")
    with pytest.raises(InputError, match="directory"):
        readers.read_location("file", str(tmp_path))
    with pytest.raises(InputError, match="Unsupported location type"):
        readers.read_location("ftp", "x")


def test_symlink_escaping_the_root_is_refused(tmp_path, readers):
    secret = write(tmp_path / "secret" / "passwd", "root:x:0:0\n")
    root = tmp_path / "cat"
    write(root / "a" / "catalog-info.yaml")
    (root / "b").mkdir()
    (root / "b" / "catalog-info.yaml").symlink_to(secret)
    with pytest.raises(NotAllowedError) as info:
        readers.read_location("file", f"{root}/**/catalog-info.yaml")
    assert "outside the location root" in info.value.message
    assert info.value.file == f"file:{root}/b/catalog-info.yaml"
    with pytest.raises(NotAllowedError):
        readers.read_location("file", str(root / "b" / "catalog-info.yaml"))


def test_symlink_inside_the_root_is_followed(tmp_path, readers):
    root = tmp_path / "cat"
    real = write(root / "real" / "entities.yaml", "kind: Real\n")
    (root / "link.yaml").symlink_to(real)
    results = readers.read_location("file", f"{root}/*.yaml")
    assert results == [ReadResult(f"file:{root}/link.yaml", b"kind: Real\n")]


def test_symlinked_directory_loop_does_not_hang(tmp_path, readers):
    root = tmp_path / "cat"
    write(root / "catalog-info.yaml")
    (root / "loop").symlink_to(root)
    results = readers.read_location("file", f"{root}/**/*.yaml")
    assert [r.location for r in results] == [f"file:{root}/catalog-info.yaml"]


def test_fifo_is_not_read(tmp_path, readers):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        readers.read_location("file", str(fifo))


def test_50_mb_file_is_refused_without_reading_it(tmp_path, readers):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:  # sparse: takes no disk space
        f.truncate(50 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            readers.read_location("file", str(big))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024
    assert str(50 * 1024 * 1024) in info.value.message
    assert str(10 * 1024 * 1024) in info.value.message
    assert info.value.file == f"file:{big}"


def test_file_under_a_small_limit_passes(tmp_path):
    with readers_for(tmp_path, max_file_bytes=100) as readers:
        ok = write(tmp_path / "ok.yaml", "x" * 99)
        exact = write(tmp_path / "exact.yaml", "x" * 100)
        over = write(tmp_path / "over.yaml", "x" * 101)
        assert readers.read_location("file", str(ok))[0].content == b"x" * 99
        assert readers.read_location("file", str(exact))[0].content == b"x" * 100
        with pytest.raises(InputError, match="101 bytes, over the limit of 100"):
            readers.read_location("file", str(over))


def test_root_of_and_read_relative_for_files(tmp_path, readers):
    base = write(tmp_path / "repo" / "svc" / "catalog-info.yaml")
    write(tmp_path / "repo" / "svc" / "openapi.yaml", "openapi: 3\n")
    write(tmp_path / "repo" / "shared" / "x.yaml", "shared\n")
    location = f"file:{base}"
    assert readers.root_of(location) == f"file:{tmp_path}/repo/svc"
    got = readers.read_relative(location, "./openapi.yaml")
    assert got == ReadResult(f"file:{tmp_path}/repo/svc/openapi.yaml", b"openapi: 3\n")
    with pytest.raises(NotAllowedError, match="outside the location root"):
        readers.read_relative(location, "../shared/x.yaml")
    wider = readers.read_relative(location, "../shared/x.yaml", root=str(tmp_path / "repo"))
    assert wider.content == b"shared\n"
    wider = readers.read_relative(location, "../shared/x.yaml", root=f"file:{tmp_path}/repo")
    assert wider.content == b"shared\n"
    # An absolute URL is a url read, governed by `reading.allow` (as in Backstage).
    with pytest.raises(NotAllowedError, match=r"example\.com"):
        readers.read_relative(location, "https://example.com/x")
    for escape in ["../../../etc/passwd", "/etc/passwd"]:
        with pytest.raises(NotAllowedError) as info:
            readers.read_relative(location, escape)
        assert info.value.file == location


# --------------------------------------------------------------------------
# url locations
# --------------------------------------------------------------------------


@pytest.mark.network
def test_read_url(tmp_path, server):
    write(server.root / "team" / "catalog-info.yaml", "kind: Component\n")
    with readers_for(tmp_path, server.host) as readers:
        url = server.url("/team/catalog-info.yaml")
        assert readers.read_location("url", url) == [ReadResult(f"url:{url}", b"kind: Component\n")]


@pytest.mark.network
def test_host_not_allowed_makes_no_request(tmp_path, server):
    write(server.root / "catalog-info.yaml")
    with readers_for(tmp_path, "example.com") as readers:
        url = server.url("/catalog-info.yaml")
        with pytest.raises(NotAllowedError) as info:
            readers.read_location("url", url)
    assert server.host in info.value.message
    assert info.value.file == f"url:{url}"
    assert server.requests == []


@pytest.mark.network
def test_unreachable_host(tmp_path):
    port = closed_port()
    with readers_for(tmp_path, f"127.0.0.1:{port}") as readers:
        url = f"http://127.0.0.1:{port}/catalog-info.yaml"
        with pytest.raises(GreenroomError) as info:
            readers.read_location("url", url)
    message = info.value.message
    assert f"127.0.0.1:{port}" in message
    assert "could not connect" in message
    assert "Traceback" not in message
    assert info.value.file == f"url:{url}"


@pytest.mark.network
def test_slow_host_times_out(tmp_path, server):
    def slow(handler):
        time.sleep(1.5)
        handler.send_response(200)
        handler.end_headers()

    server.routes["/slow"] = slow
    with (
        readers_for(tmp_path, server.host, timeout=0.3) as readers,
        pytest.raises(GreenroomError, match=r"did not answer within 0\.3 s"),
    ):
        readers.read_location("url", server.url("/slow"))


@pytest.mark.network
def test_url_404_and_500(tmp_path, server):
    def fail(handler):
        handler.send_error(500)

    server.routes["/fail"] = fail
    with readers_for(tmp_path, server.host) as readers:
        with pytest.raises(NotFoundError) as info:
            readers.read_location("url", server.url("/missing.yaml"))
        assert info.value.message.startswith("Unable to read url, ")
        assert "404" in info.value.message
        with pytest.raises(GreenroomError, match="HTTP 500"):
            readers.read_location("url", server.url("/fail"))


def _redirect(to: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handler


@pytest.mark.network
def test_redirects(tmp_path, server):
    write(server.root / "new" / "catalog-info.yaml", "kind: Moved\n")
    server.routes["/old"] = _redirect("/new/catalog-info.yaml")
    server.routes["/out"] = _redirect("http://evil.example/steal")
    server.routes["/loop"] = _redirect("/loop")
    with readers_for(tmp_path, server.host) as readers:
        got = readers.read_location("url", server.url("/old"))
        assert got == [ReadResult(f"url:{server.url('/old')}", b"kind: Moved\n")]
        with pytest.raises(NotAllowedError) as info:
            readers.read_location("url", server.url("/out"))
        assert "evil.example" in info.value.message
        with pytest.raises(GreenroomError, match="redirects"):
            readers.read_location("url", server.url("/loop"))


@pytest.mark.network
def test_body_over_the_limit_is_refused_while_streaming(tmp_path, server):
    sent = []

    def endless(handler):
        handler.send_response(200)
        handler.end_headers()  # no Content-Length: the reader has to count
        chunk = b"x" * 65536
        for _ in range(200):  # 12.5 MiB if nobody stops
            handler.wfile.write(chunk)
            sent.append(len(chunk))

    server.routes["/endless"] = endless
    write(server.root / "declared.yaml", "y" * 5000)
    with readers_for(tmp_path, server.host, max_file_bytes=4096) as readers:
        with pytest.raises(InputError, match="over the limit of 4096 bytes"):
            readers.read_location("url", server.url("/endless"))
        with pytest.raises(InputError, match="5000 bytes, over the limit of 4096"):
            readers.read_location("url", server.url("/declared.yaml"))
    time.sleep(0.2)
    assert sum(sent) < 12 * 1024 * 1024  # the connection was dropped early


@pytest.mark.network
def test_read_relative_for_urls(tmp_path, server):
    write(server.root / "org" / "svc" / "openapi.yaml", "openapi: 3\n")
    write(server.root / "org" / "shared.yaml", "shared\n")
    write(server.root / "secret.yaml", "secret\n")
    server.routes["/org/svc/jump"] = _redirect("/secret.yaml")
    base = "url:" + server.url("/org/svc/catalog-info.yaml")
    with readers_for(tmp_path, server.host) as readers:
        assert readers.root_of(base) == "url:" + server.url("/org/svc/")
        got = readers.read_relative(base, "./openapi.yaml")
        assert got == ReadResult("url:" + server.url("/org/svc/openapi.yaml"), b"openapi: 3\n")
        assert readers.read_relative(base, "../shared.yaml").content == b"shared\n"
        root = readers.root_of(base)
        with pytest.raises(NotAllowedError, match="outside the location root"):
            readers.read_relative(base, "../shared.yaml", root=root)
        with pytest.raises(NotAllowedError, match="outside the location root"):
            readers.read_relative(base, "%2e%2e/shared.yaml", root=root)
        with pytest.raises(NotAllowedError, match=r"host example\.com is not allowed"):
            readers.read_relative(base, "http://example.com/x.yaml")
        with pytest.raises(NotAllowedError):
            readers.read_relative(base, "./jump", root=root)


# --------------------------------------------------------------------------
# git locations
# --------------------------------------------------------------------------


def test_parse_git_target():
    assert parse_git_target("file:///srv/repos/team.git//catalog-info.yaml?ref=main") == (
        "file:///srv/repos/team.git",
        "catalog-info.yaml",
        "main",
    )
    assert parse_git_target("https://git.example.com/org/repo.git//services/*/c.yaml") == (
        "https://git.example.com/org/repo.git",
        "services/*/c.yaml",
        None,
    )
    assert parse_git_target("/srv/repo.git") == ("/srv/repo.git", "catalog-info.yaml", None)
    assert parse_git_target("git@host.example:org/r.git//a.yaml?ref=v1.2") == (
        "git@host.example:org/r.git",
        "a.yaml",
        "v1.2",
    )
    with pytest.raises(InputError, match="Unknown git location option"):
        parse_git_target("/srv/repo.git?depth=3")
    with pytest.raises(InputError, match="Invalid git ref"):
        parse_git_target("/srv/repo.git?ref=--upload-pack=x")


REPO_FILES = {
    "catalog-info.yaml": "kind: Component\nmetadata:\n  name: svc\n",
    "openapi.yaml": "openapi: 3.0.0\n",
    "services/a/catalog-info.yaml": "kind: A\n",
    "services/b/catalog-info.yaml": "kind: B\n",
}


@pytest.fixture
def repo(tmp_path) -> tuple[Path, Path]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return make_repo(tmp_path, REPO_FILES)


@pytest.mark.network
@needs_git
def test_git_default_path_and_ref(repo, readers):
    _, bare = repo
    target = f"file://{bare}"
    results = readers.read_location("git", target)
    assert results == [
        ReadResult(
            f"git:file://{bare}//catalog-info.yaml", REPO_FILES["catalog-info.yaml"].encode()
        )
    ]


@pytest.mark.network
@needs_git
def test_git_glob_and_branch(repo, readers):
    work, bare = repo
    git("checkout", "-q", "-b", "feature", cwd=work)
    commit_files(work, {"services/c/catalog-info.yaml": "kind: C\n"}, "feature")
    git("push", "-q", "origin", "feature", cwd=work)
    main = readers.read_location("git", f"file://{bare}//services/*/catalog-info.yaml")
    assert [r.location for r in main] == [
        f"git:file://{bare}//services/a/catalog-info.yaml",
        f"git:file://{bare}//services/b/catalog-info.yaml",
    ]
    feature = readers.read_location("git", f"file://{bare}//services/**/*.yaml?ref=feature")
    assert [(r.location, r.content) for r in feature][-1] == (
        f"git:file://{bare}//services/c/catalog-info.yaml?ref=feature",
        b"kind: C\n",
    )
    with pytest.raises(NotFoundError, match="feature"):
        readers.read_location("git", f"file://{bare}//nothing/*.yaml?ref=feature")


@pytest.mark.network
@needs_git
def test_git_refresh_sees_a_new_commit(repo, readers, tmp_path):
    work, bare = repo
    target = f"file://{bare}//catalog-info.yaml"
    assert readers.read_location("git", target)[0].content.startswith(b"kind: Component")
    commit_files(work, {"catalog-info.yaml": "kind: Changed\n"}, "change")
    git("push", "-q", "origin", "main", cwd=work)
    assert readers.read_location("git", target)[0].content == b"kind: Changed\n"
    assert len([p for p in (tmp_path / "cache").iterdir() if p.is_dir()]) == 1


@pytest.mark.network
@needs_git
def test_git_local_path_remote(repo, readers):
    _, bare = repo
    results = readers.read_location("git", f"{bare}//openapi.yaml")
    assert results[0].content == b"openapi: 3.0.0\n"


@pytest.mark.network
@needs_git
def test_git_remote_that_does_not_exist(tmp_path, readers):
    remote = f"file://{tmp_path}/nope.git"
    with pytest.raises(NotFoundError) as info:
        readers.read_location("git", remote)
    assert remote in info.value.message
    assert "fatal:" in info.value.message
    assert info.value.file == f"git:{remote}"
    assert "\n" not in info.value.message


@pytest.mark.network
@needs_git
def test_git_branch_that_does_not_exist(repo, readers):
    _, bare = repo
    with pytest.raises(NotFoundError, match="nope"):
        readers.read_location("git", f"file://{bare}?ref=nope")


@pytest.mark.network
@needs_git
def test_git_paths_cannot_escape_the_checkout(repo, readers, tmp_path):
    work, bare = repo
    write(tmp_path / "outside.yaml", "secret\n")
    commit_files(work, {"evil.yaml": f"symlink:{tmp_path}/outside.yaml"}, "symlink")
    git("push", "-q", "origin", "main", cwd=work)
    for path in ["../outside.yaml", "services/../../outside.yaml", "/etc/passwd"]:
        with pytest.raises(NotAllowedError, match="outside the location root"):
            readers.read_location("git", f"file://{bare}//{path}")
    with pytest.raises(NotAllowedError, match="outside the location root"):
        readers.read_location("git", f"file://{bare}//evil.yaml")
    with pytest.raises(NotAllowedError):
        readers.read_location("git", f"file://{bare}//*.yaml")


@pytest.mark.network
@needs_git
def test_git_network_remotes_need_an_allowed_host(readers):
    for remote in [
        "https://git.example.com/org/repo.git",
        "ssh://git@git.example.com/org/repo.git",
        "git@git.example.com:org/repo.git",
    ]:
        with pytest.raises(NotAllowedError, match=r"git\.example\.com"):
            readers.read_location("git", remote)
    with pytest.raises(NotAllowedError):
        readers.read_location("git", "ext::sh -c true")


@pytest.mark.network
@needs_git
def test_git_concurrent_reads_share_one_checkout(repo, tmp_path):
    _, bare = repo
    errors: list[BaseException] = []
    contents: list[bytes] = []

    def read() -> None:
        try:
            with readers_for(tmp_path) as readers:  # separate readers, same cache dir
                contents.append(readers.read_location("git", f"file://{bare}")[0].content)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert contents == [REPO_FILES["catalog-info.yaml"].encode()] * 4


@pytest.mark.network
@needs_git
def test_read_relative_for_git(repo, readers):
    _, bare = repo
    (first, *_) = readers.read_location("git", f"file://{bare}//services/a/catalog-info.yaml")
    base = first.location
    assert readers.root_of(base) == f"git:file://{bare}//"
    got = readers.read_relative(base, "../../openapi.yaml")
    assert got == ReadResult(f"git:file://{bare}//openapi.yaml", b"openapi: 3.0.0\n")
    assert readers.read_relative(base, "/openapi.yaml").content == b"openapi: 3.0.0\n"
    with pytest.raises(NotAllowedError, match="outside the location root"):
        readers.read_relative(base, "../../../x.yaml")
    with pytest.raises(NotAllowedError, match="outside the location root"):
        readers.read_relative(base, "../../openapi.yaml", root="services")
    with pytest.raises(NotFoundError):
        readers.read_relative(base, "./missing.yaml")
