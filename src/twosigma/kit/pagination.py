"""Page-number pagination: `?page=1&limit=20` (limit at most 100) → `{items, page, limit, total, pages}`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

MAX_LIMIT = 100

T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    page: int = 1
    limit: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (at most 100).")] = 20,
) -> PageParams:
    return PageParams(page=page, limit=limit)


Pagination = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    limit: int
    total: int
    pages: int


@dataclass(frozen=True)
class PageResult(Generic[T]):
    items: Sequence[T]
    page: int
    limit: int
    total: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.limit) if self.total else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": list(self.items),
            "page": self.page,
            "limit": self.limit,
            "total": self.total,
            "pages": self.pages,
        }


async def paginate(session: AsyncSession, stmt: Select[Any], params: PageParams) -> PageResult[Any]:
    """Run `stmt` for one page plus a count of all matches (two queries, whatever the size)."""
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.scalars(stmt.limit(params.limit).offset(params.offset))).all()
    return PageResult(items=rows, page=params.page, limit=params.limit, total=int(total or 0))
