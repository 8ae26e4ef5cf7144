"""A feature request the caller may see, decided by authz (authz/access/feature_requests.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.feature_requests.models import FeatureRequest

VisibleFeatureRequest = Annotated[FeatureRequest, Depends(access.get_visible_request)]
