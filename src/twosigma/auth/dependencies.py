"""The refresh token presented as `Authorization: Bearer <refresh token>` on POST /auth/refresh."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from twosigma.kit.errors import Unauthorized

refresh_bearer = HTTPBearer(
    auto_error=False, scheme_name="RefreshToken", description="A refresh token (not an access token)."
)


async def get_refresh_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(refresh_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized(
            "A refresh token is required: Authorization: Bearer <refresh token>.", code="not_authenticated"
        )
    return credentials.credentials


PresentedRefreshToken = Annotated[str, Depends(get_refresh_token)]
