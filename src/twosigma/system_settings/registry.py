"""The known setting keys: type, default, secrecy, environment variables, and how a value is validated."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

# bool first: True is also an int, and a union tries its members in order when serializing a default.
Scalar = bool | str | int | float

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
# Keys in these namespaces must be known: a typo such as `llm.temprature` is refused instead of silently ignored.
RESERVED_NAMESPACES = ("auth.", "llm.", "tutor.", "mail.", "lti.")


class SettingType(StrEnum):
    STRING = "string"
    URL = "url"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    JSON = "json"  # an object, checked by the spec's `check`; the typed value is its canonical JSON text


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: SettingType
    description: str
    default: Scalar | None = None
    secret: bool = False
    choices: tuple[str, ...] | None = None
    minimum: float | None = None  # inclusive
    exclusive_minimum: float | None = None
    maximum: float | None = None  # inclusive
    fallback_env: tuple[str, ...] = ()
    check: Callable[[object], None] | None = None  # JSON settings: raises ValueError when the shape is wrong

    @property
    def env_var(self) -> str:
        return "TWOSIGMA_" + self.key.upper().replace(".", "_").replace("-", "_")

    @property
    def env_vars(self) -> tuple[str, ...]:
        """Read in this order when no value is stored."""
        return (self.env_var, *self.fallback_env)

    def parse(self, value: object) -> Scalar:
        """The typed value, or ValueError with a message fit for the client. Strings are accepted for numbers
        (environment variables and the command line only have strings), and for booleans."""
        if self.type is SettingType.BOOL:
            return self._parse_bool(value)
        if self.type is SettingType.JSON:
            return self._parse_json(value)
        if self.type in (SettingType.INT, SettingType.FLOAT):
            number = self._parse_number(value)
            self._check_bounds(number)
            return number
        if not isinstance(value, str):
            raise ValueError(f"{self.key} must be a string.")
        text = value.strip()
        if not text:
            raise ValueError(f"{self.key} must not be empty.")
        if self.choices is not None and text not in self.choices:
            raise ValueError(f"{self.key} must be one of: {', '.join(self.choices)}.")
        if self.type is SettingType.URL and not re.match(r"^https?://[^\s/]+", text):
            raise ValueError(f"{self.key} must be an http(s) URL.")
        return text

    def _parse_json(self, value: object) -> str:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError(f"{self.key} must be a JSON object.") from None
        if not isinstance(value, dict):
            raise ValueError(f"{self.key} must be a JSON object.")
        if self.check is not None:
            self.check(value)
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    def _parse_bool(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise ValueError(f"{self.key} must be true or false.")

    def _parse_number(self, value: object) -> int | float:
        kind = "an integer" if self.type is SettingType.INT else "a number"
        if isinstance(value, bool):
            raise ValueError(f"{self.key} must be {kind}.")
        if isinstance(value, str):
            try:
                value = int(value.strip()) if self.type is SettingType.INT else float(value.strip())
            except ValueError:
                raise ValueError(f"{self.key} must be {kind}.") from None
        if self.type is SettingType.INT:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int):
                raise ValueError(f"{self.key} must be {kind}.")
            return value
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{self.key} must be {kind}.")
        return float(value)

    def _check_bounds(self, number: float) -> None:
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"{self.key} must be at least {self.minimum:g}.")
        if self.exclusive_minimum is not None and number <= self.exclusive_minimum:
            raise ValueError(f"{self.key} must be greater than {self.exclusive_minimum:g}.")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"{self.key} must be at most {self.maximum:g}.")


PROVIDERS = ("anthropic", "bedrock", "openai")


def check_price_table(value: object) -> None:
    """`{"<model>": {"input_per_mtok": 3.0, "output_per_mtok": 15.0}, ...}`: USD per million tokens, finite, >= 0."""
    assert isinstance(value, dict)
    if len(value) > 500:
        raise ValueError("llm.prices names at most 500 models.")
    for model, price in value.items():
        if not isinstance(model, str) or not 0 < len(model) <= 255:
            raise ValueError("llm.prices: a model name is 1-255 characters.")
        if not isinstance(price, dict) or set(price) != {"input_per_mtok", "output_per_mtok"}:
            raise ValueError(f"llm.prices[{model!r}] must be {{input_per_mtok, output_per_mtok}}.")
        for name, number in price.items():
            ok = isinstance(number, int | float) and not isinstance(number, bool) and math.isfinite(number)
            if not ok or number < 0 or number > 1_000_000:
                raise ValueError(f"llm.prices[{model!r}].{name} must be a number from 0 to 1000000.")


CHAT_VISIBILITIES = ("private", "flagged", "course")
DEFAULT_SUPPORT_TEXT = (
    "If you are in danger or thinking about harming yourself or someone else, please contact your local emergency "
    "services now (112 in the EU, 911 in the US) or a crisis line, and talk to someone you trust. A person at your "
    "university has been notified."
)

KNOWN_SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            "llm.provider",
            SettingType.STRING,
            "Which LLM provider the tutor uses. Unset: the tutor answers 503 llm_not_configured.",
            choices=PROVIDERS,
        ),
        SettingSpec(
            "llm.anthropic_api_key",
            SettingType.STRING,
            "API key for the Anthropic Messages API.",
            secret=True,
            fallback_env=("ANTHROPIC_API_KEY",),
        ),
        SettingSpec(
            "llm.anthropic_base_url",
            SettingType.URL,
            "Base URL of the Anthropic API (a proxy or gateway). Unset: the SDK's default.",
            fallback_env=("ANTHROPIC_BASE_URL",),
        ),
        SettingSpec(
            "llm.bedrock_region",
            SettingType.STRING,
            "AWS region of Bedrock Runtime, e.g. us-east-1.",
            fallback_env=("AWS_REGION", "AWS_DEFAULT_REGION"),
        ),
        SettingSpec(
            "llm.bedrock_access_key_id",
            SettingType.STRING,
            "AWS access key id. Unset (with the secret): the AWS default credential chain (instance role...).",
            fallback_env=("AWS_ACCESS_KEY_ID",),
        ),
        SettingSpec(
            "llm.bedrock_secret_access_key",
            SettingType.STRING,
            "AWS secret access key.",
            secret=True,
            fallback_env=("AWS_SECRET_ACCESS_KEY",),
        ),
        SettingSpec(
            "llm.bedrock_base_url",
            SettingType.URL,
            "Bedrock Runtime endpoint override (a VPC endpoint). Unset: https://bedrock-runtime.REGION.amazonaws.com.",
        ),
        SettingSpec(
            "llm.openai_api_key",
            SettingType.STRING,
            "API key for the OpenAI (or OpenAI-compatible) API.",
            secret=True,
            fallback_env=("OPENAI_API_KEY",),
        ),
        SettingSpec(
            "llm.openai_base_url",
            SettingType.URL,
            "Base URL of an OpenAI-compatible API, ending in /v1. Unset: api.openai.com.",
            fallback_env=("OPENAI_BASE_URL",),
        ),
        SettingSpec(
            "llm.fallback_provider",
            SettingType.STRING,
            "A second provider (with this platform's credentials for it) that takes a tutor turn when the primary "
            "answers 5xx or 429, or times out, before the first token. Unset: no fallback. Not used for a university "
            "with its own llm.provider: only the fallback that university sets applies to it.",
            choices=PROVIDERS,
        ),
        SettingSpec(
            "llm.fallback_model",
            SettingType.STRING,
            "Model of the fallback provider. Unset: that provider's default model.",
        ),
        SettingSpec(
            "llm.default_model",
            SettingType.STRING,
            "Model used when a prompt's config names none. Unset: a per-provider default (see docs).",
        ),
        SettingSpec(
            "llm.temperature",
            SettingType.FLOAT,
            "Sampling temperature when a prompt's config names none.",
            default=0.7,
            minimum=0,
            maximum=2,
        ),
        SettingSpec(
            "llm.max_tokens",
            SettingType.INT,
            "Most tokens of one answer when a prompt's config names none.",
            default=1024,
            minimum=1,
            maximum=1_000_000,
        ),
        SettingSpec(
            "llm.timeout_seconds",
            SettingType.FLOAT,
            "Timeout of one provider call (connect, and each read between streamed events).",
            default=60.0,
            exclusive_minimum=0,
            maximum=3600,
        ),
        SettingSpec(
            "llm.prices",
            SettingType.JSON,
            'Prices in USD per million tokens, {"<model>": {"input_per_mtok": 3.0, "output_per_mtok": 15.0}}; a '
            "model named here overrides the built-in table (docs/tutor-governance.md).",
            check=check_price_table,
        ),
        SettingSpec(
            "llm.embedding_provider",
            SettingType.STRING,
            "Embeddings for the course index (docs/tutor.md): openai (any OpenAI-compatible /embeddings) or bedrock "
            "(Titan). Unset, or llm.embedding_model unset: retrieval is full-text only.",
            choices=("openai", "bedrock"),
        ),
        SettingSpec(
            "llm.embedding_model",
            SettingType.STRING,
            "Embedding model, e.g. text-embedding-3-small, nomic-embed-text, amazon.titan-embed-text-v2:0. Changing "
            "it needs `twosigma index rebuild` to embed existing content again.",
        ),
        SettingSpec(
            "llm.embedding_base_url",
            SettingType.URL,
            "Base URL of the OpenAI-compatible embeddings API, ending in /v1 (e.g. Ollama's). Unset: "
            "llm.openai_base_url, then api.openai.com.",
        ),
        SettingSpec(
            "llm.embedding_api_key",
            SettingType.STRING,
            "API key of the embeddings API. Unset: llm.openai_api_key (a local server needing none gets a dummy).",
            secret=True,
        ),
        SettingSpec(
            "tutor.default_prompt_name",
            SettingType.STRING,
            "Prompt used by content items that name none.",
            default="General Protocol",
        ),
        SettingSpec(
            "tutor.history_token_budget",
            SettingType.INT,
            "Token budget for the conversation history sent with each message (oldest dropped first).",
            default=8000,
            minimum=1,
        ),
        SettingSpec(
            "tutor.messages_per_minute",
            SettingType.INT,
            "Chat messages one user may send per minute; 0 means no limit.",
            default=20,
            minimum=0,
        ),
        SettingSpec(
            "tutor.tokens_per_day",
            SettingType.INT,
            "LLM tokens (input + output) one user may use per day, the day in the user's time zone (users.time_zone; "
            "unset: UTC); 0 means no limit.",
            default=200_000,
            minimum=0,
        ),
        SettingSpec(
            "tutor.open_chat",
            SettingType.BOOL,
            "Let every signed-in user chat with the tutor without a content item. Off: such chats need an ACTIVE "
            "enrolment or a staff role (a chat without an item is a general-purpose LLM).",
            default=False,
        ),
        # The platform's level of the tutor policy (docs/tutor-governance.md); universities and courses override.
        SettingSpec(
            "tutor.enabled",
            SettingType.BOOL,
            "Whether the tutor is on, unless a university or course policy says otherwise.",
            default=True,
        ),
        SettingSpec(
            "tutor.monthly_budget_usd",
            SettingType.FLOAT,
            "Each university's tutor spend per calendar month (UTC) in USD, unless its policy sets one. Unset: no "
            "limit.",
            minimum=0,
        ),
        SettingSpec(
            "tutor.user_daily_budget_usd",
            SettingType.FLOAT,
            "One user's tutor spend per day (the user's time zone) in USD, unless a university or course policy "
            "sets one. Unset: no limit.",
            minimum=0,
        ),
        SettingSpec(
            "tutor.chat_visibility",
            SettingType.STRING,
            "What staff see of students' chats unless a university sets it: private (flags only), flagged (the "
            "whole flagged session) or course (staff who see progress read the course's chats).",
            default="private",
            choices=CHAT_VISIBILITIES,
        ),
        SettingSpec(
            "tutor.support_text",
            SettingType.STRING,
            "Added to the tutor's reply when a message is flagged with high severity, unless a university sets one.",
            default=DEFAULT_SUPPORT_TEXT,
        ),
        SettingSpec(
            "tutor.moderation_endpoint",
            SettingType.BOOL,
            "Besides the built-in safety rules, screen every chat message with the moderation endpoint of the "
            "OpenAI-compatible server at llm.openai_base_url (with llm.openai_api_key).",
            default=False,
        ),
        SettingSpec(
            "tutor.moderation_model",
            SettingType.STRING,
            "Model of the moderation endpoint. Unset: the server's default.",
        ),
        SettingSpec(
            "tutor.retrieval_k",
            SettingType.INT,
            "Most chunks of course material retrieved for each tutor turn; 0 turns retrieval off.",
            default=4,
            minimum=0,
            maximum=50,
        ),
        SettingSpec(
            "tutor.retrieval_token_budget",
            SettingType.INT,
            "Most tokens (estimated) of course material sent with each tutor turn.",
            default=1500,
            minimum=0,
            maximum=100_000,
        ),
        SettingSpec(
            "mail.smtp_host",
            SettingType.STRING,
            "SMTP server that sends the outbox's mail. Unset: nothing is sent (development logs each mail's link).",
        ),
        SettingSpec("mail.smtp_port", SettingType.INT, "SMTP port.", default=587, minimum=1, maximum=65535),
        SettingSpec("mail.smtp_username", SettingType.STRING, "SMTP user name (unset: no authentication)."),
        SettingSpec("mail.smtp_password", SettingType.STRING, "SMTP password.", secret=True),
        SettingSpec(
            "mail.smtp_starttls",
            SettingType.BOOL,
            "Upgrade the SMTP connection with STARTTLS (off only for a relay on the same host or network).",
            default=True,
        ),
        SettingSpec(
            "mail.from_address",
            SettingType.STRING,
            "The From address of every mail.",
            default="twosigma@localhost",
        ),
        SettingSpec(
            "auth.allow_self_registration",
            SettingType.BOOL,
            "Let anyone create an account at /auth/register. Off: 403 registration_closed, and accounts come only "
            "from invitations, single sign-on or the command line.",
            default=True,
        ),
        SettingSpec(
            "lti.roster_sync_hours",
            SettingType.INT,
            "Hours between scheduled roster syncs of each LMS course linked over LTI (its platform's membership "
            "service); 0 turns the scheduled sync off (POST /offerings/{id}/lti/sync-roster still works).",
            default=24,
            minimum=0,
            maximum=8760,
        ),
    )
}


def spec_for(key: str) -> SettingSpec | None:
    return KNOWN_SETTINGS.get(key)
