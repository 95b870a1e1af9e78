"""SQS FIFO queues, dead-letter redrive and message move tasks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sqs_queues") as b:
        b.add_column(sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"))
        b.add_column(sa.Column("dlq_arn", sa.String(300)))
    op.create_index("ix_sqs_queues_dlq", "sqs_queues", ["dlq_arn"])
    with op.batch_alter_table("sqs_messages") as b:
        b.add_column(sa.Column("group_id", sa.String(128)))
        b.add_column(sa.Column("dedup_id", sa.String(128)))
        b.add_column(sa.Column("seq", sa.BigInteger))
        b.add_column(sa.Column("source_arn", sa.String(300)))
    op.create_index("ix_sqs_messages_seq", "sqs_messages", ["queue_id", "seq"])
    op.create_table(
        "sqs_fifo_dedup",
        sa.Column("queue_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("scope", sa.String(128), primary_key=True),
        sa.Column("dedup_id", sa.String(128), primary_key=True),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sqs_fifo_dedup_expires", "sqs_fifo_dedup", ["expires_at"])
    op.create_table(
        "sqs_receive_attempts",
        sa.Column("queue_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("attempt_id", sa.String(128), primary_key=True),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("message_ids", sa.Text, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sqs_receive_attempts_expires", "sqs_receive_attempts", ["expires_at"])
    op.create_table(
        "sqs_move_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handle", sa.String(200), nullable=False, unique=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("source_arn", sa.String(300), nullable=False),
        sa.Column("destination_arn", sa.String(300)),
        sa.Column("rate", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("moved", sa.BigInteger, nullable=False),
        sa.Column("to_move", sa.BigInteger, nullable=False),
        sa.Column("high_water", sa.BigInteger, nullable=False),
        sa.Column("failure_reason", sa.Text),
        sa.Column("progress_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sqs_move_tasks_source", "sqs_move_tasks", ["source_arn", "started_at"])
    op.create_index("ix_sqs_move_tasks_status", "sqs_move_tasks", ["status"])


def downgrade() -> None:
    op.drop_table("sqs_move_tasks")
    op.drop_table("sqs_receive_attempts")
    op.drop_table("sqs_fifo_dedup")
    op.drop_index("ix_sqs_messages_seq", "sqs_messages")
    with op.batch_alter_table("sqs_messages") as b:
        b.drop_column("source_arn")
        b.drop_column("seq")
        b.drop_column("dedup_id")
        b.drop_column("group_id")
    op.drop_index("ix_sqs_queues_dlq", "sqs_queues")
    with op.batch_alter_table("sqs_queues") as b:
        b.drop_column("dlq_arn")
        b.drop_column("seq")
