"""A tiny HTML page: a title, a message, and at most one form. Every value is escaped; no script, no cookie."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi.responses import HTMLResponse

# Forms post to this server only; nothing else may load (no script, no style, no frame).
PAGE_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str = "text"
    autocomplete: str | None = None
    hint: str | None = None
    value: str | None = None


def page(
    language: str,
    title: str,
    *,
    message: str | None = None,
    error: str | None = None,
    action: str | None = None,
    fields: Sequence[Field] = (),
    hidden: dict[str, str] | None = None,
    submit: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(language)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="robots" content="noindex">',
        f"<title>{html.escape(title)}</title></head><body><main>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if error:
        parts.append(f'<p role="alert" id="form-error">{html.escape(error)}</p>')
    if message:
        parts.append(f"<p>{html.escape(message)}</p>")
    if action is not None:
        described = ' aria-describedby="form-error"' if error else ""
        parts.append(f'<form method="post" action="{html.escape(action, quote=True)}"{described}>')
        for name, value in (hidden or {}).items():
            parts.append(f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value, quote=True)}">')
        for field in fields:
            parts.append(_field(field))
        parts.append(f'<p><button type="submit">{html.escape(submit or title)}</button></p></form>')
    parts.append("</main></body></html>")
    return HTMLResponse(
        "".join(parts),
        status_code=status_code,
        headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"},
    )


def _field(field: Field) -> str:
    ident = f"field-{field.name}"
    attributes = [f'id="{ident}"', f'name="{field.name}"', f'type="{field.type}"', "required"]
    if field.autocomplete:
        attributes.append(f'autocomplete="{field.autocomplete}"')
    if field.value is not None:
        attributes.append(f'value="{html.escape(field.value, quote=True)}"')
    hint = ""
    if field.hint:
        attributes.append(f'aria-describedby="{ident}-hint"')
        hint = f'<br><small id="{ident}-hint">{html.escape(field.hint)}</small>'
    return f'<p><label for="{ident}">{html.escape(field.label)}</label><br><input {" ".join(attributes)}>{hint}</p>'
