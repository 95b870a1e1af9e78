"""SQS: FIFO message groups take turns (sqs_messages.turn), and standard receives find messages whose visibility
ran out ahead of later ones (an index of received messages).

Existing FIFO rows get a turn where a receive would look for one: on every message received before, and on the
first not yet received message of each group.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sqs_messages", sa.Column("turn", sa.BigInteger))
    op.execute(
        "UPDATE sqs_messages SET turn = seq WHERE seq IS NOT NULL AND (receive_count > 0 OR NOT EXISTS ("
        "SELECT 1 FROM sqs_messages e WHERE e.queue_id = sqs_messages.queue_id AND e.group_id = sqs_messages.group_id"
        " AND e.seq IS NOT NULL AND e.seq < sqs_messages.seq AND e.receive_count = 0))"
    )
    op.create_index(
        "ix_sqs_messages_turn",
        "sqs_messages",
        ["queue_id", "turn", "seq"],
        sqlite_where=sa.text("turn IS NOT NULL"),
        postgresql_where=sa.text("turn IS NOT NULL"),
    )
    op.create_index(
        "ix_sqs_messages_returned",
        "sqs_messages",
        ["queue_id", "visible_at"],
        sqlite_where=sa.text("receive_count > 0"),
        postgresql_where=sa.text("receive_count > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_sqs_messages_returned", "sqs_messages")
    op.drop_index("ix_sqs_messages_turn", "sqs_messages")
    op.drop_column("sqs_messages", "turn")
