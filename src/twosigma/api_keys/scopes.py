"""What an API key may do on the public prompt API, chosen when the key is made and fixed for its life.

- `prompts:read` — list and get prompts. Every key has it.
- `prompts:write` — create versions, give labels (PATCH), delete versions, none of which touch `production`.
- `prompts:deploy` — give, move or remove the protected `production` label (a new version that carries it, a PATCH
  that gives it, a delete of the version that holds it). It brings `prompts:write` with it: every way to deploy is
  a write, so a deploy key without write could not deploy at all.

What each route needs is decided in `authz/scopes.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    PROMPTS_READ = "prompts:read"
    PROMPTS_WRITE = "prompts:write"
    PROMPTS_DEPLOY = "prompts:deploy"


# A scope → the scopes it brings with it.
_IMPLIES: dict[Scope, frozenset[Scope]] = {
    Scope.PROMPTS_READ: frozenset(),
    Scope.PROMPTS_WRITE: frozenset({Scope.PROMPTS_READ}),
    Scope.PROMPTS_DEPLOY: frozenset({Scope.PROMPTS_READ, Scope.PROMPTS_WRITE}),
}


def normalize(requested: Iterable[Scope]) -> list[str]:
    """The scopes a key made with `requested` holds, in the canonical order: read always, deploy's write added."""
    held = {Scope.PROMPTS_READ}
    for scope in requested:
        held |= {scope, *_IMPLIES[scope]}
    return [scope.value for scope in Scope if scope in held]
