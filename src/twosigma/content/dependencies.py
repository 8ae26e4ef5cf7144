"""The modules and content items a route may use, decided by authz (authz/access/content.py); the tree cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.authz.access import dependencies as access
from twosigma.authz.access.content import CourseAccess, ItemAccess, ModuleAccess
from twosigma.content.models import ContentItem, Module
from twosigma.content.tree_cache import TreeCache
from twosigma.kit.state import app_state

ReadableCourseContent = Annotated[CourseAccess, Depends(access.get_readable_course)]
ReadableModule = Annotated[ModuleAccess, Depends(access.get_readable_module)]
EditableModule = Annotated[Module, Depends(access.get_editable_module)]
ReadableItem = Annotated[ItemAccess, Depends(access.get_readable_item)]
EditableItem = Annotated[ContentItem, Depends(access.get_editable_item)]


async def get_tree_cache(request: Request) -> TreeCache:
    return app_state(request).tree_cache


TreeCacheDep = Annotated[TreeCache, Depends(get_tree_cache)]
