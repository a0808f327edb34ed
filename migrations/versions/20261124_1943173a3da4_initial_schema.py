"""Initial schema: companies, users, templates, groups, programs, campaigns,
participants, enrollments, L2I subscriptions and allocations, activity events.

Revision ID: 1943173a3da4
Revises: 
Create Date: 2026-11-24 20:02:17.430821

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '1943173a3da4'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companies')),
    sa.UniqueConstraint('key', name=op.f('uq_companies_key')),
    sa.UniqueConstraint('name', name=op.f('uq_companies_name'))
    )
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.create_index('ix_companies_created', ['created_at', 'id'], unique=False)

    op.create_table('l2i_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=16), nullable=False),
    sa.Column('learners', sa.Integer(), nullable=False),
    sa.Column('annual_price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('allocated_bp', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(sku = 'L2I-250' AND learners = 250) OR (sku = 'L2I-500' AND learners = 500) OR (sku = 'L2I-EXPAND' AND learners = 2500) OR (sku = 'L2I-LAUNCH' AND learners = 5000)", name=op.f('ck_l2i_subscriptions_learners_match_sku')),
    sa.CheckConstraint("sku IN ('L2I-250', 'L2I-500', 'L2I-EXPAND', 'L2I-LAUNCH')", name=op.f('ck_l2i_subscriptions_sku_allowed')),
    sa.CheckConstraint("status IN ('active', 'expired', 'canceled')", name=op.f('ck_l2i_subscriptions_status_allowed')),
    sa.CheckConstraint('allocated_bp >= 0 AND allocated_bp <= 10000', name=op.f('ck_l2i_subscriptions_allocated_at_most_full')),
    sa.CheckConstraint('annual_price >= 0', name=op.f('ck_l2i_subscriptions_price_nonnegative')),
    sa.CheckConstraint('learners > 0', name=op.f('ck_l2i_subscriptions_learners_positive')),
    sa.CheckConstraint('length(currency) = 3 AND currency = upper(currency)', name=op.f('ck_l2i_subscriptions_currency_code')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_l2i_subscriptions_period_order')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_l2i_subscriptions_company_id_companies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_l2i_subscriptions'))
    )
    with op.batch_alter_table('l2i_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_l2i_subscriptions_company_created', ['company_id', 'created_at', 'id'], unique=False)

    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=12), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('year_of_birth', sa.Integer(), nullable=True),
    sa.Column('languages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('external_ref', sa.String(length=100), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint('email IS NULL OR email = lower(email)', name=op.f('ck_participants_email_lowercase')),
    sa.CheckConstraint('year_of_birth IS NULL OR (year_of_birth >= 1900 AND year_of_birth <= 2100)', name=op.f('ck_participants_year_of_birth_range')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_participants_company_id_companies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants')),
    sa.UniqueConstraint('email', name=op.f('uq_participants_email')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_participants_external_ref')),
    sa.UniqueConstraint('ref', name=op.f('uq_participants_ref'))
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index('ix_participants_company', ['company_id'], unique=False)
        batch_op.create_index('ix_participants_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_participants_display_name', ['display_name'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(role = 'company_admin' AND company_id IS NOT NULL) OR (role = 'program_manager' AND company_id IS NULL)", name=op.f('ck_users_role_company')),
    sa.CheckConstraint("role IN ('program_manager', 'company_admin')", name=op.f('ck_users_role_allowed')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lowercase')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_users_company_id_companies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('session_token', name=op.f('uq_users_session_token'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_company_created', ['company_id', 'created_at', 'id'], unique=False)

    op.create_table('activity_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('subject_label', sa.String(length=255), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_activity_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_activity_events_company_id_companies'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_events'))
    )
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.create_index('ix_activity_events_company_created', ['company_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_activity_events_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_activity_events_subject', ['subject_type', 'subject_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_activity_events_type_created', ['type', 'created_at', 'id'], unique=False)

    op.create_table('beneficiary_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=5000), nullable=False),
    sa.Column('group_type', sa.String(length=32), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('age_min', sa.Integer(), nullable=True),
    sa.Column('age_max', sa.Integer(), nullable=True),
    sa.Column('languages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('language_requirement', sa.String(length=16), nullable=False),
    sa.Column('eligible_categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('active_from', sa.Date(), nullable=True),
    sa.Column('active_until', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("group_type IN ('refugees', 'migrants', 'asylum_seekers', 'displaced_persons', 'newcomers', 'women_in_tech', 'youth', 'seniors', 'students', 'job_seekers', 'caregivers', 'veterans', 'other')", name=op.f('ck_beneficiary_groups_group_type_allowed')),
    sa.CheckConstraint("language_requirement IN ('any', 'beginner', 'conversational', 'fluent')", name=op.f('ck_beneficiary_groups_language_requirement_allowed')),
    sa.CheckConstraint("status IN ('active', 'inactive', 'archived')", name=op.f('ck_beneficiary_groups_status_allowed')),
    sa.CheckConstraint('active_from IS NULL OR active_until IS NULL OR active_until >= active_from', name=op.f('ck_beneficiary_groups_active_dates_order')),
    sa.CheckConstraint('age_max IS NULL OR (age_max >= 0 AND age_max <= 120)', name=op.f('ck_beneficiary_groups_age_max_range')),
    sa.CheckConstraint('age_min IS NULL OR (age_min >= 0 AND age_min <= 120)', name=op.f('ck_beneficiary_groups_age_min_range')),
    sa.CheckConstraint('age_min IS NULL OR age_max IS NULL OR age_min <= age_max', name=op.f('ck_beneficiary_groups_age_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_beneficiary_groups_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beneficiary_groups')),
    sa.UniqueConstraint('key', name=op.f('uq_beneficiary_groups_key'))
    )
    with op.batch_alter_table('beneficiary_groups', schema=None) as batch_op:
        batch_op.create_index('ix_beneficiary_groups_country_created', ['country', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_beneficiary_groups_created', ['created_at', 'id'], unique=False)

    op.create_table('program_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=5000), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('config_schema', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('default_config', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('ui_schema', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('deprecated_by_id', sa.Integer(), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sdg_goals', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("category IN ('mentorship', 'language', 'buddy', 'upskilling', 'weei')", name=op.f('ck_program_templates_category_allowed')),
    sa.CheckConstraint("status IN ('draft', 'active', 'deprecated', 'archived')", name=op.f('ck_program_templates_status_allowed')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_program_templates_version_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_program_templates_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deprecated_by_id'], ['program_templates.id'], name=op.f('fk_program_templates_deprecated_by_id_program_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_program_templates')),
    sa.UniqueConstraint('key', 'version', name='uq_program_templates_key_version')
    )
    with op.batch_alter_table('program_templates', schema=None) as batch_op:
        batch_op.create_index('ix_program_templates_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('uq_program_templates_one_active', ['key'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.create_index('uq_program_templates_one_draft', ['key'], unique=True, sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))

    op.create_table('programs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=5000), nullable=False),
    sa.Column('config_overrides', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sdg_goals', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'active', 'paused', 'completed', 'archived')", name=op.f('ck_programs_status_allowed')),
    sa.CheckConstraint("visibility IN ('public', 'private')", name=op.f('ck_programs_visibility_allowed')),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_programs_dates_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_programs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['beneficiary_groups.id'], name=op.f('fk_programs_group_id_beneficiary_groups'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['template_id'], ['program_templates.id'], name=op.f('fk_programs_template_id_program_templates'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programs')),
    sa.UniqueConstraint('external_id', name=op.f('uq_programs_external_id')),
    sa.UniqueConstraint('key', name=op.f('uq_programs_key'))
    )
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.create_index('ix_programs_catalog', ['status', 'visibility', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_programs_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_programs_group', ['group_id'], unique=False)
        batch_op.create_index('ix_programs_template', ['template_id'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('l2i_subscription_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=5000), nullable=False),
    sa.Column('config_overrides', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('target_enrollment', sa.Integer(), nullable=True),
    sa.Column('max_enrollment', sa.Integer(), nullable=True),
    sa.Column('waitlist_enabled', sa.Boolean(), nullable=False),
    sa.Column('target_volunteers', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('budget_allocated', sa.BigInteger(), nullable=True),
    sa.Column('seat_price', sa.BigInteger(), nullable=True),
    sa.Column('internal_code', sa.String(length=100), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('enrolled_count', sa.Integer(), nullable=False),
    sa.Column('waitlisted_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'active', 'paused', 'completed', 'archived')", name=op.f('ck_campaigns_status_allowed')),
    sa.CheckConstraint('budget_allocated IS NULL OR budget_allocated >= 0', name=op.f('ck_campaigns_budget_nonnegative')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_campaigns_dates_order')),
    sa.CheckConstraint('enrolled_count >= 0 AND waitlisted_count >= 0', name=op.f('ck_campaigns_counters_nonnegative')),
    sa.CheckConstraint('length(currency) = 3 AND currency = upper(currency)', name=op.f('ck_campaigns_currency_code')),
    sa.CheckConstraint('max_enrollment IS NULL OR enrolled_count <= max_enrollment', name=op.f('ck_campaigns_within_capacity')),
    sa.CheckConstraint('max_enrollment IS NULL OR max_enrollment >= 0', name=op.f('ck_campaigns_max_nonnegative')),
    sa.CheckConstraint('max_enrollment IS NULL OR target_enrollment IS NULL OR max_enrollment >= target_enrollment', name=op.f('ck_campaigns_max_at_least_target')),
    sa.CheckConstraint('seat_price IS NULL OR budget_allocated IS NULL OR seat_price * enrolled_count <= budget_allocated', name=op.f('ck_campaigns_within_budget')),
    sa.CheckConstraint('seat_price IS NULL OR seat_price >= 0', name=op.f('ck_campaigns_seat_price_nonnegative')),
    sa.CheckConstraint('target_enrollment IS NULL OR target_enrollment >= 0', name=op.f('ck_campaigns_target_nonnegative')),
    sa.CheckConstraint('target_volunteers IS NULL OR target_volunteers >= 0', name=op.f('ck_campaigns_volunteers_nonnegative')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_campaigns_company_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_campaigns_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['l2i_subscription_id'], ['l2i_subscriptions.id'], name=op.f('fk_campaigns_l2i_subscription_id_l2i_subscriptions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_campaigns_program_id_programs'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('company_id', 'key', name='uq_campaigns_company_key')
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index('ix_campaigns_company_created', ['company_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_campaigns_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_campaigns_program', ['program_id'], unique=False)

    op.create_table('enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('waitlisted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dropped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('drop_reason', sa.String(length=500), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=True),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("role IN ('beneficiary', 'volunteer')", name=op.f('ck_enrollments_role_allowed')),
    sa.CheckConstraint("source IN ('manual', 'csv', 'kintell', 'buddy', 'upskilling')", name=op.f('ck_enrollments_source_allowed')),
    sa.CheckConstraint("status <> 'active' OR enrolled_at IS NOT NULL", name=op.f('ck_enrollments_active_has_time')),
    sa.CheckConstraint("status <> 'completed' OR completed_at IS NOT NULL", name=op.f('ck_enrollments_completed_has_time')),
    sa.CheckConstraint("status <> 'dropped' OR dropped_at IS NOT NULL", name=op.f('ck_enrollments_dropped_has_time')),
    sa.CheckConstraint("status <> 'waitlisted' OR waitlisted_at IS NOT NULL", name=op.f('ck_enrollments_waitlisted_has_time')),
    sa.CheckConstraint("status IN ('waitlisted', 'active', 'completed', 'dropped')", name=op.f('ck_enrollments_status_allowed')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_enrollments_campaign_id_campaigns'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_enrollments_participant_id_participants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollments')),
    sa.UniqueConstraint('campaign_id', 'participant_id', name='uq_enrollments_campaign_participant')
    )
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index('ix_enrollments_campaign_created', ['campaign_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_enrollments_campaign_status', ['campaign_id', 'status', 'role', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_enrollments_enrolled_at', ['enrolled_at'], unique=False)
        batch_op.create_index('ix_enrollments_participant', ['participant_id'], unique=False)

    op.create_table('l2i_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('share_bp', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint('(program_id IS NOT NULL AND campaign_id IS NULL) OR (program_id IS NULL AND campaign_id IS NOT NULL)', name=op.f('ck_l2i_allocations_one_target')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_l2i_allocations_amount_nonnegative')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_l2i_allocations_period_order')),
    sa.CheckConstraint('share_bp > 0 AND share_bp <= 10000', name=op.f('ck_l2i_allocations_share_range')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_l2i_allocations_campaign_id_campaigns'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_l2i_allocations_program_id_programs'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['subscription_id'], ['l2i_subscriptions.id'], name=op.f('fk_l2i_allocations_subscription_id_l2i_subscriptions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_l2i_allocations'))
    )
    with op.batch_alter_table('l2i_allocations', schema=None) as batch_op:
        batch_op.create_index('ix_l2i_allocations_subscription', ['subscription_id', 'created_at', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('l2i_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_l2i_allocations_subscription')

    op.drop_table('l2i_allocations')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollments_participant')
        batch_op.drop_index('ix_enrollments_enrolled_at')
        batch_op.drop_index('ix_enrollments_campaign_status')
        batch_op.drop_index('ix_enrollments_campaign_created')

    op.drop_table('enrollments')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_campaigns_program')
        batch_op.drop_index('ix_campaigns_created')
        batch_op.drop_index('ix_campaigns_company_created')

    op.drop_table('campaigns')
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.drop_index('ix_programs_template')
        batch_op.drop_index('ix_programs_group')
        batch_op.drop_index('ix_programs_created')
        batch_op.drop_index('ix_programs_catalog')

    op.drop_table('programs')
    with op.batch_alter_table('program_templates', schema=None) as batch_op:
        batch_op.drop_index('uq_program_templates_one_draft', sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
        batch_op.drop_index('uq_program_templates_one_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_program_templates_created')

    op.drop_table('program_templates')
    with op.batch_alter_table('beneficiary_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_beneficiary_groups_created')
        batch_op.drop_index('ix_beneficiary_groups_country_created')

    op.drop_table('beneficiary_groups')
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_events_type_created')
        batch_op.drop_index('ix_activity_events_subject')
        batch_op.drop_index('ix_activity_events_created')
        batch_op.drop_index('ix_activity_events_company_created')

    op.drop_table('activity_events')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_company_created')

    op.drop_table('users')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_display_name')
        batch_op.drop_index('ix_participants_created')
        batch_op.drop_index('ix_participants_company')

    op.drop_table('participants')
    with op.batch_alter_table('l2i_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_l2i_subscriptions_company_created')

    op.drop_table('l2i_subscriptions')
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_index('ix_companies_created')

    op.drop_table('companies')
