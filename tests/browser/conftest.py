"""Browser tests: a real `greenroom serve --demo` driven by Debian's chromium through Playwright.

One server and one browser per test session (per xdist worker: each starts its own
server on a free port with its own data folder). Every page a test opens is checked
with axe-core (WCAG 2.1 A and AA), fetched from the npm registry at test time and
kept in pytest's cache folder. Screenshots go to `artifacts/screenshots/`.

Without /usr/bin/chromium or npm the tests are skipped with the reason, unless
GREENROOM_REQUIRE_BROWSER is set (CI sets it): then they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import httpx
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_ENV = "GREENROOM_REQUIRE_BROWSER"
AXE_PACKAGE = "axe-core@4"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORT = {"width": 1280, "height": 800}
# Violations known and reported, by page path and axe rule: the test is an expected
# failure while they are there, and fails once they are gone so the entry is removed.
KNOWN_VIOLATIONS: dict[str, dict[str, str]] = {}
# resultTypes: details of the violations only, which halves the time of a run.
AXE_RUN = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(result =>
  result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
  })))"""


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the environment says the browser tests must run."""
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set)", pytrace=False)
    pytest.skip(reason)


# --- the server --------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def json(self, path: str) -> Any:
        response = self.get(path + ("&" if "?" in path else "?") + "format=json")
        response.raise_for_status()
        return response.json()

    def kind_counts(self) -> dict[str, int]:
        response = self.get("/api/catalog/entity-facets?facet=kind")
        response.raise_for_status()
        return {f["value"]: f["count"] for f in response.json()["facets"]["kind"]}

    def first_entity(self, kind: str) -> dict[str, Any]:
        """The first row of the catalog table for `kind` (its summary: ref, url, name...)."""
        items = self.json(f"/catalog?filters[kind]={kind}")["items"]
        assert items, f"the demo catalog has no {kind}"
        return items[0]

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(folder: Path, *args: str) -> Server:
    """`greenroom serve ARGS` (the demo by default) on a free port, once it answers."""
    args = args or ("--demo",)
    env = {**os.environ, "GREENROOM_DATA_DIR": str(folder / "data")}
    for name in ("GREENROOM_CONFIG", "GREENROOM_DATABASE_URL"):
        env.pop(name, None)  # the demo on its own SQLite file, whatever the shell says
    for _attempt in range(3):
        port = free_port()
        log = folder / f"serve-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "greenroom",
                    "serve",
                    *args,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=folder,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            with suppress(httpx.HTTPError):
                if server.get("/healthz").status_code == 200:
                    return server
            time.sleep(0.1)
        _stop(server)
        if "address already in use" not in server.log_tail().lower():
            break  # not a lost race for the port: trying again will not help
    pytest.fail(f"greenroom serve did not answer /healthz:\n{server.log_tail()}", pytrace=False)


def _wait_processed(server: Server, *, settle: float = 1.0, timeout: float = 60) -> None:
    """Until the counts by kind have stayed the same, and non-zero, for `settle` seconds."""
    deadline = time.monotonic() + timeout
    last: dict[str, int] | None = None
    since = time.monotonic()
    while time.monotonic() < deadline:
        counts = server.kind_counts()
        if counts != last or not counts:
            last, since = counts, time.monotonic()
        elif time.monotonic() - since >= settle:
            return
        time.sleep(0.2)
    pytest.fail(f"the demo catalog was still changing after {timeout} s: {last}", pytrace=False)


def _stop(server: Server) -> None:
    server.http.close()
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`greenroom serve --demo` on a free port, its catalog processed."""
    started = _start(tmp_path_factory.mktemp("browser-server"))
    try:
        _wait_processed(started)
        yield started
    finally:
        _stop(started)


# --- the browser and axe ----------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(
            f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
    except Exception as exc:
        playwright.stop()
        unavailable(f"{CHROMIUM} did not start: {exc}")
    try:
        yield launched
    finally:
        launched.close()
        playwright.stop()


def _fetch_axe(folder: Path) -> Path:
    """axe.min.js of the latest axe-core 4 from the npm registry, kept in `folder`."""
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is not installed: axe-core cannot be fetched from the npm registry")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(
                [npm, "pack", AXE_PACKAGE, "--pack-destination", tmp, "--silent"],
                check=True,
                capture_output=True,
                timeout=180,
                cwd=tmp,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            stderr = getattr(exc, "stderr", b"") or b""
            unavailable(f"npm pack {AXE_PACKAGE} failed: {exc} {stderr.decode(errors='replace')}")
        tarball = next(Path(tmp).glob("axe-core-*.tgz"))
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/axe.min.js")
            assert member is not None
            source = member.read()
        target = folder / (tarball.name.removesuffix(".tgz") + ".min.js")
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(source)
        partial.replace(target)  # atomic: xdist workers may fetch at the same time
        return target


@pytest.fixture(scope="session")
def axe_source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    folder = Path(cache.mkdir("axe-core")) if cache is not None else tmp_path_factory.mktemp("axe")
    found = sorted(folder.glob("axe-core-*.min.js"))
    path = found[-1] if found else _fetch_axe(folder)
    return path.read_text(encoding="utf-8")


def format_violations(label: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {label}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  <{v['helpUrl']}>")
        for node in v["nodes"][:8]:
            summary = " ".join((node.get("summary") or "").split())
            lines.append(f"    {node['target']}: {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


@dataclass
class Axe:
    source: str

    def violations(self, page: Page) -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=self.source)
        return page.evaluate(AXE_RUN, WCAG_TAGS)

    def check(self, page: Page, label: str | None = None) -> None:
        """Fail on any violation, except a known one (KNOWN_VIOLATIONS): then xfail."""
        found = self.violations(page)
        label = label or page.url
        known = KNOWN_VIOLATIONS.get(urlsplit(page.url).path, {})
        unknown = [v for v in found if v["id"] not in known]
        assert not unknown, format_violations(label, unknown)
        stale = set(known) - {v["id"] for v in found}
        assert not stale, f"{label}: {sorted(stale)} fixed: remove from KNOWN_VIOLATIONS"
        if found:
            pytest.xfail(
                format_violations(label, found)
                + "\nknown: "
                + "; ".join(known[v["id"]] for v in found)
            )


@pytest.fixture(scope="session")
def axe(axe_source: str) -> Axe:
    return Axe(axe_source)


# --- pages ------------------------------------------------------------------------------


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"), full_page=True
    )


@dataclass
class Browsing:
    """Pages of one test: a light and a dark one, and helpers to open URLs in both."""

    browser: Browser
    server: Server
    axe: Axe
    contexts: list[BrowserContext] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)

    def new_page(self, **options: Any) -> Page:
        context = self.browser.new_context(
            **{"viewport": VIEWPORT, "color_scheme": "light", "base_url": self.server.url} | options
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context.new_page()

    def page(self, scheme: str = "light") -> Page:
        if scheme not in self.pages:
            self.pages[scheme] = self.new_page(color_scheme=scheme)
        return self.pages[scheme]

    def visit(
        self,
        path: str,
        name: str | None = None,
        *,
        dark_screenshot: bool = False,
        status: int = 200,
    ) -> Page:
        """Open `path` in dark then light, check both with axe, screenshot; the light page."""
        for scheme in ("dark", "light"):
            page = self.page(scheme)
            response = page.goto(path)
            assert response is not None and response.status == status, (
                f"{path}: HTTP {response.status if response else None}"
            )
            self.axe.check(page, f"{path} ({scheme})")
            if name and (scheme == "light" or dark_screenshot):
                screenshot(page, f"{name}-{scheme}")
        return self.page("light")

    def check_dark_too(self, page: Page, name: str | None = None) -> None:
        """Check `page` where it is now, and the same URL in the dark page."""
        self.axe.check(page, f"{page.url} (light)")
        dark = self.page("dark")
        dark.goto(page.url)
        self.axe.check(dark, f"{page.url} (dark)")
        if name:
            screenshot(page, f"{name}-light")

    def close(self) -> None:
        for context in self.contexts:
            with suppress(Exception):
                context.close()


@pytest.fixture
def browsing(browser: Browser, axe: Axe, server: Server) -> Iterator[Browsing]:
    # In this order, a missing browser or npm is found before a server is started.
    session = Browsing(browser, server, axe)
    yield session
    session.close()
