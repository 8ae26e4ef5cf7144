"""Business rules of the users domain: accounts, the caller's own record, profile, preferences, streak."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.auth.passwords import hash_password
from twosigma.authz.principal import Principal, UserSnapshot
from twosigma.config import Settings
from twosigma.kit.errors import Conflict, Invalid, Unauthorized
from twosigma.users import repository
from twosigma.users.models import User, UserProfile
from twosigma.users.schemas import (
    ProfileRead,
    ProfileWrite,
    RoleRead,
    StreakRead,
    SubjectPreferencesRead,
    UserMe,
    UserRead,
    UserUpdate,
)
from twosigma.users.streaks import effective_streak, local_today, next_streak


class EmailTaken(Conflict):
    code = "email_taken"
    default_message = "An account with this email already exists."


class UnknownSubjects(Invalid):
    code = "unknown_subjects"

    def __init__(self, subject_ids: list[int]) -> None:
        listed = ", ".join(str(s) for s in subject_ids)
        super().__init__(f"Unknown subject ids: {listed}.", details={"unknown_subject_ids": subject_ids})


# The stored "hash" of an account without a password (single sign-on): not bcrypt, so no password ever matches it
# and a sign-in attempt still costs one bcrypt check (auth/passwords.py, the dummy hash).
NO_PASSWORD = "!no-password"


@dataclass(frozen=True)
class NewAccount:
    email: str
    password: str | None  # None: an account without a password (created by single sign-on)
    full_name: str
    locale: str | None = None
    time_zone: str | None = None


async def create_user(session: AsyncSession, settings: Settings, account: NewAccount) -> User:
    """Insert a user; the email is already normalized (lowercased). Two concurrent calls → one 409 `email_taken`."""
    if await repository.email_exists(session, account.email):
        raise EmailTaken()
    user = User(
        email=account.email,
        password_hash=(
            NO_PASSWORD if account.password is None else await hash_password(account.password, settings.bcrypt_rounds)
        ),
        full_name=account.full_name,
    )
    if account.locale is not None:
        user.locale = account.locale
    if account.time_zone is not None:
        user.time_zone = account.time_zone
    try:
        # The savepoint keeps the request's transaction usable after a unique violation on ix_users_email.
        async with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise EmailTaken() from exc
    await session.refresh(user)
    return user


async def set_active(session: AsyncSession, user: User, active: bool) -> bool:
    """Activate or deactivate the account (whoever may decide it has decided); whether it changed. An erased
    account stays inactive: it has no owner any more."""
    if active and user.erased_at is not None:
        raise Conflict("This account was erased; it cannot be reactivated.", code="account_erased")
    changed = user.is_active != active
    user.is_active = active
    await session.flush()
    return changed


def me(principal: Principal, user: User | UserSnapshot | None = None) -> UserMe:
    """The caller as read at the start of the request, or `user` when the request changed it."""
    u = user if user is not None else principal.user
    roles = [
        RoleRead(university_id=g.university_id, role=g.role, department_id=g.department_id) for g in principal.grants
    ]
    return UserMe(
        **{name: getattr(u, name) for name in UserRead.model_fields},
        roles=roles,
        suspended_university_ids=sorted(principal.suspended_in),
    )


async def load_self(session: AsyncSession, principal: Principal) -> User:
    """The caller's row in `session`, to change it (the principal itself is a read-only snapshot)."""
    user = await session.get(User, principal.id)
    if user is None:  # deleted since the request began
        raise Unauthorized("The token is not valid.", code="invalid_token")
    return user


async def update_me(session: AsyncSession, principal: Principal, data: UserUpdate) -> UserMe:
    user = await load_self(session, principal)
    for name in data.model_fields_set:
        setattr(user, name, getattr(data, name))
    await session.flush()
    await session.refresh(user)  # updated_at is computed by the database
    return me(principal, user)


async def get_profile(session: AsyncSession, user_id: int) -> ProfileRead:
    """A user who skipped onboarding has an empty profile (every field null), not a 404."""
    profile = await repository.get_profile(session, user_id)
    return ProfileRead.model_validate(profile) if profile is not None else ProfileRead()


async def create_profile(session: AsyncSession, user_id: int, data: ProfileWrite) -> ProfileRead:
    """The profile of a user who has none yet (onboarding, at registration)."""
    profile = UserProfile(user_id=user_id, **data.model_dump())
    session.add(profile)
    await session.flush()
    return ProfileRead.model_validate(profile)


async def put_profile(session: AsyncSession, user_id: int, data: ProfileWrite) -> ProfileRead:
    values = data.model_dump()
    stmt = (
        insert(UserProfile)
        .values(user_id=user_id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
        .returning(UserProfile)
        .execution_options(populate_existing=True)
    )
    profile = (await session.scalars(stmt)).one()
    return ProfileRead.model_validate(profile)


async def ensure_subjects_exist(session: AsyncSession, subject_ids: Iterable[int]) -> None:
    unknown = await repository.unknown_subject_ids(session, subject_ids)
    if unknown:
        raise UnknownSubjects(unknown)


async def get_subject_preferences(session: AsyncSession, user_id: int) -> SubjectPreferencesRead:
    return SubjectPreferencesRead(subject_ids=await repository.subject_ids_of(session, user_id))


async def put_subject_preferences(
    session: AsyncSession, user_id: int, subject_ids: Iterable[int]
) -> SubjectPreferencesRead:
    wanted = sorted(set(subject_ids))
    await ensure_subjects_exist(session, wanted)
    try:
        async with session.begin_nested():
            await repository.replace_subject_preferences(session, user_id, wanted)
    except IntegrityError as exc:
        # A subject deleted between the check and the insert.
        raise Conflict("A subject changed while saving; try again.", code="subject_preferences_conflict") from exc
    return SubjectPreferencesRead(subject_ids=wanted)


async def record_activity(session: AsyncSession, user_id: int, now: datetime) -> tuple[int, date]:
    """Count activity at `now` in the user's daily streak: the user row stays locked until the transaction ends (two
    concurrent writes count one day once), and is written only when the streak moves. The (streak,
    last_activity_date) after it."""
    state = await repository.lock_streak(session, user_id)
    before = (state.current_streak_days, state.last_activity_date)
    after = next_streak(*before, local_today(state.time_zone, now))
    if after != before:
        await repository.set_streak(session, user_id, *after)
    return after


def streak(user: User | UserSnapshot, now: datetime | None = None) -> StreakRead:
    today = local_today(user.time_zone, now)
    return StreakRead(
        current_streak_days=effective_streak(user.current_streak_days, user.last_activity_date, today),
        last_activity_date=user.last_activity_date,
        time_zone=user.time_zone,
    )


async def mark_email_verified(session: AsyncSession, user: User, at: datetime) -> None:
    """The owner proved they read mail at the account's address (a verification or reset link)."""
    if user.email_verified_at is None:
        user.email_verified_at = at
        await session.flush()


async def change_email(session: AsyncSession, user: User, new_email: str, at: datetime) -> None:
    """Move the account to `new_email` (confirmed by a link mailed there: verified as of `at`); 409 when taken."""
    if await repository.email_exists(session, new_email):
        raise EmailTaken()
    try:
        async with session.begin_nested():
            user.email = new_email
            user.email_verified_at = at
    except IntegrityError as exc:
        raise EmailTaken() from exc


async def reclaim_unverified(session: AsyncSession, user: User, at: datetime) -> None:
    """The address of an account that never proved it was just proven by someone else (a single sign-on provider
    asserting it verified): the password whoever registered the account chose stops working, and the address is
    verified as of `at`. The caller signs its sessions out."""
    user.password_hash = NO_PASSWORD
    user.email_verified_at = at


# --- Erasure (privacy/service.py orchestrates; docs/identity.md "Take it or erase it") -------------------------------

ERASED_NAME = "Erased user"
# Not a bcrypt hash: password sign-in always fails for it (after the usual equal work, auth/passwords.py).
ERASED_PASSWORD_HASH = "!erased"


def erased_email(user_id: int) -> str:
    """A unique address that names nobody and can never be registered (`.invalid` is reserved, RFC 2606)."""
    return f"erased-{user_id}@erased.invalid"


async def erase_user(session: AsyncSession, user: User, at: datetime) -> None:
    """Clear the account's personal fields and delete its profile and subject preferences. The row stays as a
    tombstone (inactive, no password, a placeholder address), so the anonymous learning records that point at it
    keep their foreign keys, and the address it had is free to register again."""
    await repository.delete_personal_rows(session, user.id)
    user.email = erased_email(user.id)
    user.full_name = ERASED_NAME
    user.password_hash = ERASED_PASSWORD_HASH
    user.locale = "en"
    user.time_zone = "UTC"
    user.is_active = False
    user.email_verified_at = None
    user.current_streak_days = 0
    user.last_activity_date = None
    user.erased_at = at
    await session.flush()
