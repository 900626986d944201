"""Indexes for the admin reports and order search: orders by creation time and by ship-to phone,
interactions by channel and time.

The reports page aggregates a date range of orders (sales by media source)
and of interactions of one channel (IVR steps, SMS, fax); without these
indexes each is a full scan of tables that reach millions of rows. The
orders list's search by phone matches the customer's phones or the order's
ship-to phone; the latter needs its own index to stay an index lookup. Plain
``CREATE INDEX`` on both backends (on a large PostgreSQL install, create
them ``CONCURRENTLY`` by hand first; this revision then only records them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_orders_created_at", "orders", ["created_at"]),
    ("ix_orders_ship_to_phone", "orders", ["ship_to_phone"]),
    ("ix_interactions_channel_occurred_at", "interactions", ["channel", "occurred_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, if_not_exists=True)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
