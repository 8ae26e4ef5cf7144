"""Tenant isolation, generated from the app's own route table.

Every route of the app (every method of every route in `app.routes`, API routes and the documentation pages alike)
is called by three callers against university A's resources: anonymous, a STUDENT of university B and a
UNIVERSITY_ADMIN of university B. Path parameters are filled from `World.params` (param name → A's resource).

What each caller must get is declared per route in MATRIX (and PUBLIC_ROUTES names, with a reason, the routes an
anonymous caller may use). A route in neither table fails the test: a new route cannot escape the matrix.

The kinds of route:
- PRIVATE: A's private resource (a roster, an enrolment, a chat, unpublished content...). Anonymous → 401,
  outsiders → 404 (SPEC: another tenant's private resource answers 404, so existence does not leak).
- PLATFORM: platform-wide administration (settings, API keys, countries/taxonomy writes...). Anonymous → 401,
  outsiders → 403 (the resource is not A's; the caller simply lacks the platform role).
- PUBLIC_RECORD_WRITE: writes to A's publicly readable records (the university, its departments): 401 / 403
  (hiding what anyone can read would be pointless; docs/tenancy.md).
- SIGNED_IN: the catalog and the caller's own things: anonymous → 401, outsiders → 2xx.
- STAFF_READ: prompts, readable by staff of any university: anonymous → 401, B's student → 403, B's admin → 2xx.
- API_KEY: the Langfuse-compatible API, HTTP Basic with an API key: a bearer token is no credential there (401).
- METRICS: the Prometheus scrape target needs the metrics token (the test install has one); a user's bearer token
  is no credential there (401).
- PUBLIC: no authentication needed.

Whatever the status, no response may contain `World.sentinel` (found in every private field of A), except where
a case says why (a share link shows its chat to whoever holds the token, by design).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.security.world import CALLERS, World, make_world
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import Database

OK = "2xx"
ANY = "any<500"
Expected = int | frozenset[int] | str

PRIVATE = (401, 404, 404)
PLATFORM = (401, 403, 403)
PUBLIC_RECORD_WRITE = (401, 403, 403)
SIGNED_IN = (401, OK, OK)
STAFF_READ = (401, 403, OK)
API_KEY = (401, 401, 401)
METRICS = (401, 401, 401)
PUBLIC = (OK, OK, OK)

Params = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    expected: tuple[Expected, Expected, Expected]
    body: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None
    params: Params | None = None  # overrides of World.params
    query: dict[str, Any] | Callable[[World], dict[str, Any]] = field(default_factory=dict)
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    leak_ok: str | None = None  # why this response may carry A's private data
    label: str = ""


def hidden_course(w: World) -> dict[str, Any]:
    return {"course_id": w.alt["hidden_course_id"]}


def hidden_offering(w: World) -> dict[str, Any]:
    return {"offering_id": w.alt["hidden_offering_id"]}


def invite_only(w: World) -> dict[str, Any]:
    return {"offering_id": w.alt["invite_only_offering_id"]}


def unlisted(w: World) -> dict[str, Any]:
    return {"offering_id": w.alt["unlisted_offering_id"]}


def suspended_member(w: World) -> dict[str, Any]:
    return {"user_id": w.alt["suspended_a_id"]}


def in_b(w: World) -> dict[str, Any]:
    """A's student addressed from the outsiders' own university."""
    return {"university_id": w.alt["b_university_id"], "user_id": w.params["user_id"]}


def b_offering(w: World) -> dict[str, Any]:
    return {"offering_id": w.alt["b_offering_id"]}


V1 = "/api/v1"
SSE = {"Accept": "text/event-stream"}

# Routes an anonymous caller may use, and why.
PUBLIC_ROUTES: dict[str, str] = {
    "GET /health": "liveness probe for load balancers",
    "GET /health/ready": "readiness probe (database reachable, schema at head)",
    f"GET {V1}/health": "liveness probe under the API prefix",
    f"GET {V1}/health/ready": "readiness probe under the API prefix",
    "GET /openapi.json": "the API description (SPEC §3)",
    "GET /docs": "Swagger UI (SPEC §3)",
    "GET /docs/oauth2-redirect": "Swagger UI's OAuth2 redirect page",
    f"POST {V1}/auth/check-email": "sign-up form check (rate-limited)",
    f"POST {V1}/auth/register": "sign-up",
    f"POST {V1}/auth/register-with-onboarding": "sign-up with onboarding",
    f"POST {V1}/auth/login": "sign-in (rate-limited per email and per IP)",
    f"POST {V1}/auth/token": "OAuth2 password form for Swagger's Authorize button",
    f"POST {V1}/auth/refresh": "authenticated by the refresh token itself",
    f"POST {V1}/auth/logout": "authenticated by the refresh token in the body",
    f"POST {V1}/auth/password-reset/request": "a forgotten password: the same answer for any address (rate-limited)",
    f"POST {V1}/auth/password-reset": "authenticated by the mailed token in the body",
    f"POST {V1}/auth/verify-email": "authenticated by the mailed token in the body",
    "GET /reset-password": "the page a reset mail's link opens (the token is in the query)",
    "POST /reset-password": "the reset page's form: authenticated by the mailed token it carries",
    "GET /verify-email": "the page a verification mail's link opens",
    "POST /verify-email": "the verification page's button: authenticated by the mailed token it carries",
    "GET /invitations/accept": "the page an invitation mail's link opens",
    "POST /invitations/accept": "the invitation page's form: the invitee signs in with it (login's limits)",
    f"GET {V1}/countries": "reference data",
    f"GET {V1}/countries/{{country_id}}": "reference data",
    f"GET {V1}/universities": "the list of active universities is public",
    f"GET {V1}/universities/{{university_id}}": "an active university is public",
    f"GET {V1}/universities/{{university_id}}/departments": "an active university's departments are public",
    f"GET {V1}/departments/{{department_id}}": "an active university's departments are public",
    f"GET {V1}/domains": "taxonomy is reference data",
    f"GET {V1}/domains/{{domain_id}}": "taxonomy is reference data",
    f"GET {V1}/subjects": "taxonomy is reference data",
    f"GET {V1}/subjects/tree": "taxonomy is reference data",
    f"GET {V1}/subjects/{{subject_id}}": "taxonomy is reference data",
    f"GET {V1}/content-types": "taxonomy is reference data",
    f"GET {V1}/content-types/{{content_type_id}}": "taxonomy is reference data",
    f"GET {V1}/shared/chats/{{token}}": "a share link: the unguessable token is the capability (SPEC: no login)",
    f"GET {V1}/auth/sso/{{university_short_code}}/login": "starts a single sign-on (a redirect to the provider)",
    f"GET {V1}/auth/sso/callback": "the provider's redirect back; the single-use state is the capability",
    f"GET {V1}/auth/sso/complete": "shows the caller the one-time code it already holds in its URL",
    f"POST {V1}/auth/sso/exchange": "the single-use code is the capability",
    "GET /lti/jwks.json": "the tool's public keys, which every LMS fetches (LTI 1.3)",
    "GET /lti/login": "an LMS starts a launch here (OIDC third-party initiated login); rate-limited",
    "POST /lti/login": "the same login, posted",
    "POST /lti/launch": "the platform's signed id_token and the single-use state are the credential",
    "POST /lti/link": "the single-use pending-link token of a verified instructor launch is the capability",
    "POST /lti/deep-link": "the single-use picker token of a verified deep-linking launch is the capability",
    "GET /lti/register": "an LMS opens a university's registration link here; the single-use link is the capability",
    "GET /lti/launched": "the page a launch lands on; the one-time code in its URL is exchanged by its script",
    "GET /lti/launched.js": "the launched page's static script (the same for everyone)",
    f"POST {V1}/auth/lti/exchange": "the single-use launch code is the capability",
}


def _register_body() -> dict[str, Any]:
    return {"email": f"newcomer-{secrets.token_hex(6)}@example.edu", "password": "learning-2-fly", "full_name": "N"}


WRONG_LOGIN = {"email": "nobody-here@example.edu", "password": "wrong-password-1"}

MATRIX: dict[str, list[Case]] = {
    # Health and documentation: public. Metrics: the metrics token only (TWOSIGMA_METRICS_PUBLIC would open them).
    "GET /health": [Case(PUBLIC)],
    "GET /health/ready": [Case(PUBLIC)],
    f"GET {V1}/health": [Case(PUBLIC)],
    f"GET {V1}/health/ready": [Case(PUBLIC)],
    "GET /openapi.json": [Case(PUBLIC)],
    "GET /docs": [Case(PUBLIC)],
    "GET /docs/oauth2-redirect": [Case(PUBLIC)],
    "GET /metrics": [Case(METRICS)],
    # System settings and the LLM check: platform administration.
    f"GET {V1}/admin/settings": [Case(PLATFORM)],
    f"GET {V1}/admin/settings/schema": [Case(PLATFORM)],
    f"GET {V1}/admin/settings/{{key}}": [Case(PLATFORM)],
    f"PUT {V1}/admin/settings/{{key}}": [Case(PLATFORM, body={"value": "sk-replaced"})],
    f"DELETE {V1}/admin/settings/{{key}}": [Case(PLATFORM)],
    f"GET {V1}/admin/outbox": [Case(PLATFORM)],
    # Take it or erase it: an export is its owner's alone; erasing someone else is the platform's decision; erasing
    # yourself needs your password (a wrong one here, so the outsiders survive the test: 422).
    f"POST {V1}/users/me/export": [Case(SIGNED_IN)],
    f"GET {V1}/users/me/exports/{{export_id}}": [Case(PRIVATE)],
    f"GET {V1}/users/me/exports/{{export_id}}/download": [Case(PRIVATE)],
    f"DELETE {V1}/users/me": [Case((401, 422, 422), body={"password": "not-the-password-1"})],
    f"DELETE {V1}/admin/users/{{user_id}}": [Case(PLATFORM)],
    f"POST {V1}/admin/llm/test": [Case(PLATFORM)],
    # Catalog.
    f"GET {V1}/courses": [
        Case(SIGNED_IN),
        Case(SIGNED_IN, query=lambda w: {"university_id": w.params["university_id"]}, label="A's catalog"),
    ],
    f"POST {V1}/courses": [
        Case(
            PRIVATE,
            body=lambda w: {
                "university_id": w.params["university_id"],
                "primary_subject_id": w.params["subject_id"],
                "title": "Intruder course",
                "code": "INTR-1",
            },
        )
    ],
    f"GET {V1}/courses/{{course_id}}": [Case(SIGNED_IN), Case(PRIVATE, params=hidden_course, label="unpublished")],
    f"PATCH {V1}/courses/{{course_id}}": [Case(PRIVATE, body={"title": "Renamed"})],
    f"DELETE {V1}/courses/{{course_id}}": [Case(PRIVATE)],
    f"GET {V1}/courses/{{course_id}}/subjects": [
        Case(SIGNED_IN),
        Case(PRIVATE, params=hidden_course, label="unpublished"),
    ],
    f"PUT {V1}/courses/{{course_id}}/subjects": [Case(PRIVATE, body=lambda w: {"subject_ids": [w.alt["subject_id"]]})],
    f"GET {V1}/courses/{{course_id}}/prerequisites": [
        Case(SIGNED_IN),
        Case(PRIVATE, params=hidden_course, label="unpublished"),
    ],
    f"PUT {V1}/courses/{{course_id}}/prerequisites": [Case(PRIVATE, body={"course_ids": []})],
    f"GET {V1}/courses/{{course_id}}/offerings": [
        Case(SIGNED_IN),
        Case(PRIVATE, params=hidden_course, label="unpublished"),
    ],
    f"POST {V1}/courses/{{course_id}}/offerings": [Case(PRIVATE, body={"term_name": "Intruder term"})],
    f"GET {V1}/offerings/{{offering_id}}": [
        Case(SIGNED_IN),
        Case(SIGNED_IN, params=unlisted, label="unlisted (reachable by link)"),
        Case(SIGNED_IN, params=invite_only, label="invite-only (code hidden)"),
        Case(PRIVATE, params=hidden_offering, label="offering of an unpublished course"),
    ],
    f"PATCH {V1}/offerings/{{offering_id}}": [Case(PRIVATE, body={"term_name": "Renamed"})],
    f"DELETE {V1}/offerings/{{offering_id}}": [Case(PRIVATE)],
    f"POST {V1}/offerings/{{offering_id}}/invite-code": [Case(PRIVATE), Case(PRIVATE, params=invite_only)],
    f"DELETE {V1}/offerings/{{offering_id}}/invite-code": [Case(PRIVATE, params=invite_only)],
    # Enrolment.
    f"POST {V1}/offerings/{{offering_id}}/enroll": [
        Case((401, 201, 201), label="a PUBLIC offering accepts anyone signed in"),
        Case((401, 403, 403), params=invite_only, label="invite-only without the code"),
        Case(PRIVATE, params=hidden_offering, label="offering of an unpublished course"),
    ],
    f"POST {V1}/offerings/{{offering_id}}/enrollments": [
        Case(PRIVATE, body=lambda w: {"email": w.alt["student_email"]}),
        Case(
            (401, 403, 404),
            params=b_offering,
            body=lambda w: {"user_id": w.params["user_id"]},
            label="B's admin enrolling A's student id in B's offering: 404, never the name or email",
        ),
    ],
    f"GET {V1}/offerings/{{offering_id}}/enrollments": [Case(PRIVATE)],
    f"GET {V1}/users/me/enrollments": [Case(SIGNED_IN)],
    f"GET {V1}/enrollments/{{enrollment_id}}": [Case(PRIVATE)],
    f"PATCH {V1}/enrollments/{{enrollment_id}}": [Case(PRIVATE, body={"status": "DROPPED"})],
    f"DELETE {V1}/enrollments/{{enrollment_id}}": [Case(PRIVATE)],
    # Tenancy.
    f"GET {V1}/universities/{{university_id}}/roles": [Case(PRIVATE)],
    f"POST {V1}/universities/{{university_id}}/roles": [
        Case(PRIVATE, body=lambda w: {"user_id": w.params["user_id"], "role": "INSTRUCTOR"}),
        Case(
            (401, 403, 404),
            params=in_b,
            body=lambda w: {"user_id": w.params["user_id"], "role": "TA"},
            label="B's admin granting in B to A's student id: 404, never the name or email",
        ),
    ],
    f"DELETE {V1}/universities/{{university_id}}/roles/{{grant_id}}": [Case(PRIVATE)],
    f"GET {V1}/universities/{{university_id}}/members": [Case(PRIVATE)],
    f"PATCH {V1}/users/{{user_id:int}}": [
        Case(PRIVATE, body={"is_active": False}),
        Case(PRIVATE, body={"is_active": False}, params=suspended_member, label="a suspended member of A"),
    ],
    # Membership administration (issue 17): staff reach users by id only inside their own university.
    f"POST {V1}/universities/{{university_id}}/members/{{user_id}}/suspension": [
        Case(PRIVATE, body={"reason": "Intruder"}),
        Case((401, 403, 404), params=in_b, label="A's student, from B: not a member of B (admins: 404, like nobody)"),
    ],
    f"DELETE {V1}/universities/{{university_id}}/members/{{user_id}}/suspension": [
        Case(PRIVATE, params=suspended_member, label="A's suspended member"),
        Case((401, 403, 404), params=in_b, label="A's student, from B"),
    ],
    f"GET {V1}/universities/{{university_id}}/invitations": [Case(PRIVATE)],
    f"GET {V1}/universities/{{university_id}}/audit": [Case(PRIVATE)],
    # Single sign-on and the joining policy (issue 20): the university's admins only.
    f"GET {V1}/universities/{{university_id}}/sso": [Case(PRIVATE)],
    f"PUT {V1}/universities/{{university_id}}/sso": [
        Case(PRIVATE, body={"issuer": "https://idp.intruder.example", "client_id": "x", "client_secret": "y"})
    ],
    f"DELETE {V1}/universities/{{university_id}}/sso": [Case(PRIVATE)],
    f"GET {V1}/universities/{{university_id}}/access-policy": [Case(PRIVATE)],
    f"PUT {V1}/universities/{{university_id}}/access-policy": [
        Case(PRIVATE, body={"allowed_email_domains": ["intruder.example"]})
    ],
    f"GET {V1}/auth/sso/{{university_short_code}}/login": [
        Case((404, 404, 404), params=lambda w: {"university_short_code": "NO-SSO"}, label="no provider: 404")
    ],
    f"GET {V1}/auth/sso/callback": [
        Case((400, 400, 400), query={"code": "c", "state": "forged"}, label="a state never issued")
    ],
    f"GET {V1}/auth/sso/complete": [Case(PUBLIC, query={"code": "shown-back"})],
    f"POST {V1}/auth/sso/exchange": [Case((400, 400, 400), body={"code": "forged"}, label="a code never issued")],
    f"GET {V1}/users/me/invitations": [Case(SIGNED_IN)],
    f"POST {V1}/invitations/{{invitation_id}}/accept": [Case(PRIVATE)],
    f"POST {V1}/invitations/{{invitation_id}}/decline": [Case(PRIVATE)],
    f"DELETE {V1}/invitations/{{invitation_id}}": [Case(PRIVATE)],
    f"GET {V1}/countries": [Case(PUBLIC)],
    f"GET {V1}/countries/{{country_id}}": [Case(PUBLIC)],
    f"POST {V1}/countries": [Case(PLATFORM, body={"code": "QZ", "name": "Intruder land"})],
    f"PATCH {V1}/countries/{{country_id}}": [Case(PLATFORM, body={"name": "Renamed"})],
    f"DELETE {V1}/countries/{{country_id}}": [Case(PLATFORM)],
    f"GET {V1}/universities": [Case(PUBLIC)],
    f"GET {V1}/universities/{{university_id}}": [Case(PUBLIC)],
    f"POST {V1}/universities": [
        Case(PLATFORM, body=lambda w: {"name": "Intruder U", "short_code": "IU", "country_id": w.params["country_id"]})
    ],
    f"PATCH {V1}/universities/{{university_id}}": [Case(PUBLIC_RECORD_WRITE, body={"name": "Renamed"})],
    f"DELETE {V1}/universities/{{university_id}}": [Case(PLATFORM)],
    f"GET {V1}/universities/{{university_id}}/departments": [Case(PUBLIC)],
    f"POST {V1}/universities/{{university_id}}/departments": [Case(PUBLIC_RECORD_WRITE, body={"name": "Intruders"})],
    f"GET {V1}/departments/{{department_id}}": [Case(PUBLIC)],
    f"PATCH {V1}/departments/{{department_id}}": [Case(PUBLIC_RECORD_WRITE, body={"name": "Renamed"})],
    f"DELETE {V1}/departments/{{department_id}}": [Case(PUBLIC_RECORD_WRITE)],
    # Auth: public by nature; the bodies carry no valid credentials of A.
    f"POST {V1}/auth/check-email": [Case(PUBLIC, body=lambda w: {"email": w.alt["student_email"]})],
    f"POST {V1}/auth/register": [Case((201, 201, 201), body=lambda w: _register_body())],
    f"POST {V1}/auth/register-with-onboarding": [Case((422, 422, 422), body={"email": "not-an-email"})],
    f"POST {V1}/auth/login": [
        Case((401, 401, 401), body=WRONG_LOGIN),
        Case((401, 401, 401), body=lambda w: {"email": w.alt["student_email"], "password": "wrong-password-1"}),
    ],
    f"POST {V1}/auth/token": [Case((401, 401, 401), form={"username": "a@b.edu", "password": "wrong-password-1"})],
    f"POST {V1}/auth/refresh": [Case((401, 401, 401))],
    f"POST {V1}/auth/logout": [Case((401, 401, 401), body={"refresh_token": "not-a-token"})],
    f"POST {V1}/auth/change-password": [
        Case((401, 422, 422), body={"current_password": "wrong-password-1", "new_password": "another-pass-2"})
    ],
    f"POST {V1}/auth/password-reset/request": [
        Case((202, 202, 202), body={"email": "nobody-here@example.edu"}),
        Case((202, 202, 202), body=lambda w: {"email": w.alt["student_email"]}, label="A's student: the same answer"),
    ],
    f"POST {V1}/auth/password-reset": [Case((422, 422, 422), body={"token": "made-up", "new_password": "pass-word-9"})],
    f"POST {V1}/auth/verify-email/request": [Case(SIGNED_IN)],
    f"POST {V1}/auth/verify-email": [Case((422, 422, 422), body={"token": "made-up"})],
    # LTI (docs/lti.md): a university's platforms (its admins), links of LMS courses (staff), the launch (public,
    # authenticated by what the platform signed).
    f"GET {V1}/universities/{{university_id}}/lti/platforms": [Case(PRIVATE)],
    f"POST {V1}/universities/{{university_id}}/lti/platforms": [
        Case(
            PRIVATE,
            body={
                "issuer": "https://intruder-lms.example.edu",
                "client_id": "intruder",
                "deployment_ids": ["1"],
                "auth_login_url": "https://intruder-lms.example.edu/auth",
                "auth_token_url": "https://intruder-lms.example.edu/token",
                "jwks_url": "https://intruder-lms.example.edu/jwks",
            },
        )
    ],
    f"PATCH {V1}/universities/{{university_id}}/lti/platforms/{{platform_id}}": [
        Case(PRIVATE, body={"enabled": False}),
        Case(
            (401, 403, 404),
            body={"enabled": False},
            params=lambda w: {"university_id": w.alt["b_university_id"]},
            label="A's platform under B's university",
        ),
    ],
    f"PUT {V1}/offerings/{{offering_id}}/lti-context": [
        Case(PRIVATE, body=lambda w: {"platform_id": w.params["platform_id"], "context_id": "intruder-course"}),
        Case(
            (401, 403, 404),
            body=lambda w: {"platform_id": w.params["platform_id"], "context_id": "intruder-course"},
            params=b_offering,
            label="A's platform linked to B's offering",
        ),
    ],
    f"GET {V1}/offerings/{{offering_id}}/lti/grade-sync": [Case(PRIVATE)],
    f"POST {V1}/offerings/{{offering_id}}/lti/sync-roster": [Case(PRIVATE)],
    f"POST {V1}/auth/lti/exchange": [Case((400, 400, 400), body={"code": "forged"}, label="a code never issued")],
    "GET /lti/jwks.json": [Case(PUBLIC)],
    "GET /lti/login": [
        Case(
            (400, 400, 400),
            query={"iss": "https://unknown.example", "login_hint": "x", "target_link_uri": "http://t/lti/launch"},
            label="an unregistered issuer",
        ),
        Case(
            (302, 302, 302),
            query=lambda w: {
                "iss": w.alt["lti_issuer"],
                "client_id": w.alt["lti_client_id"],
                "login_hint": "x",
                "target_link_uri": "http://t/lti/launch",
            },
            label="A's platform: a redirect to it, whoever follows the LMS's link",
        ),
    ],
    "POST /lti/login": [
        Case(
            (400, 400, 400),
            form={"iss": "https://unknown.example", "login_hint": "x", "target_link_uri": "http://t/lti/launch"},
        )
    ],
    "POST /lti/launch": [Case((400, 400, 400), form={"id_token": "a.b.c", "state": "made-up"})],
    "POST /lti/link": [Case((400, 400, 400), form={"token": "made-up", "choice": "offering:1"})],
    "POST /lti/deep-link": [Case((400, 400, 400), form={"token": "made-up", "item_id": "1"})],
    "GET /lti/register": [
        Case((400, 400, 400), query={"link": "made-up", "openid_configuration": "http://127.0.0.1:9/config"})
    ],
    f"POST {V1}/universities/{{university_id}}/lti/registration-links": [Case(PRIVATE)],
    "GET /lti/launched": [Case(PUBLIC, query={"code": "made-up"})],
    "GET /lti/launched.js": [Case(PUBLIC)],
    # The pages mailed links open: forms acting only with the token they carry.
    "GET /reset-password": [Case(PUBLIC, query={"token": "made-up"})],
    "POST /reset-password": [
        Case(
            (422, 422, 422), form={"token": "made-up", "new_password": "pass-word-9", "confirm_password": "pass-word-9"}
        )
    ],
    "GET /verify-email": [Case(PUBLIC, query={"token": "made-up"})],
    "POST /verify-email": [Case((422, 422, 422), form={"token": "made-up"})],
    "GET /invitations/accept": [Case(PUBLIC, query={"token": "made-up"})],
    "POST /invitations/accept": [
        Case((401, 401, 401), form={"token": "made-up", "email": "a@b.edu", "password": "wrong-pass-1"})
    ],
    # The caller's own account.
    f"GET {V1}/users/me": [Case(SIGNED_IN)],
    f"POST {V1}/users/me/email": [
        Case((401, 422, 422), body={"new_email": "elsewhere@example.edu", "password": "wrong-password-1"})
    ],
    f"PATCH {V1}/users/me": [Case(SIGNED_IN, body={"full_name": "Renamed Outsider"})],
    f"GET {V1}/users/me/profile": [Case(SIGNED_IN)],
    f"PUT {V1}/users/me/profile": [Case(SIGNED_IN, body={"learning_goal": "PERSONAL_INTEREST"})],
    f"GET {V1}/users/me/subject-preferences": [Case(SIGNED_IN)],
    f"PUT {V1}/users/me/subject-preferences": [Case(SIGNED_IN, body={"subject_ids": []})],
    f"GET {V1}/users/me/streak": [Case(SIGNED_IN)],
    # Taxonomy: public reads, platform writes.
    f"GET {V1}/domains": [Case(PUBLIC)],
    f"GET {V1}/domains/{{domain_id}}": [Case(PUBLIC)],
    f"POST {V1}/domains": [Case(PLATFORM, body={"name": "Intruder domain"})],
    f"PATCH {V1}/domains/{{domain_id}}": [Case(PLATFORM, body={"name": "Renamed"})],
    f"DELETE {V1}/domains/{{domain_id}}": [Case(PLATFORM)],
    f"GET {V1}/subjects": [Case(PUBLIC)],
    f"GET {V1}/subjects/tree": [Case(PUBLIC)],
    f"GET {V1}/subjects/{{subject_id}}": [Case(PUBLIC)],
    f"POST {V1}/subjects": [Case(PLATFORM, body=lambda w: {"domain_id": w.params["domain_id"], "name": "Intruder"})],
    f"PATCH {V1}/subjects/{{subject_id}}": [Case(PLATFORM, body={"name": "Renamed"})],
    f"DELETE {V1}/subjects/{{subject_id}}": [Case(PLATFORM)],
    f"GET {V1}/content-types": [Case(PUBLIC)],
    f"GET {V1}/content-types/{{content_type_id}}": [Case(PUBLIC)],
    f"POST {V1}/content-types": [Case(PLATFORM, body={"name": "intruder-type", "label": "Intruder"})],
    f"PATCH {V1}/content-types/{{content_type_id}}": [Case(PLATFORM, body={"label": "Renamed"})],
    f"DELETE {V1}/content-types/{{content_type_id}}": [Case(PLATFORM)],
    # Modules and content: private to A's staff and enrolled students.
    f"GET {V1}/courses/{{course_id}}/tree": [Case(PRIVATE), Case(PRIVATE, params=hidden_course, label="unpublished")],
    f"POST {V1}/courses/{{course_id}}/modules": [Case(PRIVATE, body={"title": "Intruder", "module_type": "UNIT"})],
    f"GET {V1}/modules/{{module_id}}": [Case(PRIVATE)],
    f"PATCH {V1}/modules/{{module_id}}": [Case(PRIVATE, body={"title": "Renamed"})],
    f"DELETE {V1}/modules/{{module_id}}": [Case(PRIVATE)],
    f"POST {V1}/modules/{{module_id}}/move": [
        Case(PRIVATE, body=lambda w: {"parent_module_id": w.alt["root_module_id"], "sequence_index": 0})
    ],
    f"GET {V1}/modules/{{module_id}}/content-items": [Case(PRIVATE)],
    f"POST {V1}/modules/{{module_id}}/content-items": [
        Case(PRIVATE, body=lambda w: {"content_type_id": w.alt["content_type_id"], "title": "Intruder"})
    ],
    f"GET {V1}/content-items/{{content_item_id}}": [Case(PRIVATE)],
    f"PATCH {V1}/content-items/{{content_item_id}}": [Case(PRIVATE, body={"title": "Renamed"})],
    f"DELETE {V1}/content-items/{{content_item_id}}": [Case(PRIVATE)],
    f"POST {V1}/content-items/{{content_item_id}}/move": [
        Case(PRIVATE, body=lambda w: {"module_id": w.params["module_id"], "sequence_index": 0})
    ],
    # Progress.
    f"PUT {V1}/offerings/{{offering_id}}/progress/content-items/{{content_item_id}}": [
        Case(PRIVATE, body={"progress_percent": 100})
    ],
    f"GET {V1}/offerings/{{offering_id}}/progress/me": [Case(PRIVATE)],
    f"GET {V1}/offerings/{{offering_id}}/progress": [Case(PRIVATE)],
    # Assessments: a student's own attempts, and the offering's gradebook for its staff.
    f"POST {V1}/offerings/{{offering_id}}/content-items/{{content_item_id}}/attempts": [
        Case(PRIVATE, body={"answers": {}})
    ],
    f"GET {V1}/offerings/{{offering_id}}/content-items/{{content_item_id}}/attempts": [Case(PRIVATE)],
    f"GET {V1}/offerings/{{offering_id}}/gradebook": [
        Case(PRIVATE),
        Case(PRIVATE, query={"format": "csv"}, label="CSV"),
    ],
    f"GET {V1}/offerings/{{offering_id}}/gradebook/items/{{content_item_id}}": [Case(PRIVATE)],
    # Prompts (v1): staff of any university read, platform admins write.
    f"GET {V1}/prompts": [Case(STAFF_READ)],
    f"POST {V1}/prompts": [Case(PLATFORM, body={"name": "intruder-prompt", "prompt": "Hi"})],
    f"GET {V1}/prompts/{{name:path}}/labels/history": [Case(STAFF_READ)],
    f"GET {V1}/prompts/{{name:path}}/diff": [Case(STAFF_READ, query={"from": 1, "to": 1})],
    f"POST {V1}/prompts/{{name:path}}/compile": [Case(STAFF_READ, body={"variables": {}})],
    f"PATCH {V1}/prompts/{{name:path}}/versions/{{version}}": [Case(PLATFORM, body={"newLabels": ["intruder"]})],
    f"PUT {V1}/prompts/{{name:path}}/tags": [Case(PLATFORM, body={"tags": ["intruder"]})],
    f"DELETE {V1}/prompts/{{name:path}}/labels/{{label}}": [Case(PLATFORM)],
    f"GET {V1}/prompts/{{name:path}}": [Case(STAFF_READ)],
    f"DELETE {V1}/prompts/{{name:path}}": [Case(PLATFORM)],
    # API keys, analytics, feature requests.
    f"POST {V1}/api-keys": [Case(PLATFORM, body={"name": "intruder key"})],
    f"GET {V1}/api-keys": [Case(PLATFORM)],
    f"DELETE {V1}/api-keys/{{key_id}}": [Case(PLATFORM)],
    f"GET {V1}/admin/analytics/overview": [
        Case((401, 403, OK), label="no university: a university admin gets their own university's figures"),
        Case(PRIVATE, query=lambda w: {"university_id": w.params["university_id"]}, label="A's figures"),
    ],
    f"POST {V1}/feature-requests": [Case((401, 201, 201), body={"title": "Mine", "description": "My wish"})],
    f"GET {V1}/feature-requests": [Case(SIGNED_IN), Case(SIGNED_IN, query={"mine": "false"}, label="mine=false")],
    f"GET {V1}/feature-requests/{{request_id}}": [Case(PRIVATE)],
    f"PATCH {V1}/feature-requests/{{request_id}}": [Case(PRIVATE, body={"status": "PLANNED"})],
    f"DELETE {V1}/feature-requests/{{request_id}}": [Case(PRIVATE)],
    # Tutor: a chat and everything in it belong to its user.
    f"POST {V1}/chat/sessions": [
        # Without content: needs an ACTIVE enrolment or a staff role (B's student has neither; B's admin is staff).
        Case((401, 403, 201), body={}, label="a session without content"),
        Case(PRIVATE, body=lambda w: {"content_item_id": w.params["content_item_id"]}, label="on A's content"),
    ],
    f"GET {V1}/chat/sessions": [
        Case(SIGNED_IN),
        Case(SIGNED_IN, query=lambda w: {"content_item_id": w.params["content_item_id"]}, label="by A's item"),
    ],
    f"GET {V1}/chat/sessions/{{session_id}}": [Case(PRIVATE)],
    f"DELETE {V1}/chat/sessions/{{session_id}}": [Case(PRIVATE)],
    f"GET {V1}/chat/sessions/{{session_id}}/messages": [Case(PRIVATE)],
    f"POST {V1}/chat/sessions/{{session_id}}/messages": [
        Case(PRIVATE, body={"content": "Let me in"}),
        Case(PRIVATE, body={"content": "Let me in"}, headers=SSE, label="streaming"),
    ],
    f"POST {V1}/chat/sessions/{{session_id}}/retry": [Case(PRIVATE)],
    f"POST {V1}/chat/sessions/{{session_id}}/share": [Case(PRIVATE)],
    f"DELETE {V1}/chat/sessions/{{session_id}}/share": [Case(PRIVATE)],
    f"GET {V1}/chat/sessions/{{session_id}}/notes": [Case(PRIVATE)],
    f"POST {V1}/chat/sessions/{{session_id}}/notes": [Case(PRIVATE, body={"content": "Intruder note"})],
    f"PATCH {V1}/chat/notes/{{note_id}}": [Case(PRIVATE, body={"content": "Renamed"})],
    f"DELETE {V1}/chat/notes/{{note_id}}": [Case(PRIVATE)],
    f"POST {V1}/chat/messages/{{message_id}}/feedback": [Case(PRIVATE, body={"rating": "down"})],
    f"POST {V1}/chat/messages/{{message_id}}/edit": [
        Case(PRIVATE, body={"content": "Intruder edit"}),
        Case(PRIVATE, body={"content": "Intruder edit"}, headers=SSE, label="streaming"),
    ],
    f"POST {V1}/chat/messages/{{message_id}}/regenerate": [
        Case(PRIVATE),
        Case(PRIVATE, headers=SSE, label="streaming"),
    ],
    f"POST {V1}/chat/messages/{{message_id}}/activate": [Case(PRIVATE)],
    f"GET {V1}/shared/chats/{{token}}": [
        Case(PUBLIC, leak_ok="the share token is the capability: its holder sees the chat (SPEC)"),
        Case((404, 404, 404), params=lambda w: {"token": "x" * 43}, label="an unknown token"),
    ],
    # Tutor governance (issue 22): a university's policy is its admins'; a course's, whoever may edit the course.
    f"GET {V1}/universities/{{university_id}}/tutor-policy": [
        Case(PRIVATE),
        Case(PRIVATE, query={"effective": "true"}, label="effective"),
    ],
    f"PUT {V1}/universities/{{university_id}}/tutor-policy": [Case(PRIVATE, body={"enabled": False})],
    f"GET {V1}/courses/{{course_id}}/tutor-policy": [
        Case(PRIVATE, query={"effective": "true"}),
        Case(PRIVATE, params=hidden_course, label="unpublished"),
    ],
    f"PUT {V1}/courses/{{course_id}}/tutor-policy": [Case(PRIVATE, body={"enabled": False})],
    f"GET {V1}/admin/analytics/tutor-usage": [
        Case((401, 403, OK), label="no university: a university admin gets their own university's figures"),
        Case(PRIVATE, query=lambda w: {"university_id": w.params["university_id"]}, label="A's usage"),
        Case(PRIVATE, query=lambda w: {"university_id": w.params["university_id"], "format": "csv"}, label="CSV"),
        Case((401, 403, 404), query=lambda w: {"course_id": w.params["course_id"]}, label="A's course from B"),
    ],
    f"GET {V1}/universities/{{university_id}}/tutor-flags": [
        Case(PRIVATE),
        Case(PRIVATE, query={"status": "open"}, label="open"),
    ],
    f"PATCH {V1}/universities/{{university_id}}/tutor-flags/{{flag_id}}": [
        Case(PRIVATE, body={"status": "resolved", "note": "Intruder"}),
        Case(
            (401, 403, 404),
            params=lambda w: {"university_id": w.alt["b_university_id"]},
            body={"status": "resolved"},
            label="A's flag through B's university: B's admin gets 404",
        ),
    ],
    f"GET {V1}/universities/{{university_id}}/settings": [Case(PRIVATE)],
    f"PUT {V1}/universities/{{university_id}}/settings/{{key}}": [Case(PRIVATE, body={"value": "sk-intruder-000000"})],
    f"DELETE {V1}/universities/{{university_id}}/settings/{{key}}": [Case(PRIVATE)],
    f"GET {V1}/chat/sessions/{{session_id}}/reads": [Case(PRIVATE)],
    f"GET {V1}/courses/{{course_id}}/tutor-insights": [
        Case(PRIVATE),
        Case(PRIVATE, params=hidden_course, label="unpublished"),
    ],
    # The Langfuse-compatible API: HTTP Basic with an API key; a user's bearer token is no credential there.
    "GET /api/public/v2/prompts": [Case(API_KEY)],
    "POST /api/public/v2/prompts": [Case(API_KEY, body={"name": "intruder-prompt", "prompt": "Hi"})],
    "PATCH /api/public/v2/prompts/{name:path}/versions/{version}": [Case(API_KEY, body={"newLabels": ["x"]})],
    "GET /api/public/v2/prompts/{name:path}": [Case(API_KEY)],
    "DELETE /api/public/v2/prompts/{name:path}": [Case(API_KEY)],
}


def route_table() -> list[str]:
    """'METHOD /path' for every route of the app (HEAD, which Starlette adds to every GET, is left out)."""
    from fastapi.routing import iter_route_contexts

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    # An app with a database of its own is a test app: it leaves logging alone. This one never connects.
    unused = Database.from_url("postgresql+asyncpg://unused@127.0.0.1:9/unused", settings)
    app = create_app(settings, database=unused)
    keys: list[str] = []
    for context in iter_route_contexts(app.routes):
        for method in sorted(context.methods or ()):
            if method != "HEAD":
                keys.append(f"{method} {context.path}")
    return keys


ROUTES = route_table()
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def fill(path: str, params: dict[str, Any]) -> str:
    return _PARAM.sub(lambda m: str(params[m.group(1)]), path)


def _matches(status: int, expected: Expected) -> bool:
    if expected == OK:
        return 200 <= status < 300
    if expected == ANY:
        return status < 500
    if isinstance(expected, int):
        return status == expected
    assert isinstance(expected, frozenset)
    return status in expected


async def _call(client: httpx.AsyncClient, world: World, key: str, case: Case, caller: str) -> httpx.Response:
    method, template = key.split(" ", 1)
    params = world.params | (case.params(world) if case.params else {})
    query = case.query(world) if callable(case.query) else case.query
    headers = world.headers[caller] | case.headers
    body = case.body(world) if callable(case.body) else case.body
    if case.form is not None:
        return await client.request(method, fill(template, params), params=query, data=case.form, headers=headers)
    if body is None and method in ("POST", "PUT", "PATCH"):
        return await client.request(method, fill(template, params), params=query, headers=headers)
    return await client.request(method, fill(template, params), params=query, json=body, headers=headers)


@pytest.fixture
async def world(db: AsyncSession, settings: Settings) -> World:
    return await make_world(db, settings)


class TestTheMatrixCoversTheApp:
    def test_every_route_is_in_the_matrix(self) -> None:
        assert sorted(set(ROUTES) - set(MATRIX)) == []

    def test_the_matrix_names_no_route_the_app_does_not_have(self) -> None:
        assert sorted(set(MATRIX) - set(ROUTES)) == []
        assert sorted(set(PUBLIC_ROUTES) - set(ROUTES)) == []

    def test_only_routes_listed_as_public_let_anonymous_callers_through(self) -> None:
        anonymous_allowed = {key for key, cases in MATRIX.items() if any(c.expected[0] != 401 for c in cases)}
        assert sorted(anonymous_allowed - set(PUBLIC_ROUTES)) == []

    def test_every_public_route_has_a_reason(self) -> None:
        assert all(reason.strip() for reason in PUBLIC_ROUTES.values())


class TestOutsidersCannotReachUniversityAData:
    @pytest.mark.parametrize("key", ROUTES)
    async def test_route_answers_each_outsider_as_declared_and_never_with_a_private_field(
        self, client: httpx.AsyncClient, world: World, key: str
    ) -> None:
        cases = MATRIX.get(key)
        assert cases is not None, f"{key} is in neither MATRIX nor PUBLIC_ROUTES: declare who may call it"
        failures: list[str] = []
        for case in cases:
            for caller, expected in zip(CALLERS, case.expected, strict=True):
                response = await _call(client, world, key, case, caller)
                where = f"{key} [{case.label or 'default'}] as {caller}"
                if not _matches(response.status_code, expected):
                    failures.append(f"{where}: {response.status_code}, expected {expected}: {response.text[:300]}")
                if case.leak_ok is None and world.sentinel in response.text.lower():
                    failures.append(f"{where}: {response.status_code} carries A's private data: {response.text[:300]}")
                if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
                    "application/json"
                ):
                    assert "error" in response.json(), where
        assert failures == [], "\n".join(failures)


def test_matrix_size() -> None:
    """The figures quoted in docs/reliability.md."""
    calls = sum(len(MATRIX[key]) * len(CALLERS) for key in ROUTES)
    assert len(ROUTES) >= 140
    assert calls >= 3 * len(ROUTES)
