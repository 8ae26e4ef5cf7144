"""`twosigma api-keys create --name NAME [--scope SCOPE]…`: prints the public and secret key once, and the scopes."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from twosigma.api_keys.scopes import Scope
from twosigma.api_keys.service import CreatedKey, create_key
from twosigma.config import get_settings
from twosigma.db import migrate
from twosigma.db.bootstrap import resolve_database
from twosigma.db.engine import make_engine, make_sessionmaker

api_keys_app = typer.Typer(help="API keys for the Langfuse-compatible prompt API.", no_args_is_help=True)
console = Console()


async def _create(name: str, scopes: list[Scope]) -> CreatedKey:
    settings = get_settings()
    target = await resolve_database(settings)
    engine = make_engine(target.url, settings)
    try:
        await migrate.upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            created = await create_key(session, settings, name, None, scopes)
            await session.commit()
            return created
    finally:
        await engine.dispose()
        target.release()


@api_keys_app.command("create")
def create_command(
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")],
    scope: Annotated[
        list[Scope] | None,
        typer.Option(
            "--scope",
            help="What the key may do; repeat for several. prompts:read is always included; prompts:deploy (move "
            "the protected production label) brings prompts:write. None given: read only.",
        ),
    ] = None,
) -> None:
    """Create an API key. The secret is printed once and cannot be shown again."""
    if not name.strip() or len(name) > 255:
        console.print("[red]The name must be 1 to 255 characters.[/red]")
        raise typer.Exit(code=1)
    created = asyncio.run(_create(name.strip(), scope or []))
    console.print(f"public_key: {created.key.public_key}")
    console.print(f"secret_key: {created.secret_key}")
    console.print(f"scopes: {' '.join(created.key.scopes)}", highlight=False)
    console.print("[yellow]Store the secret key now: it is not shown again.[/yellow]")
