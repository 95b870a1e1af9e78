"""SNS: throttle counters per subscription; broker_state keys long enough to end in any subscription ARN.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broker_state") as batch:
        batch.alter_column("key", type_=sa.String(512), existing_type=sa.String(100), existing_nullable=False)
    op.add_column("sns_subscriptions", sa.Column("throttle_second", sa.BigInteger, nullable=False, server_default="0"))
    op.add_column("sns_subscriptions", sa.Column("throttle_count", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("sns_subscriptions") as batch:
        batch.drop_column("throttle_count")
        batch.drop_column("throttle_second")
    with op.batch_alter_table("broker_state") as batch:
        batch.alter_column("key", type_=sa.String(100), existing_type=sa.String(512), existing_nullable=False)
