"""Every query of the invitations domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from twosigma.authz.membership import InvitationScope
from twosigma.authz.policy import GrantableRoles
from twosigma.courses.models import Course, CourseOffering
from twosigma.enums import InvitationKind, InvitationStatus, UserRole
from twosigma.invitations.models import Invitation
from twosigma.invitations.schemas import InvitationState
from twosigma.tenancy.models import University
from twosigma.users.models import User


def state_clause(state: InvitationState, now: datetime) -> ColumnElement[bool]:
    if state is InvitationState.PENDING:
        return and_(Invitation.status == InvitationStatus.PENDING, Invitation.expires_at > now)
    if state is InvitationState.EXPIRED:
        return and_(Invitation.status == InvitationStatus.PENDING, Invitation.expires_at <= now)
    return Invitation.status == InvitationStatus(state.value)


def _grantable_clauses(grantable: GrantableRoles) -> list[ColumnElement[bool]]:
    """ROLE invitations whose role is in `grantable.roles(department_id)`: the SQL of `GrantableRoles.roles`."""
    is_role = Invitation.kind == InvitationKind.ROLE
    clauses: list[ColumnElement[bool]] = []
    if grantable.everywhere:
        clauses.append(and_(is_role, Invitation.role.in_(sorted(grantable.everywhere))))
    for department_id, roles in sorted(grantable.by_department.items()):
        if roles:
            clauses.append(and_(is_role, Invitation.department_id == department_id, Invitation.role.in_(sorted(roles))))
    return clauses


def _scope_clause(scope: InvitationScope) -> ColumnElement[bool]:
    """The SQL twin of `InvitationScope.covers` (tests hold the two to the same answers: what a caller lists is what
    they may revoke)."""
    if scope.everything:
        return true()
    clauses: list[ColumnElement[bool]] = [Invitation.invited_by_id == scope.sender_id]
    clauses.extend(_grantable_clauses(scope.roles))
    if scope.all_courses:
        clauses.append(Invitation.kind == InvitationKind.ENROLLMENT)
    elif scope.course_departments:
        clauses.append(
            and_(
                Invitation.kind == InvitationKind.ENROLLMENT,
                Course.department_id.in_(sorted(scope.course_departments)),
            )
        )
    return or_(false(), *clauses)


def university_query(
    university_id: int, scope: InvitationScope, state: InvitationState | None, now: datetime
) -> Select[Invitation]:
    """The university's invitations the scope covers, newest first."""
    stmt = (
        select(Invitation)
        .outerjoin(CourseOffering, CourseOffering.id == Invitation.course_offering_id)
        .outerjoin(Course, Course.id == CourseOffering.course_id)
        .where(Invitation.university_id == university_id, _scope_clause(scope))
    )
    if state is not None:
        stmt = stmt.where(state_clause(state, now))
    return stmt.order_by(Invitation.created_at.desc(), Invitation.id.desc())


def _with_context(stmt: Select[Invitation]) -> Select[Invitation]:
    """What the invitee's view shows, loaded in the same query."""
    return stmt.options(
        joinedload(Invitation.university),
        joinedload(Invitation.department),
        joinedload(Invitation.course_offering).joinedload(CourseOffering.course),
        joinedload(Invitation.invited_by),
    )


def addressed_to_query(email: str, state: InvitationState | None, now: datetime) -> Select[Invitation]:
    stmt = _with_context(select(Invitation).where(Invitation.email == email.lower()))
    if state is not None:
        stmt = stmt.where(state_clause(state, now))
    return stmt.order_by(Invitation.created_at.desc(), Invitation.id.desc())


async def get_with_context(session: AsyncSession, invitation_id: int) -> Invitation | None:
    stmt = _with_context(select(Invitation).where(Invitation.id == invitation_id))
    return (await session.scalars(stmt)).one_or_none()


async def get_with_course(session: AsyncSession, invitation_id: int) -> tuple[Invitation, Course | None] | None:
    stmt = (
        select(Invitation, Course)
        .outerjoin(CourseOffering, CourseOffering.id == Invitation.course_offering_id)
        .outerjoin(Course, Course.id == CourseOffering.course_id)
        .where(Invitation.id == invitation_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    return (row.Invitation, row.Course) if row is not None else None


async def lock(session: AsyncSession, invitation_id: int) -> bool:
    """Take the row's lock (FOR UPDATE), so an accept, a decline and a revoke of one invitation serialize. False if
    the row is gone."""
    stmt = select(Invitation.id).where(Invitation.id == invitation_id).with_for_update()
    return (await session.scalar(stmt)) is not None


async def open_for_same_target(
    session: AsyncSession, university_id: int, email: str, target: dict[str, Any], now: datetime
) -> list[Invitation]:
    """PENDING, unexpired invitations of the same address to the same role or offering, locked: a new invitation
    replaces them."""
    stmt = (
        select(Invitation)
        .where(
            Invitation.university_id == university_id,
            Invitation.email == email,
            state_clause(InvitationState.PENDING, now),
            *(getattr(Invitation, column) == value for column, value in target.items() if value is not None),
            *(getattr(Invitation, column).is_(None) for column, value in target.items() if value is None),
        )
        .with_for_update()
    )
    return list((await session.scalars(stmt)).all())


def role_target(role: UserRole, department_id: int | None) -> dict[str, Any]:
    return {"kind": InvitationKind.ROLE, "role": role, "department_id": department_id, "course_offering_id": None}


def offering_target(offering_id: int) -> dict[str, Any]:
    return {"kind": InvitationKind.ENROLLMENT, "role": None, "department_id": None, "course_offering_id": offering_id}


async def university_name(session: AsyncSession, university_id: int) -> str:
    return (await session.scalar(select(University.name).where(University.id == university_id))) or ""


async def locale_of_address(session: AsyncSession, email: str) -> str | None:
    """The locale of the account holding `email`, if one does (the invitation mail speaks its language)."""
    return await session.scalar(select(User.locale).where(User.email == email.lower()).limit(1))


async def get_by_token_hash_with_context(session: AsyncSession, token_hash: str) -> Invitation | None:
    stmt = _with_context(select(Invitation).where(Invitation.token_hash == token_hash))
    return (await session.scalars(stmt)).one_or_none()


async def delete_addressed_to(session: AsyncSession, addresses: list[str], user_id: int) -> None:
    lowered = [address.lower() for address in addresses]
    await session.execute(
        delete(Invitation).where(
            or_(
                func.lower(Invitation.email).in_(lowered),
                and_(
                    Invitation.closed_by_id == user_id,
                    Invitation.status.in_((InvitationStatus.ACCEPTED, InvitationStatus.DECLINED)),
                ),
            )
        ),
        execution_options={"synchronize_session": False},
    )
