"""Build the configured provider from the effective settings, reusing SDK clients while their config holds.

Clients (and their connection pools) are cached per process, keyed by a hash of everything a client is built
from; a settings change gives a new key, so the next request gets a new client. The few old clients are kept
(in-flight streams may still use them) until evicted or the registry is closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import anthropic
import openai

from twosigma.llm.anthropic_provider import AnthropicProvider, Defaults
from twosigma.llm.errors import LLMNotConfigured
from twosigma.llm.openai_provider import OpenAIProvider
from twosigma.llm.types import LLMProvider
from twosigma.system_settings.effective import EffectiveSettings

DEFAULT_MODELS = {
    "anthropic": "claude-sonnet-5-5",
    "bedrock": "global.anthropic.claude-sonnet-5-5",
    "openai": "gpt-4o-mini",
}
# The platform does not retry a failed call: a rate limit goes back to the user with Retry-After at once, and
# the tutor's retry endpoint answers again on request. Waiting inside a request would hold a connection and a
# user's attention for up to a minute.
MAX_RETRIES = 0
MAX_CACHED_CLIENTS = 8

Client = anthropic.AsyncAnthropic | anthropic.AsyncAnthropicBedrock | openai.AsyncOpenAI


@dataclass(frozen=True)
class ClientConfig:
    """Everything an SDK client is built from."""

    provider: str
    timeout: float
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def client_config(effective: EffectiveSettings) -> ClientConfig:
    """The client config, or LLMNotConfigured naming what is missing."""
    provider, timeout = effective.llm_provider, effective.llm_timeout_seconds
    if provider == "anthropic":
        if not effective.llm_anthropic_api_key:
            raise LLMNotConfigured("llm.provider is anthropic but llm.anthropic_api_key is not set.")
        return ClientConfig(
            provider, timeout, api_key=effective.llm_anthropic_api_key, base_url=effective.llm_anthropic_base_url
        )
    if provider == "openai":
        if not effective.llm_openai_api_key:
            raise LLMNotConfigured("llm.provider is openai but llm.openai_api_key is not set.")
        return ClientConfig(
            provider, timeout, api_key=effective.llm_openai_api_key, base_url=effective.llm_openai_base_url
        )
    if provider == "bedrock":
        if not effective.llm_bedrock_region:
            raise LLMNotConfigured("llm.provider is bedrock but llm.bedrock_region is not set.")
        keys = bool(effective.llm_bedrock_access_key_id) and bool(effective.llm_bedrock_secret_access_key)
        if not keys and not effective.llm_ambient_credentials:
            raise LLMNotConfigured(
                "A university's own Bedrock provider needs its own llm.bedrock_access_key_id and "
                "llm.bedrock_secret_access_key; the platform's AWS credentials are never used for it."
            )
        if bool(effective.llm_bedrock_access_key_id) != bool(effective.llm_bedrock_secret_access_key):
            raise LLMNotConfigured(
                "Set both llm.bedrock_access_key_id and llm.bedrock_secret_access_key, or neither (to use the "
                "AWS default credential chain)."
            )
        return ClientConfig(
            provider,
            timeout,
            base_url=effective.llm_bedrock_base_url,
            region=effective.llm_bedrock_region,
            access_key_id=effective.llm_bedrock_access_key_id,
            secret_access_key=effective.llm_bedrock_secret_access_key,
        )
    raise LLMNotConfigured()


def build_client(config: ClientConfig) -> Client:
    if config.provider == "anthropic":
        return anthropic.AsyncAnthropic(
            api_key=config.api_key, base_url=config.base_url, timeout=config.timeout, max_retries=MAX_RETRIES
        )
    if config.provider == "bedrock":
        return anthropic.AsyncAnthropicBedrock(
            aws_region=config.region,
            aws_access_key=config.access_key_id,
            aws_secret_key=config.secret_access_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=MAX_RETRIES,
        )
    return openai.AsyncOpenAI(
        api_key=config.api_key, base_url=config.base_url, timeout=config.timeout, max_retries=MAX_RETRIES
    )


def wrap(client: Client, config: ClientConfig, effective: EffectiveSettings) -> LLMProvider:
    defaults = Defaults(
        model=effective.llm_default_model or DEFAULT_MODELS[config.provider],
        temperature=effective.llm_temperature,
        max_tokens=effective.llm_max_tokens,
    )
    if isinstance(client, openai.AsyncOpenAI):
        return OpenAIProvider(client, defaults=defaults, official_endpoint=config.base_url is None)
    return AnthropicProvider(client, name=config.provider, defaults=defaults)


class ProviderRegistry:
    """One per process (AppState.llm_providers, kit/state.py)."""

    def __init__(self, max_clients: int = MAX_CACHED_CLIENTS) -> None:
        self._clients: OrderedDict[str, Client] = OrderedDict()
        self._max_clients = max_clients
        self._closing: set[asyncio.Task[None]] = set()

    def provider(self, effective: EffectiveSettings) -> LLMProvider:
        """The provider for these settings; LLMNotConfigured when they name none or lack its credentials."""
        config = client_config(effective)
        key = config.fingerprint()
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = build_client(config)
            self._evict()
        else:
            self._clients.move_to_end(key)
        return wrap(client, config, effective)

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def _evict(self) -> None:
        while len(self._clients) > self._max_clients:
            _, old = self._clients.popitem(last=False)
            task = asyncio.get_running_loop().create_task(old.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), OrderedDict()
        await asyncio.gather(*(client.close() for client in clients), *self._closing, return_exceptions=True)
