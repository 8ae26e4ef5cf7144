"""Prompts: who reads and writes them, as a user (v1) or as an API key (public API), and the `Actor` that writes.

Users: staff of any university read; platform admins write and move the protected `production` label. An API key
is not a user and has no role: on the public API its scopes stand in for the role (authz/scopes.py).
"""

from __future__ import annotations

from twosigma.api_keys.cache import VerifiedKey
from twosigma.authz.policy import (
    can_move_protected_prompt_labels,
    can_read_prompts,
    can_write_prompts,
    ensure_allowed,
)
from twosigma.authz.principal import Principal
from twosigma.authz.scopes import deploy_refusal, ensure_may_read_prompts, ensure_may_write_prompts, may_deploy
from twosigma.prompts.services.changes import Actor

API_CREATED_BY = "API"  # what Langfuse stores as `createdBy` for API-created versions


def prompt_reader(principal: Principal) -> Principal:
    ensure_allowed(can_read_prompts(principal), "Only staff and platform administrators may read prompts.")
    return principal


def prompt_writer(principal: Principal) -> Actor:
    ensure_allowed(can_write_prompts(principal), "Only a platform administrator may change prompts.")
    return Actor(
        created_by=str(principal.id),
        audit=f"user:{principal.id}",
        may_move_protected=can_move_protected_prompt_labels(principal),
    )


def api_key_reader(key: VerifiedKey) -> VerifiedKey:
    ensure_may_read_prompts(key.scopes)
    return key


def api_key_writer(key: VerifiedKey) -> Actor:
    """A key acts by its scopes: write to change prompts; deploy, also to touch `production`."""
    ensure_may_write_prompts(key.scopes)
    return Actor(
        created_by=API_CREATED_BY,
        audit=f"api_key:{key.id}",
        may_move_protected=may_deploy(key.scopes),
        refuse_protected=deploy_refusal(key.scopes),
    )
