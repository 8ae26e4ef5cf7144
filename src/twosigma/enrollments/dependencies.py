"""The enrolments and rosters a route may use, decided by authz (authz/access/enrollments.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.courses.models import CourseOffering
from twosigma.enrollments.models import CourseEnrollment

VisibleEnrollment = Annotated[CourseEnrollment, Depends(access.get_visible_enrollment)]
EditableEnrollment = Annotated[CourseEnrollment, Depends(access.get_editable_enrollment)]
RosterOffering = Annotated[CourseOffering, Depends(access.get_roster_offering)]
