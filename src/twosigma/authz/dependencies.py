"""Typed dependencies that authenticate the caller. Resource loaders in each domain build on these."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from twosigma.auth.tokens import TokenType, decode_token
from twosigma.authz.policy import ensure_platform_admin
from twosigma.authz.principal import Principal
from twosigma.authz.repository import load_principal
from twosigma.db.session import get_database
from twosigma.kit.deps import settings_of
from twosigma.kit.errors import Unauthorized
from twosigma.kit.middleware import request_state_var

# tokenUrl makes Swagger UI's Authorize button work with the OAuth2 password form.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_optional_principal(
    request: Request, token: Annotated[str | None, Depends(bearer_scheme)]
) -> Principal | None:
    if not token:
        return None
    claims = decode_token(settings_of(request), token, TokenType.ACCESS)
    # Read on its own pooled connection, outside the route's unit of work: a route that needs no session (GET
    # /users/me) opens none.
    principal = await load_principal(get_database(request), claims.user_id)
    if principal is None:
        raise Unauthorized("The token is not valid.", code="invalid_token")
    if not principal.user.is_active:
        # Checked on every request, so deactivation takes effect at once.
        raise Unauthorized("This account is inactive.", code="account_inactive")
    state = request_state_var.get()
    if state is not None:
        state["user_id"] = principal.id  # for the access log line
    return principal


async def get_principal(principal: Annotated[Principal | None, Depends(get_optional_principal)]) -> Principal:
    if principal is None:
        raise Unauthorized("Authentication is required.", code="not_authenticated")
    return principal


async def get_platform_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    ensure_platform_admin(principal)
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
PlatformAdmin = Annotated[Principal, Depends(get_platform_admin)]
