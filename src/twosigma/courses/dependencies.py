"""The courses and offerings a route may use, decided by authz (authz/access/courses.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.authz.access.dependencies import VisibleCourse, VisibleOffering
from twosigma.courses.models import Course, CourseOffering

__all__ = ["EditableCourse", "EditableOffering", "VisibleCourse", "VisibleOffering"]

EditableCourse = Annotated[Course, Depends(access.get_editable_course)]
EditableOffering = Annotated[CourseOffering, Depends(access.get_editable_offering)]
