"""The caller's enrolment in the offering, or staff access to it, decided by authz (authz/access/progress.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.authz.access.progress import Participation
from twosigma.courses.models import CourseOffering

WritingParticipation = Annotated[Participation, Depends(access.get_writing_participation)]
ReadingParticipation = Annotated[Participation, Depends(access.get_reading_participation)]
StaffOffering = Annotated[CourseOffering, Depends(access.get_staff_offering)]
