"""Companies and users. A user has exactly one role; company admins belong to one company."""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, VersionedMixin, db, enum_check
from portal.i18n import _l

PROGRAM_MANAGER = "program_manager"
COMPANY_ADMIN = "company_admin"
ROLES = (PROGRAM_MANAGER, COMPANY_ADMIN)
ROLE_LABELS = {PROGRAM_MANAGER: _l("Program manager"), COMPANY_ADMIN: _l("Company admin")}  # shown in the reader's language


class Company(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "companies"
    __table_args__ = (sa.Index("ix_companies_created", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    country: Mapped[str | None] = mapped_column(sa.String(2))
    industry: Mapped[str | None] = mapped_column(sa.String(100))
    # The company's own key for beneficiary pseudonyms (portal.enrollments.pseudonyms):
    # random per company and never shown, so two companies' references can't be linked.
    pseudonym_key: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_hex(32))

    users: Mapped[list[User]] = relationship(back_populates="company")

    def __repr__(self) -> str:
        return f"<Company {self.key}>"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        enum_check("role", ROLES),
        # Company admins need a company; program managers belong to none.
        sa.CheckConstraint(
            "(role = 'company_admin' AND company_id IS NOT NULL) OR (role = 'program_manager' AND company_id IS NULL)",
            name="role_company",
        ),
        # Stored lowercased, so the plain UNIQUE is case-insensitive uniqueness.
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.Index("ix_users_company_created", "company_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)  # stored lowercased
    name: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(32))
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companies.id", ondelete="RESTRICT"))
    is_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # Rotated on sign-out, deactivation and password reset: a replayed cookie carries the old one.
    session_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_session_token)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language the user chose in the page header (portal.i18n.LANGUAGES); None follows the browser.
    locale: Mapped[str | None] = mapped_column(sa.String(8))

    company: Mapped[Company | None] = relationship(back_populates="users")

    # Flask-Login: the cookie stores "id:token", so rotating the token ends every session.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.is_enabled)

    @property
    def is_program_manager(self) -> bool:
        return self.role == PROGRAM_MANAGER

    @property
    def is_company_admin(self) -> bool:
        return self.role == COMPANY_ADMIN

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.role, self.role))

    def __repr__(self) -> str:
        return f"<User {self.email}>"
