"""Bare FastAPI JSON: one route answering a constant document (the cached prompt's own JSON, read from the file
named by BENCH_PAYLOAD_FILE), the ceiling for anything FastAPI serves from memory. Also /health."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI

_path = os.environ.get("BENCH_PAYLOAD_FILE")
PAYLOAD: dict[str, Any] = orjson.loads(Path(_path).read_bytes()) if _path else {"status": "ok"}

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/public/v2/prompts/{name:path}")
async def prompt(name: str) -> dict[str, Any]:
    return PAYLOAD
