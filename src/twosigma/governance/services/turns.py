"""The few calls the tutor's turn makes into governance (tutor/orchestrator.py), so the turn itself stays small:

- `open_chat_allowed` when a chat is opened: 403 `tutor_disabled` where the policy switches the tutor off;
- `before_turn` before a message is stored: the policy is on and no budget is used up (403 / 429);
- `screen_input` before the user's message is stored (its `meta.safety`), `record_input` once it has an id;
- `screen_output` when the reply is complete: its hits, and the support text to append when a screen was high;
- `turn_meta` when the reply is known: `meta.cost_usd` from the price table and the reply's `meta.safety`;
- `record_turn` in the transaction that stores the reply: the ledger row and the reply's flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.governance import repository as repo
from twosigma.governance.models import TutorUsage
from twosigma.governance.services import budgets, moderation, policy, safety, university_settings
from twosigma.governance.services.moderation import Hit, Moderator
from twosigma.governance.services.pricing import PriceTable, cost_usd, price_of, price_table
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.users.models import User


@dataclass
class TurnGovernance:
    """What governance decided before the turn and needs again after it."""

    policy: policy.EffectivePolicy
    user_id: int
    prices: PriceTable
    now: datetime
    settings: Settings
    effective: EffectiveSettings
    moderator: Moderator
    llm: EffectiveSettings  # what the turn's provider is built from: the university's own, or the platform's
    time_zone: str | None = None  # the user's (users.time_zone): the day of the daily budget and token allowance
    input_hits: list[Hit] = field(default_factory=list)
    output_hits: list[Hit] = field(default_factory=list)
    support_added: bool = False


async def open_chat_allowed(session: AsyncSession, effective: EffectiveSettings, content_item_id: int | None) -> None:
    policy.ensure_enabled(await policy.policy_for_item(session, effective, content_item_id))


async def before_turn(
    session: AsyncSession,
    settings: Settings,
    effective: EffectiveSettings,
    user_id: int,
    content_item_id: int | None,
    now: datetime,
) -> TurnGovernance:
    resolved = await policy.policy_for_item(session, effective, content_item_id)
    policy.ensure_enabled(resolved)
    user = await session.get(User, user_id)
    time_zone = user.time_zone if user else None
    await budgets.ensure_within_budget(session, resolved, user_id, time_zone, now)
    llm = await university_settings.llm_settings_for(session, settings, effective, resolved.university_id)
    return TurnGovernance(
        resolved,
        user_id,
        price_table(effective),
        now,
        settings,
        effective,
        moderation.moderator_for(effective),
        llm,
        time_zone,
    )


async def screen_input(governance: TurnGovernance, content: str) -> dict[str, Any]:
    """Screen the user's message before the model sees it; the meta to store it with (`{"safety": ...}` or {})."""
    governance.input_hits = await governance.moderator.screen(content)
    if not governance.input_hits:
        return {}
    return {
        "safety": safety.safety_meta(governance.input_hits, safety.INPUT, escalated_to=governance.policy.university_id)
    }


async def record_input(
    session: AsyncSession, governance: TurnGovernance, chat_session_id: int, message_id: int
) -> None:
    await safety.record_flags(
        session,
        governance.settings,
        governance.effective,
        governance.policy,
        chat_session_id=chat_session_id,
        message_id=message_id,
        user_id=governance.user_id,
        hits=governance.input_hits,
        screen=safety.INPUT,
        now=governance.now,
    )


async def screen_output(governance: TurnGovernance, reply: str) -> str:
    """Screen the reply; the text to append to it (the policy's support text when either screen was high), or ""."""
    governance.output_hits = await governance.moderator.screen(reply) if reply else []
    if safety.escalates(governance.input_hits) or safety.escalates(governance.output_hits):
        governance.support_added = True
        return safety.support_block(governance.policy)
    return ""


def turn_meta(
    governance: TurnGovernance, model: str | None, input_tokens: int | None, output_tokens: int | None
) -> dict[str, Any]:
    """The reply's meta keys: `cost_usd` (null when the model has no price or no usage was reported) and, after a
    hit or with support text, `safety`."""
    data: dict[str, Any] = {"cost_usd": None}
    if model is not None and input_tokens is not None and output_tokens is not None:
        price = price_of(governance.prices, model)
        if price is None:
            data["price_unknown"] = True
        else:
            data["cost_usd"] = cost_usd(price, input_tokens, output_tokens)
    if governance.output_hits or governance.support_added:
        reply_safety = safety.safety_meta(
            governance.output_hits, safety.OUTPUT, escalated_to=governance.policy.university_id
        )
        reply_safety["support_text_added"] = governance.support_added
        data["safety"] = reply_safety
    return data


async def record_turn(
    session: AsyncSession, governance: TurnGovernance, chat_session_id: int, message_id: int, meta: dict[str, Any]
) -> None:
    """The reply's flags and the ledger row of an answered turn (one with reported usage), in the caller's
    transaction."""
    await safety.record_flags(
        session,
        governance.settings,
        governance.effective,
        governance.policy,
        chat_session_id=chat_session_id,
        message_id=message_id,
        user_id=governance.user_id,
        hits=governance.output_hits,
        screen=safety.OUTPUT,
        now=governance.now,
    )
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
