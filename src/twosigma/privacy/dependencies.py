"""The caller's own export and the account a platform admin erases, decided by authz (authz/access/privacy.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.privacy.models import DataExport
from twosigma.users.models import User

OwnExport = Annotated[DataExport, Depends(access.get_own_export)]
ErasableAccount = Annotated[User, Depends(access.get_erasable_account)]
