"""HTTP routes of tutor governance: the tutor policy of a university and of a course."""

from __future__ import annotations

from twosigma.db.session import DbSession
from twosigma.governance.dependencies import EditableCourse, GovernedUniversity, WithEffective
from twosigma.governance.schemas import CourseTutorPolicyWrite, TutorPolicyRead, UniversityTutorPolicyWrite
from twosigma.governance.services import policy
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.system_settings.dependencies import Effective

router = APIRouter(tags=["tutor governance"])

_PRIVATE = error_responses(401, 403, 404, 422)


@router.get("/universities/{university_id}/tutor-policy", response_model=TutorPolicyRead, responses=_PRIVATE)
async def get_university_policy(
    session: DbSession, settings: Effective, university: GovernedUniversity, show_effective: WithEffective = False
) -> TutorPolicyRead:
    return await policy.read_university_policy(session, settings, university, with_effective=show_effective)


@router.put("/universities/{university_id}/tutor-policy", response_model=TutorPolicyRead, responses=_PRIVATE)
async def put_university_policy(
    session: DbSession, settings: Effective, university: GovernedUniversity, body: UniversityTutorPolicyWrite
) -> TutorPolicyRead:
    """Replaces the university's policy; a field left out or null inherits the platform's setting. The answer
    includes the effective values."""
    return await policy.put_university_policy(session, settings, university, body)


@router.get("/courses/{course_id}/tutor-policy", response_model=TutorPolicyRead, responses=_PRIVATE)
async def get_course_policy(
    session: DbSession, settings: Effective, course: EditableCourse, show_effective: WithEffective = False
) -> TutorPolicyRead:
    return await policy.read_course_policy(session, settings, course, with_effective=show_effective)


@router.put("/courses/{course_id}/tutor-policy", response_model=TutorPolicyRead, responses=_PRIVATE)
async def put_course_policy(
    session: DbSession, settings: Effective, course: EditableCourse, body: CourseTutorPolicyWrite
) -> TutorPolicyRead:
    """Replaces the course's policy (`enabled` and the budgets; visibility and support text are the university's)."""
    return await policy.put_course_policy(session, settings, course, body)
