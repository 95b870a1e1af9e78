"""API Gateway objects: one row per REST API, resource, deployment or stage, holding its document.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apigateway_objects",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("api_id", sa.String(64), primary_key=True),
        sa.Column("object_id", sa.String(256), primary_key=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("apigateway_objects")
