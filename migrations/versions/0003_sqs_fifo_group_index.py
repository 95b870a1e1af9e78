"""SQS FIFO: an index to fill a receive from one message group.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_sqs_messages_group",
        "sqs_messages",
        ["queue_id", "group_id", "seq"],
        sqlite_where=sa.text("seq IS NOT NULL"),
        postgresql_where=sa.text("seq IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sqs_messages_group", "sqs_messages")
