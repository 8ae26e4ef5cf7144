"""`twosigma settings get|set|rotate-key`: the settings store from the command line (secrets always masked)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from twosigma.kit.cli import command_settings, console, fail, working

if TYPE_CHECKING:
    from pydantic import JsonValue
    from sqlalchemy.ext.asyncio import AsyncSession

    from twosigma.config import Settings

T = TypeVar("T")

settings_app = typer.Typer(help="System settings (the /admin/settings store).", no_args_is_help=True)


def _in_session(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction on the configured (or embedded) database."""
    from twosigma.db.bootstrap import run_in_session
    from twosigma.kit.errors import AppError

    settings = command_settings()
    try:
        with working("Reading the settings store…"):
            return run_in_session(settings, lambda session: work(session, settings))
    except AppError as exc:
        fail(exc.message)


def _show(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False)


async def _get(session: AsyncSession, settings: Settings, key: str) -> str:
    from twosigma.system_settings import repository, service
    from twosigma.system_settings.crypto import mask
    from twosigma.system_settings.effective import attribute, get_effective_settings
    from twosigma.system_settings.registry import spec_for

    row = await repository.get(session, key)
    if row is not None:
        shown = service.to_read(row, settings).value
        return f"{key} = {_show(shown)}  (stored{', encrypted' if row.is_encrypted else ''})"
    spec = spec_for(key)
    if spec is None:
        raise service.SettingNotFound(f"No setting {key!r} is stored, and it is not a known key.")
    effective = await get_effective_settings(session, settings)
    value = getattr(effective, attribute(key))
    if spec.secret and value is not None:
        value = mask(str(value))
    return f"{key} = {_show(value)}  ({effective.sources[key]})"


def _parse_cli_value(key: str, raw: str) -> JsonValue:
    from twosigma.system_settings.registry import spec_for

    if spec_for(key) is not None:
        return raw  # typed by the key's spec; strings are coerced ("0.3" -> 0.3)
    try:
        parsed: JsonValue = json.loads(raw)
    except ValueError:
        return raw
    return parsed


@settings_app.command("get")
def settings_get(key: Annotated[str, typer.Argument(help="Setting key, e.g. llm.provider.")]) -> None:
    """Print a setting: the stored value, else the effective one and where it comes from. Secrets are masked."""
    console.print(_in_session(lambda session, settings: _get(session, settings, key)), highlight=False, markup=False)


@settings_app.command("set")
def settings_set(
    key: Annotated[str, typer.Argument(help="Setting key, e.g. llm.temperature.")],
    value: Annotated[str, typer.Argument(help="The value; for unknown keys, JSON if it parses, else text.")],
    description: Annotated[str | None, typer.Option(help="What the setting is for.")] = None,
    encrypt: Annotated[bool, typer.Option(help="Store encrypted (secret keys always are).")] = False,
) -> None:
    """Create or replace a setting, validated like PUT /admin/settings/{key}."""
    from twosigma.system_settings import service
    from twosigma.system_settings.schemas import SettingWrite

    body = SettingWrite(value=_parse_cli_value(key, value), is_encrypted=encrypt, description=description)
    read = _in_session(lambda session, settings: service.put_setting(session, settings, key, body))
    suffix = "  (encrypted)" if read.is_encrypted else ""
    console.print(f"{read.key} = {_show(read.value)}{suffix}", highlight=False, markup=False)


@settings_app.command("rotate-key")
def settings_rotate_key() -> None:
    """Re-encrypt every stored secret under the first key of TWOSIGMA_ENCRYPTION_KEYS: the secret settings, each
    university's secret settings, the LTI tool's private keys and each university's SSO client secret.

    Put the new key first and keep the old ones after it; once this succeeds the old keys can be removed.
    """
    from twosigma.ops.stored_secrets import rotate_every_secret

    result = _in_session(rotate_every_secret)
    console.print(result.summary(), highlight=False)
    if result.failed:
        console.print(
            f"[red]{len(result.failed)} secret(s) could not be decrypted with any configured key: "
            f"{', '.join(result.failed)}[/red]"
        )
        raise typer.Exit(code=1)
