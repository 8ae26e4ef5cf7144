"""The quiz item a route may use and the offering whose gradebook it reads, decided by authz
(authz/access/assessments.py and authz/access/progress.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.authz.access.assessments import StaffItem, StudentItem
from twosigma.courses.models import CourseOffering

AttemptingItem = Annotated[StudentItem, Depends(access.get_attempting_item)]
ReviewingItem = Annotated[StudentItem, Depends(access.get_reviewing_item)]
GradebookOffering = Annotated[CourseOffering, Depends(access.get_staff_offering)]
GradebookItem = Annotated[StaffItem, Depends(access.get_gradebook_item)]
