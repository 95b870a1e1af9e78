"""Kinesis queues (per-shard cursors, per-record delivery state) and channels.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kinesis_queues",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("queue_id", sa.String(64), nullable=False),
        sa.Column("stream_id", sa.Integer, nullable=False),
        sa.Column("start_type", sa.String(16), nullable=False),
        sa.Column("start_at", sa.BigInteger),
        sa.Column("visibility", sa.Integer, nullable=False),
        sa.Column("max_receive", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_until", sa.BigInteger, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ux_kinesis_queues_name", "kinesis_queues", ["account", "region", "name"], unique=True)
    op.create_index("ux_kinesis_queues_arn", "kinesis_queues", ["account", "region", "queue_id"], unique=True)
    op.create_table(
        "kinesis_queue_cursors",
        sa.Column("queue", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("after", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "kinesis_queue_records",
        sa.Column("queue", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("dead", sa.Boolean, nullable=False),
        sa.Column("visible_at", sa.BigInteger, nullable=False),
        sa.Column("receipt", sa.String(24), nullable=False),
        sa.Column("receive_count", sa.Integer, nullable=False),
        sa.Column("first_received_at", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_kinesis_queue_records_visible", "kinesis_queue_records", ["queue", "dead", "visible_at"])
    op.create_table(
        "kinesis_channels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("stream_id", sa.Integer, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_until", sa.BigInteger, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ux_kinesis_channels_name", "kinesis_channels", ["account", "region", "name"], unique=True)
    op.create_index("ux_kinesis_channels_arn", "kinesis_channels", ["account", "region", "channel_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_kinesis_channels_arn", "kinesis_channels")
    op.drop_index("ux_kinesis_channels_name", "kinesis_channels")
    op.drop_table("kinesis_channels")
    op.drop_index("ix_kinesis_queue_records_visible", "kinesis_queue_records")
    op.drop_table("kinesis_queue_records")
    op.drop_table("kinesis_queue_cursors")
    op.drop_index("ux_kinesis_queues_arn", "kinesis_queues")
    op.drop_index("ux_kinesis_queues_name", "kinesis_queues")
    op.drop_table("kinesis_queues")
