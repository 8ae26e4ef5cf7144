"""GET and POST /reset-password, /verify-email, /invitations/accept: the pages mailed links open.

Plain HTML forms (no script, no cookie, labels tied to their inputs, the language from Accept-Language). They are
safe from cross-site request forgery by construction: a form acts only with what it carries (the link's token,
and for the invitation the credentials typed into it), never with ambient credentials. When a web client is
configured (`TWOSIGMA_WEB_BASE_URL`), a GET is redirected there with the same query.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Header, Query, Response
from fastapi.responses import RedirectResponse

from twosigma.auth.passwords import check_password_policy
from twosigma.db.session import DbSession
from twosigma.kit.clock import Now
from twosigma.kit.deps import AppSettings, ClientAddress, Limiter
from twosigma.kit.errors import AppError
from twosigma.kit.routing import APIRouter
from twosigma.pages import service
from twosigma.pages.html import Field, page
from twosigma.pages.texts import TEXTS, language_from

router = APIRouter(tags=["pages"])

Token = Annotated[str, Query(max_length=200)]
FormToken = Annotated[str, Form(max_length=200)]
FormSecret = Annotated[str, Form(max_length=200)]
AcceptLanguage = Annotated[str | None, Header(max_length=500)]

RESET = "/reset-password"
VERIFY = "/verify-email"
ACCEPT = "/invitations/accept"


def _words(accept_language: str | None) -> tuple[str, dict[str, str]]:
    language = language_from(accept_language)
    return language, TEXTS[language]


def _error_text(words: dict[str, str], exc: AppError) -> str:
    return words.get(exc.error_code) or words["error"].format(message=exc.message)


def _elsewhere(settings: AppSettings, path: str, token: str) -> Response | None:
    if settings.web_base_url:
        return RedirectResponse(settings.links_base_url + path + "?" + urlencode({"token": token}), status_code=303)
    return None


def _reset_form(language: str, words: dict[str, str], token: str, error: str | None = None) -> Response:
    return page(
        language,
        words["reset_title"],
        error=error,
        action=RESET,
        hidden={"token": token},
        fields=(
            Field("new_password", words["new_password"], "password", "new-password", words["password_hint"]),
            Field("confirm_password", words["confirm_password"], "password", "new-password"),
        ),
        submit=words["reset_submit"],
        status_code=200 if error is None else 400,
    )


@router.get(RESET, response_model=None)
async def reset_password_page(
    settings: AppSettings, token: Token = "", accept_language: AcceptLanguage = None
) -> Response:
    language, words = _words(accept_language)
    if not token:
        return page(language, words["reset_title"], error=words["missing_token"], status_code=400)
    return _elsewhere(settings, RESET, token) or _reset_form(language, words, token)


@router.post(RESET, response_model=None)
async def reset_password(
    token: FormToken,
    new_password: FormSecret,
    confirm_password: FormSecret,
    session: DbSession,
    settings: AppSettings,
    now: Now,
    accept_language: AcceptLanguage = None,
) -> Response:
    language, words = _words(accept_language)
    if new_password != confirm_password:
        return _reset_form(language, words, token, words["mismatch"])
    try:
        check_password_policy(new_password)
        await service.reset_password(session, settings, token, new_password, now)
    except ValueError as exc:
        return _reset_form(language, words, token, str(exc))
    except AppError as exc:
        return page(language, words["reset_title"], error=_error_text(words, exc), status_code=exc.status_code)
    return page(language, words["reset_title"], message=words["reset_done"])


@router.get(VERIFY, response_model=None)
async def verify_email_page(
    settings: AppSettings, token: Token = "", accept_language: AcceptLanguage = None
) -> Response:
    # A GET never confirms: mail scanners open links; the button's POST does.
    language, words = _words(accept_language)
    if not token:
        return page(language, words["verify_title"], error=words["missing_token"], status_code=400)
    return _elsewhere(settings, VERIFY, token) or page(
        language,
        words["verify_title"],
        message=words["verify_intro"],
        action=VERIFY,
        hidden={"token": token},
        submit=words["verify_submit"],
    )


@router.post(VERIFY, response_model=None)
async def verify_email(
    token: FormToken, session: DbSession, now: Now, accept_language: AcceptLanguage = None
) -> Response:
    language, words = _words(accept_language)
    try:
        email = await service.verify_email(session, token, now)
    except AppError as exc:
        return page(language, words["verify_title"], error=_error_text(words, exc), status_code=exc.status_code)
    return page(language, words["verify_title"], message=words["verify_done"].format(email=email))


def _accept_form(
    language: str, words: dict[str, str], token: str, error: str | None = None, status_code: int = 200
) -> Response:
    return page(
        language,
        words["invite_title"],
        message=words["invite_intro"],
        error=error,
        action=ACCEPT,
        hidden={"token": token},
        fields=(
            Field("email", words["email"], "email", "username"),
            Field("password", words["password"], "password", "current-password"),
        ),
        submit=words["invite_submit"],
        status_code=status_code,
    )


@router.get(ACCEPT, response_model=None)
async def accept_invitation_page(
    settings: AppSettings, token: Token = "", accept_language: AcceptLanguage = None
) -> Response:
    language, words = _words(accept_language)
    if not token:
        return page(language, words["invite_title"], error=words["missing_token"], status_code=400)
    return _elsewhere(settings, ACCEPT, token) or _accept_form(language, words, token)


@router.post(ACCEPT, response_model=None)
async def accept_invitation(
    token: FormToken,
    email: Annotated[str, Form(max_length=320)],
    password: FormSecret,
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    address: ClientAddress,
    now: Now,
    accept_language: AcceptLanguage = None,
) -> Response:
    language, words = _words(accept_language)
    try:
        accepted = await service.accept_invitation(session, settings, limiter, address, token, email, password, now)
    except AppError as exc:
        return _accept_form(language, words, token, _error_text(words, exc), exc.status_code)
    university = accepted.invitation.university.name
    return page(language, words["invite_title"], message=words["invite_done"].format(university=university))
