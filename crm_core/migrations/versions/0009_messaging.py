"""Messaging: the outbox, templates, the capture gateway's mailbox, inbound SMS and faxes, opt-outs, gateways.

``outbox_messages`` is the one durable queue everything that sends goes
through: a partial index on queued rows (per channel, by due time) serves the
dispatcher's claim, another on ``sending`` rows serves recovery of claims whose
lease ran out. Default templates are not seeded here: the engine adds the
missing ones at start (``crm_core.services.message_templates``), so an edited
template is never overwritten and new defaults need no migration.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: JSON that is JSONB on PostgreSQL (as ``crm_core.types.JSONDocument``).
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('captured_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('attachment_path', sa.Text(), nullable=True),
    sa.Column('client_ref', sa.String(length=120), nullable=False),
    sa.Column('provider_message_id', sa.String(length=40), nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'email', 'fax', 'voice')", name=op.f('ck_captured_messages_channel_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_captured_messages')),
    sa.UniqueConstraint('client_ref', name=op.f('uq_captured_messages_client_ref'))
    )
    op.create_index('ix_captured_messages_captured_at', 'captured_messages', ['captured_at'], unique=False)
    op.create_table('message_gateways',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('options', JSON_DOCUMENT, nullable=True),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('updated_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'email', 'fax', 'voice')", name=op.f('ck_message_gateways_channel_valid')),
    sa.CheckConstraint("kind IN ('capture', 'http', 'smpp', 'smtp', 'freeswitch')", name=op.f('ck_message_gateways_kind_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_gateways')),
    sa.UniqueConstraint('channel', name=op.f('uq_message_gateways_channel'))
    )
    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=20), server_default='zh', nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('fields', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'email', 'fax', 'voice')", name=op.f('ck_message_templates_channel_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('name', 'channel', 'language', name=op.f('uq_message_templates_name_channel_language'))
    )
    op.create_table('inbound_faxes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_uuid', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sender', sa.String(length=40), nullable=True),
    sa.Column('sender_e164', sa.String(length=20), nullable=True),
    sa.Column('dnis', sa.String(length=20), nullable=True),
    sa.Column('remote_station_id', sa.String(length=100), nullable=True),
    sa.Column('pages', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total_pages', sa.Integer(), nullable=True),
    sa.Column('result_code', sa.Integer(), nullable=True),
    sa.Column('result_text', sa.String(length=255), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('tiff_path', sa.Text(), nullable=True),
    sa.Column('pdf_path', sa.Text(), nullable=True),
    sa.Column('thumbnail_path', sa.Text(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('assigned_by', sa.String(length=40), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("status IN ('received', 'failed')", name=op.f('ck_inbound_faxes_status_valid')),
    sa.CheckConstraint('pages >= 0', name=op.f('ck_inbound_faxes_pages_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_inbound_faxes_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_faxes')),
    sa.UniqueConstraint('call_uuid', name=op.f('uq_inbound_faxes_call_uuid'))
    )
    op.create_index('ix_inbound_faxes_customer_id_received_at', 'inbound_faxes', ['customer_id', 'received_at'], unique=False)
    op.create_index('ix_inbound_faxes_received_at', 'inbound_faxes', ['received_at'], unique=False)
    op.create_table('message_opt_outs',
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'email', 'fax', 'voice')", name=op.f('ck_message_opt_outs_channel_valid')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_message_opt_outs_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('channel', 'address', name=op.f('pk_message_opt_outs'))
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=255), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=20), server_default='zh', nullable=False),
    sa.Column('merge_data', JSON_DOCUMENT, nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('attachment_path', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='queued', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('max_attempts', sa.Integer(), server_default='5', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=True),
    sa.Column('provider_message_id', sa.String(length=100), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('result', JSON_DOCUMENT, nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('call_uuid', sa.String(length=40), nullable=True),
    sa.Column('created_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('sms', 'email', 'fax', 'voice')", name=op.f('ck_outbox_messages_channel_valid')),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'expired', 'cancelled')", name=op.f('ck_outbox_messages_status_valid')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_messages_attempts_not_negative')),
    sa.CheckConstraint('max_attempts >= 1', name=op.f('ck_outbox_messages_max_attempts_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_outbox_messages_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_outbox_messages_complaint_id_complaints'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_outbox_messages_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_outbox_messages_order_id_orders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_messages_idempotency_key'))
    )
    op.create_index('ix_outbox_messages_customer_id_created_at', 'outbox_messages', ['customer_id', 'created_at'], unique=False)
    op.create_index('ix_outbox_messages_due', 'outbox_messages', ['channel', 'next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))
    op.create_index('ix_outbox_messages_lease', 'outbox_messages', ['lease_until'], unique=False, postgresql_where=sa.text("status = 'sending'"), sqlite_where=sa.text("status = 'sending'"))
    op.create_index('ix_outbox_messages_provider_message_id', 'outbox_messages', ['provider_message_id'], unique=False)
    op.create_index('ix_outbox_messages_status_created_at', 'outbox_messages', ['status', 'created_at'], unique=False)
    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), server_default='reply', nullable=False),
    sa.Column('sender', sa.String(length=255), nullable=False),
    sa.Column('recipient', sa.String(length=100), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=True),
    sa.Column('provider_message_id', sa.String(length=100), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'email', 'fax', 'voice')", name=op.f('ck_inbound_messages_channel_valid')),
    sa.CheckConstraint("kind IN ('reply', 'opt_out', 'bounce')", name=op.f('ck_inbound_messages_kind_valid')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_inbound_messages_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_messages.id'], name=op.f('fk_inbound_messages_outbox_message_id_outbox_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('provider', 'provider_message_id', name=op.f('uq_inbound_messages_provider_provider_message_id'))
    )
    op.create_index('ix_inbound_messages_customer_id_received_at', 'inbound_messages', ['customer_id', 'received_at'], unique=False)
    op.create_index('ix_inbound_messages_received_at', 'inbound_messages', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbound_messages_received_at', table_name='inbound_messages')
    op.drop_index('ix_inbound_messages_customer_id_received_at', table_name='inbound_messages')
    op.drop_table('inbound_messages')
    op.drop_index('ix_outbox_messages_status_created_at', table_name='outbox_messages')
    op.drop_index('ix_outbox_messages_provider_message_id', table_name='outbox_messages')
    op.drop_index('ix_outbox_messages_lease', table_name='outbox_messages', postgresql_where=sa.text("status = 'sending'"), sqlite_where=sa.text("status = 'sending'"))
    op.drop_index('ix_outbox_messages_due', table_name='outbox_messages', postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))
    op.drop_index('ix_outbox_messages_customer_id_created_at', table_name='outbox_messages')
    op.drop_table('outbox_messages')
    op.drop_table('message_opt_outs')
    op.drop_index('ix_inbound_faxes_received_at', table_name='inbound_faxes')
    op.drop_index('ix_inbound_faxes_customer_id_received_at', table_name='inbound_faxes')
    op.drop_table('inbound_faxes')
    op.drop_table('message_templates')
    op.drop_table('message_gateways')
    op.drop_index('ix_captured_messages_captured_at', table_name='captured_messages')
    op.drop_table('captured_messages')
