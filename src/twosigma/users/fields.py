"""Validated field types shared by the auth and users schemas (and the CLI)."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(value: str) -> bool:
    return value in _zones()


def check_time_zone(value: str) -> str:
    if not is_time_zone(value):
        raise ValueError(f"'{value}' is not an IANA time zone (e.g. 'Europe/Lisbon', 'UTC').")
    return value


def check_locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError("The locale must be a language tag such as 'en' or 'pt-BR'.")
    return value


def normalize_email(value: str) -> str:
    return value.strip().lower()


def check_not_future(value: date | None) -> date | None:
    if value is not None and value > date.today():
        raise ValueError("The date of birth cannot be in the future.")
    if value is not None and value.year < 1900:
        raise ValueError("The date of birth must be in 1900 or later.")
    return value


Email = Annotated[EmailStr, Field(max_length=255), AfterValidator(normalize_email)]
TimeZone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50), AfterValidator(check_time_zone)]
Locale = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10), AfterValidator(check_locale)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
DateOfBirth = Annotated[date | None, AfterValidator(check_not_future)]
