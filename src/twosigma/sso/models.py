"""Single sign-on: a university's OpenID Connect provider, the identities it asserted, the short-lived rows of one
sign-in (its state, then its one-time code), and the university's joining policy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, false, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from twosigma.db.base import Base, created_at_column, updated_at_column


class SsoProvider(Base):
    """One OpenID Connect provider per university. The endpoints are the ones discovery answered when it was saved."""

    __tablename__ = "university_sso_providers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    issuer: Mapped[str] = mapped_column(String(500), nullable=False)
    client_id: Mapped[str] = mapped_column(String(255), nullable=False)
    # Fernet, under TWOSIGMA_ENCRYPTION_KEYS (system_settings/crypto.py); never returned.
    client_secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))
    claim_email: Mapped[str] = mapped_column(String(100), nullable=False, server_default=text("'email'"))
    claim_name: Mapped[str] = mapped_column(String(100), nullable=False, server_default=text("'name'"))
    claim_role: Mapped[str | None] = mapped_column(String(100), nullable=True)
    claim_department: Mapped[str | None] = mapped_column(String(100), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    authorization_endpoint: Mapped[str] = mapped_column(String(1000), nullable=False)
    token_endpoint: Mapped[str] = mapped_column(String(1000), nullable=False)
    jwks_uri: Mapped[str] = mapped_column(String(1000), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class SsoIdentity(Base):
    """A user as a provider knows them: `(issuer, subject)` is the only key a sign-in is matched by."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    issuer: Mapped[str] = mapped_column(String(500), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    # The mapped role and department claims of the last sign-in, as the provider sent them (informational only:
    # no role is ever granted from a claim).
    role_claim: Mapped[str | None] = mapped_column(String(255), nullable=True)
    department_claim: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SsoLoginState(Base):
    """One sign-in in flight: found by the SHA-256 of its `state`, deleted when the callback uses it."""

    __tablename__ = "sso_login_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), nullable=False, index=True
    )
    nonce: Mapped[str] = mapped_column(String(128), nullable=False)
    code_verifier: Mapped[str] = mapped_column(String(128), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class SsoExchangeCode(Base):
    """The one-time code a finished sign-in hands the client, stored as its SHA-256; deleted when exchanged."""

    __tablename__ = "sso_exchange_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class UniversityAccessPolicy(Base):
    """Who may join a university and how its members sign in. No row: the defaults (anyone, any sign-in)."""

    __tablename__ = "university_access_policies"

    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    sso_required: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    # Lowercased domains (`uni.example`); empty: every domain. An exact match of the part after the @.
    allowed_email_domains: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    require_verified_email: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    updated_at: Mapped[datetime] = updated_at_column()
    # Chat sessions idle longer than this are deleted by the daily retention job (privacy/); None: kept.
    chat_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
