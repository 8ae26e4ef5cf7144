"""The app's state, typed: one `AppState` stored once on `app.state` (Starlette's public state), read through
`app_state(request)`.

create_app (app.py) builds it; a server's lifespan connects `db` and starts the cache listener, a test's app is
given its database. The domain types are imported for type checking only: at run time kit imports no domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from twosigma.api_keys.cache import ApiKeyCache
    from twosigma.config import Settings
    from twosigma.content.tree_cache import TreeCache
    from twosigma.db.engine import Database
    from twosigma.jobs.runner import JobRunner
    from twosigma.kit.cache import CacheInvalidation
    from twosigma.kit.ratelimit import RateLimiter
    from twosigma.llm.factory import ProviderRegistry
    from twosigma.prompts.cache import PromptCache
    from twosigma.system_settings.cache import EffectiveCache


class DatabaseNotConnected(RuntimeError):
    """The app's database is read before the lifespan connected it (or without a database given to create_app)."""


@dataclass
class AppState:
    settings: Settings
    rate_limiter: RateLimiter
    llm_providers: ProviderRegistry
    # The process's caches, each registered with `invalidation` under its NOTIFY payload (kit/cache.py).
    invalidation: CacheInvalidation
    prompt_cache: PromptCache
    api_key_cache: ApiKeyCache
    effective_cache: EffectiveCache
    # Keyed by each course's content version, which the database moves: registered with no invalidation.
    tree_cache: TreeCache
    # The background job queues (the mail outbox first): a server's lifespan runs them; tests drain them.
    jobs: JobRunner
    db: Database | None = None

    @property
    def database(self) -> Database:
        if self.db is None:
            raise DatabaseNotConnected("The app's database is not connected yet (its lifespan has not started).")
        return self.db


def install_state(app: Starlette, state: AppState) -> None:
    """Store `state` as the app's, replacing any before it."""
    app.state.twosigma = state


def state_of(app: Starlette) -> AppState:
    state: AppState = app.state.twosigma
    return state


def app_state(connection: HTTPConnection) -> AppState:
    """The state of the app serving `connection` (a request)."""
    return state_of(connection.app)
