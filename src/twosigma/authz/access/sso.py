"""Who may join a university, and who may still sign in with a password (docs/identity.md, "Who may join").

- **Email domains.** A university's `allowed_email_domains` (empty: any) decides who may enrol themselves there and
  whose single sign-on identity may be linked or create an account. Members who already hold a role there were
  admitted by its staff (a grant, an invitation) and are not asked again; platform admins are never refused.
- **Linking by email.** A provider is its university's word about *its* people: the first sign-in of an identity
  may land in an existing account with that email only when the account belongs to no other university and is no
  platform admin. Otherwise a university admin could register a provider they run, have it assert someone else's
  address as verified, and be signed in as a member of another university or as a platform admin.
- **Single sign-on required.** With `sso_required` and an enabled provider, the university's members sign in
  through it: a password sign-in is refused. Platform admins keep their password (the way back in when a provider
  is down or misconfigured).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import repository as authz_repo
from twosigma.authz.policy import is_member, is_platform_admin
from twosigma.authz.principal import Principal
from twosigma.enums import UserRole
from twosigma.kit.errors import Conflict, Forbidden
from twosigma.sso import repository as repo
from twosigma.sso.models import UniversityAccessPolicy
from twosigma.tenancy import repository as tenancy_repo
from twosigma.tenancy.models import University


class EmailDomainNotAllowed(Forbidden):
    code = "email_domain_not_allowed"
    default_message = "This university admits accounts of certain email domains only."


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    default_message = "This university requires a verified email address to enrol: verify yours first."


class SsoLinkRefused(Conflict):
    code = "sso_link_refused"
    default_message = (
        "An account with this email belongs to another university or administers the platform; this university's "
        "sign-in cannot be linked to it. Sign in to it as usual."
    )


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def email_domain_allowed(policy: UniversityAccessPolicy | None, email: str) -> bool:
    """An exact match of the part after the @ (no subdomains); no policy or an empty list admits every domain."""
    if policy is None or not policy.allowed_email_domains:
        return True
    return email_domain(email) in policy.allowed_email_domains


def ensure_email_domain_allowed(policy: UniversityAccessPolicy | None, email: str) -> None:
    if policy is not None and not email_domain_allowed(policy, email):
        raise EmailDomainNotAllowed(details={"allowed_email_domains": list(policy.allowed_email_domains)})


async def ensure_may_join(session: AsyncSession, principal: Principal, university_id: int) -> None:
    """Self-enrolment in one of the university's offerings: where its policy requires a verified email, the caller's
    must be (403 `email_not_verified`; `POST /auth/verify-email/request` sends the link), members included; and a
    caller who is not yet a member must have an admitted email domain. Platform admins pass."""
    if is_platform_admin(principal):
        return
    policy = await repo.get_policy(session, university_id)
    if policy is not None and policy.require_verified_email and principal.user.email_verified_at is None:
        raise EmailNotVerified()
    if is_member(principal, university_id):
        return
    ensure_email_domain_allowed(policy, principal.user.email)


async def ensure_may_link_by_email(session: AsyncSession, user_id: int, university_id: int) -> None:
    """409 `sso_link_refused` unless the account with the asserted email is one `university_id`'s provider may
    speak for: not a platform admin, and a member (role, enrolment or suspension) of no other university."""
    grants = await tenancy_repo.user_grants(session, user_id)
    if any(g.role is UserRole.PLATFORM_ADMIN for g in grants):
        raise SsoLinkRefused()
    if await authz_repo.universities_of(session, user_id) - {university_id}:
        raise SsoLinkRefused()


async def password_sign_in_refused(session: AsyncSession, user_id: int) -> Sequence[University]:
    """The universities whose `sso_required` keeps this user from signing in with a password (empty: none do)."""
    grants = await tenancy_repo.user_grants(session, user_id)
    if any(g.role is UserRole.PLATFORM_ADMIN for g in grants):
        return ()
    return await repo.sso_required_universities(session, user_id)
