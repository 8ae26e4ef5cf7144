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
from rich.text import Text

from twosigma.api_keys.cli import api_keys_app
from twosigma.demo.cli import demo_app
from twosigma.kit.cli import command_settings, console, fail, warn, working
from twosigma.lti.cli import lti_app
from twosigma.ops.cli import db_backup, db_restore, db_status, db_stop, doctor
from twosigma.prompts.cli import prompts_app
from twosigma.retrieval.cli import index_app
from twosigma.system_settings.cli import settings_app

if TYPE_CHECKING:
    from rich.status import Status
    from sqlalchemy.ext.asyncio import AsyncSession

    from twosigma.config import Settings

app = typer.Typer(
    help="twosigma: backend for AI-tutored learning.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(
    help="The database: migrations, status, backup and restore, stopping a leftover embedded server.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
db_app.command("status")(db_status)
db_app.command("stop")(db_stop)
db_app.command("backup")(db_backup)
db_app.command("restore")(db_restore)
app.command("doctor")(doctor)
app.add_typer(settings_app, name="settings")
app.add_typer(prompts_app, name="prompts")
app.add_typer(api_keys_app, name="api-keys")
app.add_typer(demo_app, name="demo")
app.add_typer(lti_app, name="lti")
app.add_typer(index_app, name="index")
admin_app = typer.Typer(help="Platform administrators.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


DEBUG_ENV = "TWOSIGMA_DEBUG"


def main() -> None:
    """The `twosigma` entry point: `app`, where a failure no command foresaw still ends in one line and exit code 1
    instead of a traceback (TWOSIGMA_DEBUG=1 shows the traceback)."""
    try:
        app(prog_name="twosigma")
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        message = f"Error: {one_line(exc)} (`twosigma doctor` checks the install; {DEBUG_ENV}=1 shows the traceback)"
        console.print(Text(message, style="red"), soft_wrap=True)
        raise SystemExit(1) from None


def one_line(exc: BaseException) -> str:
    """The first line of what went wrong, from the driver's error rather than SQLAlchemy's wrapper of it."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database up to a revision (default: head)."""
    from twosigma.db import migrate
    from twosigma.db.bootstrap import run_with_database

    settings = command_settings()
    with working(f"Migrating the database to {revision}…"):
        run_with_database(settings, lambda engine: migrate.upgrade(engine, revision))
    console.print(f"[green]Database upgraded to {revision}.[/green]")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")]) -> None:
    """Migrate the database down to a revision."""
    from twosigma.db import migrate
    from twosigma.db.bootstrap import run_with_database

    settings = command_settings()
    with working(f"Migrating the database down to {revision}…"):
        run_with_database(settings, lambda engine: migrate.downgrade(engine, revision))
    console.print(f"[green]Database downgraded to {revision}.[/green]")


@db_app.command("current")
def db_current() -> None:
    """Print the database's current revision and the code's head."""
    from twosigma.db import migrate
    from twosigma.db.bootstrap import run_with_database

    settings = command_settings()
    with working("Reading the database's revision…"):
        current = run_with_database(settings, migrate.current_revisions)
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
    # Before migrations and the embedded server: a taken port is known in a millisecond, not after start-up.
    port_problem = _port_unavailable(host, port)
    if port_problem:
        fail(port_problem)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    try:
        with _stop_on_signals():
            with working("Starting the database and migrating it to head…"):
                target = asyncio.run(resolve_database(settings))
            try:
                with working("Starting the database and migrating it to head…"):
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


def _port_unavailable(host: str, port: int) -> str | None:
    """Why `host:port` cannot be served on, in one line, or None. Bound the way uvicorn binds (SO_REUSEADDR), then
    released at once."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"Cannot serve on host {host!r}: {exc.strerror}. Choose another with --host."
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"Port {port} on {host} is already in use: stop what holds it, or choose another with --port."
            if exc.errno == errno.EACCES:
                return f"Port {port} on {host} needs privileges this user lacks: choose another with --port."
            return f"Cannot serve on {host}:{port}: {exc.strerror}. Check --host and --port."
    return None


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
    status: Status,
) -> str:
    from twosigma.users.platform_admin import create_platform_admin

    def ask() -> str:
        status.stop()  # the spinner would draw over the prompt
        try:
            return _ask_password()
        finally:
            status.start()

    result = await create_platform_admin(
        session,
        settings,
        email=email,
        password=password,
        full_name=full_name,
        university=university,
        ask_password=ask if password is None else None,
    )
    who = "Created" if result.created_user else "Found existing user"
    role = "granted PLATFORM_ADMIN" if result.granted else "already PLATFORM_ADMIN"
    note = "" if result.user.is_active else " (the account is inactive)"
    return (
        f"{who} {result.user.email} (id {result.user.id}); {role} in "
        f"{result.university.name} [{result.university.short_code}, id {result.university.id}]{note}."
    )


def _ask_password() -> str:
    """The new account's password, typed twice without echo. Only in a terminal: a script passes --password-stdin."""
    import sys

    if not sys.stdin.isatty():
        return ""  # create_platform_admin then says how to pass one
    while True:
        first = typer.prompt("Password for the new account", hide_input=True)
        second = typer.prompt("Repeat the password", hide_input=True)
        if first == second:
            return str(first)
        console.print("[red]The two passwords differ; type them again.[/red]")


@admin_app.command("create")
def admin_create(
    email: Annotated[str, typer.Option(help="Email of the administrator (created if new, else promoted).")],
    password: Annotated[
        str | None,
        typer.Option(
            help="Password for a new account. Discouraged: it lands in shell history and the process list; without "
            "it a terminal asks (hidden, twice)."
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new account's password from the first line of stdin.")
    ] = False,
    full_name: Annotated[str | None, typer.Option(help="Full name for a new account.")] = None,
    university: Annotated[
        str | None,
        typer.Option(help="Short code or id of the university holding the role (default: the platform tenant)."),
    ] = None,
) -> None:
    """Create a PLATFORM_ADMIN, or promote an existing user (migrates the database to head first).

    A new account's password is asked for in the terminal (hidden, twice), or read with --password-stdin.
    """
    import sys

    from twosigma.db.bootstrap import run_in_session
    from twosigma.kit.errors import AppError
    from twosigma.users.platform_admin import AdminCommandError

    if password is not None and password_stdin:
        fail("Pass either --password or --password-stdin, not both.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin read an empty line; put the password on the first line of stdin.")
    elif password is not None:
        warn(
            "Warning: --password leaves the password in your shell history and the process list; "
            "prefer the prompt or --password-stdin."
        )
    settings = command_settings()
    try:
        with working("Migrating the database and creating the administrator…") as status:
            message = run_in_session(
                settings,
                lambda session: _create_admin(session, settings, email, password, full_name, university, status),
                upgrade=True,
            )
    except (AdminCommandError, AppError) as exc:
        fail(str(exc))
    console.print(f"[green]{message}[/green]")
