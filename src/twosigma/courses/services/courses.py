"""Course rules: the catalog, creation (with the COURSE_ROOT module), edits, subject links and prerequisites."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.courses import catalog_scope, ensure_may_create_course
from twosigma.authz.principal import Principal
from twosigma.content.services import modules as content
from twosigma.courses import repository as repo
from twosigma.courses.models import Course
from twosigma.courses.repository import CatalogFilter
from twosigma.courses.schemas import CourseCreate, CourseUpdate
from twosigma.kit.errors import Conflict, Invalid, not_found
from twosigma.kit.pagination import PageParams, PageResult, paginate
from twosigma.retrieval.services import indexing
from twosigma.taxonomy.models import Subject


class CourseCodeTaken(Conflict):
    code = "course_code_taken"


class PrerequisiteCycle(Conflict):
    code = "prerequisite_cycle"


def _invalid(field: str, message: str, code: str = "validation_error") -> Invalid:
    return Invalid(message, code=code, details=[{"loc": ["body", field], "msg": message, "type": code}])


async def search(
    session: AsyncSession, principal: Principal, f: CatalogFilter, params: PageParams
) -> PageResult[Course]:
    stmt = repo.catalog_query(f, catalog_scope(principal))
    return await paginate(session, stmt, params)


async def _check_department(session: AsyncSession, university_id: int, department_id: int | None) -> None:
    if department_id is None:
        return
    if await repo.department_university(session, department_id) != university_id:
        raise _invalid("department_id", "The department does not belong to the course's university.")


async def _check_subject(session: AsyncSession, subject_id: int) -> None:
    if not await repo.existing_subject_ids(session, [subject_id]):
        raise _invalid("primary_subject_id", "No such subject.")


async def _flush_unique_code(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise CourseCodeTaken("A course with this code already exists in the university.") from exc


async def create_course(session: AsyncSession, principal: Principal, body: CourseCreate) -> Course:
    if not await repo.university_exists(session, body.university_id):
        raise not_found("University")
    ensure_may_create_course(principal, body.university_id, body.department_id, resource="University")
    await _check_department(session, body.university_id, body.department_id)
    await _check_subject(session, body.primary_subject_id)
    if await repo.code_taken(session, body.university_id, body.code):
        raise CourseCodeTaken("A course with this code already exists in the university.")
    course = Course(**body.model_dump())
    session.add(course)
    await _flush_unique_code(session)
    await content.create_root_module(session, course)
    return course


async def update_course(session: AsyncSession, principal: Principal, course: Course, body: CourseUpdate) -> Course:
    changes = body.model_dump(exclude_unset=True)
    if "department_id" in changes and changes["department_id"] != course.department_id:
        # Moving a course is creating it in the new department: a department admin cannot push it out of theirs.
        ensure_may_create_course(principal, course.university_id, changes["department_id"])
        await _check_department(session, course.university_id, changes["department_id"])
    if "primary_subject_id" in changes:
        await _check_subject(session, changes["primary_subject_id"])
    if "code" in changes and await repo.code_taken(session, course.university_id, changes["code"], except_id=course.id):
        raise CourseCodeTaken("A course with this code already exists in the university.")
    config_changed = "text_search_config" in changes and changes["text_search_config"] != course.text_search_config
    if config_changed:
        await indexing.check_text_search_config(session, changes["text_search_config"])
    for name, value in changes.items():
        setattr(course, name, value)
    await _flush_unique_code(session)
    if config_changed:
        await indexing.course_config_changed(session, course.id, course.text_search_config)
    return course


async def delete_course(session: AsyncSession, course: Course) -> None:
    """Offerings, enrolments, modules, content and progress go with it (ON DELETE CASCADE in the schema)."""
    await session.delete(course)
    await session.flush()


async def list_subjects(session: AsyncSession, course: Course) -> Sequence[Subject]:
    return await repo.course_subjects(session, course.id)


async def replace_subjects(session: AsyncSession, course: Course, subject_ids: list[int]) -> Sequence[Subject]:
    wanted = list(dict.fromkeys(subject_ids))
    missing = sorted(set(wanted) - await repo.existing_subject_ids(session, wanted))
    if missing:
        raise Invalid("Some subjects do not exist.", details={"missing_subject_ids": missing})
    await repo.replace_course_subjects(session, course.id, wanted)
    return await repo.course_subjects(session, course.id)


async def list_prerequisites(session: AsyncSession, course: Course) -> Sequence[Course]:
    return await repo.prerequisites(session, course.id)


async def replace_prerequisites(session: AsyncSession, course: Course, course_ids: list[int]) -> Sequence[Course]:
    wanted = list(dict.fromkeys(course_ids))
    if course.id in wanted:
        raise _invalid("course_ids", "A course cannot be its own prerequisite.", "self_prerequisite")
    await repo.lock_prerequisite_graph(session, course.university_id)
    unknown = sorted(set(wanted) - await repo.courses_in_university(session, course.university_id, wanted))
    if unknown:
        # One answer for "does not exist" and "another university's": existence must not leak.
        raise Invalid(
            "Prerequisites must be courses of the same university.",
            code="invalid_prerequisites",
            details={"course_ids": unknown},
        )
    if await repo.reaches(session, wanted, course.id):
        raise PrerequisiteCycle("These prerequisites would create a cycle.", details={"course_id": course.id})
    await repo.replace_prerequisites(session, course.id, wanted)
    return await repo.prerequisites(session, course.id)
