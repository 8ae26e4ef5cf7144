"""Validated field types shared by the auth and users schemas (and the CLI)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from twosigma.kit.fields import Email, TimeZone, check_time_zone, is_time_zone, normalize_email

_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def check_locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError("The locale must be a language tag such as 'en' or 'pt-BR'.")
    return value


def check_not_future(value: date | None) -> date | None:
    if value is not None and value > date.today():
        raise ValueError("The date of birth cannot be in the future.")
    if value is not None and value.year < 1900:
        raise ValueError("The date of birth must be in 1900 or later.")
    return value


Locale = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10), AfterValidator(check_locale)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
DateOfBirth = Annotated[date | None, AfterValidator(check_not_future)]


__all__ = [
    "DateOfBirth",
    "Email",
    "FullName",
    "Locale",
    "TimeZone",
    "check_locale",
    "check_not_future",
    "check_time_zone",
    "is_time_zone",
    "normalize_email",
]
