"""Kinesis Data Streams: streams, shards, records, enhanced fan-out consumers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kinesis_streams",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("stream_id", sa.String(24), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_until", sa.BigInteger, nullable=False),
        sa.Column("retention_hours", sa.Integer, nullable=False),
        sa.Column("encryption", sa.String(8), nullable=False),
        sa.Column("key_id", sa.String(2048)),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("next_shard", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ux_kinesis_streams_name", "kinesis_streams", ["account", "region", "name"], unique=True)
    op.create_table(
        "kinesis_shards",
        sa.Column("stream_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("parent", sa.Integer),
        sa.Column("adjacent_parent", sa.Integer),
        sa.Column("hash_start", sa.String(39), nullable=False),
        sa.Column("hash_end", sa.String(39), nullable=False),
        sa.Column("seq_start", sa.BigInteger, nullable=False),
        sa.Column("next_seq", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("closed_at", sa.BigInteger),
        sa.Column("last_arrival", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("window", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("window_records", sa.Integer, nullable=False, server_default="0"),
        sa.Column("window_bytes", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "kinesis_records",
        sa.Column("stream_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("partition_key", sa.String(256), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("arrived_at", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_kinesis_records_arrival", "kinesis_records", ["stream_id", "shard", "arrived_at"])
    op.create_table(
        "kinesis_consumers",
        sa.Column("stream_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_until", sa.BigInteger, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kinesis_consumers")
    op.drop_index("ix_kinesis_records_arrival", "kinesis_records")
    op.drop_table("kinesis_records")
    op.drop_table("kinesis_shards")
    op.drop_index("ux_kinesis_streams_name", "kinesis_streams")
    op.drop_table("kinesis_streams")
