"""Request and response shapes for countries, universities, departments, role grants and members."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from twosigma.enums import UserRole
from twosigma.kit.fields import Email, TimeZone
from twosigma.kit.schemas import ReadSchema, Schema

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def _check_website(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("must be an http(s) URL such as 'https://www.example.edu'")
    return value


def _check_country_code(value: str) -> str:
    if not _COUNTRY_CODE.match(value):
        raise ValueError("must be an ISO 3166-1 alpha-2 code: two uppercase letters such as 'FR'")
    return value


CountryCode = Annotated[str, AfterValidator(_check_country_code)]
WebsiteUrl = Annotated[str, Field(max_length=255), AfterValidator(_check_website)]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]


def _no_nulls(model: Schema, *fields: str) -> None:
    """PATCH bodies: a field may be omitted, but a NOT NULL column may not be set to null."""
    for name in fields:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(f"{name} may not be null")


# Countries


class CountryCreate(Schema):
    code: CountryCode
    name: str = Field(min_length=1, max_length=100)


class CountryUpdate(Schema):
    code: CountryCode | None = None
    name: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _not_null(self) -> Self:
        _no_nulls(self, "code", "name")
        return self


class CountryRead(ReadSchema):
    id: int
    code: str
    name: str


# Universities


class UniversityCreate(Schema):
    name: str = Field(min_length=1, max_length=255)
    short_code: str = Field(min_length=1, max_length=20)
    country_id: Id
    time_zone: TimeZone = "UTC"
    website_url: WebsiteUrl | None = None
    is_active: bool = True


class UniversityUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    short_code: str | None = Field(default=None, min_length=1, max_length=20)
    country_id: Id | None = None
    time_zone: TimeZone | None = None
    website_url: WebsiteUrl | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _not_null(self) -> Self:
        _no_nulls(self, "name", "short_code", "country_id", "time_zone", "is_active")
        return self


class UniversityRead(ReadSchema):
    id: int
    name: str
    short_code: str
    country_id: int
    country: CountryRead
    time_zone: str
    website_url: str | None
    is_active: bool


# Departments


class DepartmentCreate(Schema):
    name: str = Field(min_length=1, max_length=255)
    code: str | None = Field(default=None, min_length=1, max_length=20)


class DepartmentUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    code: str | None = Field(default=None, min_length=1, max_length=20)

    @model_validator(mode="after")
    def _not_null(self) -> Self:
        _no_nulls(self, "name")
        return self


class DepartmentRead(ReadSchema):
    id: int
    university_id: int
    name: str
    code: str | None


# Role grants


class RoleGrantCreate(Schema):
    """Grant `role` to a user named by exactly one of `user_id` or `email`."""

    user_id: Id | None = None
    email: Email | None = None
    role: UserRole
    department_id: Id | None = None

    @model_validator(mode="after")
    def _one_user_reference(self) -> Self:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give exactly one of user_id or email")
        if self.role is UserRole.DEPARTMENT_ADMIN and self.department_id is None:
            raise ValueError("a DEPARTMENT_ADMIN grant needs a department_id")
        if self.role in (UserRole.PLATFORM_ADMIN, UserRole.UNIVERSITY_ADMIN) and self.department_id is not None:
            raise ValueError(f"a {self.role.value} grant covers the whole university; omit department_id")
        return self


class RoleGrantRead(ReadSchema):
    id: int
    user_id: int
    university_id: int
    role: UserRole
    department_id: int | None
    user_email: str
    user_full_name: str


# Members


class MemberGrant(ReadSchema):
    id: int
    role: UserRole
    department_id: int | None


class MemberSuspensionInfo(ReadSchema):
    suspended_at: datetime
    suspended_by_id: int | None
    reason: str | None


class MemberRead(ReadSchema):
    id: int
    email: str
    full_name: str
    is_active: bool  # the account, platform-wide (set by platform admins only)
    roles: list[UserRole]  # distinct role names in this university, sorted (empty for a member by enrolment only)
    grants: list[MemberGrant]  # the underlying grants (ids for revocation, departments)
    suspended: bool  # suspended here: none of the above then works (shown to everyone who sees the list)
    # Its reason and author, for those who may suspend there (authz.membership.can_read_suspension_details); null
    # for everyone else, and while the member is not suspended.
    suspension: MemberSuspensionInfo | None


# Suspensions


class SuspensionCreate(Schema):
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class SuspensionRead(ReadSchema):
    user_id: int
    university_id: int
    suspended_by_id: int | None
    reason: str | None
    created_at: datetime


class UserStatusUpdate(Schema):
    is_active: bool


class UserStatusRead(ReadSchema):
    id: int
    email: str
    full_name: str
    is_active: bool
