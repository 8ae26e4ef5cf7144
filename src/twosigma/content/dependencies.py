"""The modules and content items a route may use, decided by authz (authz/access/content.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.authz.access.content import CourseAccess, ItemAccess, ModuleAccess
from twosigma.content.models import ContentItem, Module

ReadableCourseContent = Annotated[CourseAccess, Depends(access.get_readable_course)]
ReadableModule = Annotated[ModuleAccess, Depends(access.get_readable_module)]
EditableModule = Annotated[Module, Depends(access.get_editable_module)]
ReadableItem = Annotated[ItemAccess, Depends(access.get_readable_item)]
EditableItem = Annotated[ContentItem, Depends(access.get_editable_item)]
