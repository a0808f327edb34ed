"""Enrollment tallies: a campaign's enrollments counted by day enrolled, role and status,
kept by triggers on enrollments in the writing transaction, so the campaign page counts a
few rows instead of every enrollment (issue #14). Backfilled here.

The day is ``enrolled_at`` (``created_at`` while never enrolled), in UTC. PostgreSQL keeps
them with statement-level triggers over transition tables (one grouped upsert per
statement: a 100k-row COPY costs one); SQLite, which has only row triggers, with one
upsert per row.

Revision ID: d4e8a1c6f2b3
Revises: c7e4b2a9d815
Create Date: 2026-11-30 13:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4e8a1c6f2b3'
down_revision = 'c7e4b2a9d815'
branch_labels = None
depends_on = None


# --- PostgreSQL: statement triggers over transition tables ---------------------------
_PG_DAY = "((coalesce({t}.enrolled_at, {t}.created_at)) AT TIME ZONE 'UTC')::date"
_PG_UPSERT = (
    "INSERT INTO enrollment_tallies (campaign_id, day, role, status, enrollments, created_at, updated_at) "
    "SELECT campaign_id, day, role, status, sum(n), now(), now() FROM ({rows}) AS moved "
    "GROUP BY campaign_id, day, role, status HAVING sum(n) <> 0 "
    "ON CONFLICT (campaign_id, day, role, status) DO UPDATE "
    "SET enrollments = enrollment_tallies.enrollments + excluded.enrollments, updated_at = excluded.updated_at"
)


def _pg_rows(table: str, sign: int) -> str:
    return (f"SELECT {table}.campaign_id, {_PG_DAY.format(t=table)} AS day, {table}.role, {table}.status, "
            f"{sign} AS n FROM {table}")


_PG_FUNCTIONS = {
    "insert": _PG_UPSERT.format(rows=_pg_rows("new_rows", 1)),
    "delete": _PG_UPSERT.format(rows=_pg_rows("old_rows", -1)),
    "update": _PG_UPSERT.format(rows=_pg_rows("old_rows", -1) + " UNION ALL " + _pg_rows("new_rows", 1)),
}
_PG_REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}

# --- SQLite: row triggers ----------------------------------------------------------------
_SQLITE_DAY = "date(coalesce({t}.enrolled_at, {t}.created_at))"


def _sqlite_upsert(t: str, sign: int) -> str:
    return (
        "INSERT INTO enrollment_tallies (campaign_id, day, role, status, enrollments, created_at, updated_at) "
        f"VALUES ({t}.campaign_id, {_SQLITE_DAY.format(t=t)}, {t}.role, {t}.status, {sign}, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) "
        f"ON CONFLICT (campaign_id, day, role, status) DO UPDATE "
        f"SET enrollments = enrollments + ({sign}), updated_at = CURRENT_TIMESTAMP;"
    )


_SQLITE_TRIGGERS = {
    "insert": f"AFTER INSERT ON enrollments BEGIN {_sqlite_upsert('NEW', 1)} END",
    "delete": f"AFTER DELETE ON enrollments BEGIN {_sqlite_upsert('OLD', -1)} END",
    "update": (
        "AFTER UPDATE OF campaign_id, role, status, enrolled_at, created_at ON enrollments "
        "WHEN OLD.campaign_id IS NOT NEW.campaign_id OR OLD.role IS NOT NEW.role OR OLD.status IS NOT NEW.status "
        f"OR {_SQLITE_DAY.format(t='OLD')} IS NOT {_SQLITE_DAY.format(t='NEW')} "
        f"BEGIN {_sqlite_upsert('OLD', -1)} {_sqlite_upsert('NEW', 1)} END"
    ),
}


def upgrade():
    op.create_table('enrollment_tallies',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('enrollments', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_enrollment_tallies_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'day', 'role', 'status', name=op.f('pk_enrollment_tallies'))
    )
    if op.get_bind().dialect.name == "postgresql":
        day = _PG_DAY.format(t="enrollments")
        for event, body in _PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION enrollment_tallies_{event}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {body}; RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER enrollment_tallies_{event} AFTER {event.upper()} ON enrollments "
                       f"{_PG_REFERENCING[event]} FOR EACH STATEMENT EXECUTE FUNCTION enrollment_tallies_{event}()")
    else:
        day = _SQLITE_DAY.format(t="enrollments")
        for event, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER enrollment_tallies_{event} {body}")
    op.execute(
        "INSERT INTO enrollment_tallies (campaign_id, day, role, status, enrollments, created_at, updated_at) "
        f"SELECT campaign_id, {day}, role, status, count(*), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
        f"FROM enrollments GROUP BY campaign_id, {day}, role, status"
    )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER enrollment_tallies_{event}" + (" ON enrollments" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION enrollment_tallies_{event}()")
    op.drop_table('enrollment_tallies')
