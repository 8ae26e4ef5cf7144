"""`twosigma prompts export FILE` / `twosigma prompts import FILE`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from twosigma.kit.cli import command_settings, console, fail, working

prompts_app = typer.Typer(help="Prompt export and import (JSON).", no_args_is_help=True)


@prompts_app.command("export")
def export_command(file: Annotated[Path, typer.Argument(help="Where to write the JSON file.")]) -> None:
    """Write every version of every prompt (content, config, labels, tags) to FILE."""
    from twosigma.db.bootstrap import run_in_session
    from twosigma.prompts.transfer import export_prompts

    settings = command_settings()
    with working("Exporting prompts…"):
        data = run_in_session(settings, export_prompts, upgrade=True)
    file.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"[green]Exported {len(data['prompts'])} prompt versions to {file}.[/green]")


@prompts_app.command("import")
def import_command(file: Annotated[Path, typer.Argument(help="A file written by `prompts export`.")]) -> None:
    """Import FILE: missing versions are created, labels and tags set; re-importing changes nothing."""
    from twosigma.db.bootstrap import run_in_session
    from twosigma.kit.errors import AppError
    from twosigma.prompts.services.changes import Actor
    from twosigma.prompts.transfer import import_prompts

    settings = command_settings()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"Cannot read {file}: {exc}")
    actor = Actor(created_by="cli", audit="cli", may_move_protected=True)
    try:
        with working(f"Importing {file}…"):
            result = run_in_session(settings, lambda session: import_prompts(session, actor, data), upgrade=True)
    except AppError as exc:
        fail(exc.message)
    console.print(
        f"[green]Imported: {result.created} created, {result.unchanged} unchanged, "
        f"{result.label_moves} label moves.[/green]"
    )
