"""Tokens out of mail bodies: a sent message, and every message an admin lists, shows `token=[redacted]`."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"(token=)[^&\s\"'<]+")
_LINK = re.compile(r"https?://[^\s\"'<>]+")


def redact(body: str) -> str:
    return _TOKEN.sub(r"\1[redacted]", body)


def first_link(body: str) -> str | None:
    match = _LINK.search(body)
    return match.group(0) if match else None
