"""The `twosigma` command line: the root app, which registers each group from its own module.

Command modules stay cheap to import (kit/cli.py says how): `twosigma --help` loads Typer and these declarations,
not the application. Sub-modules never import this one.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from twosigma.api_keys.cli import api_keys_app
from twosigma.demo.cli import demo_app
from twosigma.kit.cli import command_settings, console, fail
from twosigma.prompts.cli import prompts_app
from twosigma.retrieval.cli import index_app
from twosigma.system_settings.cli import settings_app

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from twosigma.config import Settings

app = typer.Typer(help="twosigma: backend for AI-tutored learning.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(settings_app, name="settings")
app.add_typer(prompts_app, name="prompts")
app.add_typer(api_keys_app, name="api-keys")
app.add_typer(demo_app, name="demo")
app.add_typer(index_app, name="index")
admin_app = typer.Typer(help="Platform administrators.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database up to a revision (default: head)."""
    from twosigma.db import migrate
    from twosigma.db.bootstrap import run_with_database

    run_with_database(command_settings(), lambda engine: migrate.upgrade(engine, revision))
    console.print(f"[green]Database upgraded to {revision}.[/green]")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")]) -> None:
    """Migrate the database down to a revision."""
    from twosigma.db import migrate
    from twosigma.db.bootstrap import run_with_database

    run_with_database(command_settings(), lambda engine: migrate.downgrade(engine, revision))
    console.print(f"[green]Database downgraded to {revision}.[/green]")


@db_app.command("current")
def db_current() -> None:
    """Print the database's current revision and the code's head."""
    from twosigma.db import migrate
    from twosigma.db.bootstrap import run_with_database

    current = run_with_database(command_settings(), migrate.current_revisions)
    heads = migrate.head_revisions()
    state = "at head" if current == heads else "behind head"
    console.print(f"current: {', '.join(sorted(current)) or 'none'}  head: {', '.join(sorted(heads))}  ({state})")


class _Stop(BaseException):
    """SIGTERM or SIGINT reached `twosigma serve` outside uvicorn's own handling (a BaseException, so no
    `except Exception` on the way swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signum)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM (systemd, docker, `kill`) and SIGINT (Ctrl-C) both end `serve` through its `finally`.

    uvicorn handles both itself while it serves (it stops accepting, lets in-flight requests finish within the
    graceful timeout, runs the lifespan's shutdown), then restores the handlers it found and raises the signal
    again. With Python's defaults that second SIGTERM would kill the process on the spot, before the embedded
    PostgreSQL was released; these handlers turn it into an exception that unwinds through the release instead.
    """
    previous = {sig: signal.signal(sig, _raise_stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """While the embedded server is being stopped, a second Ctrl-C must not interrupt it half-way."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Migrate to head, then serve the API (embedded PostgreSQL when no database URL is set).

    SIGTERM and SIGINT stop it cleanly: in-flight requests get TWOSIGMA_SHUTDOWN_TIMEOUT_SECONDS to finish, then the
    embedded PostgreSQL is stopped (unless another command still uses it) and the command exits 0.
    """
    import asyncio

    import uvicorn

    from twosigma.config import get_settings
    from twosigma.db.bootstrap import resolve_database
    from twosigma.kit.logging import configure_logging
    from twosigma.kit.server import HTTP_PROTOCOL

    settings = command_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    try:
        with _stop_on_signals():
            target = asyncio.run(resolve_database(settings))
            try:
                asyncio.run(_prepare_database(settings, target.url))
                # Workers (and this process, when it serves itself) connect to the database we just resolved.
                os.environ["TWOSIGMA_DATABASE_URL"] = target.url
                get_settings.cache_clear()
                console.print(
                    f"[bold green]twosigma[/bold green] on http://{host}:{port}  docs: http://{host}:{port}/docs"
                )
                uvicorn.run(
                    "twosigma.app:create_app",
                    factory=True,
                    host=host,
                    port=port,
                    workers=workers if not reload else None,
                    reload=reload,
                    proxy_headers=True,
                    # Requests uvicorn's parser refuses (an over-long URL) get the error shape: kit/server.py.
                    http=HTTP_PROTOCOL,
                    # Logging is ours (JSON lines, one access line per request from the app itself).
                    log_config=None,
                    access_log=False,
                    # On SIGTERM, in-flight requests (tutor streams) get this long to finish; after it they are
                    # cancelled, and a cancelled turn stores its partial reply (meta.incomplete) before the worker
                    # exits.
                    timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds) or None,
                )
            finally:
                with _signals_ignored():
                    target.release()
    except _Stop as stop:
        console.print(f"twosigma stopped ({signal.Signals(stop.signum).name}).", highlight=False)


async def _prepare_database(settings: Settings, url: str) -> None:
    """Migrate to head, then the start-up work that needs the migrated schema (built-in data)."""
    from twosigma.db.bootstrap import committed_session, engine_on
    from twosigma.taxonomy.builtin_types import install_builtin_content_types
    from twosigma.tutor.builtin_prompts import install_builtin_prompts

    async with engine_on(settings, url, upgrade=True) as engine, committed_session(engine) as session:
        await install_builtin_prompts(session)
        await install_builtin_content_types(session)


async def _create_admin(
    session: AsyncSession,
    settings: Settings,
    email: str,
    password: str | None,
    full_name: str | None,
    university: str | None,
) -> str:
    from twosigma.users.platform_admin import create_platform_admin

    result = await create_platform_admin(
        session, settings, email=email, password=password, full_name=full_name, university=university
    )
    who = "Created" if result.created_user else "Found existing user"
    role = "granted PLATFORM_ADMIN" if result.granted else "already PLATFORM_ADMIN"
    note = "" if result.user.is_active else " (the account is inactive)"
    return (
        f"{who} {result.user.email} (id {result.user.id}); {role} in "
        f"{result.university.name} [{result.university.short_code}, id {result.university.id}]{note}."
    )


@admin_app.command("create")
def admin_create(
    email: Annotated[str, typer.Option(help="Email of the administrator (created if new, else promoted).")],
    password: Annotated[
        str | None, typer.Option(help="Password for a new account (policy applies); unused when promoting.")
    ] = None,
    full_name: Annotated[str | None, typer.Option(help="Full name for a new account.")] = None,
    university: Annotated[
        str | None,
        typer.Option(help="Short code or id of the university holding the role (default: the platform tenant)."),
    ] = None,
) -> None:
    """Create a PLATFORM_ADMIN, or promote an existing user (migrates the database to head first)."""
    from twosigma.db.bootstrap import run_in_session
    from twosigma.kit.errors import AppError
    from twosigma.users.platform_admin import AdminCommandError

    settings = command_settings()
    try:
        message = run_in_session(
            settings,
            lambda session: _create_admin(session, settings, email, password, full_name, university),
            upgrade=True,
        )
    except (AdminCommandError, AppError) as exc:
        fail(str(exc))
    console.print(f"[green]{message}[/green]")
