"""Platforms a university registers, the link of an LMS context to an offering, the launch's one-time code."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from twosigma.kit.schemas import ReadSchema, Schema

_URL = r"^https?://[^\s#]+$"


def _deployments(value: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in value if v.strip()))


Url = Annotated[str, Field(min_length=8, max_length=1000, pattern=_URL)]
DeploymentIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=255)]],
    Field(min_length=1, max_length=100, description="The deployment ids the platform sends in its launches."),
    AfterValidator(_deployments),
]


class PlatformCreate(Schema):
    issuer: str = Field(min_length=1, max_length=500, pattern=_URL, description="The platform's `iss`.")
    client_id: str = Field(min_length=1, max_length=255, description="The client id the platform gave this tool.")
    deployment_ids: DeploymentIds
    auth_login_url: Url = Field(description="The platform's OIDC authorization endpoint.")
    auth_token_url: Url = Field(description="The platform's OAuth2 token endpoint (Advantage services).")
    jwks_url: Url = Field(description="Where the platform publishes the keys it signs launches with.")
    grant_admin_role: bool = Field(
        default=False,
        description="true: the platform's institution/system Administrator role makes a university admin here.",
    )


class PlatformUpdate(Schema):
    deployment_ids: DeploymentIds | None = None
    auth_login_url: Url | None = None
    auth_token_url: Url | None = None
    jwks_url: Url | None = None
    enabled: bool | None = Field(default=None, description="false: launches from this platform are refused.")
    grant_admin_role: bool | None = None


class ToolEndpoints(ReadSchema):
    """What the platform's administrator pastes into the LMS (docs/lti.md)."""

    login_url: str
    launch_url: str
    jwks_url: str


class PlatformRead(ReadSchema):
    id: int
    university_id: int
    issuer: str
    client_id: str
    deployment_ids: list[str]
    auth_login_url: str
    auth_token_url: str
    jwks_url: str
    enabled: bool
    grant_admin_role: bool
    tool: ToolEndpoints
    created_at: datetime
    updated_at: datetime


class ContextLink(Schema):
    platform_id: int = Field(ge=1, le=2_147_483_647)
    context_id: str = Field(min_length=1, max_length=255, description="The LMS course's `context.id`.")


class ContextRead(ReadSchema):
    platform_id: int
    context_id: str
    course_offering_id: int
    title: str | None


class RegistrationLinkRead(ReadSchema):
    """The URL to paste into the LMS's dynamic registration ("Register a tool by URL"); it works once."""

    url: str
    expires_at: datetime


class LaunchExchange(Schema):
    code: str = Field(min_length=1, max_length=200)


class ScoreSendRead(ReadSchema):
    id: int
    quiz_attempt_id: int | None = Field(description="The graded attempt (null: a course completion).")
    course_enrollment_id: int | None = Field(description="The completed enrolment (course line item).")
    user_id: int
    content_item_id: int | None = Field(description="null: the course's line item.")
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class GradeSyncRead(ReadSchema):
    """Scores of the offering's attempts sent to linked LMS courses: counts, and the latest 100."""

    pending: int
    sent: int
    failed: int
    recent: list[ScoreSendRead]


class RosterSyncRead(ReadSchema):
    """What a roster sync did, over every linked LMS course of the offering."""

    contexts: int
    members: int = Field(description="Active members listed by the LMS and matched to accounts.")
    enrolled: int = Field(description="Learners newly enrolled (or made ACTIVE again).")
    dropped: int = Field(description="Learners the LMS no longer lists, now DROPPED.")
    staff: int = Field(description="Members with a staff role (instructor, TA, administrator), granted it.")
