"""The `greenroom` command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from greenroom.config import Config, config_from_dict, load_config
from greenroom.errors import ConfigError, GreenroomError

app = typer.Typer(help="Greenroom developer portal.", no_args_is_help=True, add_completion=False)
catalog_app = typer.Typer(help="Work with catalog files and the catalog.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="greenroom.yaml (default: $GREENROOM_CONFIG)", show_default=False
    ),
]


def _config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as error:
        # One line per message, not wrapped at the terminal width: easy to read and to grep.
        console.print(f"[red]Invalid configuration[/red]\n{escape(str(error))}", soft_wrap=True)
        raise typer.Exit(2) from None


def _portal(config: Config):  # type: ignore[no-untyped-def]
    from greenroom.portal import Portal

    portal = Portal(config)
    portal.migrate()
    return portal


def _logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def demo_config(config: Config) -> Config:
    """The config plus the demo catalog, with rules letting in every kind it holds."""
    from greenroom.catalog.model import BUILTIN_KIND_NAMES
    from greenroom.demo import demo_location_target

    data = config.model_dump(by_alias=True)
    # The rules go with the demo location only, so they widen nothing else.
    demo = {
        "type": "file",
        "target": demo_location_target(),
        "rules": [{"allow": list(BUILTIN_KIND_NAMES)}],
    }
    data["catalog"]["locations"] = [*data["catalog"]["locations"], demo]
    result = config_from_dict(data, base_dir=config.base_dir)
    result.data_dir = config.data_dir
    return result


@app.command()
def serve(
    config_path: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo catalog.")] = False,
    workers: Annotated[int, typer.Option(help="Catalog worker threads per process.")] = 1,
    processes: Annotated[
        int, typer.Option(help="HTTP server processes (one per core serves the most requests).")
    ] = 1,
) -> None:
    """Run the portal: HTTP server and catalog workers."""
    import uvicorn

    _logging()
    config = _config(config_path)
    if demo:
        config = demo_config(config)
    portal = _portal(config)
    host = host or config.server.host
    port = port if port is not None else config.server.port
    console.print(
        f"Greenroom on [bold]http://{host}:{port}[/bold]  (database: {portal.db.dialect.name})"
    )
    if processes > 1:
        # Each process builds its own portal from the same settings (see `served_app`).
        portal.close()
        os.environ[_SERVE_SETTINGS] = json.dumps(
            {"config": str(config_path) if config_path else None, "demo": demo, "workers": workers}
        )
        uvicorn.run(
            "greenroom.cli:served_app",
            factory=True,
            host=host,
            port=port,
            workers=processes,
            log_level="info",
        )
        return
    from greenroom.app import create_app

    uvicorn.run(create_app(portal, worker_count=workers), host=host, port=port, log_level="info")


_SERVE_SETTINGS = "GREENROOM_SERVE_SETTINGS"


def served_app():  # type: ignore[no-untyped-def]
    """The app of one `greenroom serve --processes N` process (a uvicorn factory)."""
    from greenroom.app import create_app
    from greenroom.portal import Portal

    settings = json.loads(os.environ[_SERVE_SETTINGS])
    config = load_config(Path(settings["config"]) if settings["config"] else None)
    if settings["demo"]:
        config = demo_config(config)
    return create_app(Portal(config), worker_count=settings["workers"])


@app.command()
def worker(
    config_path: ConfigOption = None,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit once no work is left (batch ingest).")
    ] = False,
) -> None:
    """Run only catalog workers (scale out by starting more of these)."""
    _logging("WARNING" if until_idle else "INFO")
    portal = _portal(_config(config_path))
    if until_idle:
        stats = portal.catalog.process_until_idle()
        typer.echo(f"processed={stats.processed} stitched={stats.stitched} deleted={stats.deleted}")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"worker {os.getpid()} started (database: {portal.db.dialect.name})")
    portal.catalog.engine.run_forever(stop)


@app.command()
def migrate(config_path: ConfigOption = None) -> None:
    """Create or upgrade the database schema."""
    portal = _portal(_config(config_path))
    console.print(f"database is up to date ({portal.db.dialect.name})")


@catalog_app.command("validate")
def catalog_validate(
    paths: Annotated[
        list[str], typer.Argument(help="Files, directories (searched for *.yaml/*.yml) or globs.")
    ],
    config_path: ConfigOption = None,
    output: Annotated[str, typer.Option("--format", help="text or github")] = "text",
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            help="Folder that placeholders ($text, $json, $yaml) may read under "
            "(default: the current folder).",
            exists=True,
            file_okay=False,
            dir_okay=True,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Lint catalog files like a CI step: one `file:line: message` per error, exit 1 on errors.

    Placeholders may read files anywhere under the root folder, as they may under
    the root of a location during ingestion: run it at the repository root, or
    give --root. A file outside the root is checked with its own folder as root.
    """
    from greenroom.catalog.lint import lint_paths

    config = _config(config_path)
    problems, checked = lint_paths(paths, config, root=root)
    for problem in problems:
        typer.echo(problem.format(output))
    if problems:
        console.print(f"[red]{len(problems)} error(s)[/red] in {checked} entities")
        raise typer.Exit(1)
    console.print(f"[green]ok[/green]: {checked} entities")


@catalog_app.command("import")
def catalog_import(
    target: Annotated[
        str,
        # Help texts are rich markup: `[//path]` would be read as a closing tag.
        typer.Argument(
            help=escape("A catalog file path, a URL, or git:<remote>[//path][?ref=...]")
        ),
    ],
    config_path: ConfigOption = None,
) -> None:
    """Register a location and ingest it now, showing progress and a summary.

    The summary counts the entities the location brings in (its Location entity
    and everything below it), lists those with errors, and exits with status 1
    when any of them has errors. Errors elsewhere in the catalog are not shown.
    """
    _logging("WARNING")
    config = _config(config_path)
    type_, location = _classify_target(target)
    portal = _portal(config)
    catalog = portal.catalog
    stored, _ = catalog.add_location(type_, location)
    with Progress(
        TextColumn("[bold]ingesting[/bold]"),
        BarColumn(),
        TextColumn(
            "{task.completed} processed, {task.fields[due]} due, {task.fields[stitch]} to stitch"
        ),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=None, due=0, stitch=0)

        def report(done: int, due: int, stitch: int) -> None:
            progress.update(task, completed=done, total=done + due + stitch, due=due, stitch=stitch)

        stats = catalog.process_until_idle(progress=report)
    # Only what this location brings in: its Location entity and its descendants.
    refs = {stored.entity_ref, *catalog.descendants(stored.entity_ref)}
    out = Console()
    # The title on a line of its own: a table title would wrap at the table's width.
    out.print(f"Entities from {type_}:{location}", markup=False, highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("kind")
    table.add_column("entities", justify="right")
    for kind, count in catalog.counts_by_kind(refs).items():
        table.add_row(escape(kind), str(count))
    out.print(table)
    errors = catalog.processing_errors(refs)
    for ref, items in errors:
        for item in items:
            pos = item.get("sourceLocation", {})
            where = f"{pos.get('file', '')}:{pos.get('line', '')} " if pos else ""
            message = f"{ref}: {where}{item.get('name')}: {item.get('message')}"
            console.print(f"[red]error[/red] {escape(message)}")
    console.print(
        f"{stats.processed} processed, {stats.stitched} stitched; "
        f"{len(errors)} of the location's entities with errors"
    )
    if errors:
        raise typer.Exit(1)


def _classify_target(target: str) -> tuple[str, str]:
    if target.startswith("git:"):
        return "git", target[4:]
    if target.startswith(("http://", "https://")):
        return "url", target
    path = Path(target)
    if not path.exists():
        console.print(f"[red]No such file:[/red] {escape(target)}")
        raise typer.Exit(2)
    return "file", str(path.resolve())


def main() -> None:
    try:
        app()
    except GreenroomError as error:
        console.print(f"[red]{error.name}[/red]: {escape(str(error))}")
        sys.exit(1)
