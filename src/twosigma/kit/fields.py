"""Validated field types shared by several domains' schemas."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(value: str) -> bool:
    return value in _zones()


def check_time_zone(value: str) -> str:
    if not is_time_zone(value):
        # The value stays out of the message: validation errors never echo the input.
        raise ValueError("The time zone must be an IANA time zone name (e.g. 'Europe/Lisbon', 'UTC').")
    return value


def normalize_email(value: str) -> str:
    return value.strip().lower()


# Emails are stored lowercased, so every email that reaches a query goes through this type.
Email = Annotated[EmailStr, Field(max_length=255), AfterValidator(normalize_email)]
TimeZone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50), AfterValidator(check_time_zone)]
