"""Application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from twosigma import __version__
from twosigma.analytics.router import router as analytics_router
from twosigma.api_keys.cache import ApiKeyCache, default_key_cache
from twosigma.api_keys.router import router as api_keys_router
from twosigma.audit.router import router as audit_router
from twosigma.auth.router import router as auth_router
from twosigma.config import Environment, Settings, get_settings
from twosigma.content.router import router as content_router
from twosigma.courses.offerings_router import router as offerings_router
from twosigma.courses.router import router as courses_router
from twosigma.db.bootstrap import resolve_database
from twosigma.db.engine import Database
from twosigma.enrollments.router import router as enrollments_router
from twosigma.feature_requests.router import router as feature_requests_router
from twosigma.health.router import router as health_router
from twosigma.invitations.router import router as invitations_router
from twosigma.kit.docs import install_docs
from twosigma.kit.handlers import install_error_handlers
from twosigma.kit.logging import configure_logging
from twosigma.kit.metrics import router as metrics_router
from twosigma.kit.observability import EdgeMiddleware
from twosigma.kit.ratelimit import RateLimiter
from twosigma.kit.routing import gate, warm_up
from twosigma.kit.schemas import ErrorResponse
from twosigma.kit.security import BodyGuardMiddleware
from twosigma.llm.factory import ProviderRegistry
from twosigma.llm.router import router as llm_router
from twosigma.progress.router import router as progress_router
from twosigma.prompts.cache import PromptCache, PromptCacheListener, default_cache
from twosigma.prompts.front import PromptCacheFront
from twosigma.prompts.public_router import router as public_prompts_router
from twosigma.prompts.router import router as prompts_router
from twosigma.system_settings.cache import EffectiveCache, default_effective_cache
from twosigma.system_settings.router import router as system_settings_router
from twosigma.taxonomy.router import router as taxonomy_router
from twosigma.tenancy.router import router as tenancy_router
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
    """Every domain router under /api/v1, each behind a gate on its routes' own path patterns, so a request skips
    the routers it cannot match (kit/routing.py); the order is FastAPI's matching order. Included straight into the app
    (no router carrying the prefix in between): each level of inclusion is one more full match per request."""
    for domain in (
        health_router,
        system_settings_router,
        llm_router,
        courses_router,
        offerings_router,
        enrollments_router,
        tenancy_router,
        invitations_router,
        audit_router,
        auth_router,
        users_router,
        taxonomy_router,
        content_router,
        progress_router,
        prompts_router,
        api_keys_router,
        analytics_router,
        feature_requests_router,
        tutor_router,
    ):
        app.include_router(gate(domain, API_PREFIX), prefix=API_PREFIX, responses=DEFAULT_ERROR)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app. Tests pass a `database` bound to their transaction; servers let the lifespan connect."""
    settings = settings or get_settings()
    if database is None:
        # A server configures logging; the tests' apps leave it to pytest (idempotent for `twosigma serve`).
        configure_logging(settings.log_level, json_lines=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm_up(app)
        if database is not None:
            app.state.db = database
            yield
            return
        target = await resolve_database(settings)
        db = Database.from_url(target.url, settings)
        app.state.db = db
        # Only a server that owns its database listens; tests start a listener themselves when they need one.
        listener = PromptCacheListener.for_engine(
            db.engine, app.state.prompt_cache, others=(app.state.api_key_cache, app.state.effective_cache)
        )
        await listener.start()
        # Everything built so far lives as long as the process: move it out of the garbage collector's sight.
        # A full collection otherwise walks ~500k objects (tens of milliseconds, on whichever request is unlucky).
        gc.freeze()
        try:
            yield
        finally:
            await listener.stop()
            await app.state.llm_providers.aclose()
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
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings.redis_url, key_prefix=settings.redis_key_prefix)
    app.state.llm_providers = ProviderRegistry()
    # A server shares the process-wide prompt cache; an app built on a test's database gets its own.
    app.state.prompt_cache = default_cache if database is None else PromptCache()
    app.state.api_key_cache = default_key_cache if database is None else ApiKeyCache()
    app.state.effective_cache = default_effective_cache if database is None else EffectiveCache()
    if database is not None:
        app.state.db = database
    install_error_handlers(app)
    app.include_router(health_router, include_in_schema=False)
    install_docs(app)
    # The Langfuse API first: its SDKs poll it, and its prefix is disjoint from /api/v1's, so no route's
    # priority changes.
    app.include_router(gate(public_prompts_router, ""), responses=DEFAULT_ERROR)
    include_api(app)
    app.include_router(metrics_router)
    # add_middleware wraps: the last added runs first. Outermost to innermost: the edge (request id, security headers
    # on every response, access log and metrics, and the last-resort 500: kit/observability.py), CORS (so even a
    # 413 is readable cross-origin), the body guard, then the cache front of the prompt GET (prompts/front.py).
    app.add_middleware(PromptCacheFront)
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
    app.add_middleware(EdgeMiddleware, hsts=settings.environment is Environment.PRODUCTION)
    return app
