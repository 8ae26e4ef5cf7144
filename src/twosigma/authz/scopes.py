"""What an API key may do on the public prompt API (`/api/public/v2/prompts`), decided from its scopes.

An API key is not a user: it has no role, only the scopes it was created with (api_keys/scopes.py). The rules:
list and get need `prompts:read`; create, PATCH labels and delete need `prompts:write`; anything that gives, moves
or removes the protected `production` label (creating a version that carries it, a PATCH that gives it — and so
takes it from another version —, deleting the version that holds it) also needs `prompts:deploy`, and so does
anything that moves a label a production prompt reads through composition (it changes what production serves).
A refusal is 403 `insufficient_scope` naming the missing scope.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from twosigma.api_keys.scopes import Scope
from twosigma.kit.errors import Forbidden


class InsufficientScope(Forbidden):
    code = "insufficient_scope"

    def __init__(self, required: Scope, granted: Collection[str], action: str) -> None:
        super().__init__(
            f"This API key lacks the {required.value} scope, which is needed to {action}.",
            details={"required_scope": required.value, "granted_scopes": sorted(granted)},
        )


def has_scope(granted: Collection[str], required: Scope) -> bool:
    return required.value in granted


def ensure_scope(granted: Collection[str], required: Scope, action: str) -> None:
    if not has_scope(granted, required):
        raise InsufficientScope(required, granted, action)


def may_read_prompts(granted: Collection[str]) -> bool:
    return has_scope(granted, Scope.PROMPTS_READ)


def ensure_may_read_prompts(granted: Collection[str]) -> None:
    ensure_scope(granted, Scope.PROMPTS_READ, "read prompts")


def ensure_may_write_prompts(granted: Collection[str]) -> None:
    """Creating, relabelling and deleting prompt versions, which for a user is the platform admin's alone: a key
    does it by its `prompts:write` scope instead of a role."""
    ensure_scope(granted, Scope.PROMPTS_WRITE, "change prompts")


def may_deploy(granted: Collection[str]) -> bool:
    """Whether the key may give, move or remove the protected `production` label."""
    return has_scope(granted, Scope.PROMPTS_DEPLOY)


def deploy_refusal(granted: Collection[str]) -> Callable[[Sequence[str], Sequence[str]], Forbidden]:
    """The refusal of a key without `prompts:deploy` that touched a protected label, or a label that production
    prompts read (`dependents` names them; raised by the prompt service, which is the one that knows which labels a
    write touches and who reads them)."""

    def refuse(labels: Sequence[str], dependents: Sequence[str]) -> Forbidden:
        action = f"give, move or remove the label(s) {', '.join(labels)}"
        if not dependents:
            return InsufficientScope(Scope.PROMPTS_DEPLOY, granted, action)
        refusal = InsufficientScope(
            Scope.PROMPTS_DEPLOY, granted, f"{action}, which production prompts read (it changes what they serve)"
        )
        refusal.details["dependents"] = list(dependents)
        return refusal

    return refuse
