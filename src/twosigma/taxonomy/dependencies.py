"""Typed dependencies that load a taxonomy row, or raise.

The `Admin*` loaders authenticate and authorize BEFORE loading, so a write to a missing row answers 401/403 to
callers who may not write at all, and 404 only to platform admins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.authz.dependencies import PlatformAdmin
from twosigma.db.session import DbSession
from twosigma.kit.params import IdPath
from twosigma.taxonomy import service
from twosigma.taxonomy.models import ContentType, Domain, Subject

PathId = IdPath


async def get_domain(session: DbSession, domain_id: PathId) -> Domain:
    return await service.get_domain(session, domain_id)


async def get_domain_for_admin(_: PlatformAdmin, session: DbSession, domain_id: PathId) -> Domain:
    return await service.get_domain(session, domain_id)


async def get_subject(session: DbSession, subject_id: PathId) -> Subject:
    return await service.get_subject(session, subject_id)


async def get_subject_for_admin(_: PlatformAdmin, session: DbSession, subject_id: PathId) -> Subject:
    return await service.get_subject(session, subject_id)


async def get_content_type(session: DbSession, content_type_id: PathId) -> ContentType:
    return await service.get_content_type(session, content_type_id)


async def get_content_type_for_admin(_: PlatformAdmin, session: DbSession, content_type_id: PathId) -> ContentType:
    return await service.get_content_type(session, content_type_id)


DomainDep = Annotated[Domain, Depends(get_domain)]
AdminDomain = Annotated[Domain, Depends(get_domain_for_admin)]
SubjectDep = Annotated[Subject, Depends(get_subject)]
AdminSubject = Annotated[Subject, Depends(get_subject_for_admin)]
ContentTypeDep = Annotated[ContentType, Depends(get_content_type)]
AdminContentType = Annotated[ContentType, Depends(get_content_type_for_admin)]
IncludeInactiveContentTypes = Annotated[bool, Depends(access.include_inactive_content_types)]
