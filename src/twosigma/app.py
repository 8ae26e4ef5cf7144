"""Application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from starlette.routing import Route

from twosigma import __version__
from twosigma.analytics.router import router as analytics_router
from twosigma.api_keys.cache import ApiKeyCache
from twosigma.api_keys.router import router as api_keys_router
from twosigma.assessments.router import router as assessments_router
from twosigma.audit.router import router as audit_router
from twosigma.auth.router import router as auth_router
from twosigma.config import Environment, Settings, get_settings
from twosigma.content.router import router as content_router
from twosigma.content.tree_cache import TreeCache
from twosigma.courses.routers.courses import router as courses_router
from twosigma.courses.routers.offerings import router as offerings_router
from twosigma.db.bootstrap import resolve_database
from twosigma.db.engine import Database
from twosigma.enrollments.router import router as enrollments_router
from twosigma.feature_requests.router import router as feature_requests_router
from twosigma.governance.router import router as governance_router
from twosigma.health.router import health_router, metrics_router
from twosigma.invitations.router import router as invitations_router
from twosigma.jobs.runner import JobRunner
from twosigma.kit.cache import CacheInvalidation
from twosigma.kit.docs import install_docs
from twosigma.kit.handlers import install_error_handlers
from twosigma.kit.logging import configure_logging
from twosigma.kit.observability import EdgeMiddleware
from twosigma.kit.ratelimit import RateLimiter
from twosigma.kit.routing import include, warm_up
from twosigma.kit.schemas import ErrorResponse
from twosigma.kit.security import BodyGuardMiddleware
from twosigma.kit.state import AppState, install_state, state_of
from twosigma.llm.factory import ProviderRegistry
from twosigma.llm.router import router as llm_router
from twosigma.lti.routers.api import router as lti_router
from twosigma.lti.routers.launch import router as lti_launch_router
from twosigma.lti.services import grades as lti_grades
from twosigma.lti.services import roster as lti_roster
from twosigma.mail import service as mail
from twosigma.mail.router import router as mail_router
from twosigma.pages.router import router as pages_router
from twosigma.privacy import service as privacy
from twosigma.privacy.router import router as privacy_router
from twosigma.progress.router import router as progress_router
from twosigma.prompts.cache import PromptCache
from twosigma.prompts.routers.langfuse import router as public_prompts_router
from twosigma.prompts.routers.v1 import router as prompts_router
from twosigma.retrieval.services.backfill import backfill_queue
from twosigma.retrieval.services.embedding import embedding_queue
from twosigma.sso.router import router as sso_router
from twosigma.system_settings.cache import EffectiveCache
from twosigma.system_settings.router import router as system_settings_router
from twosigma.taxonomy.router import router as taxonomy_router
from twosigma.tenancy.routers.members import router as members_router
from twosigma.tenancy.routers.universities import router as tenancy_router
from twosigma.tutor.router import router as tutor_router
from twosigma.users.router import router as users_router

API_PREFIX = "/api/v1"
# Every status a route does not list (400 for an unreadable body, 405, 413, 503 when the database is down, ...)
# answers the error shape: documented once as each operation's `default` response, so clients and schema checks
# know the shape of every error. (It also replaces FastAPI's `HTTPValidationError`, which this app never sends.)
DEFAULT_ERROR: dict[int | str, dict[str, Any]] = {
    "default": {"model": ErrorResponse, "description": "Error: `{error: {code, message, details}}`"}
}


def include_api(app: FastAPI) -> None:
    """Every domain router under /api/v1, each included straight into the app (kit/routing.py). The order is
    FastAPI's matching order, which tries each route in turn: the routes every client calls on every page come
    first (`/users/me`, literal paths no other route matches), so they are found after a few tries rather than a
    hundred. Any other order routes the same (tests/kit/test_routing.py routes every documented operation)."""
    for domain in (
        users_router,
        health_router(),
        system_settings_router,
        mail_router,
        privacy_router,
        llm_router,
        courses_router,
        offerings_router,
        enrollments_router,
        members_router,
        tenancy_router,
        invitations_router,
        audit_router,
        auth_router,
        sso_router,
        lti_router,
        taxonomy_router,
        content_router,
        progress_router,
        assessments_router,
        prompts_router,
        api_keys_router,
        analytics_router,
        feature_requests_router,
        tutor_router,
        governance_router,
    ):
        include(app, domain, prefix=API_PREFIX, responses=DEFAULT_ERROR)


def build_state(settings: Settings, database: Database | None = None) -> AppState:
    """The app's state: its settings, rate limiter, LLM clients, and caches registered with one invalidation
    service (`database`: given by tests; a server's lifespan connects its own)."""
    invalidation = CacheInvalidation()
    return AppState(
        settings=settings,
        rate_limiter=RateLimiter(settings.redis_url, key_prefix=settings.redis_key_prefix),
        llm_providers=ProviderRegistry(),
        invalidation=invalidation,
        prompt_cache=invalidation.register(PromptCache()),
        api_key_cache=invalidation.register(ApiKeyCache()),
        effective_cache=invalidation.register(EffectiveCache()),
        tree_cache=TreeCache(),
        jobs=JobRunner(
            [
                mail.mail_queue(settings),
                privacy.export_queue(),
                privacy.retention_queue(),
                lti_grades.score_queue(settings),
                lti_roster.roster_queue(settings),
                backfill_queue(),
                embedding_queue(settings),
            ]
        ),
        db=database,
    )


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app. Tests pass a `database` bound to their transaction; servers let the lifespan connect."""
    settings = settings or get_settings()
    if database is None:
        # A server configures logging; the tests' apps leave it to pytest (idempotent for `twosigma serve`).
        configure_logging(settings.log_level, json_lines=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm_up(app)
        state = state_of(app)
        if database is not None:
            yield
            return
        target = await resolve_database(settings)
        db = Database.from_url(target.url, settings)
        state.db = db
        # Only a server that owns its database listens; tests start a listener themselves when they need one.
        await state.invalidation.start_for(db.engine)
        # The job queues (the mail outbox) drain in the background of every server process; claims skip each
        # other's rows, so any number of processes share the work.
        state.jobs.start(db)
        # Everything built so far lives as long as the process: move it out of the garbage collector's sight.
        # A full collection otherwise walks ~500k objects (tens of milliseconds, on whichever request is unlucky).
        gc.freeze()
        try:
            yield
        finally:
            await state.jobs.stop()
            await state.invalidation.stop()
            await state.llm_providers.aclose()
            await db.dispose()
            target.release()

    app = FastAPI(
        title="twosigma",
        version=__version__,
        description="Backend for AI-tutored learning: courses, enrolment, progress and a one-to-one AI tutor.",
        lifespan=lifespan,
        # Swagger UI is served from the package (kit/docs.py), not FastAPI's CDN-loaded page; ReDoc is off.
        docs_url=None,
        redoc_url=None,
    )
    install_state(app, build_state(settings, database))
    install_error_handlers(app)
    include(app, health_router(), include_in_schema=False)
    install_docs(app)
    # The Langfuse API first: its SDKs poll it, and its prefix is disjoint from /api/v1's, so no route's
    # priority changes.
    include(app, public_prompts_router, responses=DEFAULT_ERROR)
    include_api(app)
    include(app, metrics_router)
    # The pages mailed links open (/reset-password, /verify-email, /invitations/accept): HTML, not the API.
    include(app, pages_router, include_in_schema=False)
    # What an LMS and the browser call to launch the tool (/lti/...): HTML, redirects and the tool's JWKS.
    include(app, lti_launch_router, include_in_schema=False)
    # The app's own plain routes (/docs, /openapi.json; no parameters): the access log names them by their path.
    literal_paths = frozenset(
        route.path
        for route in app.routes
        if isinstance(route, Route) and not isinstance(route, APIRoute) and "{" not in route.path
    )
    # add_middleware wraps: the last added runs first. Outermost to innermost: the edge (request id, security headers
    # on every response, access log and metrics, and the last-resort 500: kit/observability.py), CORS (so even a
    # 413 is readable cross-origin), then the body guard.
    app.add_middleware(
        BodyGuardMiddleware, max_body_bytes=settings.max_body_bytes, max_json_depth=settings.max_json_depth
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(EdgeMiddleware, hsts=settings.environment is Environment.PRODUCTION, literal_paths=literal_paths)
    return app
