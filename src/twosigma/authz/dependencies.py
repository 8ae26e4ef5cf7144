"""Typed dependencies that authenticate the caller; the resource loaders (authz/access/dependencies.py) use them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from twosigma.auth.tokens import TokenType, decode_token
from twosigma.authz.policy import ensure_platform_admin
from twosigma.authz.principal import Principal
from twosigma.authz.repository import load_principal
from twosigma.db.session import get_database, read_session
from twosigma.kit.deps import settings_of
from twosigma.kit.errors import Unauthorized

# tokenUrl makes Swagger UI's Authorize button work with the OAuth2 password form.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


_PRINCIPAL_KEY = "principal"  # in the request's ASGI state: loaded once per request whichever dependency asks


async def _principal(request: Request, token: str | None) -> Principal | None:
    if not token:
        return None
    state = request.scope.setdefault("state", {})
    loaded: Principal | None = state.get(_PRINCIPAL_KEY)
    if loaded is not None:
        return loaded
    claims = decode_token(settings_of(request), token, TokenType.ACCESS)
    # Read in a read session of its own, outside the route's unit of work: a route that needs no unit of work (GET
    # /users/me) opens none.
    async with read_session(get_database(request)) as read:
        principal = await load_principal(read, claims.user_id)
    if principal is None:
        raise Unauthorized("The token is not valid.", code="invalid_token")
    if not principal.user.is_active:
        # Checked on every request, so deactivation takes effect at once.
        raise Unauthorized("This account is inactive.", code="account_inactive")
    state[_PRINCIPAL_KEY] = principal
    state["user_id"] = principal.id  # for the access log line
    return principal


async def get_optional_principal(
    request: Request, token: Annotated[str | None, Depends(bearer_scheme)]
) -> Principal | None:
    return await _principal(request, token)


async def get_principal(request: Request, token: Annotated[str | None, Depends(bearer_scheme)]) -> Principal:
    # Not built on get_optional_principal: one dependency less for every authenticated route to resolve.
    principal = await _principal(request, token)
    if principal is None:
        raise Unauthorized("Authentication is required.", code="not_authenticated")
    return principal


async def get_platform_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    ensure_platform_admin(principal)
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
PlatformAdmin = Annotated[Principal, Depends(get_platform_admin)]
