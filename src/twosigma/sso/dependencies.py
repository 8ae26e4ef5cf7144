"""The university whose single sign-on and joining policy a route reads or changes (decided by authz)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.tenancy.models import University

SsoUniversity = Annotated[University, Depends(access.get_sso_university)]
