"""`twosigma api-keys create --name NAME [--scope SCOPE]…`: prints the public and secret key once, and the scopes."""

from __future__ import annotations

from typing import Annotated

import typer

from twosigma.api_keys.scopes import Scope
from twosigma.kit.cli import command_settings, console, fail, working

api_keys_app = typer.Typer(help="API keys for the Langfuse-compatible prompt API.", no_args_is_help=True)


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
    from twosigma.api_keys.service import create_key
    from twosigma.db.bootstrap import run_in_session

    settings = command_settings()
    if not name.strip() or len(name) > 255:
        fail("The name must be 1 to 255 characters.")
    with working("Creating the API key…"):
        created = run_in_session(
            settings, lambda session: create_key(session, settings, name.strip(), None, scope or []), upgrade=True
        )
    console.print(f"public_key: {created.key.public_key}")
    console.print(f"secret_key: {created.secret_key}")
    console.print(f"scopes: {' '.join(created.key.scopes)}", highlight=False)
    console.print("[yellow]Store the secret key now: it is not shown again.[/yellow]")
