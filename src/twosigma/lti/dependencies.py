"""The university whose LTI platforms a route manages, one of its platforms, an offering its staff link (authz)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.courses.models import CourseOffering
from twosigma.lti.models import LtiPlatform
from twosigma.tenancy.models import University

LtiUniversity = Annotated[University, Depends(access.get_lti_university)]
ManagedPlatform = Annotated[LtiPlatform, Depends(access.get_lti_platform)]
EditableOffering = Annotated[CourseOffering, Depends(access.get_editable_offering)]
StaffOffering = Annotated[CourseOffering, Depends(access.get_staff_offering)]
