"""What the commands of the `twosigma` CLI share: the console, the settings check, and failing with a message.

Command modules (`twosigma/cli.py`, `<domain>/cli.py`) stay cheap to import, so `twosigma --help` answers without
loading the application: only Typer, Rich and light modules (enums) at module level; settings, the database and
services are imported inside the command that needs them. This module follows the same rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from pydantic import ValidationError
    from rich.status import Status

    from twosigma.config import ConfigError, Settings

console = Console()
error_console = Console(stderr=True)


def command_settings() -> Settings:
    """The settings every command starts with; a broken configuration (and with it the install's secrets,
    kept_secrets.py) stops the command with one readable line per problem and exit code 2, never a traceback."""
    from pydantic import ValidationError

    from twosigma.config import ConfigError, get_settings

    try:
        return get_settings()
    except (ConfigError, ValidationError) as exc:
        for problem in config_problems(exc):
            console.print(Text.assemble(("Configuration error: ", "red"), problem))
        raise typer.Exit(code=2) from None


def config_problems(exc: ConfigError | ValidationError) -> list[str]:
    from twosigma.config import ConfigError

    if isinstance(exc, ConfigError):
        return [str(exc)]
    problems = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        field = ".".join(str(part) for part in error["loc"])
        problems.append(f"TWOSIGMA_{field.upper()}: {message}" if field else message)
    return problems


@contextmanager
def working(message: str) -> Iterator[Status]:
    """A spinner with `message` while the block runs (the embedded server starting, migrations, the work itself):
    every command that may take more than a second shows one. Only in a terminal; it leaves no trace in a log."""
    with console.status(message) as status:
        yield status


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `message` in red, on one line however narrow the terminal, and end the command with exit code 1."""
    console.print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(code=code)


def warn(message: str) -> None:
    """A warning on stderr (yellow, one line): the command goes on."""
    error_console.print(Text(message, style="yellow"), soft_wrap=True)
