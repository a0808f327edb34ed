"""Impact (SPEC §2.11): valuation sets and their entries, the version a program pins
(``programs.valuation_set_id``), and the two rollups the impact figures read instead of
recounting deliveries, kept by triggers in the writing transaction and backfilled here:

* ``impact_tallies`` (campaign, role, kind, detail, day → events, quantity): counted
  deliveries (not void; present where attendance applies) by kind; reached milestones as
  ``milestone_reached`` with the milestone key as detail; completed enrollments as
  ``program_completed`` on their completion day (UTC). Triggers on ``deliveries``,
  ``enrollment_milestones`` and ``enrollments``.
* ``impact_reach`` (campaign, role, kind → enrollments): enrollments with at least one
  counted delivery of the kind. Triggers on ``enrollment_progress``.

As for ``enrollment_tallies``: PostgreSQL keeps them with statement-level triggers over
transition tables (one grouped upsert per statement, so a COPY of 100k rows costs one);
SQLite with row triggers. An enrollment's campaign and role never change, so they are read
from ``enrollments`` when a row moves. Downgrade drops triggers, tables and the column.

Revision ID: f3a9c1e7b2d4
Revises: f1a2b3c4d5e6
Create Date: 2026-11-30 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f3a9c1e7b2d4"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None

_TALLY_COLUMNS = "campaign_id, role, kind, detail, day, events, quantity"
_COUNTED = "{t}.voided_at IS NULL AND ({t}.attendance IS NULL OR {t}.attendance = 'present')"

# --- PostgreSQL: statement triggers over transition tables -------------------------------
_PG_TALLY_UPSERT = (
    f"INSERT INTO impact_tallies ({_TALLY_COLUMNS}) "
    "SELECT campaign_id, role, kind, detail, day, sum(n), sum(q) FROM ({rows}) AS moved "
    "GROUP BY campaign_id, role, kind, detail, day HAVING sum(n) <> 0 OR sum(q) <> 0 "
    "ON CONFLICT (campaign_id, role, kind, detail, day) DO UPDATE "
    "SET events = impact_tallies.events + excluded.events, quantity = impact_tallies.quantity + excluded.quantity"
)
_PG_REACH_UPSERT = (
    "INSERT INTO impact_reach (campaign_id, role, kind, enrollments) "
    "SELECT campaign_id, role, kind, sum(n) FROM ({rows}) AS moved "
    "GROUP BY campaign_id, role, kind HAVING sum(n) <> 0 "
    "ON CONFLICT (campaign_id, role, kind) DO UPDATE SET enrollments = impact_reach.enrollments + excluded.enrollments"
)


def _pg_delivery_rows(t: str, sign: int) -> str:
    return (f"SELECT e.campaign_id, e.role, {t}.kind, '' AS detail, {t}.occurred_on AS day, {sign} AS n, "
            f"{sign} * {t}.quantity AS q FROM {t} JOIN enrollments e ON e.id = {t}.enrollment_id "
            f"WHERE {_COUNTED.format(t=t)}")


def _pg_milestone_rows(t: str, sign: int) -> str:
    return (f"SELECT e.campaign_id, e.role, 'milestone_reached' AS kind, {t}.key AS detail, {t}.reached_on AS day, "
            f"{sign} AS n, {sign}::numeric AS q FROM {t} JOIN enrollments e ON e.id = {t}.enrollment_id")


def _pg_completion_rows(t: str, sign: int) -> str:
    return (f"SELECT {t}.campaign_id, {t}.role, 'program_completed' AS kind, '' AS detail, "
            f"({t}.completed_at AT TIME ZONE 'UTC')::date AS day, {sign} AS n, {sign}::numeric AS q FROM {t} "
            f"WHERE {t}.status = 'completed' AND {t}.completed_at IS NOT NULL")


def _pg_reach_rows(t: str, sign: int) -> str:
    return (f"SELECT e.campaign_id, e.role, {t}.kind, {sign} AS n FROM {t} "
            f"JOIN enrollments e ON e.id = {t}.enrollment_id WHERE {t}.deliveries > 0")


def _pg_bodies(upsert: str, rows) -> dict[str, str]:
    return {
        "insert": upsert.format(rows=rows("new_rows", 1)),
        "delete": upsert.format(rows=rows("old_rows", -1)),
        "update": upsert.format(rows=rows("old_rows", -1) + " UNION ALL " + rows("new_rows", 1)),
    }


_PG_REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}
# trigger name prefix -> (table, the upsert bodies per event)
_PG_TRIGGERS = {
    "impact_tallies_deliveries": ("deliveries", _pg_bodies(_PG_TALLY_UPSERT, _pg_delivery_rows)),
    "impact_tallies_milestones": ("enrollment_milestones", _pg_bodies(_PG_TALLY_UPSERT, _pg_milestone_rows)),
    "impact_tallies_completions": ("enrollments", _pg_bodies(_PG_TALLY_UPSERT, _pg_completion_rows)),
    "impact_reach_progress": ("enrollment_progress", _pg_bodies(_PG_REACH_UPSERT, _pg_reach_rows)),
}


# --- SQLite: row triggers ------------------------------------------------------------------
def _sqlite_tally(select: str) -> str:
    # "WHERE" is always present in ``select``: SQLite needs it before an upsert's ON CONFLICT.
    return (f"INSERT INTO impact_tallies ({_TALLY_COLUMNS}) {select} "
            "ON CONFLICT (campaign_id, role, kind, detail, day) DO UPDATE "
            "SET events = events + excluded.events, quantity = quantity + excluded.quantity;")


def _sqlite_delivery(t: str, sign: int) -> str:
    return _sqlite_tally(
        f"SELECT e.campaign_id, e.role, {t}.kind, '', {t}.occurred_on, {sign}, {sign} * {t}.quantity "
        f"FROM enrollments e WHERE e.id = {t}.enrollment_id AND {_COUNTED.format(t=t)}")


def _sqlite_milestone(t: str, sign: int) -> str:
    return _sqlite_tally(
        f"SELECT e.campaign_id, e.role, 'milestone_reached', {t}.key, {t}.reached_on, {sign}, {sign} "
        f"FROM enrollments e WHERE e.id = {t}.enrollment_id")


def _sqlite_completion(t: str, sign: int) -> str:
    return _sqlite_tally(
        f"SELECT {t}.campaign_id, {t}.role, 'program_completed', '', date({t}.completed_at), {sign}, {sign} "
        f"WHERE {t}.status = 'completed' AND {t}.completed_at IS NOT NULL")


def _sqlite_reach(t: str, sign: int) -> str:
    return ("INSERT INTO impact_reach (campaign_id, role, kind, enrollments) "
            f"SELECT e.campaign_id, e.role, {t}.kind, {sign} FROM enrollments e "
            f"WHERE e.id = {t}.enrollment_id AND {t}.deliveries > 0 "
            "ON CONFLICT (campaign_id, role, kind) DO UPDATE SET enrollments = enrollments + excluded.enrollments;")


def _sqlite_triggers(table: str, moved, update_of: str, changed: str) -> dict[str, str]:
    return {
        "insert": f"AFTER INSERT ON {table} BEGIN {moved('NEW', 1)} END",
        "delete": f"AFTER DELETE ON {table} BEGIN {moved('OLD', -1)} END",
        "update": f"AFTER UPDATE OF {update_of} ON {table} WHEN {changed} "
                  f"BEGIN {moved('OLD', -1)} {moved('NEW', 1)} END",
    }


def _differs(*columns: str) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


_SQLITE_TRIGGERS = {
    "impact_tallies_deliveries": _sqlite_triggers(
        "deliveries", _sqlite_delivery, "enrollment_id, kind, occurred_on, quantity, attendance, voided_at",
        _differs("enrollment_id", "kind", "occurred_on", "quantity", "attendance", "voided_at")),
    "impact_tallies_milestones": _sqlite_triggers(
        "enrollment_milestones", _sqlite_milestone, "enrollment_id, key, reached_on",
        _differs("enrollment_id", "key", "reached_on")),
    "impact_tallies_completions": _sqlite_triggers(
        "enrollments", _sqlite_completion, "campaign_id, role, status, completed_at",
        _differs("campaign_id", "role", "status", "completed_at")),
    "impact_reach_progress": _sqlite_triggers(
        "enrollment_progress", _sqlite_reach, "enrollment_id, kind, deliveries",
        "OLD.enrollment_id IS NOT NEW.enrollment_id OR OLD.kind IS NOT NEW.kind "
        "OR (OLD.deliveries > 0) IS NOT (NEW.deliveries > 0)"),
}

_EVENTS = ("insert", "delete", "update")
_PIN_FK = "fk_programs_valuation_set_id_valuation_sets"


def _backfill(postgresql: bool) -> None:
    completed_day = "(e.completed_at AT TIME ZONE 'UTC')::date" if postgresql else "date(e.completed_at)"
    op.execute(
        f"INSERT INTO impact_tallies ({_TALLY_COLUMNS}) "
        "SELECT campaign_id, role, kind, detail, day, sum(n), sum(q) FROM ("
        "SELECT e.campaign_id, e.role, d.kind, '' AS detail, d.occurred_on AS day, 1 AS n, d.quantity AS q "
        f"FROM deliveries d JOIN enrollments e ON e.id = d.enrollment_id WHERE {_COUNTED.format(t='d')} "
        "UNION ALL SELECT e.campaign_id, e.role, 'milestone_reached', m.key, m.reached_on, 1, 1 "
        "FROM enrollment_milestones m JOIN enrollments e ON e.id = m.enrollment_id "
        f"UNION ALL SELECT e.campaign_id, e.role, 'program_completed', '', {completed_day}, 1, 1 "
        "FROM enrollments e WHERE e.status = 'completed' AND e.completed_at IS NOT NULL"
        ") AS events GROUP BY campaign_id, role, kind, detail, day")
    op.execute(
        "INSERT INTO impact_reach (campaign_id, role, kind, enrollments) "
        "SELECT e.campaign_id, e.role, p.kind, count(*) FROM enrollment_progress p "
        "JOIN enrollments e ON e.id = p.enrollment_id WHERE p.deliveries > 0 GROUP BY e.campaign_id, e.role, p.kind")


def upgrade():
    op.create_table(
        "valuation_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=5000), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("discount_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_valuation_sets_version_positive")),
        sa.CheckConstraint("status IN ('draft', 'active', 'retired')", name=op.f("ck_valuation_sets_status_allowed")),
        sa.CheckConstraint("discount_rate >= 0 AND discount_rate <= 20",
                           name=op.f("ck_valuation_sets_discount_rate_range")),
        sa.CheckConstraint("length(currency) = 3 AND currency = upper(currency)",
                           name=op.f("ck_valuation_sets_currency_code")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_valuation_sets_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_valuation_sets")),
        sa.UniqueConstraint("key", "version", name="uq_valuation_sets_key_version"),
    )
    op.create_index("uq_valuation_sets_one_draft", "valuation_sets", ["key"], unique=True,
                    sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
    op.create_index("uq_valuation_sets_one_active", "valuation_sets", ["key"], unique=True,
                    sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
    op.create_table(
        "valuation_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("outcome_type", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=100), nullable=False),
        sa.Column("proxy_minor", sa.BigInteger(), nullable=False),
        sa.Column("source_text", sa.String(length=1000), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("deadweight", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("attribution", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("displacement", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("drop_off", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("duration_years", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome_type IN ('delivery', 'milestone', 'completion')",
                           name=op.f("ck_valuation_entries_outcome_type_allowed")),
        sa.CheckConstraint("proxy_minor >= 0 AND proxy_minor <= 1000000000", name=op.f("ck_valuation_entries_proxy_range")),
        sa.CheckConstraint("deadweight >= 0 AND deadweight <= 100 AND attribution >= 0 AND attribution <= 100 "
                           "AND displacement >= 0 AND displacement <= 100 AND drop_off >= 0 AND drop_off <= 100",
                           name=op.f("ck_valuation_entries_percent_range")),
        sa.CheckConstraint("duration_years >= 1 AND duration_years <= 10",
                           name=op.f("ck_valuation_entries_duration_range")),
        sa.ForeignKeyConstraint(["set_id"], ["valuation_sets.id"],
                                name=op.f("fk_valuation_entries_set_id_valuation_sets"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_valuation_entries")),
        sa.UniqueConstraint("set_id", "outcome_type", "outcome", name="uq_valuation_entries_outcome"),
    )
    op.create_table(
        "impact_tallies",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_impact_tallies_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "role", "kind", "detail", "day", name=op.f("pk_impact_tallies")),
    )
    op.create_table(
        "impact_reach",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("enrollments", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_impact_reach_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "role", "kind", name=op.f("pk_impact_reach")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    # programs is referenced by campaigns (ON DELETE RESTRICT): SQLite's batch mode would copy and
    # drop it, which a populated database refuses. SQLite adds (and drops) the column in place.
    if postgresql:
        op.add_column("programs", sa.Column("valuation_set_id", sa.Integer(), nullable=True))
        op.create_foreign_key(_PIN_FK, "programs", "valuation_sets", ["valuation_set_id"], ["id"])
    else:
        op.execute(f"ALTER TABLE programs ADD COLUMN valuation_set_id INTEGER CONSTRAINT {_PIN_FK} "
                   "REFERENCES valuation_sets (id)")
    if postgresql:
        for name, (table, bodies) in _PG_TRIGGERS.items():
            for event in _EVENTS:
                op.execute(f"CREATE FUNCTION {name}_{event}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                           f"BEGIN {bodies[event]}; RETURN NULL; END $$")
                op.execute(f"CREATE TRIGGER {name}_{event} AFTER {event.upper()} ON {table} "
                           f"{_PG_REFERENCING[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}_{event}()")
    else:
        for name, triggers in _SQLITE_TRIGGERS.items():
            for event in _EVENTS:
                op.execute(f"CREATE TRIGGER {name}_{event} {triggers[event]}")
    _backfill(postgresql)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, (table, _) in _PG_TRIGGERS.items():
        for event in _EVENTS:
            op.execute(f"DROP TRIGGER {name}_{event}" + (f" ON {table}" if postgresql else ""))
            if postgresql:
                op.execute(f"DROP FUNCTION {name}_{event}()")
    if postgresql:
        op.drop_constraint(_PIN_FK, "programs", type_="foreignkey")
    op.execute("ALTER TABLE programs DROP COLUMN valuation_set_id")
    op.drop_table("impact_reach")
    op.drop_table("impact_tallies")
    op.drop_table("valuation_entries")
    op.drop_index("uq_valuation_sets_one_active", table_name="valuation_sets",
                  sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
    op.drop_index("uq_valuation_sets_one_draft", table_name="valuation_sets",
                  sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
    op.drop_table("valuation_sets")
