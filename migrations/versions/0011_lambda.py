"""Lambda: functions, versions, aliases, content-addressed code, layers, per-qualifier configurations, event source
mappings, accepted asynchronous invocations, and running-invocation slots (concurrency across workers).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lambda_aliases",
        sa.Column("function_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("function_id", "name"),
    )
    op.create_table(
        "lambda_async_invocations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("account", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("function_arn", sa.String(length=250), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("client_context", sa.Text(), nullable=True),
        sa.Column("trace_id", sa.String(length=256), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_index("ix_lambda_async_due", "lambda_async_invocations", ["due_at"], unique=False)
    op.create_table(
        "lambda_code",
        sa.Column("sha", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sha"),
    )
    op.create_table(
        "lambda_configs",
        sa.Column("function_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("qualifier", sa.String(length=128), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("url_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("function_id", "kind", "qualifier"),
        sa.UniqueConstraint("url_id"),
    )
    op.create_table(
        "lambda_event_source_mappings",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("account", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("function_arn", sa.String(length=250), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("uuid"),
    )
    op.create_index(
        "ix_lambda_esm_account", "lambda_event_source_mappings", ["account", "region", "uuid"], unique=False
    )
    op.create_table(
        "lambda_functions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("arn", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=True),
        sa.Column("reserved_concurrency", sa.Integer(), nullable=True),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("arn"),
    )
    op.create_index("ux_lambda_functions_name", "lambda_functions", ["account", "region", "name"], unique=True)
    op.create_table(
        "lambda_layers",
        sa.Column("account", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=140), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("code_sha", sa.String(length=64), nullable=False),
        sa.Column("policy", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account", "region", "name", "version"),
    )
    op.create_table(
        "lambda_slots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("account", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lambda_slots_account", "lambda_slots", ["account", "region", "reserved"], unique=False)
    op.create_index("ix_lambda_slots_function", "lambda_slots", ["function_id"], unique=False)
    op.create_table(
        "lambda_versions",
        sa.Column("function_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("code_sha", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("function_id", "version"),
    )


def downgrade() -> None:

    op.drop_table("lambda_versions")
    op.drop_index("ix_lambda_slots_function", table_name="lambda_slots")
    op.drop_index("ix_lambda_slots_account", table_name="lambda_slots")
    op.drop_table("lambda_slots")
    op.drop_table("lambda_layers")
    op.drop_index("ux_lambda_functions_name", table_name="lambda_functions")
    op.drop_table("lambda_functions")
    op.drop_index("ix_lambda_esm_account", table_name="lambda_event_source_mappings")
    op.drop_table("lambda_event_source_mappings")
    op.drop_table("lambda_configs")
    op.drop_table("lambda_code")
    op.drop_index("ix_lambda_async_due", table_name="lambda_async_invocations")
    op.drop_table("lambda_async_invocations")
    op.drop_table("lambda_aliases")
