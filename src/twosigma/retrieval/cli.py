"""`twosigma index rebuild [--course ID]`: index every published content item again, with a progress bar.

An upgrade does not need it: every server indexes published items lacking chunks in the background
(services/backfill.py). Run it after changing `llm.embedding_model` (every item gets an embedding job), after a
course's `text_search_config` was changed in SQL, or to repair an index by hand. Each course is rebuilt in its own
transaction; the server may keep running meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from twosigma.kit.cli import command_settings, console, fail

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

index_app = typer.Typer(help="The course index used by the tutor's retrieval.", no_args_is_help=True)


@index_app.command("rebuild")
def rebuild_command(
    course: Annotated[int | None, typer.Option("--course", help="Only this course (its id).", min=1)] = None,
) -> None:
    """Rebuild the course index (every course, or one), and queue embeddings when a provider is configured."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from twosigma.db.bootstrap import committed_session, run_with_database
    from twosigma.retrieval.services import indexing

    settings = command_settings()

    async def work(engine: AsyncEngine) -> tuple[int, int]:
        async with committed_session(engine) as session:
            courses = await indexing.all_course_ids(session)
        if course is not None:
            if course not in courses:
                fail(f"No course with id {course}.")
            courses = [course]
        chunks = 0
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            overall = progress.add_task("courses", total=len(courses))
            for course_id in courses:
                items = progress.add_task(f"course {course_id}: items", total=None)

                def advance(done: int, total: int, task: TaskID = items) -> None:
                    progress.update(task, completed=done, total=total)

                async with committed_session(engine) as session:
                    chunks += await indexing.rebuild_course(session, course_id, progress=advance)
                progress.remove_task(items)
                progress.advance(overall)
        return len(courses), chunks

    done, chunks = run_with_database(settings, work, upgrade=True)
    console.print(f"rebuilt {done} course(s): {chunks} chunks indexed")
