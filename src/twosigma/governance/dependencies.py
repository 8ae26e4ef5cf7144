"""Typed dependencies of tutor governance: aliases of authz's loaders (authz/access/governance.py, courses.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from twosigma.authz.access import dependencies as access
from twosigma.authz.access.governance import FlagScope
from twosigma.courses.models import Course
from twosigma.tenancy.models import University
from twosigma.tutor.models import ChatSession

FlagReader = Annotated[FlagScope, Depends(access.get_flag_scope)]
InsightCourse = Annotated[Course, Depends(access.get_insight_course)]
OwnChat = Annotated[ChatSession, Depends(access.get_own_session)]
GovernedUniversity = Annotated[University, Depends(access.get_governed_university)]
EditableCourse = Annotated[Course, Depends(access.get_editable_course)]
WithEffective = Annotated[
    bool,
    Query(alias="effective", description="Also return the resolved value of every field and the level it came from."),
]
