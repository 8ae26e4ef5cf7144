"""The few calls the tutor's turn makes into governance (tutor/orchestrator.py), so the turn itself stays small:

- `open_chat_allowed` when a chat is opened: 403 `tutor_disabled` where the policy switches the tutor off;
- `before_turn` before a message is stored: the policy is on and no budget is used up (403 / 429);
- `turn_cost` when the reply is known: `meta.cost_usd` from the price table;
- `record_turn` in the transaction that stores the reply: the ledger row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.governance import repository as repo
from twosigma.governance.models import TutorUsage
from twosigma.governance.services import budgets, policy
from twosigma.governance.services.pricing import PriceTable, cost_usd, price_of, price_table
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.users.models import User


@dataclass(frozen=True)
class TurnGovernance:
    """What governance decided before the turn and needs again after it."""

    policy: policy.EffectivePolicy
    user_id: int
    prices: PriceTable
    now: datetime


async def open_chat_allowed(session: AsyncSession, effective: EffectiveSettings, content_item_id: int | None) -> None:
    policy.ensure_enabled(await policy.policy_for_item(session, effective, content_item_id))


async def before_turn(
    session: AsyncSession, effective: EffectiveSettings, user_id: int, content_item_id: int | None, now: datetime
) -> TurnGovernance:
    resolved = await policy.policy_for_item(session, effective, content_item_id)
    policy.ensure_enabled(resolved)
    user = await session.get(User, user_id)
    await budgets.ensure_within_budget(session, resolved, user_id, user.time_zone if user else None, now)
    return TurnGovernance(resolved, user_id, price_table(effective), now)


def turn_cost(
    governance: TurnGovernance, model: str | None, input_tokens: int | None, output_tokens: int | None
) -> dict[str, Any]:
    """The meta keys of the turn's cost: `cost_usd` (null when the model has no price or no usage was reported)."""
    if model is None or input_tokens is None or output_tokens is None:
        return {"cost_usd": None}
    price = price_of(governance.prices, model)
    if price is None:
        return {"cost_usd": None, "price_unknown": True}
    return {"cost_usd": cost_usd(price, input_tokens, output_tokens)}


async def record_turn(session: AsyncSession, governance: TurnGovernance, message_id: int, meta: dict[str, Any]) -> None:
    """The ledger row of an answered turn (one with reported usage), in the caller's transaction."""
    if meta.get("input_tokens") is None or meta.get("output_tokens") is None or not meta.get("model"):
        return
    await repo.add_usage(
        session,
        TutorUsage(
            user_id=governance.user_id,
            course_id=governance.policy.course_id,
            university_id=governance.policy.university_id,
            message_id=message_id,
            provider=(meta.get("provider") or None),
            model=str(meta["model"])[:255],
            input_tokens=int(meta["input_tokens"]),
            output_tokens=int(meta["output_tokens"]),
            cost_usd=float(meta.get("cost_usd") or 0.0),
            created_at=governance.now,
        ),
    )
