"""Which prompt the tutor uses, compiled with the session's variables, and the model settings in its config."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.kit.errors import BadRequest, NotFound
from twosigma.llm.types import LLMMessage
from twosigma.prompts.cache import PromptCache
from twosigma.prompts.composition import ResolvedPrompt
from twosigma.prompts.schemas import PRODUCTION
from twosigma.prompts.services.queries import get_resolved_prompt
from twosigma.prompts.templates import compile_chat, compile_text, is_placeholder
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.tutor import repository as repo
from twosigma.tutor.builtin_prompts import GENERAL_PROTOCOL, GENERAL_PROTOCOL_TEXT
from twosigma.tutor.models import ChatSession

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SystemPrompt:
    name: str
    version: int | None  # None: the built-in text, used when no stored prompt could be found
    label: str | None
    system: str
    messages: list[LLMMessage] = field(default_factory=list)  # a chat prompt's user/assistant turns
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None

    def reference(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "label": self.label}


def _config_values(config: Any) -> dict[str, Any]:
    """model, temperature and max_tokens from a prompt's config; values of the wrong type are ignored."""
    if not isinstance(config, dict):
        return {}
    out: dict[str, Any] = {}
    model = config.get("model")
    if isinstance(model, str) and model.strip():
        out["model"] = model.strip()
    temperature = config.get("temperature")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool) and 0 <= temperature <= 2:
        out["temperature"] = float(temperature)
    max_tokens = config.get("max_tokens", config.get("maxTokens"))
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0:
        out["max_tokens"] = max_tokens
    return out


def _compile(resolved: ResolvedPrompt, label: str, variables: dict[str, str]) -> SystemPrompt:
    """Text prompts become the system prompt. Chat prompts: their system messages are joined into the system
    prompt, their user/assistant messages open the conversation; placeholders are dropped."""
    settings = _config_values(resolved.config)
    if isinstance(resolved.prompt, str):
        return SystemPrompt(
            resolved.name, resolved.version, label, compile_text(resolved.prompt, variables), **settings
        )
    system: list[str] = []
    turns: list[LLMMessage] = []
    for message in compile_chat(resolved.prompt, variables, {}):
        if is_placeholder(message):
            continue
        role, content = message.get("role"), str(message.get("content", ""))
        if role in ("user", "assistant"):
            turns.append(LLMMessage(role, content))
        else:
            system.append(content)
    return SystemPrompt(resolved.name, resolved.version, label, "\n\n".join(system), turns, **settings)


async def _resolve(session: AsyncSession, name: str, label: str, cache: PromptCache) -> ResolvedPrompt | None:
    try:
        return await get_resolved_prompt(session, name, label, cache=cache)
    except (NotFound, BadRequest) as exc:
        logger.warning("tutor prompt %r (label %r) unavailable: %s", name, label, exc.message)
        return None


@dataclass(frozen=True)
class PromptTemplate:
    """The prompt a turn will use, resolved (database reads) but not yet compiled with its variables."""

    resolved: ResolvedPrompt | None  # None: the built-in text
    label: str

    def compile(self, variables: dict[str, str]) -> SystemPrompt:
        if self.resolved is None:
            return SystemPrompt(GENERAL_PROTOCOL, None, None, compile_text(GENERAL_PROTOCOL_TEXT, variables))
        return _compile(self.resolved, self.label, variables)


async def resolve_system_prompt(
    session: AsyncSession, chat: ChatSession, effective: EffectiveSettings, cache: PromptCache
) -> PromptTemplate:
    """The content item's prompt at its label (its current setting, so redeploying a prompt reaches ongoing
    chats); else the default tutor prompt at `production`; else the built-in text, so the tutor always answers."""
    default = effective.tutor_default_prompt_name
    candidates: list[tuple[str, str]] = []
    if chat.content_item_id is not None:
        found = await repo.item_prompt(session, chat.content_item_id)
        if found is not None and found[0]:
            candidates.append((found[0], found[1] or PRODUCTION))
    candidates.append((default, PRODUCTION))
    for name, label in candidates:
        resolved = await _resolve(session, name, label, cache)
        if resolved is not None:
            return PromptTemplate(resolved, label)
    return PromptTemplate(None, PRODUCTION)


async def build_system_prompt(
    session: AsyncSession,
    chat: ChatSession,
    effective: EffectiveSettings,
    cache: PromptCache,
    variables: dict[str, str],
) -> SystemPrompt:
    """`resolve_system_prompt`, compiled with `variables`."""
    return (await resolve_system_prompt(session, chat, effective, cache)).compile(variables)
