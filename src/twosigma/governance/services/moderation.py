"""Screening a chat message: a small interface (`Moderator`), the built-in rules (safety_rules.json, data, several
languages) and, when configured, the moderation endpoint of an OpenAI-compatible server.

A hit is (category, severity, source). Categories: self_harm, violence (threats), abuse, personal_data. Severity
high (self_harm, violence) is escalated to a person; the others are stored and shown to the message's owner only.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol

import openai

from twosigma.system_settings.effective import EffectiveSettings

logger = logging.getLogger(__name__)

HIGH = "high"
SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2}
MAX_SCREENED_CHARS = 20_000  # longer text is screened in its first part only (the rules are linear; keep them so)


@dataclass(frozen=True)
class Hit:
    category: str
    severity: str
    source: str  # "rules" or "endpoint"


class Moderator(Protocol):
    async def screen(self, text: str) -> list[Hit]: ...


# --- The built-in rules ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    category: str
    severity: str
    pattern: re.Pattern[str]


def _phrase_pattern(phrases: Iterable[str]) -> str:
    words = [r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in phrases]
    return r"(?<!\w)(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")(?!\w)"


def compile_rules(data: dict[str, Any]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for category, spec in data["categories"].items():
        severity = spec["severity"]
        if severity not in SEVERITY_ORDER:
            raise ValueError(f"safety rule {category}: unknown severity {severity!r}")
        phrases = [phrase for language in spec.get("phrases", {}).values() for phrase in language]
        if phrases:
            rules.append(Rule(category, severity, re.compile(_phrase_pattern(phrases), re.IGNORECASE)))
        for pattern in spec.get("patterns", []):
            rules.append(Rule(category, severity, re.compile(pattern, re.IGNORECASE)))
    return tuple(rules)


@cache
def builtin_rules() -> tuple[Rule, ...]:
    text = resources.files("twosigma.governance").joinpath("safety_rules.json").read_text("utf-8")
    return compile_rules(json.loads(text))


class RuleModerator:
    def __init__(self, rules: Sequence[Rule] | None = None) -> None:
        self.rules = tuple(rules) if rules is not None else builtin_rules()

    async def screen(self, text: str) -> list[Hit]:
        sample = text[:MAX_SCREENED_CHARS]
        hits: dict[str, Hit] = {}
        for rule in self.rules:
            if rule.category not in hits and rule.pattern.search(sample):
                hits[rule.category] = Hit(rule.category, rule.severity, "rules")
        return list(hits.values())


# --- An OpenAI-compatible moderation endpoint -------------------------------------------------------------------------

# The endpoint's categories (OpenAI's names) in ours.
ENDPOINT_CATEGORIES = {
    "self-harm": ("self_harm", "high"),
    "self-harm/intent": ("self_harm", "high"),
    "self-harm/instructions": ("self_harm", "high"),
    "violence": ("violence", "high"),
    "harassment/threatening": ("violence", "high"),
    "hate/threatening": ("violence", "high"),
    "harassment": ("abuse", "medium"),
    "hate": ("abuse", "medium"),
}


class EndpointModerator:
    """POST {llm.openai_base_url}/moderations with llm.openai_api_key (the official SDK). A failing endpoint is
    logged and screens nothing: the rules still run, and a tutor turn is never refused because moderation is down."""

    def __init__(self, api_key: str, base_url: str | None, timeout: float, model: str | None) -> None:
        self.api_key, self.base_url, self.timeout, self.model = api_key, base_url, timeout, model

    async def screen(self, text: str) -> list[Hit]:
        client = openai.AsyncOpenAI(api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0)
        try:
            if self.model:
                result = await client.moderations.create(input=text[:MAX_SCREENED_CHARS], model=self.model)
            else:
                result = await client.moderations.create(input=text[:MAX_SCREENED_CHARS])
        except openai.OpenAIError as exc:
            logger.warning("moderation endpoint failed (%s); the built-in rules screened alone", type(exc).__name__)
            return []
        finally:
            await client.close()
        hits: dict[str, Hit] = {}
        for outcome in result.results:
            for name, flagged in outcome.categories.model_dump(by_alias=True).items():
                mapped = ENDPOINT_CATEGORIES.get(name)
                if flagged and mapped is not None and mapped[0] not in hits:
                    hits[mapped[0]] = Hit(mapped[0], mapped[1], "endpoint")
        return list(hits.values())


class Combined:
    def __init__(self, moderators: Sequence[Moderator]) -> None:
        self.moderators = tuple(moderators)

    async def screen(self, text: str) -> list[Hit]:
        found: dict[str, Hit] = {}
        for moderator in self.moderators:
            for hit in await moderator.screen(text):
                if (
                    hit.category not in found
                    or SEVERITY_ORDER[hit.severity] > SEVERITY_ORDER[found[hit.category].severity]
                ):
                    found[hit.category] = hit
        return list(found.values())


def moderator_for(effective: EffectiveSettings) -> Moderator:
    """The rules; plus the endpoint when `tutor.moderation_endpoint` is on and an OpenAI key is set."""
    if effective.tutor_moderation_endpoint and effective.llm_openai_api_key:
        endpoint = EndpointModerator(
            effective.llm_openai_api_key,
            effective.llm_openai_base_url,
            effective.llm_timeout_seconds,
            effective.tutor_moderation_model,
        )
        return Combined([RuleModerator(), endpoint])
    return RuleModerator()
