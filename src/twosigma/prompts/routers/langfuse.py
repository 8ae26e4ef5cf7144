"""/api/public/v2/prompts: Langfuse's public prompt API, wire-compatible with the official SDKs.

HTTP Basic auth with an API key, acting by its scopes (authz/scopes.py): read to list and get, write to change,
deploy to touch `production`; a refusal is 403 `insufficient_scope`. Bodies and responses are camelCase, as
Langfuse's are; errors use this app's error shape (the SDK only looks at status codes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from fastapi import status as http
from pydantic import TypeAdapter

from twosigma.db.session import DbSession, unit_of_work
from twosigma.kit.pagination import PageParams
from twosigma.kit.params import IdPath, IdQuery
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.prompts.composition import ResolvedPrompt
from twosigma.prompts.dependencies import ApiKeyReader, ApiKeyWriter, PromptCacheDep
from twosigma.prompts.repository import ListFilters
from twosigma.prompts.schemas import LabelsUpdate, PromptCreate, PromptMetaList, PromptRead
from twosigma.prompts.services import changes as service
from twosigma.prompts.services import queries

router = APIRouter(prefix="/api/public/v2/prompts", tags=["prompts (Langfuse-compatible)"])

NamePath = Annotated[str, Path(description="Prompt name; folders as '/', URL-encoded or not.")]
VersionQuery = IdQuery


@router.get("", response_model=PromptMetaList, responses=error_responses(401, 403, 422))
async def list_prompts(
    session: DbSession,
    _: ApiKeyReader,
    name: str | None = None,
    label: str | None = None,
    tag: str | None = None,
    version: VersionQuery = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    from_updated_at: Annotated[datetime | None, Query(alias="fromUpdatedAt")] = None,
    to_updated_at: Annotated[datetime | None, Query(alias="toUpdatedAt")] = None,
) -> dict[str, Any]:
    filters = ListFilters(name, label, tag, version, from_updated_at, to_updated_at)
    result = await queries.list_prompts(session, filters, PageParams(page=page, limit=limit))
    meta = {"page": page, "limit": limit, "total_items": result.total, "total_pages": result.pages}
    return {"data": list(result.items), "meta": meta}


@router.post(
    "",
    response_model=PromptRead,
    status_code=http.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 409, 422),
)
async def create_prompt(
    session: DbSession, actor: ApiKeyWriter, cache: PromptCacheDep, body: PromptCreate
) -> ResolvedPrompt:
    return await service.create_prompt(session, actor, body, cache=cache)


@router.patch(
    "/{name:path}/versions/{version}",
    response_model=PromptRead,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def update_prompt_version(
    session: DbSession,
    actor: ApiKeyWriter,
    cache: PromptCacheDep,
    name: NamePath,
    version: IdPath,
    body: LabelsUpdate,
) -> ResolvedPrompt:
    return await service.set_labels(session, actor, name, version, body.new_labels, cache=cache)


@router.get("/{name:path}", response_model=PromptRead, responses=error_responses(400, 401, 403, 404, 422))
async def get_prompt(
    request: Request,
    _: ApiKeyReader,
    cache: PromptCacheDep,
    name: NamePath,
    version: VersionQuery = None,
    label: str | None = None,
    resolve: bool = True,
) -> Any:
    # Every SDK's get_prompt calls this for every prompt it uses: the resolved prompt's response body is kept in
    # the prompt cache beside it (the same bytes response_model would produce), so a warm request neither queries
    # nor encodes, and opens no database session (its key is cached too: api_keys/cache.py).
    if not resolve:
        async with unit_of_work(request) as session:
            return await queries.get_prompt(session, name, version=version, label=label, resolve=False)
    key = queries.prompt_key(name, version, label)
    body = cache.body(key)
    if body is None:
        generation = cache.generation
        async with unit_of_work(request) as session:
            prompt = await queries.get_prompt(session, name, version=version, label=label, cache=cache)
        body = _serialize(prompt)
        cache.put_body(key, body, generation)
    return Response(content=body, media_type="application/json")


_PROMPT_READ: TypeAdapter[PromptRead] = TypeAdapter(PromptRead)


def _serialize(prompt: ResolvedPrompt) -> bytes:
    """The bytes response_model=PromptRead would send (camelCase, by alias)."""
    return _PROMPT_READ.dump_json(PromptRead.model_validate(prompt), by_alias=True)


@router.delete(
    "/{name:path}", status_code=http.HTTP_204_NO_CONTENT, responses=error_responses(400, 401, 403, 404, 409, 422)
)
async def delete_prompt(
    session: DbSession,
    actor: ApiKeyWriter,
    cache: PromptCacheDep,
    name: NamePath,
    version: VersionQuery = None,
    label: str | None = None,
) -> Response:
    await service.delete_prompt(session, actor, name, version=version, label=label, cache=cache)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
