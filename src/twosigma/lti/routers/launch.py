"""The LTI routes at the root (/lti/…, like /health): what a platform and a browser call to register and launch.
They answer HTML or redirects, not the API's JSON, and stay out of the OpenAPI document (docs/lti.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Query, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from twosigma.config import Settings
from twosigma.db.session import DbSession
from twosigma.kit.deps import AppSettings, ClientAddress, Limiter
from twosigma.kit.errors import AppError
from twosigma.kit.routing import APIRouter
from twosigma.lti import pages
from twosigma.lti.services import deep_linking, keys, launch, registration
from twosigma.lti.services.accounts import origin
from twosigma.lti.services.deep_linking import Picker
from twosigma.lti.services.launch import Launched, LinkChoice
from twosigma.lti.services.registration import Registered

router = APIRouter(tags=["lti"])

QueryParam = Annotated[str | None, Query(max_length=2000)]
FormParam = Annotated[str | None, Form(max_length=2000)]
FormToken = Annotated[str | None, Form(max_length=20000)]


@router.get("/lti/jwks.json", response_model=None)
async def tool_jwks(session: DbSession, settings: AppSettings) -> JSONResponse:
    return JSONResponse(await keys.jwks(session, settings), headers={"Cache-Control": "public, max-age=300"})


async def _login(
    session: DbSession, settings: AppSettings, limiter: Limiter, address: str, params: dict[str, str | None]
) -> Response:
    given = {name: value for name, value in params.items() if value}
    try:
        start = await launch.start_login(session, settings, limiter, address, given)
    except AppError as refusal:
        if refusal.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
            raise
        return pages.refusal(launch.refuse(refusal, "login"))
    response = RedirectResponse(start.url, status_code=status.HTTP_302_FOUND)
    set_state_cookie(response, settings, start.state)
    return response


def set_state_cookie(response: Response, settings: Settings, state: str) -> None:
    """Bind the login to this browser (docs/lti.md, "The browser binding"). Over https: `SameSite=None; Secure;
    Partitioned`, so the cookie comes back with the platform's cross-site form post inside the LMS frame (a CHIPS
    cookie, kept in the LMS site's partition where third-party cookies are blocked). Over http (development, tests)
    browsers refuse `SameSite=None` without `Secure`, so it is `Lax`: it comes back only when the LMS and twosigma
    are the same site (e.g. both on localhost)."""
    max_age = int(launch.STATE_LIFETIME.total_seconds())
    _state_cookie(response, settings, launch.state_cookie_name(state), launch.browser_binding(state), max_age)


def _state_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    # Written by hand: Starlette's `partitioned=` needs Python 3.14's http.cookies. Name and value are hex digits.
    attributes = [f"{name}={value}", f"Max-Age={max_age}", f"Path={launch.STATE_COOKIE_PATH}", "HttpOnly"]
    if settings.public_base_url.startswith("https://"):
        attributes += ["SameSite=None", "Secure", "Partitioned"]
    else:
        attributes.append("SameSite=Lax")
    response.headers.append("set-cookie", "; ".join(attributes))


@router.get("/lti/login", response_model=None)
async def login_get(
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    address: ClientAddress,
    iss: QueryParam = None,
    login_hint: QueryParam = None,
    target_link_uri: QueryParam = None,
    lti_message_hint: QueryParam = None,
    client_id: QueryParam = None,
    lti_deployment_id: QueryParam = None,
) -> Response:
    params = locals_of(iss, login_hint, target_link_uri, lti_message_hint, client_id, lti_deployment_id)
    return await _login(session, settings, limiter, address, params)


@router.post("/lti/login", response_model=None)
async def login_post(
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    address: ClientAddress,
    iss: FormParam = None,
    login_hint: FormParam = None,
    target_link_uri: FormParam = None,
    lti_message_hint: FormParam = None,
    client_id: FormParam = None,
    lti_deployment_id: FormParam = None,
) -> Response:
    params = locals_of(iss, login_hint, target_link_uri, lti_message_hint, client_id, lti_deployment_id)
    return await _login(session, settings, limiter, address, params)


def locals_of(*values: str | None) -> dict[str, str | None]:
    names = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id")
    return dict(zip(names, values, strict=True))


def _answer(outcome: Any) -> Response:
    if isinstance(outcome, Launched):
        return RedirectResponse(
            outcome.url,
            status_code=status.HTTP_303_SEE_OTHER,
            headers={"Content-Security-Policy": pages.csp(outcome.frame_origins)},
        )
    if isinstance(outcome, LinkChoice):
        return pages.link_choice(outcome)
    if isinstance(outcome, Picker):
        return pages.picker(outcome)
    assert isinstance(outcome, AppError)
    # Returned, not raised, so the unit of work commits the used state before this page is sent.
    return pages.refusal(outcome)


@router.post("/lti/launch", response_model=None)
async def launch_post(
    request: Request, session: DbSession, settings: AppSettings, id_token: FormToken = None, state: FormParam = None
) -> Response:
    browser = request.cookies.get(launch.state_cookie_name(state)) if state else None
    response = _answer(await launch.launch(session, settings, id_token, state, browser))
    if state:
        # Used (or refused) either way: the state works once, so its cookie goes too.
        _state_cookie(response, settings, launch.state_cookie_name(state), "", 0)
    return response


@router.post("/lti/link", response_model=None)
async def link_post(
    session: DbSession,
    settings: AppSettings,
    token: Annotated[str, Form(max_length=200)] = "",
    choice: Annotated[str, Form(max_length=50)] = "",
) -> Response:
    return _answer(await launch.finish_link(session, settings, token, choice))


@router.post("/lti/deep-link", response_model=None)
async def deep_link_post(
    session: DbSession,
    settings: AppSettings,
    token: Annotated[str, Form(max_length=200)] = "",
    item_id: Annotated[list[int] | None, Form(max_length=50)] = None,
) -> Response:
    """The picker's answer: the signed deep-linking response, posted back to the platform by the browser."""
    outcome = await deep_linking.respond(session, settings, token, item_id or [])
    if isinstance(outcome, AppError):
        return pages.refusal(launch.refuse(outcome, "deep link"))
    return pages.deep_link_answer(outcome)


@router.get("/lti/register", response_model=None)
async def register(
    session: DbSession,
    settings: AppSettings,
    link: Annotated[str, Query(max_length=200)] = "",
    openid_configuration: QueryParam = None,
    registration_token: Annotated[str | None, Query(max_length=4000)] = None,
) -> Response:
    """Dynamic registration: the LMS opens the university's registration link with its configuration URL."""
    outcome = await registration.register(session, settings, link, openid_configuration, registration_token)
    if not isinstance(outcome, Registered):
        return pages.refusal(launch.refuse(outcome, "registration"))
    urls = (openid_configuration or "", outcome.platform.issuer, outcome.platform.auth_login_url)
    return pages.registered(outcome, tuple(dict.fromkeys(o for o in map(origin, urls) if o)))


@router.get(pages.LAUNCHED_SCRIPT_PATH, response_model=None)
async def launched_script() -> Response:
    return Response(
        pages.launched_script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/lti/launched", response_model=None)
async def launched(session: DbSession, code: Annotated[str, Query(max_length=200)] = "") -> Response:
    return pages.launched(await launch.frame_origins_of(session, code) if code else ())
