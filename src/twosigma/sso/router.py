"""Single sign-on: a university's provider and joining policy (its admins), and the sign-in itself (anyone)."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import Cookie, Path, Query, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from twosigma.auth.schemas import TokenPair
from twosigma.db.session import DbSession
from twosigma.kit.deps import AppSettings, ClientAddress, Limiter
from twosigma.kit.handlers import error_response
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.sso.dependencies import SsoUniversity
from twosigma.sso.schemas import AccessPolicyRead, AccessPolicyWrite, ExchangeRequest, SsoConfigRead, SsoConfigWrite
from twosigma.sso.services import configuration, sign_in

router = APIRouter()

ShortCode = Annotated[str, Path(min_length=1, max_length=20, description="The university's short code.")]
CountryCode = Annotated[
    str | None, Query(min_length=2, max_length=2, pattern="^[A-Za-z]{2}$", description="When short codes repeat.")
]
Param = Annotated[str | None, Query(max_length=2000)]


@router.get(
    "/universities/{university_id}/sso",
    response_model=SsoConfigRead,
    tags=["single sign-on"],
    responses=error_responses(401, 403, 404),
)
async def get_sso(university: SsoUniversity, session: DbSession, settings: AppSettings) -> SsoConfigRead:
    return await configuration.read_config(session, settings, university)


@router.put(
    "/universities/{university_id}/sso",
    response_model=SsoConfigRead,
    tags=["single sign-on"],
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Register or replace the university's OpenID Connect provider (discovery is checked first)",
)
async def put_sso(
    university: SsoUniversity, data: SsoConfigWrite, session: DbSession, settings: AppSettings
) -> SsoConfigRead:
    return await configuration.put_config(session, settings, university, data)


@router.delete(
    "/universities/{university_id}/sso",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["single sign-on"],
    responses=error_responses(401, 403, 404),
)
async def delete_sso(university: SsoUniversity, session: DbSession) -> None:
    await configuration.delete_config(session, university)


@router.get(
    "/universities/{university_id}/access-policy",
    response_model=AccessPolicyRead,
    tags=["single sign-on"],
    responses=error_responses(401, 403, 404),
)
async def get_access_policy(university: SsoUniversity, session: DbSession) -> AccessPolicyRead:
    return await configuration.read_policy(session, university)


@router.put(
    "/universities/{university_id}/access-policy",
    response_model=AccessPolicyRead,
    tags=["single sign-on"],
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Who may join the university, and whether its members must sign in through its provider",
)
async def put_access_policy(university: SsoUniversity, data: AccessPolicyWrite, session: DbSession) -> AccessPolicyRead:
    return await configuration.put_policy(session, university, data)


@router.get(
    "/auth/sso/{university_short_code}/login",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    tags=["auth"],
    responses={
        302: {"description": "To the provider's authorization endpoint."},
        **error_responses(404, 409, 422, 429),
    },
    summary="Start signing in through the university's provider (authorization code, PKCE S256, state, nonce)",
)
async def sso_login(
    university_short_code: ShortCode,
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    address: ClientAddress,
    country: CountryCode = None,
) -> RedirectResponse:
    start = await sign_in.start_login(session, settings, limiter, address, university_short_code, country)
    response = RedirectResponse(start.url, status_code=status.HTTP_302_FOUND)
    response.set_cookie(
        sign_in.STATE_COOKIE,
        start.state,
        max_age=int(sign_in.STATE_LIFETIME.total_seconds()),
        path=sign_in.state_cookie_path(settings),
        secure=settings.public_base_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get(
    "/auth/sso/callback",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    tags=["auth"],
    responses={
        302: {"description": "To the client, with a one-time code."},
        **error_responses(400, 403, 409, 422, 502),
    },
    summary="The provider's redirect: validate, link or create the user, hand the client a one-time code",
)
async def sso_callback(
    session: DbSession,
    settings: AppSettings,
    code: Param = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    browser_state: Annotated[str | None, Cookie(alias=sign_in.STATE_COOKIE, max_length=200)] = None,
) -> Response:
    outcome = await sign_in.finish_login(
        session, settings, code=code, state=state, error=error, browser_state=browser_state
    )
    if isinstance(outcome, str):
        response = RedirectResponse(outcome, status_code=status.HTTP_302_FOUND)
        response.delete_cookie(sign_in.STATE_COOKIE, path=sign_in.state_cookie_path(settings))
        return response
    # Returned, not raised, so the unit of work commits the used state before this error is sent.
    return error_response(outcome.status_code, outcome.error_code, outcome.message, outcome.details, outcome.headers)


_COMPLETE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>
<body><main>
<h1>Signed in</h1>
<p>Exchange this one-time code for your tokens within two minutes; it works once.</p>
<p><label for="code">One-time code</label> <input id="code" readonly size="50" value="{code}"></p>
<pre>POST /api/v1/auth/sso/exchange
Content-Type: application/json

{{"code": "{code}"}}</pre>
</main></body></html>
"""


_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "A small HTML page."}


@router.get(
    "/auth/sso/complete",
    response_model=None,
    tags=["auth"],
    responses={200: _HTML, **error_responses(422)},
    summary="Where sign-in ends without TWOSIGMA_WEB_BASE_URL: how to exchange the one-time code",
)
async def sso_complete(code: Annotated[str, Query(min_length=1, max_length=200)]) -> HTMLResponse:
    return HTMLResponse(_COMPLETE_PAGE.format(code=escape(code, quote=True)), headers={"Cache-Control": "no-store"})


@router.post(
    "/auth/sso/exchange",
    response_model=TokenPair,
    tags=["auth"],
    responses=error_responses(400, 422),
    summary="Exchange a single sign-on's one-time code for the usual token pair",
)
async def sso_exchange(data: ExchangeRequest, session: DbSession, settings: AppSettings) -> TokenPair:
    return await sign_in.exchange(session, settings, data.code)
