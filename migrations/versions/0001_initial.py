"""Initial schema: leases, broker state, SQS queues, tombstones and messages.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

big_id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "broker_state",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "sqs_queues",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("fifo", sa.Boolean, nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("modified_at", sa.BigInteger, nullable=False),
        sa.Column("purged_at", sa.BigInteger),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_sqs_queues_name", "sqs_queues", ["account", "region", "name"], unique=True)
    op.create_table(
        "sqs_queue_tombstones",
        sa.Column("queue_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("deleted_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sqs_queue_tombstones_name", "sqs_queue_tombstones", ["account", "region", "name"])
    op.create_table(
        "sqs_messages",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("queue_id", sa.Integer, nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("attributes", sa.Text),
        sa.Column("system_attributes", sa.Text),
        sa.Column("md5_body", sa.String(32), nullable=False),
        sa.Column("md5_attributes", sa.String(32)),
        sa.Column("md5_system_attributes", sa.String(32)),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=False),
        sa.Column("visible_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("receive_count", sa.Integer, nullable=False),
        sa.Column("first_received_at", sa.BigInteger),
        sa.Column("received_at", sa.BigInteger),
        sa.Column("receipt", sa.String(32)),
    )
    op.create_index("ix_sqs_messages_visible", "sqs_messages", ["queue_id", "visible_at"])
    op.create_index("ix_sqs_messages_expires", "sqs_messages", ["expires_at"])


def downgrade() -> None:
    op.drop_table("sqs_messages")
    op.drop_table("sqs_queue_tombstones")
    op.drop_table("sqs_queues")
    op.drop_table("broker_state")
    op.drop_table("leases")
