"""Jobs and stored files (SPEC §6 "Background work"), and Procrastinate's queue on PostgreSQL.

* ``jobs``: background work, its progress and outcome; ``stored_files``: uploads waiting
  for their next step and job outputs waiting for download (in the database, so any
  instance can serve any step).
* On PostgreSQL, Procrastinate's own schema (tables, types, functions and triggers named
  ``procrastinate_*``) from the pinned release, as its documentation prescribes for a
  first install. A later Procrastinate release ships its own migrations: add them as
  Alembic migrations when upgrading the pin.

Revision ID: a3c1f0d9b7e2
Revises: 715293e86499
Create Date: 2026-11-30 13:20:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "a3c1f0d9b7e2"
down_revision = "715293e86499"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("phase", sa.String(length=60), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name=op.f("ck_jobs_status_allowed")),
        sa.CheckConstraint("done >= 0 AND (total IS NULL OR total >= 0)", name=op.f("ck_jobs_progress_non_negative")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_jobs_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_jobs_company_id_companies"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_jobs_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_created_by", ["created_by_id", "created_at"], unique=False)
        batch_op.create_index("ix_jobs_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size >= 0", name=op.f("ck_stored_files_size_non_negative")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_stored_files_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_stored_files_owner_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
        sa.UniqueConstraint("token", name=op.f("uq_stored_files_token")),
    )
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.create_index("ix_stored_files_expires", ["expires_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # The raw driver connection: the schema's SQL is full of '%' and ':' that a
        # parameter-aware execute would misread; psycopg runs it as it is.
        op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            DO $$
            DECLARE r record;
            BEGIN
              FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
                       AND tablename LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.tablename);
              END LOOP;
              FOR r IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                       JOIN pg_namespace n ON n.oid = p.pronamespace
                       WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.signature);
              END LOOP;
              FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                       WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                       AND t.typtype IN ('e', 'c') LOOP
                EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
              END LOOP;
            END $$;
        """)
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.drop_index("ix_stored_files_expires")
    op.drop_table("stored_files")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_created")
        batch_op.drop_index("ix_jobs_created_by")
    op.drop_table("jobs")
