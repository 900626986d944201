"""Initial schema: customers, catalogue, inventory, orders, service, contact center, campaigns, admin.

Plain CREATE TABLE statements with every constraint named, so the same script
is correct on SQLite and PostgreSQL; the allowed order-status moves are seeded
here (a literal copy: migrations never import changing application code).

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:22:42.190876
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: (from, to) order-status moves as of this revision.
ORDER_TRANSITIONS = [
    ("ordered", "shipped"),
    ("ordered", "cancelled"),
    ("shipped", "delivered"),
    ("shipped", "returned"),
    ("delivered", "settled"),
    ("delivered", "returned"),
    ("delivered", "exchanged"),
    ("exchanged", "shipped"),
]

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('extension', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agents')),
    sa.UniqueConstraint('extension', name=op.f('uq_agents_extension')),
    sa.UniqueConstraint('login', name=op.f('uq_agents_login'))
    )
    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['categories.id'], name=op.f('fk_categories_parent_id_categories'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('name', name=op.f('uq_categories_name'))
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_phonetic', sa.String(length=100), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('language', sa.String(length=20), server_default='zh', nullable=False),
    sa.Column('notify_channel', sa.String(length=20), server_default='sms', nullable=False),
    sa.Column('member_level', sa.String(length=20), server_default='normal', nullable=False),
    sa.Column('points_balance', sa.Integer(), server_default='0', nullable=False),
    sa.Column('is_blacklisted', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("member_level IN ('normal', 'silver', 'gold', 'platinum', 'diamond')", name=op.f('ck_customers_member_level_valid')),
    sa.CheckConstraint("notify_channel IN ('sms', 'email', 'fax', 'voice')", name=op.f('ck_customers_notify_channel_valid')),
    sa.CheckConstraint('points_balance >= 0', name=op.f('ck_customers_points_balance_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    op.create_table('do_not_call',
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('added_by', sa.String(length=40), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_do_not_call'))
    )
    op.create_table('knowledge_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('keywords', sa.String(length=255), nullable=True),
    sa.Column('hit_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('approved', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_articles'))
    )
    op.create_table('media_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('dnis', sa.String(length=20), nullable=False),
    sa.Column('outlet', sa.String(length=100), nullable=True),
    sa.Column('budget', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("kind IN ('tv', 'radio', 'print', 'sms', 'web')", name=op.f('ck_media_plans_kind_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_plans'))
    )
    op.create_index(op.f('ix_media_plans_dnis'), 'media_plans', ['dnis'], unique=False)
    op.create_table('order_status_transitions',
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.CheckConstraint("from_status IN ('ordered', 'shipped', 'delivered', 'settled', 'returned', 'exchanged', 'cancelled')", name=op.f('ck_order_status_transitions_from_status_valid')),
    sa.CheckConstraint("to_status IN ('ordered', 'shipped', 'delivered', 'settled', 'returned', 'exchanged', 'cancelled')", name=op.f('ck_order_status_transitions_to_status_valid')),
    sa.PrimaryKeyConstraint('from_status', 'to_status', name=op.f('pk_order_status_transitions'))
    )
    op.create_table('promotions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('amount_off', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('buy_quantity', sa.Integer(), nullable=True),
    sa.Column('free_quantity', sa.Integer(), nullable=True),
    sa.Column('announcement', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("rule <> 'amount_off' OR amount_off > 0", name=op.f('ck_promotions_amount_off_rule_valid')),
    sa.CheckConstraint("rule <> 'buy_x_get_y' OR (buy_quantity >= 1 AND free_quantity >= 1)", name=op.f('ck_promotions_buy_x_get_y_rule_valid')),
    sa.CheckConstraint("rule <> 'percent' OR (percent > 0 AND percent <= 100)", name=op.f('ck_promotions_percent_rule_valid')),
    sa.CheckConstraint("rule IN ('percent', 'amount_off', 'buy_x_get_y')", name=op.f('ck_promotions_rule_valid')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_promotions_window_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotions'))
    )
    op.create_index(op.f('ix_promotions_window'), 'promotions', ['starts_at', 'ends_at'], unique=False)
    op.create_table('queues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('strategy', sa.String(length=40), server_default='longest-idle-agent', nullable=False),
    sa.Column('wrapup_seconds', sa.Integer(), server_default='10', nullable=False),
    sa.Column('sl_target_seconds', sa.Integer(), server_default='20', nullable=False),
    sa.Column('sl_target_percent', sa.Numeric(precision=5, scale=2, asdecimal=False), server_default='80', nullable=False),
    sa.Column('max_wait_seconds', sa.Integer(), nullable=True),
    sa.Column('max_length', sa.Integer(), nullable=True),
    sa.Column('overflow_target', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('max_length IS NULL OR max_length > 0', name=op.f('ck_queues_max_length_positive')),
    sa.CheckConstraint('max_wait_seconds IS NULL OR max_wait_seconds > 0', name=op.f('ck_queues_max_wait_positive')),
    sa.CheckConstraint('sl_target_percent > 0 AND sl_target_percent <= 100', name=op.f('ck_queues_sl_percent_range')),
    sa.CheckConstraint('sl_target_seconds > 0', name=op.f('ck_queues_sl_seconds_positive')),
    sa.CheckConstraint('wrapup_seconds >= 0', name=op.f('ck_queues_wrapup_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queues')),
    sa.UniqueConstraint('name', name=op.f('uq_queues_name'))
    )
    op.create_table('skills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skills')),
    sa.UniqueConstraint('name', name=op.f('uq_skills_name'))
    )
    op.create_table('suppliers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('name', name=op.f('uq_suppliers_name'))
    )
    op.create_table('warehouses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('priority', sa.Integer(), server_default='100', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouses')),
    sa.UniqueConstraint('code', name=op.f('uq_warehouses_code'))
    )
    op.create_table('addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('province', sa.String(length=40), nullable=True),
    sa.Column('city', sa.String(length=40), nullable=True),
    sa.Column('district', sa.String(length=40), nullable=True),
    sa.Column('line1', sa.String(length=255), nullable=False),
    sa.Column('line2', sa.String(length=255), nullable=True),
    sa.Column('postcode', sa.String(length=20), nullable=True),
    sa.Column('is_default', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_addresses_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses'))
    )
    op.create_index(op.f('ix_addresses_customer_id'), 'addresses', ['customer_id'], unique=False)
    op.create_table('admin_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), server_default='agent', nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'supervisor', 'campaign_manager', 'agent')", name=op.f('ck_admin_users_role_valid')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_admin_users_agent_id_agents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_users')),
    sa.UniqueConstraint('username', name=op.f('uq_admin_users_username'))
    )
    op.create_table('agent_skills',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), server_default='5', nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 10', name=op.f('ck_agent_skills_level_1_to_10')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_skills_agent_id_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_agent_skills_skill_id_skills'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', 'skill_id', name=op.f('pk_agent_skills'))
    )
    op.create_index(op.f('ix_agent_skills_skill_id'), 'agent_skills', ['skill_id'], unique=False)
    op.create_table('agent_state_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('call_uuid', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("state IN ('logged_out', 'available', 'ringing', 'on_call', 'wrap_up', 'break')", name=op.f('ck_agent_state_log_state_valid')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_state_log_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_state_log'))
    )
    op.create_index(op.f('ix_agent_state_log_agent_id_at'), 'agent_state_log', ['agent_id', 'at'], unique=False)
    op.create_table('blacklist_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('marked_by', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_blacklist_marks_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_marks'))
    )
    op.create_index(op.f('ix_blacklist_marks_customer_id'), 'blacklist_marks', ['customer_id'], unique=False)
    op.create_table('callback_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('queue_name', sa.String(length=40), nullable=True),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('call_uuid', sa.String(length=40), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'scheduled', 'done', 'failed', 'cancelled')", name=op.f('ck_callback_requests_status_valid')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_callback_requests_attempts_not_negative')),
    sa.CheckConstraint('window_start IS NULL OR window_end IS NULL OR window_end > window_start', name=op.f('ck_callback_requests_window_ordered')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_callback_requests_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_requests'))
    )
    op.create_index(op.f('ix_callback_requests_customer_id'), 'callback_requests', ['customer_id'], unique=False)
    op.create_index(op.f('ix_callback_requests_status_window_start'), 'callback_requests', ['status', 'window_start'], unique=False)
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('mode', sa.String(length=20), server_default='progressive', nullable=False),
    sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=True),
    sa.Column('ivr_script', sa.String(length=40), nullable=True),
    sa.Column('caller_id', sa.String(length=20), nullable=True),
    sa.Column('calling_hours_start', sa.Time(), server_default='09:00:00', nullable=False),
    sa.Column('calling_hours_end', sa.Time(), server_default='21:00:00', nullable=False),
    sa.Column('max_attempts', sa.Integer(), server_default='3', nullable=False),
    sa.Column('retry_minutes', sa.Integer(), server_default='60', nullable=False),
    sa.Column('abandon_cap_percent', sa.Numeric(precision=5, scale=2), server_default='3', nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("mode IN ('preview', 'progressive', 'predictive', 'ivr')", name=op.f('ck_campaigns_mode_valid')),
    sa.CheckConstraint("status IN ('draft', 'running', 'paused', 'finished')", name=op.f('ck_campaigns_status_valid')),
    sa.CheckConstraint('abandon_cap_percent >= 0 AND abandon_cap_percent <= 100', name=op.f('ck_campaigns_abandon_cap_range')),
    sa.CheckConstraint('max_attempts >= 1', name=op.f('ck_campaigns_max_attempts_positive')),
    sa.CheckConstraint('retry_minutes >= 0', name=op.f('ck_campaigns_retry_not_negative')),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_campaigns_queue_id_queues'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_campaigns_name'))
    )
    op.create_table('customer_phones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('e164', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), server_default='mobile', nullable=False),
    sa.Column('is_primary', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("e164 LIKE '+%'", name=op.f('ck_customer_phones_e164_format')),
    sa.CheckConstraint("kind IN ('mobile', 'home', 'work', 'fax')", name=op.f('ck_customer_phones_kind_valid')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_phones_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_phones')),
    sa.UniqueConstraint('customer_id', 'e164', name=op.f('uq_customer_phones_customer_id_e164'))
    )
    op.create_index(op.f('ix_customer_phones_e164'), 'customer_phones', ['e164'], unique=False)
    op.create_table('customer_tags',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_tags_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', 'tag', name=op.f('pk_customer_tags'))
    )
    op.create_index(op.f('ix_customer_tags_tag'), 'customer_tags', ['tag'], unique=False)
    op.create_table('interactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('direction', sa.String(length=20), server_default='inbound', nullable=False),
    sa.Column('address', sa.String(length=100), nullable=True),
    sa.Column('summary', sa.String(length=255), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('call_uuid', sa.String(length=40), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("channel IN ('call', 'ivr', 'agent', 'im', 'email', 'sms', 'fax', 'web')", name=op.f('ck_interactions_channel_valid')),
    sa.CheckConstraint("direction IN ('inbound', 'outbound', 'internal')", name=op.f('ck_interactions_direction_valid')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_interactions_agent_id_agents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_interactions_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interactions'))
    )
    op.create_index(op.f('ix_interactions_call_uuid'), 'interactions', ['call_uuid'], unique=False)
    op.create_index(op.f('ix_interactions_customer_id_occurred_at'), 'interactions', ['customer_id', 'occurred_at'], unique=False)
    op.create_table('media_air_times',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_media_air_times_window_ordered')),
    sa.ForeignKeyConstraint(['plan_id'], ['media_plans.id'], name=op.f('fk_media_air_times_plan_id_media_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_air_times'))
    )
    op.create_index(op.f('ix_media_air_times_plan_id_starts_at'), 'media_air_times', ['plan_id', 'starts_at'], unique=False)
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('phone_code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='active', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("length(phone_code) BETWEEN 1 AND 8 AND ltrim(phone_code, '0123456789') = ''", name=op.f('ck_products_phone_code_digits')),
    sa.CheckConstraint("status IN ('active', 'inactive', 'discontinued')", name=op.f('ck_products_status_valid')),
    sa.CheckConstraint('price >= 0', name=op.f('ck_products_price_not_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_products_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_products_supplier_id_suppliers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('phone_code', name=op.f('uq_products_phone_code')),
    sa.UniqueConstraint('sku', name=op.f('uq_products_sku'))
    )
    op.create_index(op.f('ix_products_category_id'), 'products', ['category_id'], unique=False)
    op.create_index(op.f('ix_products_supplier_id'), 'products', ['supplier_id'], unique=False)
    op.create_table('queue_skills',
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.Column('min_level', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('min_level BETWEEN 1 AND 10', name=op.f('ck_queue_skills_min_level_1_to_10')),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_queue_skills_queue_id_queues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_queue_skills_skill_id_skills'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('queue_id', 'skill_id', name=op.f('pk_queue_skills'))
    )
    op.create_table('voicemails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('caller', sa.String(length=20), nullable=True),
    sa.Column('audio_path', sa.String(length=255), nullable=False),
    sa.Column('duration_seconds', sa.Double(), nullable=False),
    sa.Column('call_uuid', sa.String(length=40), nullable=True),
    sa.Column('mailbox', sa.String(length=40), server_default='complaints', nullable=False),
    sa.Column('heard', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('transcript', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('duration_seconds >= 0', name=op.f('ck_voicemails_duration_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_voicemails_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voicemails'))
    )
    op.create_index(op.f('ix_voicemails_call_uuid'), 'voicemails', ['call_uuid'], unique=False)
    op.create_index(op.f('ix_voicemails_created_at'), 'voicemails', ['created_at'], unique=False)
    op.create_index(op.f('ix_voicemails_customer_id'), 'voicemails', ['customer_id'], unique=False)
    op.create_table('call_detail_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=40), nullable=False),
    sa.Column('ani', sa.String(length=40), nullable=True),
    sa.Column('dnis', sa.String(length=40), nullable=True),
    sa.Column('direction', sa.String(length=20), server_default='inbound', nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('queue_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wrapup_ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disposition', sa.String(length=40), nullable=True),
    sa.Column('hangup_cause', sa.String(length=40), nullable=True),
    sa.Column('media_source', sa.String(length=40), nullable=True),
    sa.Column('ivr_path', sa.String(length=255), nullable=True),
    sa.CheckConstraint("direction IN ('inbound', 'outbound', 'internal')", name=op.f('ck_call_detail_records_direction_valid')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_call_detail_records_agent_id_agents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_call_detail_records_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_call_detail_records_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_call_detail_records_queue_id_queues'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_detail_records')),
    sa.UniqueConstraint('uuid', name=op.f('uq_call_detail_records_uuid'))
    )
    op.create_index(op.f('ix_call_detail_records_agent_id_entered_at'), 'call_detail_records', ['agent_id', 'entered_at'], unique=False)
    op.create_index(op.f('ix_call_detail_records_ani'), 'call_detail_records', ['ani'], unique=False)
    op.create_index(op.f('ix_call_detail_records_entered_at'), 'call_detail_records', ['entered_at'], unique=False)
    op.create_index(op.f('ix_call_detail_records_queue_id_entered_at'), 'call_detail_records', ['queue_id', 'entered_at'], unique=False)
    op.create_table('campaign_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'dialing', 'done', 'failed', 'skipped')", name=op.f('ck_campaign_contacts_status_valid')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_campaign_contacts_attempts_not_negative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_contacts_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_campaign_contacts_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_contacts'))
    )
    op.create_index(op.f('ix_campaign_contacts_customer_id'), 'campaign_contacts', ['customer_id'], unique=False)
    op.create_index(op.f('ix_campaign_contacts_due'), 'campaign_contacts', ['campaign_id', 'status', 'next_attempt_at'], unique=False)
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='ordered', nullable=False),
    sa.Column('channel', sa.String(length=20), server_default='ivr', nullable=False),
    sa.Column('delivery_method', sa.String(length=20), server_default='courier', nullable=False),
    sa.Column('payment_method', sa.String(length=20), server_default='cod', nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('ship_to_name', sa.String(length=100), nullable=True),
    sa.Column('ship_to_phone', sa.String(length=20), nullable=True),
    sa.Column('ship_to_address', sa.Text(), nullable=True),
    sa.Column('media_source', sa.String(length=40), nullable=True),
    sa.Column('want_invoice', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('invoice_title', sa.String(length=255), nullable=True),
    sa.Column('urgent', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('special_requests', sa.Text(), nullable=True),
    sa.Column('subtotal', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('discount', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('points_earned', sa.Integer(), server_default='0', nullable=False),
    sa.Column('courier', sa.String(length=40), nullable=True),
    sa.Column('waybill', sa.String(length=40), nullable=True),
    sa.Column('call_uuid', sa.String(length=40), nullable=True),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("channel IN ('call', 'ivr', 'agent', 'im', 'email', 'sms', 'fax', 'web')", name=op.f('ck_orders_channel_valid')),
    sa.CheckConstraint("delivery_method IN ('courier', 'express', 'pickup', 'post')", name=op.f('ck_orders_delivery_method_valid')),
    sa.CheckConstraint("payment_method IN ('cod', 'card', 'alipay', 'wechat', 'bank_transfer', 'points')", name=op.f('ck_orders_payment_method_valid')),
    sa.CheckConstraint("status IN ('ordered', 'shipped', 'delivered', 'settled', 'returned', 'exchanged', 'cancelled')", name=op.f('ck_orders_status_valid')),
    sa.CheckConstraint('length(number) = 10', name=op.f('ck_orders_number_ten_digits')),
    sa.CheckConstraint('total >= 0 AND subtotal >= 0 AND discount >= 0', name=op.f('ck_orders_amounts_not_negative')),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], name=op.f('fk_orders_address_id_addresses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_orders_customer_id_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number'))
    )
    op.create_index(op.f('ix_orders_customer_id_created_at'), 'orders', ['customer_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_orders_media_source'), 'orders', ['media_source'], unique=False)
    op.create_index(op.f('ix_orders_status_created_at'), 'orders', ['status', 'created_at'], unique=False)
    op.create_index(op.f('ix_orders_waybill'), 'orders', ['waybill'], unique=False)
    op.create_table('promotion_products',
    sa.Column('promotion_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_promotion_products_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotions.id'], name=op.f('fk_promotion_products_promotion_id_promotions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('promotion_id', 'product_id', name=op.f('pk_promotion_products'))
    )
    op.create_index(op.f('ix_promotion_products_product_id'), 'promotion_products', ['product_id'], unique=False)
    op.create_table('stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reserved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('warning_level', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_stock_on_hand_not_negative')),
    sa.CheckConstraint('reserved <= on_hand', name=op.f('ck_stock_reserved_within_on_hand')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_stock_reserved_not_negative')),
    sa.CheckConstraint('warning_level >= 0', name=op.f('ck_stock_warning_level_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock')),
    sa.UniqueConstraint('product_id', 'warehouse_id', name=op.f('uq_stock_product_id_warehouse_id'))
    )
    op.create_index(op.f('ix_stock_warehouse_id'), 'stock', ['warehouse_id'], unique=False)
    op.create_table('stock_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('from_warehouse_id', sa.Integer(), nullable=False),
    sa.Column('to_warehouse_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='requested', nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('requested', 'in_transit', 'received', 'cancelled')", name=op.f('ck_stock_transfers_status_valid')),
    sa.CheckConstraint('from_warehouse_id <> to_warehouse_id', name=op.f('ck_stock_transfers_different_warehouses')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_stock_transfers_quantity_positive')),
    sa.ForeignKeyConstraint(['from_warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_transfers_from_warehouse_id_warehouses')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_transfers_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_transfers_to_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_transfers'))
    )
    op.create_index(op.f('ix_stock_transfers_product_id'), 'stock_transfers', ['product_id'], unique=False)
    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='open', nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('voicemail_id', sa.Integer(), nullable=True),
    sa.Column('assigned_to', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("category IN ('product_quality', 'service', 'logistics', 'other')", name=op.f('ck_complaints_category_valid')),
    sa.CheckConstraint("channel IN ('call', 'ivr', 'agent', 'im', 'email', 'sms', 'fax', 'web')", name=op.f('ck_complaints_channel_valid')),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'resolved', 'closed')", name=op.f('ck_complaints_status_valid')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_complaints_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_complaints_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['voicemail_id'], ['voicemails.id'], name=op.f('fk_complaints_voicemail_id_voicemails'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints'))
    )
    op.create_index(op.f('ix_complaints_customer_id'), 'complaints', ['customer_id'], unique=False)
    op.create_index(op.f('ix_complaints_order_id'), 'complaints', ['order_id'], unique=False)
    op.create_index(op.f('ix_complaints_status_created_at'), 'complaints', ['status', 'created_at'], unique=False)
    op.create_table('order_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('promotion_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('discount', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.Column('line_total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_order_items_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0 AND discount >= 0 AND line_total >= 0', name=op.f('ck_order_items_amounts_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_items_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_order_items_product_id_products'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotions.id'], name=op.f('fk_order_items_promotion_id_promotions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_order_items_warehouse_id_warehouses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_items'))
    )
    op.create_index(op.f('ix_order_items_order_id'), 'order_items', ['order_id'], unique=False)
    op.create_index(op.f('ix_order_items_product_id'), 'order_items', ['product_id'], unique=False)
    op.create_table('order_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('changed_by', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("from_status IS NOT NULL OR to_status = 'ordered'", name=op.f('ck_order_status_changes_first_status_is_ordered')),
    sa.CheckConstraint("to_status IN ('ordered', 'shipped', 'delivered', 'settled', 'returned', 'exchanged', 'cancelled')", name=op.f('ck_order_status_changes_to_status_valid')),
    sa.ForeignKeyConstraint(['from_status', 'to_status'], ['order_status_transitions.from_status', 'order_status_transitions.to_status'], name='fk_order_status_changes_transition'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_status_changes_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_status_changes'))
    )
    op.create_index(op.f('ix_order_status_changes_order_id_changed_at'), 'order_status_changes', ['order_id', 'changed_at'], unique=False)
    op.create_table('points_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("(kind = 'earn' AND delta > 0) OR (kind IN ('redeem', 'expire') AND delta < 0) OR kind = 'adjust'", name=op.f('ck_points_entries_delta_sign_matches_kind')),
    sa.CheckConstraint("kind IN ('earn', 'redeem', 'expire', 'adjust')", name=op.f('ck_points_entries_kind_valid')),
    sa.CheckConstraint('balance_after >= 0', name=op.f('ck_points_entries_balance_after_not_negative')),
    sa.CheckConstraint('delta <> 0', name=op.f('ck_points_entries_delta_not_zero')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_entries_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_points_entries_order_id_orders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries'))
    )
    op.create_index(op.f('ix_points_entries_customer_id_created_at'), 'points_entries', ['customer_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_points_entries_order_id'), 'points_entries', ['order_id'], unique=False)
    op.create_table('stock_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stock_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('delta <> 0', name=op.f('ck_stock_adjustments_delta_not_zero')),
    sa.ForeignKeyConstraint(['stock_id'], ['stock.id'], name=op.f('fk_stock_adjustments_stock_id_stock'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_adjustments'))
    )
    op.create_index(op.f('ix_stock_adjustments_stock_id_created_at'), 'stock_adjustments', ['stock_id', 'created_at'], unique=False)
    op.create_table('stock_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stock_id', sa.Integer(), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Integer(), nullable=False),
    sa.Column('counted_by', sa.String(length=40), nullable=True),
    sa.Column('counted_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('counted >= 0', name=op.f('ck_stock_counts_counted_not_negative')),
    sa.ForeignKeyConstraint(['stock_id'], ['stock.id'], name=op.f('fk_stock_counts_stock_id_stock'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_counts'))
    )
    op.create_index(op.f('ix_stock_counts_stock_id'), 'stock_counts', ['stock_id'], unique=False)
    op.create_table('stock_reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stock_id', sa.Integer(), nullable=False),
    sa.Column('order_item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='held', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("status IN ('held', 'released', 'consumed')", name=op.f('ck_stock_reservations_status_valid')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_stock_reservations_quantity_positive')),
    sa.ForeignKeyConstraint(['order_item_id'], ['order_items.id'], name=op.f('fk_stock_reservations_order_item_id_order_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stock_id'], ['stock.id'], name=op.f('fk_stock_reservations_stock_id_stock'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_reservations'))
    )
    op.create_index(op.f('ix_stock_reservations_order_item_id'), 'stock_reservations', ['order_item_id'], unique=False)
    op.create_index(op.f('ix_stock_reservations_stock_id'), 'stock_reservations', ['stock_id'], unique=False)


    transitions = sa.table("order_status_transitions", sa.column("from_status"), sa.column("to_status"))
    op.bulk_insert(transitions, [{"from_status": f, "to_status": t} for f, t in ORDER_TRANSITIONS])


def downgrade() -> None:
    """Drop every table (indexes go with them), children before parents."""
    for table in (
        'stock_reservations',
        'stock_counts',
        'stock_adjustments',
        'points_entries',
        'order_status_changes',
        'order_items',
        'complaints',
        'stock_transfers',
        'stock',
        'promotion_products',
        'orders',
        'campaign_contacts',
        'call_detail_records',
        'voicemails',
        'queue_skills',
        'products',
        'media_air_times',
        'interactions',
        'customer_tags',
        'customer_phones',
        'campaigns',
        'callback_requests',
        'blacklist_marks',
        'agent_state_log',
        'agent_skills',
        'admin_users',
        'addresses',
        'warehouses',
        'suppliers',
        'skills',
        'queues',
        'promotions',
        'order_status_transitions',
        'media_plans',
        'knowledge_articles',
        'do_not_call',
        'customers',
        'categories',
        'agents',
    ):
        op.drop_table(table)
