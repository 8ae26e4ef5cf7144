"""The embedding providers against the fake server: the `openai` SDK's /embeddings, and Bedrock Titan signed with
SigV4. Failures are one exception the worker and the turn handle."""

from __future__ import annotations

import pytest

from tests.fakes.embeddings import FakeEmbeddings
from twosigma.retrieval.services.providers import EmbeddingConfig, EmbeddingFailed, embed


class TestOpenAICompatible:
    async def test_vectors_come_back_in_input_order(self, fake_embeddings: FakeEmbeddings) -> None:
        fake_embeddings.topics = {"lava": (1.0, 0.0, 0.0)}
        config = EmbeddingConfig("openai", "nomic-embed-text", base_url=f"{fake_embeddings.url}/v1")
        assert await embed(config, ["lava", "rock"], 5) == [[1.0, 0.0, 0.2], [0.0, 0.0, 0.2]]
        body = fake_embeddings.last_request.json()
        assert (body["model"], body["input"]) == ("nomic-embed-text", ["lava", "rock"])

    async def test_a_failing_server_is_embedding_failed(self, fake_embeddings: FakeEmbeddings) -> None:
        fake_embeddings.fail = True
        config = EmbeddingConfig("openai", "m", base_url=f"{fake_embeddings.url}/v1", api_key="k")
        with pytest.raises(EmbeddingFailed):
            await embed(config, ["x"], 5)


class TestBedrockTitan:
    async def test_each_text_is_one_signed_invoke(self, fake_embeddings: FakeEmbeddings) -> None:
        config = EmbeddingConfig(
            "bedrock",
            "amazon.titan-embed-text-v2:0",
            base_url=fake_embeddings.url,
            region="us-east-1",
            access_key_id="AKIDEXAMPLE",
            secret_access_key="secret",
        )
        assert await embed(config, ["a", "b"], 5) == [[0.0, 0.0, 0.2], [0.0, 0.0, 0.2]]
        paths = {request.path for request in fake_embeddings.requests}
        assert paths == {"/model/amazon.titan-embed-text-v2:0/invoke"}
        auth = fake_embeddings.last_request.headers["authorization"]
        assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
