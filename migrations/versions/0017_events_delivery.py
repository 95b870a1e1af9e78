"""EventBridge delivery, schedules, archives and replays, connections and API destinations; EventBridge Scheduler
schedule groups and schedules.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("source_arn", sa.String(400), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("accepted_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_deliveries_due", "events_deliveries", ["due_at"])
    op.create_table(
        "events_rule_schedules",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("bus", sa.String(256), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_events_rule_schedules_next", "events_rule_schedules", ["next_at"])
    op.create_table(
        "events_archives",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(48), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_table(
        "events_archived",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("archive", sa.String(48), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("archived_at", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_archived_time", "events_archived", ["account", "region", "archive", "event_time", "id"])
    op.create_index("ix_events_archived_at", "events_archived", ["archived_at"])
    op.create_table(
        "events_replays",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("due_at", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_index("ix_events_replays_due", "events_replays", ["state", "due_at"])
    op.create_table(
        "events_connections",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_table(
        "events_api_destinations",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_table(
        "scheduler_groups",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_table(
        "scheduler_schedules",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("group_name", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("next_at", sa.BigInteger()),
    )
    op.create_index("ix_scheduler_schedules_next", "scheduler_schedules", ["next_at"])


def downgrade() -> None:
    op.drop_table("scheduler_schedules")
    op.drop_table("scheduler_groups")
    op.drop_table("events_api_destinations")
    op.drop_table("events_connections")
    op.drop_table("events_replays")
    op.drop_table("events_archived")
    op.drop_table("events_archives")
    op.drop_table("events_rule_schedules")
    op.drop_table("events_deliveries")
