"""Every CHECK, UNIQUE and FOREIGN KEY constraint of the schema, proven against the
database itself.

The statements here are raw SQLAlchemy Core inserts/updates/deletes (no ORM, no
operations, no validation), so a passing test means the *database* refuses the row.
The suite's database is built by running the migrations, so these tests also prove
that the migrated schema carries the constraints.

Each refused statement runs inside a SAVEPOINT, so the transaction stays usable
afterwards (on PostgreSQL a failed statement would otherwise abort it); every test
checks that. Each violation case also names the constraint it expects (PostgreSQL
names the constraint; SQLite names CHECKs, and the columns for UNIQUE), so a row
refused for an unrelated reason (a missing NOT NULL, another CHECK) fails the test.
Positive controls (a valid row, boundary values, allowed duplicates) prove that the
constraints are not stricter than the SPEC.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.db import db
from portal.models import (
    ActivityEvent,
    BeneficiaryGroup,
    Campaign,
    Company,
    Enrollment,
    L2IAllocation,
    L2ISubscription,
    Participant,
    Program,
    ProgramTemplate,
    User,
)

TABLES: dict[str, sa.Table] = {
    model.__tablename__: model.__table__
    for model in (Company, User, ProgramTemplate, BeneficiaryGroup, Program, Campaign, Participant, Enrollment,
                  L2ISubscription, L2IAllocation, ActivityEvent)
}
MISSING_ID = 987_654_321  # no row has this id
_seq = itertools.count(1)


# --- the scene: parent rows, built with the factories before any app context -----------
@dataclass
class Scene:
    company_a: int
    company_b: int
    user: int
    template: int
    group: int
    program: int
    campaign: int  # in company_a
    campaign_b: int  # in company_b, same program
    participant: int
    subscription: int  # of company_a, 2026-01-01 .. 2026-12-31


@dataclass(frozen=True)
class Ref:
    """A scene id inside a parametrize table: ``Ref("company_a")``."""

    name: str


@pytest.fixture
def scene(app, make) -> Scene:
    company_a = make.company()
    company_b = make.company()
    user = make.user()
    program = make.program()
    campaign = make.campaign(company_a, program)
    campaign_b = make.campaign(company_b, program)
    participant = make.participant()
    with app.app_context():  # no factory for L2I yet: commit one like the factories do
        subscription = db.session.execute(
            sa.insert(TABLES["l2i_subscriptions"]).values(**_subscription_row(company_a.id))
        ).inserted_primary_key[0]
        db.session.commit()
    return Scene(company_a=company_a.id, company_b=company_b.id, user=user.id, template=program.template_id,
                 group=program.group_id, program=program.id, campaign=campaign.id, campaign_b=campaign_b.id,
                 participant=participant.id, subscription=subscription)


# --- valid rows ------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC)


def _stamps() -> dict[str, Any]:
    now = _now()
    return {"created_at": now, "updated_at": now, "lock_version": 1}


def _subscription_row(company_id: int) -> dict[str, Any]:
    return {"company_id": company_id, "sku": "L2I-250", "learners": 250, "annual_price": 1_300_000,
            "currency": "EUR", "period_start": date(2026, 1, 1), "period_end": date(2026, 12, 31),
            "status": "active", "allocated_bp": 0, **_stamps()}


def valid_row(table: str, s: Scene, **overrides: Any) -> dict[str, Any]:
    """A row of ``table`` that satisfies every constraint, with ``overrides`` applied.

    Unique columns get fresh values on every call, so two calls never collide unless
    the overrides make them. ``Ref`` values in the overrides are resolved against the scene.
    """
    n = next(_seq)
    rows: dict[str, Callable[[], dict[str, Any]]] = {
        "companies": lambda: {"key": f"ck-company-{n}", "name": f"Constraint Co {n}", "country": "NO",
                              "pseudonym_key": f"{n:064x}"},
        "users": lambda: {"email": f"ck-user{n}@example.test", "name": f"User {n}", "role": "program_manager",
                          "company_id": None, "is_enabled": True, "password_hash": "x" * 60,
                          "session_token": f"ck-token-{n}"},
        "program_templates": lambda: {"key": f"ck-template-{n}", "version": 1, "name": "Template",
                                      "description": "", "category": "mentorship",
                                      "config_schema": {"type": "object"}, "default_config": {},
                                      "ui_schema": None, "status": "draft", "tags": [], "sdg_goals": [4]},
        "beneficiary_groups": lambda: {"key": f"ck-group-{n}", "name": f"Group {n}", "description": "",
                                       "group_type": "refugees", "country": "NO", "languages": ["en"],
                                       "language_requirement": "any", "eligible_categories": ["mentorship"],
                                       "tags": [], "status": "active", "age_min": None, "age_max": None,
                                       "active_from": None, "active_until": None},
        "programs": lambda: {"key": f"ck-program-{n}", "template_id": s.template, "group_id": s.group,
                             "name": f"Program {n}", "description": "", "config_overrides": {},
                             "status": "draft", "start_date": date(2026, 1, 1), "end_date": date(2026, 12, 31),
                             "visibility": "public", "tags": [], "sdg_goals": [], "external_id": None},
        "campaigns": lambda: {"key": f"ck-campaign-{n}", "program_id": s.program, "company_id": s.company_a,
                              "name": f"Campaign {n}", "description": "", "config_overrides": {},
                              "status": "draft", "start_date": date(2026, 1, 1), "end_date": None,
                              "target_enrollment": None, "max_enrollment": None, "waitlist_enabled": False,
                              "target_volunteers": None, "currency": "EUR", "budget_allocated": None,
                              "seat_price": None, "tags": [], "enrolled_count": 0, "waitlisted_count": 0},
        "participants": lambda: {"ref": f"P-CK{n:06d}", "display_name": f"Participant {n}", "email": None,
                                 "year_of_birth": None, "languages": [], "external_ref": None,
                                 "is_enabled": True},
        "enrollments": lambda: {"campaign_id": s.campaign, "participant_id": s.participant, "role": "beneficiary",
                                "status": "active", "enrolled_at": _now(), "completed_at": None,
                                "dropped_at": None, "source": "manual", "metadata": {}},
        "l2i_subscriptions": lambda: _subscription_row(s.company_a),
        "l2i_allocations": lambda: {"subscription_id": s.subscription, "program_id": None,
                                    "campaign_id": s.campaign, "share_bp": 2500, "amount": 325_000,
                                    "period_start": date(2026, 1, 1), "period_end": date(2026, 6, 30)},
        "activity_events": lambda: {"type": "program.created", "subject_type": "program", "subject_label": "",
                                    "data": {}},
    }
    row = {**_stamps(), **rows[table]()}
    if "lock_version" not in TABLES[table].c:  # activity events are append-only, never versioned
        del row["lock_version"]
    row.update({k: getattr(s, v.name) if isinstance(v, Ref) else v for k, v in overrides.items()})
    return row


def insert(table: str, s: Scene, **overrides: Any) -> int:
    result = db.session.execute(sa.insert(TABLES[table]).values(**valid_row(table, s, **overrides)))
    return result.inserted_primary_key[0]


def assert_refused(statement: sa.Executable, match: str) -> None:
    """The statement raises IntegrityError naming the constraint, and the transaction survives."""
    with pytest.raises(IntegrityError, match=match):
        with db.session.begin_nested():
            db.session.execute(statement)
    assert db.session.scalar(sa.select(sa.literal(1))) == 1  # still usable after the savepoint rollback


def check(name: str) -> str:
    """Both backends name a violated CHECK (SQLite: "CHECK constraint failed: <name>")."""
    return rf"\b{name}\b"


def unique(name: str, *columns: str) -> str:
    """PostgreSQL names the constraint or index; SQLite lists the table.column names."""
    return rf"\b{name}\b|UNIQUE constraint failed: {', '.join(columns)}(?![,\w])"


def foreign_key(name: str) -> str:
    return rf"\b{name}\b|FOREIGN KEY constraint failed"


# --- the helper itself -------------------------------------------------------------------
@pytest.mark.parametrize("table", sorted(TABLES))
def test_valid_row_fills_every_required_column(table):
    """Keeps the helper honest when a model gains a NOT NULL column."""
    required = {c.name for c in TABLES[table].columns
                if not c.nullable and not c.primary_key and c.server_default is None}
    dummy = Scene(*range(1, 11))
    assert required - set(valid_row(table, dummy)) == set()


# --- positive controls ------------------------------------------------------------------
@pytest.mark.parametrize("table", sorted(TABLES))
def test_a_valid_row_inserts(app, scene, table):
    with app.app_context():
        new_id = insert(table, scene)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TABLES[table])
                                 .where(TABLES[table].c.id == new_id)) == 1


ACCEPTED = [
    # users
    pytest.param("users", {"role": "company_admin", "company_id": Ref("company_a")},
                 id="users-company-admin-with-company"),
    pytest.param("users", {"role": "program_manager", "company_id": None}, id="users-program-manager-without-company"),
    # program templates
    pytest.param("program_templates", {"version": 1}, id="templates-version-1"),
    *[pytest.param("program_templates", {"status": v}, id=f"templates-status-{v}")
      for v in ("draft", "active", "deprecated", "archived")],
    *[pytest.param("program_templates", {"category": v}, id=f"templates-category-{v}")
      for v in ("mentorship", "language", "buddy", "upskilling", "weei")],
    # beneficiary groups
    pytest.param("beneficiary_groups", {"age_min": 0, "age_max": 120}, id="groups-age-0-to-120"),
    pytest.param("beneficiary_groups", {"age_min": 18, "age_max": 18}, id="groups-age-min-equals-max"),
    pytest.param("beneficiary_groups", {"age_min": 18, "age_max": None}, id="groups-age-min-only"),
    pytest.param("beneficiary_groups", {"active_from": date(2026, 3, 1), "active_until": date(2026, 3, 1)},
                 id="groups-active-one-day"),
    *[pytest.param("beneficiary_groups", {"group_type": v}, id=f"groups-type-{v}")
      for v in ("refugees", "migrants", "asylum_seekers", "displaced_persons", "newcomers", "women_in_tech",
                "youth", "seniors", "students", "job_seekers", "caregivers", "veterans", "other")],
    *[pytest.param("beneficiary_groups", {"status": v}, id=f"groups-status-{v}")
      for v in ("active", "inactive", "archived")],
    *[pytest.param("beneficiary_groups", {"language_requirement": v}, id=f"groups-language-{v}")
      for v in ("any", "beginner", "conversational", "fluent")],
    # programs
    pytest.param("programs", {"start_date": date(2026, 5, 1), "end_date": date(2026, 5, 1)},
                 id="programs-end-equals-start"),
    pytest.param("programs", {"start_date": None, "end_date": date(2026, 5, 1)}, id="programs-end-without-start"),
    *[pytest.param("programs", {"status": v}, id=f"programs-status-{v}")
      for v in ("draft", "active", "paused", "completed", "archived")],
    *[pytest.param("programs", {"visibility": v}, id=f"programs-visibility-{v}") for v in ("public", "private")],
    # campaigns
    pytest.param("campaigns", {"target_enrollment": 10, "max_enrollment": 10, "enrolled_count": 10},
                 id="campaigns-full-at-the-cap"),
    pytest.param("campaigns", {"end_date": date(2026, 1, 1)}, id="campaigns-end-equals-start"),
    pytest.param("campaigns", {"seat_price": 100, "budget_allocated": 1000, "enrolled_count": 10},
                 id="campaigns-budget-exactly-spent"),
    pytest.param("campaigns", {"seat_price": 0, "budget_allocated": 0, "enrolled_count": 5},
                 id="campaigns-free-seats-no-budget"),
    pytest.param("campaigns", {"max_enrollment": 0, "target_enrollment": 0}, id="campaigns-zero-cap"),
    *[pytest.param("campaigns", {"status": v}, id=f"campaigns-status-{v}")
      for v in ("draft", "active", "paused", "completed", "archived")],
    # participants
    pytest.param("participants", {"year_of_birth": 1900}, id="participants-born-1900"),
    pytest.param("participants", {"year_of_birth": 2100}, id="participants-born-2100"),
    # enrollments
    pytest.param("enrollments", {"status": "completed", "completed_at": datetime(2026, 6, 1, tzinfo=UTC)},
                 id="enrollments-completed-with-time"),
    pytest.param("enrollments", {"status": "dropped", "dropped_at": datetime(2026, 6, 1, tzinfo=UTC)},
                 id="enrollments-dropped-with-time"),
    pytest.param("enrollments", {"status": "waitlisted", "enrolled_at": None, "waitlisted_at": _now()}, id="enrollments-waitlisted"),
    pytest.param("enrollments", {"role": "volunteer"}, id="enrollments-volunteer"),
    *[pytest.param("enrollments", {"source": v}, id=f"enrollments-source-{v}")
      for v in ("manual", "csv", "kintell", "buddy", "upskilling")],
    # L2I subscriptions
    *[pytest.param("l2i_subscriptions", {"sku": v, "learners": n}, id=f"subscriptions-sku-{v}")
      for v, n in (("L2I-250", 250), ("L2I-500", 500), ("L2I-EXPAND", 2500), ("L2I-LAUNCH", 5000))],
    *[pytest.param("l2i_subscriptions", {"status": v}, id=f"subscriptions-status-{v}")
      for v in ("active", "expired", "canceled")],
    pytest.param("l2i_subscriptions", {"allocated_bp": 10_000}, id="subscriptions-fully-allocated"),
    pytest.param("l2i_subscriptions", {"annual_price": 0}, id="subscriptions-free"),
    pytest.param("l2i_subscriptions", {"period_end": date(2026, 1, 1)}, id="subscriptions-one-day"),
    # L2I allocations
    pytest.param("l2i_allocations", {"share_bp": 10_000}, id="allocations-share-100-percent"),
    pytest.param("l2i_allocations", {"share_bp": 1}, id="allocations-share-0.01-percent"),
    pytest.param("l2i_allocations", {"amount": 0}, id="allocations-amount-zero"),
    pytest.param("l2i_allocations", {"program_id": Ref("program"), "campaign_id": None},
                 id="allocations-program-target"),
    pytest.param("l2i_allocations", {"period_end": date(2026, 1, 1)}, id="allocations-one-day"),
]


@pytest.mark.parametrize(("table", "overrides"), ACCEPTED)
def test_boundary_rows_are_accepted(app, scene, table, overrides):
    with app.app_context():
        insert(table, scene, **overrides)


# --- CHECK constraints (and NOT NULL-free violations) on insert ---------------------------
REFUSED = [
    # users
    pytest.param("users", {"role": "company_admin", "company_id": None}, check("ck_users_role_company"),
                 id="users-company-admin-without-company"),
    pytest.param("users", {"role": "program_manager", "company_id": Ref("company_a")},
                 check("ck_users_role_company"), id="users-program-manager-with-company"),
    pytest.param("users", {"email": "Mixed.Case@example.org"}, check("ck_users_email_lowercase"),
                 id="users-email-not-lowercased"),
    # An unknown role breaks both CHECKs (role_company lists the roles too); backends report either.
    pytest.param("users", {"role": "superuser"}, r"\bck_users_role_(allowed|company)\b", id="users-role-unknown"),
    # program templates
    pytest.param("program_templates", {"version": 0}, check("ck_program_templates_version_positive"),
                 id="templates-version-0"),
    pytest.param("program_templates", {"version": -1}, check("ck_program_templates_version_positive"),
                 id="templates-version-negative"),
    pytest.param("program_templates", {"status": "published"}, check("ck_program_templates_status_allowed"),
                 id="templates-status-unknown"),
    pytest.param("program_templates", {"category": "cooking"}, check("ck_program_templates_category_allowed"),
                 id="templates-category-unknown"),
    pytest.param("program_templates", {"deprecated_by_id": MISSING_ID},
                 foreign_key("fk_program_templates_deprecated_by_id_program_templates"),
                 id="templates-deprecated-by-missing"),
    # beneficiary groups
    pytest.param("beneficiary_groups", {"age_min": -1}, check("ck_beneficiary_groups_age_min_range"),
                 id="groups-age-min-negative"),
    pytest.param("beneficiary_groups", {"age_min": 121}, check("ck_beneficiary_groups_age_min_range"),
                 id="groups-age-min-121"),
    pytest.param("beneficiary_groups", {"age_max": -1}, check("ck_beneficiary_groups_age_max_range"),
                 id="groups-age-max-negative"),
    pytest.param("beneficiary_groups", {"age_max": 121}, check("ck_beneficiary_groups_age_max_range"),
                 id="groups-age-max-121"),
    pytest.param("beneficiary_groups", {"age_min": 30, "age_max": 29}, check("ck_beneficiary_groups_age_order"),
                 id="groups-age-min-above-max"),
    pytest.param("beneficiary_groups", {"active_from": date(2026, 3, 2), "active_until": date(2026, 3, 1)},
                 check("ck_beneficiary_groups_active_dates_order"), id="groups-active-until-before-from"),
    pytest.param("beneficiary_groups", {"group_type": "persons"}, check("ck_beneficiary_groups_group_type_allowed"),
                 id="groups-type-unknown"),
    pytest.param("beneficiary_groups", {"status": "deleted"}, check("ck_beneficiary_groups_status_allowed"),
                 id="groups-status-unknown"),
    pytest.param("beneficiary_groups", {"language_requirement": "native"},
                 check("ck_beneficiary_groups_language_requirement_allowed"), id="groups-language-unknown"),
    pytest.param("beneficiary_groups", {"created_by_id": MISSING_ID},
                 foreign_key("fk_beneficiary_groups_created_by_id_users"), id="groups-creator-missing"),
    # programs
    pytest.param("programs", {"start_date": date(2026, 5, 2), "end_date": date(2026, 5, 1)},
                 check("ck_programs_dates_order"), id="programs-end-before-start"),
    pytest.param("programs", {"status": "running"}, check("ck_programs_status_allowed"), id="programs-status-unknown"),
    pytest.param("programs", {"visibility": "secret"}, check("ck_programs_visibility_allowed"),
                 id="programs-visibility-unknown"),
    pytest.param("programs", {"template_id": MISSING_ID}, foreign_key("fk_programs_template_id_program_templates"),
                 id="programs-template-missing"),
    pytest.param("programs", {"group_id": MISSING_ID}, foreign_key("fk_programs_group_id_beneficiary_groups"),
                 id="programs-group-missing"),
    # campaigns
    pytest.param("campaigns", {"target_enrollment": 10, "max_enrollment": 9},
                 check("ck_campaigns_max_at_least_target"), id="campaigns-max-below-target"),
    pytest.param("campaigns", {"start_date": date(2026, 1, 2), "end_date": date(2026, 1, 1)},
                 check("ck_campaigns_dates_order"), id="campaigns-end-before-start"),
    pytest.param("campaigns", {"max_enrollment": 5, "enrolled_count": 6}, check("ck_campaigns_within_capacity"),
                 id="campaigns-over-capacity"),
    pytest.param("campaigns", {"seat_price": 100, "budget_allocated": 1000, "enrolled_count": 11},
                 check("ck_campaigns_within_budget"), id="campaigns-over-budget"),
    pytest.param("campaigns", {"enrolled_count": -1}, check("ck_campaigns_counters_nonnegative"),
                 id="campaigns-enrolled-count-negative"),
    pytest.param("campaigns", {"waitlisted_count": -1}, check("ck_campaigns_counters_nonnegative"),
                 id="campaigns-waitlisted-count-negative"),
    pytest.param("campaigns", {"target_enrollment": -1}, check("ck_campaigns_target_nonnegative"),
                 id="campaigns-target-negative"),
    # A negative cap also breaks within_capacity (0 <= -1 is false); backends report either.
    pytest.param("campaigns", {"max_enrollment": -1}, r"\bck_campaigns_(max_nonnegative|within_capacity)\b",
                 id="campaigns-max-negative"),
    pytest.param("campaigns", {"target_volunteers": -1}, check("ck_campaigns_volunteers_nonnegative"),
                 id="campaigns-target-volunteers-negative"),
    pytest.param("campaigns", {"budget_allocated": -1}, check("ck_campaigns_budget_nonnegative"),
                 id="campaigns-budget-negative"),
    pytest.param("campaigns", {"seat_price": -1}, check("ck_campaigns_seat_price_nonnegative"),
                 id="campaigns-seat-price-negative"),
    pytest.param("campaigns", {"currency": "EU"}, check("ck_campaigns_currency_code"), id="campaigns-currency-2"),
    pytest.param("campaigns", {"currency": "eur"}, check("ck_campaigns_currency_code"), id="campaigns-currency-lowercase"),
    pytest.param("campaigns", {"currency": ""}, check("ck_campaigns_currency_code"), id="campaigns-currency-empty"),
    pytest.param("campaigns", {"status": "running"}, check("ck_campaigns_status_allowed"),
                 id="campaigns-status-unknown"),
    pytest.param("campaigns", {"program_id": MISSING_ID}, foreign_key("fk_campaigns_program_id_programs"),
                 id="campaigns-program-missing"),
    pytest.param("campaigns", {"company_id": MISSING_ID}, foreign_key("fk_campaigns_company_id_companies"),
                 id="campaigns-company-missing"),
    pytest.param("campaigns", {"l2i_subscription_id": MISSING_ID},
                 foreign_key("fk_campaigns_l2i_subscription_id_l2i_subscriptions"),
                 id="campaigns-subscription-missing"),
    # participants
    pytest.param("participants", {"email": "Olena@Example.org"}, check("ck_participants_email_lowercase"),
                 id="participants-email-not-lowercased"),
    pytest.param("participants", {"year_of_birth": 1899}, check("ck_participants_year_of_birth_range"),
                 id="participants-born-1899"),
    pytest.param("participants", {"year_of_birth": 2101}, check("ck_participants_year_of_birth_range"),
                 id="participants-born-2101"),
    pytest.param("participants", {"company_id": MISSING_ID}, foreign_key("fk_participants_company_id_companies"),
                 id="participants-company-missing"),
    # enrollments
    pytest.param("enrollments", {"role": "mentor"}, check("ck_enrollments_role_allowed"),
                 id="enrollments-role-unknown"),
    pytest.param("enrollments", {"status": "pending"}, check("ck_enrollments_status_allowed"),
                 id="enrollments-status-unknown"),
    pytest.param("enrollments", {"source": "api"}, check("ck_enrollments_source_allowed"),
                 id="enrollments-source-unknown"),
    pytest.param("enrollments", {"status": "completed", "completed_at": None},
                 check("ck_enrollments_completed_has_time"), id="enrollments-completed-without-time"),
    pytest.param("enrollments", {"status": "dropped", "dropped_at": None}, check("ck_enrollments_dropped_has_time"),
                 id="enrollments-dropped-without-time"),
    pytest.param("enrollments", {"status": "active", "enrolled_at": None}, check("ck_enrollments_active_has_time"),
                 id="enrollments-active-without-time"),
    pytest.param("enrollments", {"status": "waitlisted", "waitlisted_at": None},
                 check("ck_enrollments_waitlisted_has_time"), id="enrollments-waitlisted-without-time"),
    pytest.param("enrollments", {"campaign_id": MISSING_ID}, foreign_key("fk_enrollments_campaign_id_campaigns"),
                 id="enrollments-campaign-missing"),
    pytest.param("enrollments", {"participant_id": MISSING_ID},
                 foreign_key("fk_enrollments_participant_id_participants"), id="enrollments-participant-missing"),
    # L2I subscriptions
    # an unknown SKU breaks both CHECKs; backends report either
    pytest.param("l2i_subscriptions", {"sku": "L2I-100"}, r"\bck_l2i_subscriptions_(sku_allowed|learners_match_sku)\b",
                 id="subscriptions-sku-unknown"),
    pytest.param("l2i_subscriptions", {"status": "paused"}, check("ck_l2i_subscriptions_status_allowed"),
                 id="subscriptions-status-unknown"),
    pytest.param("l2i_subscriptions", {"allocated_bp": 10_001}, check("ck_l2i_subscriptions_allocated_at_most_full"),
                 id="subscriptions-allocated-over-100-percent"),
    pytest.param("l2i_subscriptions", {"allocated_bp": -1}, check("ck_l2i_subscriptions_allocated_at_most_full"),
                 id="subscriptions-allocated-negative"),
    pytest.param("l2i_subscriptions", {"period_start": date(2026, 1, 2), "period_end": date(2026, 1, 1)},
                 check("ck_l2i_subscriptions_period_order"), id="subscriptions-period-reversed"),
    pytest.param("l2i_subscriptions", {"annual_price": -1}, check("ck_l2i_subscriptions_price_nonnegative"),
                 id="subscriptions-price-negative"),
    # zero learners breaks both CHECKs; backends report either
    pytest.param("l2i_subscriptions", {"learners": 0}, r"\bck_l2i_subscriptions_learners_(positive|match_sku)\b",
                 id="subscriptions-no-learners"),
    pytest.param("l2i_subscriptions", {"sku": "L2I-500", "learners": 250},
                 check("ck_l2i_subscriptions_learners_match_sku"), id="subscriptions-learners-not-the-skus"),
    pytest.param("l2i_subscriptions", {"currency": "nok"}, check("ck_l2i_subscriptions_currency_code"),
                 id="subscriptions-currency-lowercase"),
    pytest.param("l2i_subscriptions", {"currency": "EU"}, check("ck_l2i_subscriptions_currency_code"),
                 id="subscriptions-currency-2"),
    pytest.param("l2i_subscriptions", {"company_id": MISSING_ID},
                 foreign_key("fk_l2i_subscriptions_company_id_companies"), id="subscriptions-company-missing"),
    # L2I allocations
    pytest.param("l2i_allocations", {"share_bp": 0}, check("ck_l2i_allocations_share_range"),
                 id="allocations-share-zero"),
    pytest.param("l2i_allocations", {"share_bp": 10_001}, check("ck_l2i_allocations_share_range"),
                 id="allocations-share-over-100-percent"),
    pytest.param("l2i_allocations", {"share_bp": -1}, check("ck_l2i_allocations_share_range"),
                 id="allocations-share-negative"),
    pytest.param("l2i_allocations", {"amount": -1}, check("ck_l2i_allocations_amount_nonnegative"),
                 id="allocations-amount-negative"),
    pytest.param("l2i_allocations", {"program_id": Ref("program"), "campaign_id": Ref("campaign")},
                 check("ck_l2i_allocations_one_target"), id="allocations-two-targets"),
    pytest.param("l2i_allocations", {"program_id": None, "campaign_id": None}, check("ck_l2i_allocations_one_target"),
                 id="allocations-no-target"),
    pytest.param("l2i_allocations", {"period_start": date(2026, 2, 2), "period_end": date(2026, 2, 1)},
                 check("ck_l2i_allocations_period_order"), id="allocations-period-reversed"),
    pytest.param("l2i_allocations", {"subscription_id": MISSING_ID},
                 foreign_key("fk_l2i_allocations_subscription_id_l2i_subscriptions"),
                 id="allocations-subscription-missing"),
    pytest.param("l2i_allocations", {"campaign_id": MISSING_ID},
                 foreign_key("fk_l2i_allocations_campaign_id_campaigns"), id="allocations-campaign-missing"),
    pytest.param("l2i_allocations", {"program_id": MISSING_ID, "campaign_id": None},
                 foreign_key("fk_l2i_allocations_program_id_programs"), id="allocations-program-missing"),
    # activity events carry no CHECKs, only foreign keys
    pytest.param("activity_events", {"actor_id": MISSING_ID}, foreign_key("fk_activity_events_actor_id_users"),
                 id="events-actor-missing"),
    pytest.param("activity_events", {"company_id": MISSING_ID}, foreign_key("fk_activity_events_company_id_companies"),
                 id="events-company-missing"),
    pytest.param("users", {"role": "company_admin", "company_id": MISSING_ID},
                 foreign_key("fk_users_company_id_companies"), id="users-company-missing"),
]


@pytest.mark.parametrize(("table", "overrides", "match"), REFUSED)
def test_invalid_row_is_refused(app, scene, table, overrides, match):
    with app.app_context():
        assert_refused(sa.insert(TABLES[table]).values(**valid_row(table, scene, **overrides)), match)


# --- UNIQUE constraints and the partial unique indexes -----------------------------------
DUPLICATES = [
    pytest.param("companies", {"key": "acme"}, {"key": "acme"}, unique("uq_companies_key", "companies.key"),
                 id="companies-key"),
    pytest.param("companies", {"name": "Acme"}, {"name": "Acme"}, unique("uq_companies_name", "companies.name"),
                 id="companies-name"),
    pytest.param("users", {"email": "ann@example.test"}, {"email": "ann@example.test"},
                 unique("uq_users_email", "users.email"), id="users-email"),
    pytest.param("users", {"session_token": "tok"}, {"session_token": "tok"},
                 unique("uq_users_session_token", "users.session_token"), id="users-session-token"),
    pytest.param("program_templates", {"key": "t", "version": 1, "status": "deprecated"},
                 {"key": "t", "version": 1, "status": "archived"},
                 unique("uq_program_templates_key_version", "program_templates.key", "program_templates.version"),
                 id="templates-key-version"),
    pytest.param("program_templates", {"key": "t", "version": 1, "status": "draft"},
                 {"key": "t", "version": 2, "status": "draft"},
                 unique("uq_program_templates_one_draft", "program_templates.key"), id="templates-two-drafts"),
    pytest.param("program_templates", {"key": "t", "version": 1, "status": "active"},
                 {"key": "t", "version": 2, "status": "active"},
                 unique("uq_program_templates_one_active", "program_templates.key"), id="templates-two-actives"),
    pytest.param("beneficiary_groups", {"key": "g"}, {"key": "g"},
                 unique("uq_beneficiary_groups_key", "beneficiary_groups.key"), id="groups-key"),
    pytest.param("programs", {"key": "p"}, {"key": "p"}, unique("uq_programs_key", "programs.key"), id="programs-key"),
    pytest.param("programs", {"external_id": "crm:1"}, {"external_id": "crm:1"},
                 unique("uq_programs_external_id", "programs.external_id"), id="programs-external-id"),
    pytest.param("campaigns", {"key": "c"}, {"key": "c"},
                 unique("uq_campaigns_company_key", "campaigns.company_id", "campaigns.key"),
                 id="campaigns-company-key"),
    pytest.param("participants", {"email": "p@example.test"}, {"email": "p@example.test"},
                 unique("uq_participants_beneficiary_email", "participants.email"), id="participants-email"),
    pytest.param("participants", {"external_ref": "kintell:8812"}, {"external_ref": "kintell:8812"},
                 unique("uq_participants_beneficiary_external_ref", "participants.external_ref"),
                 id="participants-external-ref"),
    pytest.param("participants", {"email": "p@example.test", "company_id": Ref("company_a")},
                 {"email": "p@example.test", "company_id": Ref("company_a")},
                 unique("uq_participants_employee_email", "participants.company_id", "participants.email"),
                 id="participants-employee-email"),
    pytest.param("participants", {"external_ref": "hr:7", "company_id": Ref("company_a")},
                 {"external_ref": "hr:7", "company_id": Ref("company_a")},
                 unique("uq_participants_employee_external_ref", "participants.company_id",
                        "participants.external_ref"), id="participants-employee-external-ref"),
    pytest.param("participants", {"ref": "P-AAAAAAA"}, {"ref": "P-AAAAAAA"},
                 unique("uq_participants_ref", "participants.ref"), id="participants-ref"),
    pytest.param("enrollments", {}, {"role": "volunteer", "status": "waitlisted", "waitlisted_at": _now()},
                 unique("uq_enrollments_campaign_participant", "enrollments.campaign_id", "enrollments.participant_id"),
                 id="enrollments-campaign-participant"),
]


@pytest.mark.parametrize(("table", "first", "second", "match"), DUPLICATES)
def test_duplicate_is_refused(app, scene, table, first, second, match):
    with app.app_context():
        insert(table, scene, **first)
        assert_refused(sa.insert(TABLES[table]).values(**valid_row(table, scene, **second)), match)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TABLES[table])
                                 .where(*[TABLES[table].c[k] == (getattr(scene, v.name) if isinstance(v, Ref) else v)
                                          for k, v in first.items()])) == 1


ALLOWED_TWINS = [
    pytest.param("campaigns", {"key": "spring", "company_id": Ref("company_a")},
                 {"key": "spring", "company_id": Ref("company_b")}, id="campaigns-same-key-two-companies"),
    pytest.param("program_templates", {"key": "t", "version": 1, "status": "active"},
                 {"key": "t", "version": 2, "status": "draft"}, id="templates-active-and-draft"),
    pytest.param("program_templates", {"key": "t", "version": 1, "status": "deprecated"},
                 {"key": "t", "version": 2, "status": "deprecated"}, id="templates-two-deprecated"),
    pytest.param("program_templates", {"key": "t", "version": 1, "status": "archived"},
                 {"key": "t", "version": 2, "status": "archived"}, id="templates-two-archived"),
    pytest.param("program_templates", {"key": "t", "version": 1, "status": "deprecated"},
                 {"key": "t", "version": 2, "status": "active"}, id="templates-deprecated-and-active"),
    pytest.param("program_templates", {"key": "t", "version": 1, "status": "draft"},
                 {"key": "u", "version": 1, "status": "draft"}, id="templates-drafts-of-two-keys"),
    pytest.param("participants", {"email": None, "external_ref": None}, {"email": None, "external_ref": None},
                 id="participants-without-email-or-external-ref"),
    # Unique per owner (SPEC §2.5): a beneficiary and an employee, or two companies' employees, may share them.
    pytest.param("participants", {"email": "p@example.test", "external_ref": "x:1"},
                 {"email": "p@example.test", "external_ref": "x:1", "company_id": Ref("company_a")},
                 id="participants-beneficiary-and-employee-share-email"),
    pytest.param("participants", {"email": "p@example.test", "external_ref": "x:1", "company_id": Ref("company_a")},
                 {"email": "p@example.test", "external_ref": "x:1", "company_id": Ref("company_b")},
                 id="participants-two-companies-share-email"),
    pytest.param("programs", {"external_id": None}, {"external_id": None}, id="programs-without-external-id"),
    pytest.param("enrollments", {"campaign_id": Ref("campaign")}, {"campaign_id": Ref("campaign_b")},
                 id="enrollments-same-person-two-campaigns"),
    pytest.param("l2i_allocations", {"share_bp": 5000}, {"share_bp": 5000}, id="allocations-two-halves"),
]


@pytest.mark.parametrize(("table", "first", "second"), ALLOWED_TWINS)
def test_allowed_twins_insert(app, scene, table, first, second):
    with app.app_context():
        insert(table, scene, **first)
        insert(table, scene, **second)


def test_reactivating_a_deprecated_version_while_another_is_active_is_refused(app, scene):
    templates = TABLES["program_templates"]
    with app.app_context():
        old = insert("program_templates", scene, key="lineage", version=1, status="deprecated")
        insert("program_templates", scene, key="lineage", version=2, status="active")
        assert_refused(sa.update(templates).where(templates.c.id == old).values(status="active"),
                       unique("uq_program_templates_one_active", "program_templates.key"))
        db.session.execute(sa.update(templates).where(templates.c.id == old).values(status="archived"))


def test_a_second_draft_by_update_is_refused(app, scene):
    templates = TABLES["program_templates"]
    with app.app_context():
        insert("program_templates", scene, key="lineage", version=1, status="draft")
        other = insert("program_templates", scene, key="lineage", version=2, status="archived")
        assert_refused(sa.update(templates).where(templates.c.id == other).values(status="draft"),
                       unique("uq_program_templates_one_draft", "program_templates.key"))


# --- counters moved by UPDATE: the concurrency backstops ----------------------------------
def test_enrolled_count_above_max_enrollment_is_refused(app, scene):
    campaigns = TABLES["campaigns"]
    with app.app_context():
        cid = insert("campaigns", scene, max_enrollment=3, enrolled_count=2)
        bump = sa.update(campaigns).where(campaigns.c.id == cid).values(enrolled_count=campaigns.c.enrolled_count + 1)
        db.session.execute(bump)  # 3 of 3: allowed
        assert_refused(bump, check("ck_campaigns_within_capacity"))  # 4 of 3
        assert db.session.scalar(sa.select(campaigns.c.enrolled_count).where(campaigns.c.id == cid)) == 3


def test_lowering_max_enrollment_below_enrolled_count_is_refused(app, scene):
    campaigns = TABLES["campaigns"]
    with app.app_context():
        cid = insert("campaigns", scene, max_enrollment=5, enrolled_count=4)
        assert_refused(sa.update(campaigns).where(campaigns.c.id == cid).values(max_enrollment=3),
                       check("ck_campaigns_within_capacity"))
        db.session.execute(sa.update(campaigns).where(campaigns.c.id == cid).values(max_enrollment=4))


def test_enrolled_count_over_budget_is_refused(app, scene):
    campaigns = TABLES["campaigns"]
    with app.app_context():
        cid = insert("campaigns", scene, seat_price=250, budget_allocated=1000, enrolled_count=3)
        bump = sa.update(campaigns).where(campaigns.c.id == cid).values(enrolled_count=campaigns.c.enrolled_count + 1)
        db.session.execute(bump)  # 4 × 250 = 1000: exactly the budget
        assert_refused(bump, check("ck_campaigns_within_budget"))  # 1250 > 1000
        assert_refused(sa.update(campaigns).where(campaigns.c.id == cid).values(budget_allocated=999),
                       check("ck_campaigns_within_budget"))
        assert_refused(sa.update(campaigns).where(campaigns.c.id == cid).values(seat_price=251),
                       check("ck_campaigns_within_budget"))


def test_counters_cannot_go_negative_by_update(app, scene):
    campaigns = TABLES["campaigns"]
    with app.app_context():
        cid = insert("campaigns", scene)
        for column in ("enrolled_count", "waitlisted_count"):
            assert_refused(sa.update(campaigns).where(campaigns.c.id == cid)
                           .values({column: campaigns.c[column] - 1}), check("ck_campaigns_counters_nonnegative"))


def test_subscription_allocated_bp_cannot_pass_100_percent_by_update(app, scene):
    subscriptions = TABLES["l2i_subscriptions"]
    with app.app_context():
        sid = insert("l2i_subscriptions", scene, allocated_bp=9_000)
        add = sa.update(subscriptions).where(subscriptions.c.id == sid)
        db.session.execute(add.values(allocated_bp=subscriptions.c.allocated_bp + 1_000))  # exactly 100 %
        assert_refused(add.values(allocated_bp=subscriptions.c.allocated_bp + 1),
                       check("ck_l2i_subscriptions_allocated_at_most_full"))
        assert db.session.scalar(sa.select(subscriptions.c.allocated_bp).where(subscriptions.c.id == sid)) == 10_000


def test_enrollment_status_change_needs_its_timestamp(app, scene):
    enrollments = TABLES["enrollments"]
    with app.app_context():
        eid = insert("enrollments", scene)
        row = sa.update(enrollments).where(enrollments.c.id == eid)
        assert_refused(row.values(status="completed"), check("ck_enrollments_completed_has_time"))
        assert_refused(row.values(status="dropped"), check("ck_enrollments_dropped_has_time"))
        db.session.execute(row.values(status="dropped", dropped_at=_now() + timedelta(seconds=1)))


def test_a_user_cannot_be_promoted_without_dropping_the_company(app, scene):
    users = TABLES["users"]
    with app.app_context():
        uid = insert("users", scene, role="company_admin", company_id=scene.company_a)
        row = sa.update(users).where(users.c.id == uid)
        assert_refused(row.values(role="program_manager"), check("ck_users_role_company"))
        db.session.execute(row.values(role="program_manager", company_id=None))


# --- foreign keys on UPDATE and DELETE (ON DELETE RESTRICT) ---------------------------------
def test_moving_an_enrollment_to_a_missing_campaign_is_refused(app, scene):
    enrollments = TABLES["enrollments"]
    with app.app_context():
        eid = insert("enrollments", scene)
        assert_refused(sa.update(enrollments).where(enrollments.c.id == eid).values(campaign_id=MISSING_ID),
                       foreign_key("fk_enrollments_campaign_id_campaigns"))


@pytest.mark.parametrize(("parent", "ref", "child", "match"), [
    pytest.param("campaigns", "campaign", "enrollments", foreign_key("fk_enrollments_campaign_id_campaigns"),
                 id="campaign-with-enrollments"),
    pytest.param("participants", "participant", "enrollments",
                 foreign_key("fk_enrollments_participant_id_participants"), id="participant-with-enrollments"),
    pytest.param("l2i_subscriptions", "subscription", "l2i_allocations",
                 foreign_key("fk_l2i_allocations_subscription_id_l2i_subscriptions"),
                 id="subscription-with-allocations"),
    pytest.param("companies", "company_b", None, foreign_key("fk_campaigns_company_id_companies"),
                 id="company-with-campaigns"),
    pytest.param("programs", "program", None, foreign_key("fk_campaigns_program_id_programs"),
                 id="program-with-campaigns"),
    pytest.param("program_templates", "template", None, foreign_key("fk_programs_template_id_program_templates"),
                 id="template-with-programs"),
    pytest.param("beneficiary_groups", "group", None, foreign_key("fk_programs_group_id_beneficiary_groups"),
                 id="group-with-programs"),
])
def test_deleting_a_referenced_parent_is_refused(app, scene, parent, ref, child, match):
    with app.app_context():
        if child is not None:
            insert(child, scene)
        parent_table = TABLES[parent]
        assert_refused(sa.delete(parent_table).where(parent_table.c.id == getattr(scene, ref)), match)


def test_deleting_a_user_clears_the_references(app, scene):
    """created_by / actor are ON DELETE SET NULL: history survives its author."""
    users, templates, events = TABLES["users"], TABLES["program_templates"], TABLES["activity_events"]
    with app.app_context():
        uid = insert("users", scene)
        tid = insert("program_templates", scene, created_by_id=uid)
        eid = insert("activity_events", scene, actor_id=uid)
        db.session.execute(sa.delete(users).where(users.c.id == uid))
        assert db.session.scalar(sa.select(templates.c.created_by_id).where(templates.c.id == tid)) is None
        assert db.session.scalar(sa.select(events.c.actor_id).where(events.c.id == eid)) is None
