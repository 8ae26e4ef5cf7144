"""An invitation for the person it is addressed to, or for staff who manage it (authz/access/invitations.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.invitations.models import Invitation

AddressedInvitation = Annotated[Invitation, Depends(access.get_addressed_invitation)]
ManagedInvitation = Annotated[Invitation, Depends(access.get_managed_invitation)]
