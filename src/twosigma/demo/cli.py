"""`twosigma demo seed --size small|medium|large`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from twosigma.demo.sizes import Size
from twosigma.kit.cli import command_settings, console, working

if TYPE_CHECKING:
    from rich.progress import Progress
    from rich.status import Status
    from rich.table import Table
    from sqlalchemy.ext.asyncio import AsyncEngine

    from twosigma.config import Settings
    from twosigma.demo.seed import SeedResult

demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)


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


async def _seed(engine: AsyncEngine, settings: Settings, size: Size, seed_value: int, status: Status) -> SeedResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from twosigma.demo.seed import seed

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    status.stop()  # one live display at a time: the progress bars take over from the spinner
    with Progress(*columns, console=console) as progress:
        return await seed(
            engine,
            size,
            seed_value=seed_value,
            reporter=RichReporter(progress),
            bcrypt_rounds=settings.bcrypt_rounds,
        )


def _summary(result: SeedResult) -> Table:
    from rich.table import Table

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
    from twosigma.db.bootstrap import run_with_database

    settings = command_settings()
    with working("Starting the database and migrating it to head…") as status:
        result = run_with_database(
            settings, lambda engine: _seed(engine, settings, size, seed_value, status), upgrade=True
        )
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
