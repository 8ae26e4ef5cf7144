"""Auth requests and the token pair."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from twosigma.auth.passwords import check_password_policy
from twosigma.kit.schemas import Schema
from twosigma.users.fields import Email, FullName, Locale, TimeZone
from twosigma.users.schemas import ProfileRead, ProfileWrite, SubjectIds, UserRead

# Passwords are never stripped: leading or trailing spaces are part of the secret.
NewPassword = Annotated[str, Field(max_length=200), AfterValidator(check_password_policy)]
AnyPassword = Annotated[str, Field(min_length=1, max_length=200)]


class _RawSecrets(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class CheckEmailRequest(Schema):
    email: Email


class CheckEmailResponse(BaseModel):
    available: bool


class RegisterRequest(_RawSecrets):
    email: Email
    password: NewPassword
    full_name: FullName
    locale: Locale | None = None
    time_zone: TimeZone | None = None


class OnboardingRegisterRequest(RegisterRequest):
    profile: ProfileWrite
    subject_preferences: SubjectIds = Field(default_factory=list)


class LoginRequest(_RawSecrets):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: AnyPassword


class LogoutRequest(Schema):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class ChangePasswordRequest(_RawSecrets):
    current_password: AnyPassword
    new_password: NewPassword


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Lifetime of the access token, in seconds.")


class OnboardingResult(BaseModel):
    """Everything a client needs after sign-up with onboarding, in one answer."""

    user: UserRead
    profile: ProfileRead
    subject_preferences: list[int]
    tokens: TokenPair


AccountTokenText = Annotated[str, Field(min_length=1, max_length=200)]


class PasswordResetRequest(Schema):
    email: Email


class PasswordReset(_RawSecrets):
    token: AccountTokenText
    new_password: NewPassword


class VerifyEmailRequest(Schema):
    token: AccountTokenText


class EmailChangeRequest(_RawSecrets):
    new_email: Email
    password: AnyPassword


class Accepted(BaseModel):
    """A 202: the request was taken; a mail follows if there is anyone to send it to."""

    message: str


class EmailVerified(BaseModel):
    email: str
    email_verified_at: datetime
