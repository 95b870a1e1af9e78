"""Lambda asynchronous invocations: claims (which worker runs the current attempt, until when), the counts retries
are decided by, and the last attempt's outcome.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lambda_async_invocations") as batch:
        batch.add_column(sa.Column("claimed_until", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("function_errors", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("throttles", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_outcome", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lambda_async_invocations") as batch:
        batch.drop_column("last_outcome")
        batch.drop_column("throttles")
        batch.drop_column("function_errors")
        batch.drop_column("claimed_until")
