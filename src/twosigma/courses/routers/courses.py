"""HTTP routes for courses: catalog, CRUD, subject links and prerequisites."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response, status

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.courses.dependencies import EditableCourse, VisibleCourse
from twosigma.courses.models import Course
from twosigma.courses.repository import CatalogFilter
from twosigma.courses.schemas import (
    CourseCreate,
    CourseRead,
    CourseSort,
    CourseSummary,
    CourseUpdate,
    PrerequisiteIds,
    SubjectIds,
    SubjectSummary,
)
from twosigma.courses.services import courses as service
from twosigma.db.session import DbSession
from twosigma.enums import CourseLevel
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.params import IdQuery
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses

router = APIRouter(tags=["courses"])

_READ = error_responses(401, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)


@router.get("/courses", response_model=Page[CourseRead], responses=error_responses(401, 422))
async def search_courses(
    session: DbSession,
    principal: CurrentPrincipal,
    params: Pagination,
    q: Annotated[str | None, Query(max_length=200, description="Matches title, code or description.")] = None,
    university_id: IdQuery = None,
    department_id: IdQuery = None,
    subject_id: Annotated[IdQuery, Query(description="Primary subject or any linked subject.")] = None,
    level: CourseLevel | None = None,
    sort: CourseSort = CourseSort.TITLE,
) -> dict[str, Any]:
    f = CatalogFilter(
        q=q.strip() if q else None,
        university_id=university_id,
        department_id=department_id,
        subject_id=subject_id,
        level=level,
        sort=sort,
    )
    return (await service.search(session, principal, f, params)).as_dict()


@router.post("/courses", response_model=CourseRead, status_code=status.HTTP_201_CREATED, responses=_WRITE)
async def create_course(session: DbSession, principal: CurrentPrincipal, body: CourseCreate) -> Course:
    return await service.create_course(session, principal, body)


@router.get("/courses/{course_id}", response_model=CourseRead, responses=_READ)
async def get_course(course: VisibleCourse) -> Course:
    return course


@router.patch("/courses/{course_id}", response_model=CourseRead, responses=_WRITE)
async def update_course(
    session: DbSession, principal: CurrentPrincipal, course: EditableCourse, body: CourseUpdate
) -> Course:
    return await service.update_course(session, principal, course, body)


@router.delete("/courses/{course_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE)
async def delete_course(session: DbSession, course: EditableCourse) -> Response:
    await service.delete_course(session, course)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/courses/{course_id}/subjects", response_model=list[SubjectSummary], responses=_READ)
async def list_subjects(session: DbSession, course: VisibleCourse) -> Any:
    return await service.list_subjects(session, course)


@router.put("/courses/{course_id}/subjects", response_model=list[SubjectSummary], responses=_WRITE)
async def replace_subjects(session: DbSession, course: EditableCourse, body: SubjectIds) -> Any:
    return await service.replace_subjects(session, course, body.subject_ids)


@router.get("/courses/{course_id}/prerequisites", response_model=list[CourseSummary], responses=_READ)
async def list_prerequisites(session: DbSession, course: VisibleCourse) -> Any:
    return await service.list_prerequisites(session, course)


@router.put("/courses/{course_id}/prerequisites", response_model=list[CourseSummary], responses=_WRITE)
async def replace_prerequisites(session: DbSession, course: EditableCourse, body: PrerequisiteIds) -> Any:
    return await service.replace_prerequisites(session, course, body.course_ids)
