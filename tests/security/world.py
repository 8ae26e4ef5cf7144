"""University A with one of everything, two outsiders from university B, and a sentinel string in every private field.

Every private text of A (an unpublished course's title, module and content titles and data, chat messages, notes,
a feature request, an invite code, a student's email, an invitation's address, a suspended member's name and
the reason, a secret setting) contains `World.sentinel`, so a response
that carries any of them is caught by a plain substring test, whatever its shape.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import make_content_item, make_module, root_of
from tests.fixtures.courses import make_course, make_enrollment, make_offering
from tests.fixtures.factories import (
    DEFAULT_PASSWORD,
    auth_headers,
    grant_role,
    make_department,
    make_member,
    make_university,
    unique,
)
from tests.fixtures.prompts import make_api_key, make_prompt
from tests.fixtures.taxonomy import make_content_type, make_domain, make_subject
from twosigma.config import Settings
from twosigma.enums import EnrollmentStatus, InvitationKind, MessageRole, UserRole, Visibility
from twosigma.feature_requests.models import FeatureRequest
from twosigma.governance.models import TutorFlag, UniversityTutorPolicy
from twosigma.invitations.models import Invitation
from twosigma.lti.models import LtiPlatform
from twosigma.privacy.models import DataExport
from twosigma.privacy.service import EXPORT_LIFETIME, build_zip
from twosigma.progress.models import UserContentProgress
from twosigma.system_settings.schemas import SettingWrite
from twosigma.system_settings.service import put_setting
from twosigma.tenancy.models import MemberSuspension
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.users.models import User

ANONYMOUS = "anonymous"
OUTSIDER_STUDENT = "outsider_student"
OUTSIDER_ADMIN = "outsider_admin"
CALLERS = (ANONYMOUS, OUTSIDER_STUDENT, OUTSIDER_ADMIN)


@dataclass
class World:
    sentinel: str
    params: dict[str, Any]  # path parameter name → A's resource (the default for every route)
    alt: dict[str, Any]  # other resources of A that some routes are also called with
    headers: dict[str, dict[str, str]]  # caller → request headers
    student_a: User
    extra: dict[str, Any] = field(default_factory=dict)


async def make_world(db: AsyncSession, settings: Settings) -> World:
    sentinel = "zqx" + secrets.token_hex(6)
    a = await make_university(db)
    department = await make_department(db, university=a)
    admin_a = await make_member(db, a, UserRole.UNIVERSITY_ADMIN)
    instructor_a = await make_member(db, a, UserRole.INSTRUCTOR, department=department)
    student_a = await make_member(db, a, UserRole.STUDENT, email=f"{sentinel}-student@example.edu")
    grant = await grant_role(db, student_a, a, UserRole.TA)

    subject = await make_subject(db)
    course = await make_course(db, university=a, department=department, subject=subject)
    hidden_course = await make_course(
        db, university=a, department=department, is_published=False, title=f"Hidden {sentinel}", code=sentinel[:12]
    )
    root = await root_of(db, course)
    module = await make_module(db, parent=root, title=f"Module {sentinel}")
    draft_module = await make_module(db, parent=root, title=f"Draft {sentinel}", is_published=False)
    content_type = await make_content_type(db)
    item = await make_content_item(
        db,
        module=module,
        content_type=content_type,
        title=f"Item {sentinel}",
        data_json={"answer": sentinel},
        learning_objectives=[f"Objective {sentinel}"],
    )
    await make_content_item(db, module=draft_module, content_type=content_type, title=f"Draft item {sentinel}")

    public = await make_offering(db, course=course, visibility=Visibility.PUBLIC)
    unlisted = await make_offering(db, course=course, visibility=Visibility.UNLISTED)
    invite_only = await make_offering(
        db, course=course, visibility=Visibility.INVITE_ONLY, invite_code=f"{sentinel}code"
    )
    hidden_offering = await make_offering(db, course=hidden_course, term_name=f"Term {sentinel}")
    enrollment = await make_enrollment(db, user=student_a, offering=public, status=EnrollmentStatus.ACTIVE)
    db.add(
        UserContentProgress(
            user_id=student_a.id, course_offering_id=public.id, content_item_id=item.id, progress_percent=40
        )
    )

    chat = ChatSession(
        user_id=student_a.id,
        content_item_id=item.id,
        content_context={"content_title": f"Item {sentinel}"},
        share_enabled=True,
        share_token=secrets.token_urlsafe(32),
    )
    db.add(chat)
    await db.flush()
    question = ChatMessage(session_id=chat.id, role=MessageRole.USER, content=f"Question {sentinel}", meta={})
    answer = ChatMessage(
        session_id=chat.id, role=MessageRole.ASSISTANT, content=f"Answer {sentinel}", meta={"model": "m"}
    )
    db.add_all([question, answer])
    await db.flush()
    answer.parent_message_id, chat.active_leaf_message_id = question.id, answer.id  # one path (docs/tutor.md)
    await db.flush()
    note = ChatNote(session_id=chat.id, message_id=answer.id, content=f"Note {sentinel}")
    flag = TutorFlag(
        message_id=question.id,
        session_id=chat.id,
        user_id=student_a.id,
        university_id=a.id,
        course_id=course.id,
        category="self_harm",
        severity="high",
        screen="input",
        source="rules",
        escalated=True,
        note=f"Note {sentinel}",
    )
    request = FeatureRequest(user_id=student_a.id, title=f"Wish {sentinel}", description=f"Please {sentinel}")
    archive = build_zip({"chats.json": [f"Chat {sentinel}"]})
    export = DataExport(
        user_id=student_a.id,
        status="DONE",
        archive=archive,
        size_bytes=len(archive),
        completed_at=datetime.now(UTC),
        expires_at=datetime.now(UTC) + EXPORT_LIFETIME,
    )
    db.add_all([note, request, export, flag])
    await db.flush()

    prompt_name = unique("isolation-prompt-")
    await make_prompt(db, prompt_name, "You tutor {{content_title}}.", labels=["production", "staging"])
    key_id, _ = await make_api_key(db, settings, name="isolation key")
    await put_setting(db, settings, "llm.openai_api_key", SettingWrite(value=f"sk-{sentinel}"))
    db.add(
        UniversityTutorPolicy(
            university_id=a.id, support_text=f"Support {sentinel}", safety_contact_email=f"{sentinel}@example.edu"
        )
    )
    domain = await make_domain(db)

    # An invitation of A to an address carrying the sentinel, and a suspension there.
    invitation = Invitation(
        university_id=a.id,
        email=f"{sentinel}-invitee@example.edu",
        kind=InvitationKind.ROLE,
        role=UserRole.TA,
        token_hash=secrets.token_hex(32),
        invited_by_id=admin_a.id,
        expires_at=datetime.now(UTC) + timedelta(days=14),
    )
    db.add(invitation)
    suspended_a = await make_member(db, a, UserRole.STUDENT, full_name=f"Suspended {sentinel}")
    db.add(MemberSuspension(user_id=suspended_a.id, university_id=a.id, reason=f"Reason {sentinel}"))
    await db.flush()

    # An LTI platform A's admin registered (its client id carries the sentinel).
    lti_platform = LtiPlatform(
        university_id=a.id,
        issuer=f"https://lms-{sentinel}.example.edu",
        client_id=f"client-{sentinel}",
        deployment_ids=[f"deployment-{sentinel}"],
        auth_login_url="https://lms.example.edu/authorize",
        auth_token_url="https://lms.example.edu/token",
        jwks_url="https://lms.example.edu/jwks",
    )
    db.add(lti_platform)
    await db.flush()

    b = await make_university(db)
    outsider_student = await make_member(db, b, UserRole.STUDENT)
    outsider_admin = await make_member(db, b, UserRole.UNIVERSITY_ADMIN)
    b_course = await make_course(db, university=b, subject=subject)
    b_offering = await make_offering(db, course=b_course)
    return World(
        sentinel=sentinel,
        params={
            "university_id": a.id,
            "department_id": department.id,
            "country_id": a.country_id,
            "course_id": course.id,
            "offering_id": public.id,
            "enrollment_id": enrollment.id,
            "module_id": module.id,
            "content_item_id": item.id,
            "user_id": student_a.id,
            "grant_id": grant.id,
            "session_id": chat.id,
            "message_id": answer.id,
            "note_id": note.id,
            "flag_id": flag.id,
            "request_id": request.id,
            "export_id": export.id,
            "token": chat.share_token,
            "name": prompt_name,
            "version": 1,
            "label": "staging",
            "key": "llm.openai_api_key",
            "key_id": key_id,
            "domain_id": domain.id,
            "subject_id": subject.id,
            "content_type_id": content_type.id,
            "invitation_id": invitation.id,
            "platform_id": lti_platform.id,
        },
        alt={
            "hidden_course_id": hidden_course.id,
            "hidden_offering_id": hidden_offering.id,
            "unlisted_offering_id": unlisted.id,
            "invite_only_offering_id": invite_only.id,
            "root_module_id": root.id,
            "subject_id": subject.id,
            "content_type_id": content_type.id,
            "student_email": student_a.email,
            "password": DEFAULT_PASSWORD,
            "admin_a_id": admin_a.id,
            "instructor_a_id": instructor_a.id,
            "suspended_a_id": suspended_a.id,
            "b_university_id": b.id,
            "b_offering_id": b_offering.id,
            "lti_issuer": lti_platform.issuer,
            "lti_client_id": lti_platform.client_id,
        },
        headers={
            ANONYMOUS: {},
            OUTSIDER_STUDENT: auth_headers(settings, outsider_student),
            OUTSIDER_ADMIN: auth_headers(settings, outsider_admin),
        },
        student_a=student_a,
    )
