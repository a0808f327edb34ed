"""Participants unique per owner, and per-company pseudonyms (SPEC §2.5).

* E-mail and external reference become unique per owner — among beneficiaries (no
  company) and within each company's employees — through partial unique indexes, so a
  company admin creating an employee can never collide with, and so learn of, anyone
  else. Existing data was globally unique, so it satisfies the new indexes as it is.
* Each company gets a random ``pseudonym_key``; company admins see beneficiaries as a
  keyed permutation of the participant id under their own key (unrelated across
  companies).
* Activity events already visible to companies carried the global participant reference
  (the same in every company, so linkable) and, for dropped beneficiaries, the free-text
  reason: both are rewritten here to the company's pseudonym / removed.

Downgrade restores the global unique constraints; it fails if, by then, two owners hold
the same e-mail or reference (delete or merge those first).

Revision ID: 715293e86499
Revises: fb5b35b27060
Create Date: 2026-11-30 09:44:35.586907

"""
import secrets

from alembic import op
import sqlalchemy as sa

from portal.enrollments.pseudonyms import pseudonym


# revision identifiers, used by Alembic.
revision = '715293e86499'
down_revision = 'fb5b35b27060'
branch_labels = None
depends_on = None

JSONDocument = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
companies = sa.table("companies", sa.column("id", sa.Integer), sa.column("pseudonym_key", sa.String))
events = sa.table("activity_events", sa.column("id", sa.Integer), sa.column("type", sa.String),
                  sa.column("company_id", sa.Integer), sa.column("subject_type", sa.String),
                  sa.column("subject_id", sa.Integer), sa.column("subject_label", sa.String),
                  sa.column("data", JSONDocument))
enrollments = sa.table("enrollments", sa.column("id", sa.Integer), sa.column("participant_id", sa.Integer),
                       sa.column("role", sa.String))
participants = sa.table("participants", sa.column("id", sa.Integer), sa.column("ref", sa.String))


def upgrade():
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonym_key', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    keys = {}
    for (company_id,) in bind.execute(sa.select(companies.c.id)).all():
        keys[company_id] = secrets.token_hex(32)
        bind.execute(companies.update().where(companies.c.id == company_id).values(pseudonym_key=keys[company_id]))
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.alter_column('pseudonym_key', existing_type=sa.String(length=64), nullable=False)

    rows = bind.execute(
        sa.select(events.c.id, events.c.type, events.c.company_id, events.c.subject_label, events.c.data,
                  enrollments.c.participant_id, enrollments.c.role, participants.c.ref)
        .join(enrollments, enrollments.c.id == events.c.subject_id)
        .join(participants, participants.c.id == enrollments.c.participant_id)
        .where(events.c.subject_type == "enrollments", events.c.company_id.is_not(None))).all()
    for row in rows:
        company_ref = pseudonym(keys[row.company_id], row.participant_id)
        data = dict(row.data or {})
        if "participant_ref" in data:
            data["participant_ref"] = company_ref
        if row.type == "program.enrollment.dropped" and row.role == "beneficiary" and "reason" in data:
            data["reason_given"] = bool(data.pop("reason"))
        label = (row.subject_label or "").replace(row.ref, company_ref)
        bind.execute(events.update().where(events.c.id == row.id).values(data=data, subject_label=label))

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_participants_email'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_participants_external_ref'), type_='unique')
        batch_op.create_index('ix_participants_email', ['email'], unique=False)
        batch_op.create_index('ix_participants_external_ref', ['external_ref'], unique=False)
        batch_op.create_index('uq_participants_beneficiary_email', ['email'], unique=True, sqlite_where=sa.text('company_id IS NULL'), postgresql_where=sa.text('company_id IS NULL'))
        batch_op.create_index('uq_participants_beneficiary_external_ref', ['external_ref'], unique=True, sqlite_where=sa.text('company_id IS NULL'), postgresql_where=sa.text('company_id IS NULL'))
        batch_op.create_index('uq_participants_employee_email', ['company_id', 'email'], unique=True, sqlite_where=sa.text('company_id IS NOT NULL'), postgresql_where=sa.text('company_id IS NOT NULL'))
        batch_op.create_index('uq_participants_employee_external_ref', ['company_id', 'external_ref'], unique=True, sqlite_where=sa.text('company_id IS NOT NULL'), postgresql_where=sa.text('company_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('uq_participants_employee_external_ref', sqlite_where=sa.text('company_id IS NOT NULL'), postgresql_where=sa.text('company_id IS NOT NULL'))
        batch_op.drop_index('uq_participants_employee_email', sqlite_where=sa.text('company_id IS NOT NULL'), postgresql_where=sa.text('company_id IS NOT NULL'))
        batch_op.drop_index('uq_participants_beneficiary_external_ref', sqlite_where=sa.text('company_id IS NULL'), postgresql_where=sa.text('company_id IS NULL'))
        batch_op.drop_index('uq_participants_beneficiary_email', sqlite_where=sa.text('company_id IS NULL'), postgresql_where=sa.text('company_id IS NULL'))
        batch_op.drop_index('ix_participants_external_ref')
        batch_op.drop_index('ix_participants_email')
        batch_op.create_unique_constraint(batch_op.f('uq_participants_external_ref'), ['external_ref'])
        batch_op.create_unique_constraint(batch_op.f('uq_participants_email'), ['email'])

    # The rewritten activity data stays pseudonymised: the global references are not restored.
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_column('pseudonym_key')
