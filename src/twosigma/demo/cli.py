"""`twosigma demo seed --size small|medium|large`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from twosigma.demo.seed import SeedResult
from twosigma.demo.sizes import Size

demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
console = Console()


class RichReporter:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: int | None = None

    def start(self, phase: str, total: int) -> None:
        self.task = self.progress.add_task(phase, total=max(total, 1))

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)  # type: ignore[arg-type]

    def finish(self) -> None:
        if self.task is not None:
            task = self.task
            self.progress.update(task, completed=self.progress.tasks[task].total)  # type: ignore[arg-type]
        self.task = None


async def _seed(url: str, size: Size, seed_value: int) -> SeedResult:
    from twosigma.config import get_settings
    from twosigma.db import migrate
    from twosigma.db.engine import make_engine
    from twosigma.demo.seed import seed

    settings = get_settings()
    engine = make_engine(url, settings)
    try:
        await migrate.upgrade(engine)
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description:<32}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            return await seed(
                engine,
                size,
                seed_value=seed_value,
                reporter=RichReporter(progress),
                bcrypt_rounds=settings.bcrypt_rounds,
            )
    finally:
        await engine.dispose()


def _summary(result: SeedResult) -> Table:
    table = Table(title=f"Demo data set: {result.size} (seed {result.seed})")
    table.add_column("phase")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("rows/s", justify="right")
    for phase in result.stats.phases:
        table.add_row(phase.name, f"{phase.rows:,}", f"{phase.seconds:.1f}", f"{phase.rows_per_second:,.0f}")
    total_seconds = result.stats.seconds
    rate = result.stats.rows / total_seconds if total_seconds else 0
    table.add_row("total", f"{result.stats.rows:,}", f"{total_seconds:.1f}", f"{rate:,.0f}", style="bold")
    return table


@demo_app.command("seed")
def demo_seed(
    size: Annotated[Size, typer.Option(help="small: seconds; medium: ~5k users; large: 100k users, 1M items.")] = (
        Size.SMALL
    ),
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same data.")] = 42,
) -> None:
    """Fill the database with a realistic demo data set (migrates to head first; does nothing if already seeded)."""
    from twosigma.cli import run_with_database

    result = run_with_database(lambda url: _seed(url, size, seed_value))
    if result.already_seeded:
        console.print(
            f"[yellow]The database is already seeded with demo data[/yellow] "
            f"(size {result.size}, seed {result.seed}, at {result.marker.get('at', '?')}); nothing was written."
        )
    else:
        console.print(_summary(result))
    console.print(
        f"Demo platform admin: [bold]{result.admin_email}[/bold]  student: [bold]{result.student_email}[/bold]  "
        f"password (every demo user): [bold]{result.password}[/bold]"
    )
