"""Embedding providers: any OpenAI-compatible `/embeddings` (the official `openai` SDK) or Bedrock Titan (an
InvokeModel call signed with botocore's SigV4).

Configuration (docs/tutor.md "Retrieval and citations"): `llm.embedding_provider` and `llm.embedding_model` turn
embeddings on. OpenAI-compatible: `llm.embedding_base_url` / `llm.embedding_api_key`, each falling back to the chat
settings `llm.openai_base_url` / `llm.openai_api_key` (a local server such as Ollama needs no key: a placeholder is
sent). Bedrock: the chat's `llm.bedrock_region`, `llm.bedrock_base_url` and credentials.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import anyio
import httpx2
import openai

from twosigma.system_settings.effective import EffectiveSettings

# Texts per /embeddings request from the worker.
BATCH = 64


class EmbeddingFailed(Exception):
    """The provider did not return vectors (down, refused, timed out, or an answer of the wrong shape)."""


@dataclass(frozen=True)
class EmbeddingConfig:
    provider: str
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)


def embedding_config(effective: EffectiveSettings) -> EmbeddingConfig | None:
    """The configured provider, or None: retrieval is then full-text only."""
    provider, model = effective.llm_embedding_provider, effective.llm_embedding_model
    if not provider or not model:
        return None
    if provider == "bedrock":
        if not effective.llm_bedrock_region:
            return None
        return EmbeddingConfig(
            provider,
            model,
            base_url=effective.llm_bedrock_base_url,
            region=effective.llm_bedrock_region,
            access_key_id=effective.llm_bedrock_access_key_id,
            secret_access_key=effective.llm_bedrock_secret_access_key,
        )
    return EmbeddingConfig(
        provider,
        model,
        base_url=effective.llm_embedding_base_url or effective.llm_openai_base_url,
        api_key=effective.llm_embedding_api_key or effective.llm_openai_api_key,
    )


async def embed(config: EmbeddingConfig, texts: Sequence[str], timeout_seconds: float) -> list[list[float]]:
    """One vector per text, in order; EmbeddingFailed otherwise."""
    if not texts:
        return []
    try:
        if config.provider == "bedrock":
            return await _bedrock(config, texts, timeout_seconds)
        return await _openai(config, texts, timeout_seconds)
    except EmbeddingFailed:
        raise
    except (openai.OpenAIError, httpx2.HTTPError, TimeoutError, ValueError, KeyError, TypeError) as exc:
        raise EmbeddingFailed(f"{type(exc).__name__}: {exc}"[:500]) from exc


async def _openai(config: EmbeddingConfig, texts: Sequence[str], timeout_seconds: float) -> list[list[float]]:
    client = openai.AsyncOpenAI(
        api_key=config.api_key or "not-needed", base_url=config.base_url, timeout=timeout_seconds, max_retries=0
    )
    try:
        response = await client.embeddings.create(model=config.model, input=list(texts))
    finally:
        await client.close()
    vectors = [list(item.embedding) for item in sorted(response.data, key=lambda item: item.index)]
    if len(vectors) != len(texts) or any(not v for v in vectors):
        raise EmbeddingFailed(f"expected {len(texts)} vectors, got {len(vectors)}")
    return vectors


def signed_headers(config: EmbeddingConfig, url: str, body: bytes) -> dict[str, str]:
    """SigV4 headers for one InvokeModel request (botocore's signer; the default credential chain when no keys are
    configured, which may read files or the instance metadata: run in a thread)."""
    import botocore.session  # type: ignore[import-untyped]
    from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
    from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
    from botocore.credentials import Credentials  # type: ignore[import-untyped]

    if config.access_key_id and config.secret_access_key:
        credentials = Credentials(config.access_key_id, config.secret_access_key)
    else:
        credentials = botocore.session.get_session().get_credentials()
        if credentials is None:
            raise EmbeddingFailed("no AWS credentials found for Bedrock embeddings")
    request = AWSRequest(
        method="POST", url=url, data=body, headers={"content-type": "application/json", "accept": "application/json"}
    )
    SigV4Auth(credentials, "bedrock", config.region or "us-east-1").add_auth(request)
    return dict(request.headers.items())


async def _bedrock(config: EmbeddingConfig, texts: Sequence[str], timeout_seconds: float) -> list[list[float]]:
    """Titan takes one text per call: the texts are sent concurrently."""
    base = (config.base_url or f"https://bedrock-runtime.{config.region}.amazonaws.com").rstrip("/")
    url = f"{base}/model/{config.model}/invoke"
    async with httpx2.AsyncClient(timeout=timeout_seconds) as client:

        async def one(text: str) -> list[float]:
            body = json.dumps({"inputText": text}).encode()
            headers = await anyio.to_thread.run_sync(signed_headers, config, url, body)
            response = await client.post(url, content=body, headers=headers)
            if response.status_code != 200:
                raise EmbeddingFailed(f"Bedrock answered {response.status_code}: {response.text[:200]}")
            vector = response.json()["embedding"]
            return [float(x) for x in vector]

        return list(await asyncio.gather(*(one(text) for text in texts)))
