"""EventBridge control plane: event buses, rules and targets as JSON documents.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events_buses",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_table(
        "events_rules",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("bus", sa.String(256), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_table(
        "events_targets",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("bus", sa.String(256), primary_key=True),
        sa.Column("rule", sa.String(64), primary_key=True),
        sa.Column("target_id", sa.String(64), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("events_targets")
    op.drop_table("events_rules")
    op.drop_table("events_buses")
