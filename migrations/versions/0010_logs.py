"""CloudWatch Logs: log groups, log streams, log events, and the deleted groups/streams whose events remain to sweep.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logs_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("retention_days", sa.Integer),
        sa.Column("log_class", sa.String(32), nullable=False),
        sa.Column("kms_key_id", sa.String(256)),
        sa.Column("deletion_protection", sa.Boolean, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_logs_groups_name", "logs_groups", ["account", "region", "name"], unique=True)
    op.create_table(
        "logs_streams",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("first_event", sa.BigInteger),
        sa.Column("last_event", sa.BigInteger),
        sa.Column("last_ingestion", sa.BigInteger),
        sa.Column("appends", sa.BigInteger, nullable=False),
        sa.Column("stored_bytes", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_logs_streams_name", "logs_streams", ["group_id", "name"], unique=True)
    op.create_index("ix_logs_streams_last_event", "logs_streams", ["group_id", "last_event"])
    op.create_table(
        "logs_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, nullable=False),
        sa.Column("stream_id", sa.Integer, nullable=False),
        sa.Column("event_time", sa.BigInteger, nullable=False),
        sa.Column("ingested_at", sa.BigInteger, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_logs_events_stream", "logs_events", ["stream_id", "event_time", "id"])
    op.create_index("ix_logs_events_group", "logs_events", ["group_id", "event_time", "id"])
    op.create_table(
        "logs_deleted",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("owner_id", sa.Integer, primary_key=True, autoincrement=False),
    )


def downgrade() -> None:
    op.drop_table("logs_deleted")
    op.drop_index("ix_logs_events_group", "logs_events")
    op.drop_index("ix_logs_events_stream", "logs_events")
    op.drop_table("logs_events")
    op.drop_index("ix_logs_streams_last_event", "logs_streams")
    op.drop_index("ux_logs_streams_name", "logs_streams")
    op.drop_table("logs_streams")
    op.drop_index("ux_logs_groups_name", "logs_groups")
    op.drop_table("logs_groups")
