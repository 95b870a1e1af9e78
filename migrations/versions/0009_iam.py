"""IAM: roles, users, groups, instance profiles, customer managed policies and their versions, inline policies,
attachments, access keys.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iam_roles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("role_id", sa.String(32), nullable=False),
        sa.Column("trust_policy", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("max_session", sa.Integer, nullable=False),
        sa.Column("boundary", sa.String(2048)),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_iam_roles_name", "iam_roles", ["account", "name_key"], unique=True)
    op.create_table(
        "iam_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("boundary", sa.String(2048)),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_iam_users_name", "iam_users", ["account", "name_key"], unique=True)
    op.create_table(
        "iam_policies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("policy_id", sa.String(32), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("default_version", sa.Integer, nullable=False),
        sa.Column("next_version", sa.Integer, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_iam_policies_name", "iam_policies", ["account", "name_key"], unique=True)
    op.create_table(
        "iam_policy_versions",
        sa.Column("policy_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "iam_inline_policies",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("owner_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_table(
        "iam_attachments",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("owner_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("policy_arn", sa.String(2048), primary_key=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("attached_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_iam_attachments_policy", "iam_attachments", ["account", "policy_arn"])
    op.create_table(
        "iam_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("group_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_iam_groups_name", "iam_groups", ["account", "name_key"], unique=True)
    op.create_table(
        "iam_group_members",
        sa.Column("group_pk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("user_pk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("added_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_iam_group_members_user", "iam_group_members", ["user_pk"])
    op.create_table(
        "iam_instance_profiles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("profile_id", sa.String(32), nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_iam_instance_profiles_name", "iam_instance_profiles", ["account", "name_key"], unique=True)
    op.create_table(
        "iam_instance_profile_roles",
        sa.Column("profile_pk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("role_pk", sa.Integer, primary_key=True, autoincrement=False),
    )
    op.create_index("ix_iam_instance_profile_roles_role", "iam_instance_profile_roles", ["role_pk"])
    op.create_table(
        "iam_access_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("user_pk", sa.Integer, nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_iam_access_keys_user", "iam_access_keys", ["user_pk"])


def downgrade() -> None:
    op.drop_index("ix_iam_access_keys_user", "iam_access_keys")
    op.drop_table("iam_access_keys")
    op.drop_index("ix_iam_instance_profile_roles_role", "iam_instance_profile_roles")
    op.drop_table("iam_instance_profile_roles")
    op.drop_index("ux_iam_instance_profiles_name", "iam_instance_profiles")
    op.drop_table("iam_instance_profiles")
    op.drop_index("ix_iam_group_members_user", "iam_group_members")
    op.drop_table("iam_group_members")
    op.drop_index("ux_iam_groups_name", "iam_groups")
    op.drop_table("iam_groups")
    op.drop_index("ix_iam_attachments_policy", "iam_attachments")
    op.drop_table("iam_attachments")
    op.drop_table("iam_inline_policies")
    op.drop_table("iam_policy_versions")
    op.drop_index("ux_iam_policies_name", "iam_policies")
    op.drop_table("iam_policies")
    op.drop_index("ux_iam_users_name", "iam_users")
    op.drop_table("iam_users")
    op.drop_index("ux_iam_roles_name", "iam_roles")
    op.drop_table("iam_roles")
