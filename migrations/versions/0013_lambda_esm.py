"""Lambda event source mappings on streams: each shard's checkpoint (and tumbling-window state) as a row.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lambda_esm_checkpoints",
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column("shard", sa.Integer(), primary_key=True),
        sa.Column("stream_id", sa.BigInteger(), nullable=False),
        sa.Column("stream_created", sa.BigInteger(), nullable=False),
        sa.Column("after", sa.BigInteger(), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("finished", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lambda_esm_checkpoints")
