"""`twosigma prompts export FILE` / `twosigma prompts import FILE`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from twosigma.config import get_settings
from twosigma.db import migrate
from twosigma.db.bootstrap import resolve_database
from twosigma.db.engine import make_engine, make_sessionmaker
from twosigma.kit.errors import AppError
from twosigma.prompts.service import Actor
from twosigma.prompts.transfer import export_prompts, import_prompts

prompts_app = typer.Typer(help="Prompt export and import (JSON).", no_args_is_help=True)
console = Console()
CLI_ACTOR = Actor(created_by="cli", audit="cli", may_move_protected=True)


async def _with_session(work: Any) -> Any:
    settings = get_settings()
    target = await resolve_database(settings)
    engine = make_engine(target.url, settings)
    try:
        await migrate.upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()
        target.release()


@prompts_app.command("export")
def export_command(file: Annotated[Path, typer.Argument(help="Where to write the JSON file.")]) -> None:
    """Write every version of every prompt (content, config, labels, tags) to FILE."""
    data = asyncio.run(_with_session(export_prompts))
    file.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"[green]Exported {len(data['prompts'])} prompt versions to {file}.[/green]")


@prompts_app.command("import")
def import_command(file: Annotated[Path, typer.Argument(help="A file written by `prompts export`.")]) -> None:
    """Import FILE: missing versions are created, labels and tags set; re-importing changes nothing."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        console.print(f"[red]Cannot read {file}: {exc}[/red]")
        raise typer.Exit(code=1) from exc
    try:
        result = asyncio.run(_with_session(lambda session: import_prompts(session, CLI_ACTOR, data)))
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    console.print(
        f"[green]Imported: {result.created} created, {result.unchanged} unchanged, "
        f"{result.label_moves} label moves.[/green]"
    )
