"""An injectable "now": routes take `Now` instead of calling datetime.now, so tests can freeze time.

Tests override it with `app.dependency_overrides[get_now] = lambda: fixed_instant`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends


async def get_now() -> datetime:
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(get_now)]
