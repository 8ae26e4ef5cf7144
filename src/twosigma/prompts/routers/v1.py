"""/api/v1/prompts: the same operations as the public API for signed-in users, plus what Langfuse lacks:
label removal, label history, diffs, strict compile. Staff read; platform admins write. snake_case, as all of v1."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query, Response
from fastapi import status as http

from twosigma.db.session import DbSession
from twosigma.kit.pagination import Pagination
from twosigma.kit.params import INT4_MAX, IdPath, IdQuery
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.prompts.composition import ResolvedPrompt
from twosigma.prompts.dependencies import PromptCacheDep, PromptReader, PromptWriter
from twosigma.prompts.repository import ListFilters
from twosigma.prompts.schemas import (
    CompiledPromptV1,
    CompileRequest,
    LabelEventPageV1,
    LabelsUpdate,
    PromptCreate,
    PromptDiffV1,
    PromptMetaPageV1,
    PromptReadV1,
    TagsUpdate,
)
from twosigma.prompts.services import changes as service
from twosigma.prompts.services import queries

router = APIRouter(prefix="/prompts", tags=["prompts"])

NamePath = Annotated[str, Path(description="Prompt name; folders as '/', URL-encoded or not.")]
Version = IdPath
VersionQuery = IdQuery
_READ = error_responses(400, 401, 403, 404, 422)
_WRITE = error_responses(400, 401, 403, 404, 409, 422)
SNAKE: dict[str, Any] = {"response_model_by_alias": False}


@router.get("", response_model=PromptMetaPageV1, responses=_READ, **SNAKE)
async def list_prompts(
    session: DbSession,
    reader: PromptReader,
    params: Pagination,
    name: str | None = None,
    label: str | None = None,
    tag: str | None = None,
    from_updated_at: datetime | None = None,
    to_updated_at: datetime | None = None,
) -> dict[str, Any]:
    filters = ListFilters(name, label, tag, None, from_updated_at, to_updated_at)
    return (await queries.list_prompts(session, filters, params)).as_dict()


@router.post("", response_model=PromptReadV1, status_code=http.HTTP_201_CREATED, responses=_WRITE, **SNAKE)
async def create_prompt(
    session: DbSession, actor: PromptWriter, cache: PromptCacheDep, body: PromptCreate
) -> ResolvedPrompt:
    return await service.create_prompt(session, actor, body, cache=cache)


@router.get("/{name:path}/labels/history", response_model=LabelEventPageV1, responses=_READ, **SNAKE)
async def label_history(
    session: DbSession, reader: PromptReader, name: NamePath, params: Pagination, label: str | None = None
) -> dict[str, Any]:
    return (await queries.label_history(session, name, label, params)).as_dict()


@router.get("/{name:path}/diff", response_model=PromptDiffV1, responses=_READ, **SNAKE)
async def diff(
    session: DbSession,
    reader: PromptReader,
    name: NamePath,
    from_version: Annotated[int, Query(alias="from", ge=1, le=INT4_MAX)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=INT4_MAX)],
) -> dict[str, Any]:
    return await queries.diff_versions(session, name, from_version, to_version)


@router.post("/{name:path}/compile", response_model=CompiledPromptV1, responses=_READ, **SNAKE)
async def compile_prompt(
    session: DbSession, reader: PromptReader, cache: PromptCacheDep, name: NamePath, body: CompileRequest
) -> dict[str, Any]:
    return await queries.compile_prompt(session, name, body, cache=cache)


@router.patch("/{name:path}/versions/{version}", response_model=PromptReadV1, responses=_WRITE, **SNAKE)
async def set_labels(
    session: DbSession, actor: PromptWriter, cache: PromptCacheDep, name: NamePath, version: Version, body: LabelsUpdate
) -> ResolvedPrompt:
    return await service.set_labels(session, actor, name, version, body.new_labels, cache=cache)


@router.put("/{name:path}/tags", response_model=TagsUpdate, responses=_WRITE, **SNAKE)
async def set_tags(
    session: DbSession, actor: PromptWriter, cache: PromptCacheDep, name: NamePath, body: TagsUpdate
) -> dict[str, Any]:
    return {"tags": await service.set_tags(session, name, body.tags, cache=cache)}


@router.delete("/{name:path}/labels/{label}", status_code=http.HTTP_204_NO_CONTENT, responses=_WRITE)
async def remove_label(
    session: DbSession, actor: PromptWriter, cache: PromptCacheDep, name: NamePath, label: str
) -> Response:
    await service.remove_label(session, actor, name, label, cache=cache)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/{name:path}", response_model=PromptReadV1, responses=_READ, **SNAKE)
async def get_prompt(
    session: DbSession,
    reader: PromptReader,
    cache: PromptCacheDep,
    name: NamePath,
    version: VersionQuery = None,
    label: str | None = None,
    resolve: bool = True,
) -> ResolvedPrompt:
    return await queries.get_prompt(session, name, version=version, label=label, resolve=resolve, cache=cache)


@router.delete("/{name:path}", status_code=http.HTTP_204_NO_CONTENT, responses=_WRITE)
async def delete_prompt(
    session: DbSession,
    actor: PromptWriter,
    cache: PromptCacheDep,
    name: NamePath,
    version: VersionQuery = None,
    label: str | None = None,
) -> Response:
    await service.delete_prompt(session, actor, name, version=version, label=label, cache=cache)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
