"""A fake OpenAI-compatible embeddings API (POST /v1/embeddings) on 127.0.0.1, so the real `openai` SDK calls it;
also Bedrock's Titan InvokeModel (POST /model/{id}/invoke, `{"inputText"}` → `{"embedding"}`; signatures not checked).

Vectors are deterministic: each word of `topics` found in a text adds its vector, and every text gets `base` (no
vector is zero). `fake.fail = True` answers 500 to every request. Requests are recorded like every fake's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from tests.fakes.http import FakeHTTPServer, FakeResponse, RecordedRequest

DIMS = 3


class FakeEmbeddings(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        self.topics: dict[str, Sequence[float]] = {}
        self.base: Sequence[float] = (0.0, 0.0, 0.2)
        self.fail = False
        self.clear_requests()

    def vector(self, text: str) -> list[float]:
        vector = list(self.base)
        for word in re.findall(r"[a-z]+", text.lower()):
            for i, x in enumerate(self.topics.get(word, ())):
                vector[i] += x
        return vector

    @property
    def inputs(self) -> list[str]:
        """Every text sent for embedding, in order."""
        texts: list[str] = []
        for request in self.requests:
            body = request.json()
            value = body.get("input", body.get("inputText"))
            texts.extend([value] if isinstance(value, str) else value)
        return texts

    def respond(self, request: RecordedRequest) -> FakeResponse:
        if request.method == "POST" and request.path.startswith("/model/") and request.path.endswith("/invoke"):
            if self.fail:
                return FakeResponse(500, {"content-type": "application/json"}, b'{"message": "down"}')
            vector = self.vector(request.json()["inputText"])
            return FakeResponse(200, {"content-type": "application/json"}, json.dumps({"embedding": vector}).encode())
        if request.method != "POST" or not request.path.endswith("/embeddings"):
            return FakeResponse(404, {"content-type": "application/json"}, b'{"error": {"message": "not found"}}')
        if self.fail:
            body = {"error": {"message": "the fake embeddings server is down", "type": "server_error"}}
            return FakeResponse(500, {"content-type": "application/json"}, json.dumps(body).encode())
        payload = request.json()
        texts = [payload["input"]] if isinstance(payload["input"], str) else payload["input"]
        data = [{"object": "embedding", "index": i, "embedding": self.vector(t)} for i, t in enumerate(texts)]
        body = {
            "object": "list",
            "data": data,
            "model": payload["model"],
            "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
        }
        return FakeResponse(200, {"content-type": "application/json"}, json.dumps(body).encode())
