"""SNS: topics, subscriptions, FIFO deduplication and archive, HTTP deliveries, outbox, platform apps, SMS.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _row_id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "sns_topics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("arn", sa.String(300), nullable=False, unique=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("fifo", sa.Boolean, nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("data_protection_policy", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sns_topics_account", "sns_topics", ["account", "region", "name"])
    op.create_table(
        "sns_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("arn", sa.String(400), nullable=False, unique=True),
        sa.Column("topic_arn", sa.String(300), nullable=False),
        sa.Column("owner", sa.String(12), nullable=False),
        sa.Column("protocol", sa.String(32), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("confirmed", sa.Boolean, nullable=False),
        sa.Column("token", sa.String(256)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sns_subscriptions_topic", "sns_subscriptions", ["topic_arn", "id"])
    op.create_index("ix_sns_subscriptions_owner", "sns_subscriptions", ["owner", "id"])
    op.create_table(
        "sns_fifo_dedup",
        sa.Column("topic_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("scope", sa.String(128), primary_key=True),
        sa.Column("dedup_id", sa.String(128), primary_key=True),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sns_fifo_dedup_expires", "sns_fifo_dedup", ["expires_at"])
    op.create_table(
        "sns_outbox",
        _row_id(),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("topic_arn", sa.String(300)),
        sa.Column("subscription_arn", sa.String(400)),
        sa.Column("protocol", sa.String(32), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_sns_outbox_created", "sns_outbox", ["created_at"])
    op.create_table(
        "sns_deliveries",
        _row_id(),
        sa.Column("subscription_arn", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("lease_until", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sns_deliveries_due", "sns_deliveries", ["due_at"])
    op.create_table(
        "sns_archive",
        sa.Column("topic_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("published_at", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_sns_archive_published", "sns_archive", ["topic_id", "published_at"])
    op.create_table(
        "sns_platform_applications",
        sa.Column("arn", sa.String(400), primary_key=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sns_platform_applications_account", "sns_platform_applications", ["account", "region", "arn"])
    op.create_table(
        "sns_endpoints",
        sa.Column("arn", sa.String(500), primary_key=True),
        sa.Column("application_arn", sa.String(400), nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sns_endpoints_application", "sns_endpoints", ["application_arn", "arn"])
    op.create_table(
        "sns_sms",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "sns_sms",
        "sns_endpoints",
        "sns_platform_applications",
        "sns_archive",
        "sns_deliveries",
        "sns_outbox",
        "sns_fifo_dedup",
        "sns_subscriptions",
        "sns_topics",
    ):
        op.drop_table(table)
