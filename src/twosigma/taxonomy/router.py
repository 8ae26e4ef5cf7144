"""HTTP routes of the taxonomy. Reads are public catalog data; writes need a platform admin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, status

from twosigma.authz.dependencies import PlatformAdmin
from twosigma.db.session import DbSession
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.params import IdQuery
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.taxonomy import service
from twosigma.taxonomy.dependencies import (
    AdminContentType,
    AdminDomain,
    AdminSubject,
    ContentTypeDep,
    DomainDep,
    IncludeInactiveContentTypes,
    SubjectDep,
)
from twosigma.taxonomy.models import ContentType, Domain, Subject
from twosigma.taxonomy.schemas import (
    ContentTypeCreate,
    ContentTypeRead,
    ContentTypeUpdate,
    DomainCreate,
    DomainRead,
    DomainUpdate,
    SubjectCreate,
    SubjectNode,
    SubjectRead,
    SubjectUpdate,
)

router = APIRouter()

Search = Annotated[str | None, Query(max_length=100, description="Case-insensitive substring of the name.")]
FilterId = IdQuery
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)

# --- domains ---------------------------------------------------------------------------------------------------


@router.get("/domains", response_model=Page[DomainRead], tags=["taxonomy"], summary="List domains")
async def list_domains(session: DbSession, params: Pagination, q: Search = None) -> dict[str, Any]:
    return (await service.list_domains(session, params, q)).as_dict()


@router.get("/domains/{domain_id}", response_model=DomainRead, tags=["taxonomy"], responses=error_responses(404))
async def get_domain(domain: DomainDep) -> Domain:
    return domain


@router.post(
    "/domains",
    response_model=DomainRead,
    status_code=status.HTTP_201_CREATED,
    tags=["taxonomy"],
    responses=WRITE_ERRORS,
)
async def create_domain(_: PlatformAdmin, session: DbSession, body: DomainCreate) -> Domain:
    return await service.create_domain(session, body)


@router.patch("/domains/{domain_id}", response_model=DomainRead, tags=["taxonomy"], responses=WRITE_ERRORS)
async def update_domain(domain: AdminDomain, session: DbSession, body: DomainUpdate) -> Domain:
    return await service.update_domain(session, domain, body)


@router.delete(
    "/domains/{domain_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["taxonomy"],
    responses=WRITE_ERRORS,
    summary="Delete a domain and its subjects (refused while courses use them)",
)
async def delete_domain(domain: AdminDomain, session: DbSession) -> None:
    await service.delete_domain(session, domain)


# --- subjects --------------------------------------------------------------------------------------------------


@router.get("/subjects", response_model=Page[SubjectRead], tags=["taxonomy"], summary="List subjects (flat)")
async def list_subjects(
    session: DbSession,
    params: Pagination,
    domain_id: FilterId = None,
    parent_subject_id: FilterId = None,
    root_only: Annotated[bool, Query(description="Only top-level subjects (no parent).")] = False,
    q: Search = None,
) -> dict[str, Any]:
    result = await service.list_subjects(
        session, params, domain_id=domain_id, parent_subject_id=parent_subject_id, root_only=root_only, q=q
    )
    return result.as_dict()


# Declared before /subjects/{subject_id} so "tree" is not parsed as an id.
@router.get(
    "/subjects/tree",
    response_model=list[SubjectNode],
    tags=["taxonomy"],
    summary="The subject hierarchy, nested (one query whatever its size)",
)
async def subject_tree(session: DbSession, domain_id: FilterId = None) -> list[SubjectNode]:
    return await service.subject_tree(session, domain_id)


@router.get("/subjects/{subject_id}", response_model=SubjectRead, tags=["taxonomy"], responses=error_responses(404))
async def get_subject(subject: SubjectDep) -> Subject:
    return subject


@router.post(
    "/subjects",
    response_model=SubjectRead,
    status_code=status.HTTP_201_CREATED,
    tags=["taxonomy"],
    responses=WRITE_ERRORS,
)
async def create_subject(_: PlatformAdmin, session: DbSession, body: SubjectCreate) -> Subject:
    return await service.create_subject(session, body)


@router.patch("/subjects/{subject_id}", response_model=SubjectRead, tags=["taxonomy"], responses=WRITE_ERRORS)
async def update_subject(subject: AdminSubject, session: DbSession, body: SubjectUpdate) -> Subject:
    return await service.update_subject(session, subject, body)


@router.delete(
    "/subjects/{subject_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["taxonomy"],
    responses=WRITE_ERRORS,
    summary="Delete a subject and its descendants (refused while courses use them)",
)
async def delete_subject(subject: AdminSubject, session: DbSession) -> None:
    await service.delete_subject(session, subject)


# --- content types ---------------------------------------------------------------------------------------------


@router.get(
    "/content-types",
    response_model=Page[ContentTypeRead],
    tags=["content types"],
    summary="List content types (active ones unless a platform admin asks for all)",
)
async def list_content_types(
    session: DbSession,
    params: Pagination,
    include_inactive: IncludeInactiveContentTypes,
) -> dict[str, Any]:
    result = await service.list_content_types(session, params, include_inactive=include_inactive)
    return result.as_dict()


@router.get(
    "/content-types/{content_type_id}",
    response_model=ContentTypeRead,
    tags=["content types"],
    responses=error_responses(404),
)
async def get_content_type(content_type: ContentTypeDep) -> ContentType:
    return content_type


@router.post(
    "/content-types",
    response_model=ContentTypeRead,
    status_code=status.HTTP_201_CREATED,
    tags=["content types"],
    responses=WRITE_ERRORS,
)
async def create_content_type(_: PlatformAdmin, session: DbSession, body: ContentTypeCreate) -> ContentType:
    return await service.create_content_type(session, body)


@router.patch(
    "/content-types/{content_type_id}",
    response_model=ContentTypeRead,
    tags=["content types"],
    responses=WRITE_ERRORS,
)
async def update_content_type(
    content_type: AdminContentType, session: DbSession, body: ContentTypeUpdate
) -> ContentType:
    return await service.update_content_type(session, content_type, body)


@router.delete(
    "/content-types/{content_type_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["content types"],
    responses=WRITE_ERRORS,
    summary="Delete an unused content type (deactivate it if content uses it)",
)
async def delete_content_type(content_type: AdminContentType, session: DbSession) -> None:
    await service.delete_content_type(session, content_type)
