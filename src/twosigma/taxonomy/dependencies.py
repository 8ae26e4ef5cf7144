"""Typed dependencies that load a taxonomy row, or raise.

The `Admin*` loaders authenticate and authorize BEFORE loading, so a write to a missing row answers 401/403 to
callers who may not write at all, and 404 only to platform admins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from twosigma.authz.dependencies import PlatformAdmin, bearer_scheme, get_optional_principal
from twosigma.authz.policy import is_platform_admin
from twosigma.db.session import DbSession
from twosigma.kit.deps import AppSettings
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


async def include_inactive_content_types(
    request: Request,
    settings: AppSettings,
    token: Annotated[str | None, Depends(bearer_scheme)],
    include_inactive: Annotated[bool, Query(description="Platform admins only; ignored for others.")] = False,
) -> bool:
    """Honour `include_inactive` for platform admins only; for anyone else it is ignored.

    The token is looked at only when the flag is set: public reads neither need nor check credentials.
    """
    if not include_inactive:
        return False
    return is_platform_admin(await get_optional_principal(request, token))


DomainDep = Annotated[Domain, Depends(get_domain)]
AdminDomain = Annotated[Domain, Depends(get_domain_for_admin)]
SubjectDep = Annotated[Subject, Depends(get_subject)]
AdminSubject = Annotated[Subject, Depends(get_subject_for_admin)]
ContentTypeDep = Annotated[ContentType, Depends(get_content_type)]
AdminContentType = Annotated[ContentType, Depends(get_content_type_for_admin)]
IncludeInactiveContentTypes = Annotated[bool, Depends(include_inactive_content_types)]
