"""The schema: one MetaData for every service. Changed only together with a migration in migrations/."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text, text

metadata = MetaData()

# Lease-guarded scheduler jobs (jobs/leases.py). expires_at is wall-clock ms, never the test clock.
leases = Table(
    "leases",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# Small shared key/value state (the test clock offset).
broker_state = Table(
    "broker_state",
    metadata,
    Column("key", String(512), primary_key=True),  # may end in a subscription ARN
    Column("value", Text, nullable=False),
)

sqs_queues = Table(
    "sqs_queues",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(80), nullable=False),
    Column("fifo", Boolean, nullable=False, default=False),
    # Settable attributes exactly as AWS returns them (JSON object of strings).
    Column("attributes", Text, nullable=False),
    Column("tags", Text, nullable=False, default="{}"),
    Column("created_at", BigInteger, nullable=False),  # ms
    Column("modified_at", BigInteger, nullable=False),  # ms
    Column("purged_at", BigInteger),  # ms of the last PurgeQueue
    Column("seq", BigInteger, nullable=False, default=0),  # FIFO: last SequenceNumber handed out
    Column("dlq_arn", String(300)),  # deadLetterTargetArn of its RedrivePolicy, for ListDeadLetterSourceQueues
    Index("ux_sqs_queues_name", "account", "region", "name", unique=True),
    Index("ix_sqs_queues_dlq", "dlq_arn"),
    sqlite_autoincrement=True,  # never reuse the id of a deleted queue
)

# Deleted queues: AWS refuses to re-create a name within 60 s, and the sweep job removes their messages.
sqs_queue_tombstones = Table(
    "sqs_queue_tombstones",
    metadata,
    Column("queue_id", Integer, primary_key=True, autoincrement=False),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(80), nullable=False),
    Column("deleted_at", BigInteger, nullable=False),
    Index("ix_sqs_queue_tombstones_name", "account", "region", "name"),
)

# A queue is rows with a visible_at column: receive picks visible rows and moves visible_at forward.
sqs_messages = Table(
    "sqs_messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("queue_id", Integer, nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("body", Text, nullable=False),
    Column("attributes", Text),  # message attributes, JSON (binary values base64)
    Column("system_attributes", Text),  # AWSTraceHeader etc., JSON
    Column("md5_body", String(32), nullable=False),
    Column("md5_attributes", String(32)),
    Column("md5_system_attributes", String(32)),
    Column("sender_id", String(128), nullable=False),
    Column("sent_at", BigInteger, nullable=False),  # ms
    Column("visible_at", BigInteger, nullable=False),  # ms
    Column("expires_at", BigInteger, nullable=False),  # ms, sent_at + retention
    Column("receive_count", Integer, nullable=False, default=0),
    Column("first_received_at", BigInteger),  # ms
    Column("received_at", BigInteger),  # ms of the latest receive
    Column("receipt", String(32)),  # token of the latest receive; part of the receipt handle
    Column("group_id", String(128)),  # MessageGroupId
    Column("dedup_id", String(128)),  # FIFO MessageDeduplicationId
    Column("seq", BigInteger),  # FIFO SequenceNumber: order within the queue
    Column("source_arn", String(300)),  # DeadLetterQueueSourceArn of a dead-lettered message
    # FIFO: the message group's place in the receive rotation, set on the group's head (and on received messages):
    # its seq at first, a fresh number when the group is received (it goes to the back). NULL: not a group head.
    Column("turn", BigInteger),
    Index("ix_sqs_messages_visible", "queue_id", "visible_at"),
    Index("ix_sqs_messages_expires", "expires_at"),
    Index("ix_sqs_messages_seq", "queue_id", "seq"),
    # FIFO receives fill from one group at a time; only FIFO rows carry a seq.
    Index(
        "ix_sqs_messages_group",
        "queue_id",
        "group_id",
        "seq",
        sqlite_where=text("seq IS NOT NULL"),
        postgresql_where=text("seq IS NOT NULL"),
    ),
    # FIFO receives walk the groups in rotation order.
    Index(
        "ix_sqs_messages_turn",
        "queue_id",
        "turn",
        "seq",
        sqlite_where=text("turn IS NOT NULL"),
        postgresql_where=text("turn IS NOT NULL"),
    ),
    # Standard receives: messages received before and visible again come back ahead of later ones.
    Index(
        "ix_sqs_messages_returned",
        "queue_id",
        "visible_at",
        sqlite_where=text("receive_count > 0"),
        postgresql_where=text("receive_count > 0"),
    ),
)

# FIFO deduplication: a (scope, id) seen within 5 minutes answers with the original message.
sqs_fifo_dedup = Table(
    "sqs_fifo_dedup",
    metadata,
    Column("queue_id", Integer, primary_key=True, autoincrement=False),
    Column("scope", String(128), primary_key=True),  # "" for DeduplicationScope=queue, else the group id
    Column("dedup_id", String(128), primary_key=True),
    Column("message_id", String(36), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_sqs_fifo_dedup_expires", "expires_at"),
)

# FIFO ReceiveRequestAttemptId: a retried receive within 5 minutes gets the same messages and handles.
sqs_receive_attempts = Table(
    "sqs_receive_attempts",
    metadata,
    Column("queue_id", Integer, primary_key=True, autoincrement=False),
    Column("attempt_id", String(128), primary_key=True),
    Column("token", String(32), nullable=False),
    Column("message_ids", Text, nullable=False),  # JSON list of row ids
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_sqs_receive_attempts_expires", "expires_at"),
)

# Dead-letter queue redrive (StartMessageMoveTask): stored progress driven by a leased job.
sqs_move_tasks = Table(
    "sqs_move_tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("handle", String(200), nullable=False, unique=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("source_arn", String(300), nullable=False),
    Column("destination_arn", String(300)),
    Column("rate", Integer),  # MaxNumberOfMessagesPerSecond
    Column("status", String(16), nullable=False),  # RUNNING, CANCELLING, CANCELLED, COMPLETED, FAILED
    Column("started_at", BigInteger, nullable=False),
    Column("moved", BigInteger, nullable=False),
    Column("to_move", BigInteger, nullable=False),
    Column("high_water", BigInteger, nullable=False),  # only messages up to this row id are moved
    Column("failure_reason", Text),
    Column("progress_at", BigInteger, nullable=False),  # wall ms of the last step, for the rate
    Index("ix_sqs_move_tasks_source", "source_arn", "started_at"),
    Index("ix_sqs_move_tasks_status", "status"),
)

# -- SNS -------------------------------------------------------------------------------------------------------
sns_topics = Table(
    "sns_topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("arn", String(300), nullable=False, unique=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(256), nullable=False),
    Column("fifo", Boolean, nullable=False, default=False),
    Column("attributes", Text, nullable=False),  # settable attributes, JSON
    Column("tags", Text, nullable=False, default="{}"),
    Column("data_protection_policy", Text),
    Column("created_at", BigInteger, nullable=False),  # ms
    Column("seq", BigInteger, nullable=False, default=0),  # FIFO: last SequenceNumber handed out
    Index("ix_sns_topics_account", "account", "region", "name"),
)

sns_subscriptions = Table(
    "sns_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("arn", String(400), nullable=False, unique=True),
    Column("topic_arn", String(300), nullable=False),
    Column("owner", String(12), nullable=False),
    Column("protocol", String(32), nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("attributes", Text, nullable=False),  # settable attributes, JSON
    Column("confirmed", Boolean, nullable=False),
    Column("token", String(256)),  # confirmation token while pending
    Column("created_at", BigInteger, nullable=False),  # ms
    # HTTP/S throttle (maxReceivesPerSecond): deliveries started in the wall-clock second `throttle_second`.
    Column("throttle_second", BigInteger, nullable=False, server_default="0"),
    Column("throttle_count", Integer, nullable=False, server_default="0"),
    Index("ix_sns_subscriptions_topic", "topic_arn", "id"),
    Index("ix_sns_subscriptions_owner", "owner", "id"),
)

# FIFO topics: a (scope, id) seen within 5 minutes answers with the original message.
sns_fifo_dedup = Table(
    "sns_fifo_dedup",
    metadata,
    Column("topic_id", Integer, primary_key=True, autoincrement=False),
    Column("scope", String(128), primary_key=True),  # "" for the topic, else the message group id
    Column("dedup_id", String(128), primary_key=True),
    Column("message_id", String(36), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_sns_fifo_dedup_expires", "expires_at"),
)

# What email, SMS and mobile push deliveries would have sent: nothing leaves the machine; tests read it back.
sns_outbox = Table(
    "sns_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("created_at", BigInteger, nullable=False),  # ms
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("topic_arn", String(300)),
    Column("subscription_arn", String(400)),
    Column("protocol", String(32), nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("message", Text, nullable=False),  # JSON: what would have been sent
    Index("ix_sns_outbox_created", "created_at"),
)

# Pending HTTP(S) deliveries: rows, so that retries continue after a restart.
sns_deliveries = Table(
    "sns_deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("subscription_arn", String(400), nullable=False),
    Column("kind", String(32), nullable=False),  # Notification, SubscriptionConfirmation, UnsubscribeConfirmation
    Column("payload", Text, nullable=False),  # JSON: headers and body to POST
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", BigInteger, nullable=False),  # ms
    Column("created_at", BigInteger, nullable=False),  # ms
    Column("lease_until", BigInteger, nullable=False, default=0),  # ms: taken by a delivery run until then
    Index("ix_sns_deliveries_due", "due_at"),
    # Outcomes are recorded by id after the POST: an id must never be reused by a later row.
    sqlite_autoincrement=True,
)

# FIFO topic archive (ArchivePolicy), replayed to subscriptions with a ReplayPolicy.
sns_archive = Table(
    "sns_archive",
    metadata,
    Column("topic_id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", String(36), nullable=False),
    Column("published_at", BigInteger, nullable=False),  # ms
    Column("payload", Text, nullable=False),  # JSON: the published message
    Index("ix_sns_archive_published", "topic_id", "published_at"),
)

sns_platform_applications = Table(
    "sns_platform_applications",
    metadata,
    Column("arn", String(400), primary_key=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(256), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("attributes", Text, nullable=False),  # JSON
    Column("created_at", BigInteger, nullable=False),
    Index("ix_sns_platform_applications_account", "account", "region", "arn"),
)

sns_endpoints = Table(
    "sns_endpoints",
    metadata,
    Column("arn", String(500), primary_key=True),
    Column("application_arn", String(400), nullable=False),
    Column("token", Text, nullable=False),
    Column("attributes", Text, nullable=False),  # JSON
    Column("created_at", BigInteger, nullable=False),
    Index("ix_sns_endpoints_application", "application_arn", "arn"),
)

# Account-level SMS state: kind "attribute" (SetSMSAttributes), "opted-out" (phone numbers), "sandbox" (numbers
# with their verification state, JSON).
sns_sms = Table(
    "sns_sms",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
)

# Kinesis Data Streams. A stream's shards are numbered per stream (`idx`, shown as shardId-000000000007); their hash
# key ranges are 39-digit zero-padded decimals so that text comparison orders them as the 128-bit numbers they are.
kinesis_streams = Table(
    "kinesis_streams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("stream_id", String(24), nullable=False),  # the model's StreamId
    Column("mode", String(16), nullable=False),  # PROVISIONED | ON_DEMAND
    Column("status", String(16), nullable=False),  # CREATING | UPDATING | ACTIVE | DELETING, see status_until
    Column("status_until", BigInteger, nullable=False),  # ms: CREATING/UPDATING read as ACTIVE from then on
    Column("retention_hours", Integer, nullable=False),
    Column("encryption", String(8), nullable=False),  # NONE | KMS
    Column("key_id", String(2048)),
    Column("metrics", Text, nullable=False),  # JSON list of enabled shard-level metrics
    Column("tags", Text, nullable=False),  # JSON object
    Column("attributes", Text, nullable=False),  # JSON: resource policy, max record size, warm throughput...
    Column("next_shard", Integer, nullable=False),  # idx of the next shard a reshard creates
    Column("created_at", BigInteger, nullable=False),  # ms
    Index("ux_kinesis_streams_name", "account", "region", "name", unique=True),
)

kinesis_shards = Table(
    "kinesis_shards",
    metadata,
    Column("stream_id", Integer, primary_key=True, autoincrement=False),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("parent", Integer),
    Column("adjacent_parent", Integer),
    Column("hash_start", String(39), nullable=False),
    Column("hash_end", String(39), nullable=False),
    Column("seq_start", BigInteger, nullable=False),  # counter of StartingSequenceNumber (records start above it)
    Column("next_seq", BigInteger, nullable=False),  # counter the next record gets
    Column("created_at", BigInteger, nullable=False),  # ms
    Column("closed_at", BigInteger),  # ms; NULL while open (its last sequence number is then next_seq - 1)
    Column("last_arrival", BigInteger, nullable=False, server_default="0"),  # ms, of its newest record
    # Optional write limits (kinesis_throughput_limits): records and bytes taken in the wall-clock second `window`.
    Column("window", BigInteger, nullable=False, server_default="0"),
    Column("window_records", Integer, nullable=False, server_default="0"),
    Column("window_bytes", BigInteger, nullable=False, server_default="0"),
)

kinesis_records = Table(
    "kinesis_records",
    metadata,
    Column("stream_id", Integer, primary_key=True, autoincrement=False),
    Column("shard", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("partition_key", String(256), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("arrived_at", BigInteger, nullable=False),  # ms, ApproximateArrivalTimestamp
    Index("ix_kinesis_records_arrival", "stream_id", "shard", "arrived_at"),
    sqlite_with_rowid=False,
)

# Enhanced fan-out consumers (RegisterStreamConsumer). The ARN ends in the creation time in seconds.
kinesis_consumers = Table(
    "kinesis_consumers",
    metadata,
    Column("stream_id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(128), primary_key=True),
    Column("created_at", BigInteger, nullable=False),  # ms
    Column("status", String(16), nullable=False),  # CREATING (until status_until) | ACTIVE
    Column("status_until", BigInteger, nullable=False),
    Column("tags", Text, nullable=False),  # JSON object
)

# Kinesis queues (CreateQueue): a queue pulls records of one on-demand stream into per-record delivery state.
kinesis_queues = Table(
    "kinesis_queues",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(160), nullable=False),  # "~<id>~<name>" once deleted, so the name is free at once
    Column("queue_id", String(64), nullable=False),  # the ARN's resource id, not derived from the name
    Column("stream_id", Integer, nullable=False),
    Column("start_type", String(16), nullable=False),  # TRIM_HORIZON | LATEST | AT_TIMESTAMP
    Column("start_at", BigInteger),  # ms: the effective starting position's time
    Column("visibility", Integer, nullable=False),  # seconds
    Column("max_receive", Integer),  # NULL: dead-letter handling off (TargetType NONE)
    Column("status", String(16), nullable=False),  # CREATING | UPDATING | ACTIVE | DELETING, see status_until
    Column("status_until", BigInteger, nullable=False),
    Column("tags", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),  # ms
    Index("ux_kinesis_queues_name", "account", "region", "name", unique=True),
    Index("ux_kinesis_queues_arn", "account", "region", "queue_id", unique=True),
)

# How far a queue has pulled each shard: records above `after` have not been received from it yet.
kinesis_queue_cursors = Table(
    "kinesis_queue_cursors",
    metadata,
    Column("queue", Integer, primary_key=True, autoincrement=False),
    Column("shard", Integer, primary_key=True, autoincrement=False),
    Column("after", BigInteger, nullable=False),
)

# Delivery state of each record a queue has handed out and not had acknowledged. A row whose visibility has
# passed is visible again; `dead` rows belong to the dead-letter path.
kinesis_queue_records = Table(
    "kinesis_queue_records",
    metadata,
    Column("queue", Integer, primary_key=True, autoincrement=False),
    Column("shard", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("dead", Boolean, nullable=False),
    Column("visible_at", BigInteger, nullable=False),  # ms
    Column("receipt", String(24), nullable=False),  # of the latest receive; "" when none is valid
    Column("receive_count", Integer, nullable=False),
    Column("first_received_at", BigInteger, nullable=False),  # ms
    Index("ix_kinesis_queue_records_visible", "queue", "dead", "visible_at"),
    sqlite_with_rowid=False,
)

# Channels (CreateChannel) to S3 / S3 Tables: stored and described; nothing is delivered anywhere.
kinesis_channels = Table(
    "kinesis_channels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(160), nullable=False),  # "~<id>~<name>" once deleted
    Column("channel_id", String(64), nullable=False),
    Column("stream_id", Integer, nullable=False),
    Column("config", Text, nullable=False),  # JSON: the description's configuration members
    Column("status", String(16), nullable=False),  # CREATING | UPDATING | ACTIVE | DELETING, see status_until
    Column("status_until", BigInteger, nullable=False),
    Column("tags", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),  # ms
    Index("ux_kinesis_channels_name", "account", "region", "name", unique=True),
    Index("ux_kinesis_channels_arn", "account", "region", "channel_id", unique=True),
)


# -- IAM ---------------------------------------------------------------------------------------------------------
# IAM is global: rows are keyed by account only. Names are unique regardless of case (name_key = lower(name)).
iam_roles = Table(
    "iam_roles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False),
    Column("path", String(512), nullable=False),
    Column("role_id", String(32), nullable=False),  # AROA...
    Column("trust_policy", Text, nullable=False),  # the AssumeRolePolicyDocument as given (URL-decoded)
    Column("description", Text),
    Column("max_session", Integer, nullable=False),  # MaxSessionDuration, seconds
    Column("boundary", String(2048)),  # permissions boundary policy ARN
    Column("tags", Text, nullable=False),  # JSON list of [key, value], in the order they were added
    Column("created_at", BigInteger, nullable=False),  # ms
    Index("ux_iam_roles_name", "account", "name_key", unique=True),
    sqlite_autoincrement=True,  # ids name the owner of inline policies and attachments: never reused
)

iam_users = Table(
    "iam_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False),
    Column("path", String(512), nullable=False),
    Column("user_id", String(32), nullable=False),  # AIDA...
    Column("boundary", String(2048)),
    Column("tags", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ux_iam_users_name", "account", "name_key", unique=True),
    sqlite_autoincrement=True,
)

# Customer managed policies; AWS managed ones are a data table (services/iam/aws_managed.py).
iam_policies = Table(
    "iam_policies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("policy_id", String(32), nullable=False),  # ANPA...
    Column("description", Text),
    Column("default_version", Integer, nullable=False),  # n of "vn"
    Column("next_version", Integer, nullable=False),  # version numbers are never reused
    Column("tags", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),  # creation of the newest version
    Index("ux_iam_policies_name", "account", "name_key", unique=True),
    sqlite_autoincrement=True,
)

iam_policy_versions = Table(
    "iam_policy_versions",
    metadata,
    Column("policy_id", Integer, primary_key=True, autoincrement=False),  # iam_policies.id
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Inline policies of roles, users and groups: owner_id is iam_roles.id, iam_users.id or iam_groups.id as kind says.
iam_inline_policies = Table(
    "iam_inline_policies",
    metadata,
    Column("kind", String(8), primary_key=True),  # role | user | group
    Column("owner_id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
)

# Managed policies (customer or AWS) attached to roles, users and groups.
iam_attachments = Table(
    "iam_attachments",
    metadata,
    Column("kind", String(8), primary_key=True),  # role | user | group
    Column("owner_id", Integer, primary_key=True, autoincrement=False),
    Column("policy_arn", String(2048), primary_key=True),
    Column("account", String(12), nullable=False),
    Column("attached_at", BigInteger, nullable=False),
    Index("ix_iam_attachments_policy", "account", "policy_arn"),
)

iam_groups = Table(
    "iam_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("group_id", String(32), nullable=False),  # AGPA...
    Column("created_at", BigInteger, nullable=False),
    Index("ux_iam_groups_name", "account", "name_key", unique=True),
    sqlite_autoincrement=True,
)

iam_group_members = Table(
    "iam_group_members",
    metadata,
    Column("group_pk", Integer, primary_key=True, autoincrement=False),  # iam_groups.id
    Column("user_pk", Integer, primary_key=True, autoincrement=False),  # iam_users.id
    Column("added_at", BigInteger, nullable=False),
    Index("ix_iam_group_members_user", "user_pk"),
)

iam_instance_profiles = Table(
    "iam_instance_profiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("profile_id", String(32), nullable=False),  # AIPA...
    Column("tags", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ux_iam_instance_profiles_name", "account", "name_key", unique=True),
    sqlite_autoincrement=True,
)

iam_instance_profile_roles = Table(
    "iam_instance_profile_roles",
    metadata,
    Column("profile_pk", Integer, primary_key=True, autoincrement=False),  # iam_instance_profiles.id
    Column("role_pk", Integer, primary_key=True, autoincrement=False),  # iam_roles.id
    Index("ix_iam_instance_profile_roles_role", "role_pk"),
)

iam_access_keys = Table(
    "iam_access_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),  # AKIA...
    Column("account", String(12), nullable=False),
    Column("user_pk", Integer, nullable=False),  # iam_users.id
    Column("secret", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # Active | Inactive
    Column("created_at", BigInteger, nullable=False),
    Index("ix_iam_access_keys_user", "user_pk"),
)


# -- CloudWatch Logs -----------------------------------------------------------------------------------------------
# Log groups. Ids are never reused (AUTOINCREMENT on SQLite): the events of a deleted group go in the background and
# must never show up in a new group that got the same id.
logs_groups = Table(
    "logs_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(512), nullable=False),
    Column("created_at", BigInteger, nullable=False),  # ms
    Column("retention_days", Integer),  # NULL: events never expire
    Column("log_class", String(32), nullable=False),  # STANDARD | INFREQUENT_ACCESS | DELIVERY | ESSENTIALS
    Column("kms_key_id", String(256)),
    Column("deletion_protection", Boolean, nullable=False),
    Column("tags", Text, nullable=False),  # JSON object
    Index("ux_logs_groups_name", "account", "region", "name", unique=True),
    sqlite_autoincrement=True,
)

# Log streams, with the figures DescribeLogStreams reports kept up to date by every append (no scan of events).
logs_streams = Table(
    "logs_streams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, nullable=False),
    Column("name", String(512), nullable=False),
    Column("created_at", BigInteger, nullable=False),  # ms
    Column("first_event", BigInteger),  # ms, timestamp of the oldest event appended; NULL until the first
    Column("last_event", BigInteger),  # ms, timestamp of the newest event appended
    Column("last_ingestion", BigInteger),  # ms
    Column("appends", BigInteger, nullable=False),  # batches appended: the (ignored) upload sequence token
    Column("stored_bytes", BigInteger, nullable=False),  # UTF-8 bytes of the messages held (the group's storedBytes)
    Index("ux_logs_streams_name", "group_id", "name", unique=True),
    Index("ix_logs_streams_last_event", "group_id", "last_event"),
    sqlite_autoincrement=True,
)

# Log events. A stream's events are read in (event_time, id) order through the first index, a group's (FilterLogEvents,
# the retention sweep) through the second; id orders events of one millisecond by ingestion.
logs_events = Table(
    "logs_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("group_id", Integer, nullable=False),
    Column("stream_id", Integer, nullable=False),
    Column("event_time", BigInteger, nullable=False),  # ms, the event's timestamp
    Column("ingested_at", BigInteger, nullable=False),  # ms
    Column("message", Text, nullable=False),
    Index("ix_logs_events_stream", "stream_id", "event_time", "id"),
    Index("ix_logs_events_group", "group_id", "event_time", "id"),
)

# Deleted groups and streams whose events the sweep still removes, a chunk at a time (kind "group" or "stream").
logs_deleted = Table(
    "logs_deleted",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("owner_id", Integer, primary_key=True, autoincrement=False),
)


# -- Lambda --------------------------------------------------------------------------------------------------------
# Functions: function-level state; every version (also $LATEST) is a row of lambda_versions with its configuration.
lambda_functions = Table(
    "lambda_functions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(64), nullable=False),
    Column("arn", String(200), nullable=False, unique=True),
    Column("tags", Text, nullable=False),  # JSON
    Column("policy", Text),  # resource-based policy document, JSON
    Column("reserved_concurrency", Integer),
    Column("settings", Text, nullable=False),  # other function-level settings (recursion, runtime management ...), JSON
    Column("next_version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),  # ms
    Index("ux_lambda_functions_name", "account", "region", "name", unique=True),
)

lambda_versions = Table(
    "lambda_versions",
    metadata,
    Column("function_id", Integer, primary_key=True, autoincrement=False),
    Column("version", String(16), primary_key=True),  # "$LATEST" or a number
    Column("number", Integer, nullable=False),  # 0 for $LATEST: orders the listing
    Column("config", Text, nullable=False),  # FunctionConfiguration as answered, JSON
    Column("code_sha", String(64), nullable=False),  # lambda_code key
)

lambda_aliases = Table(
    "lambda_aliases",
    metadata,
    Column("function_id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(128), primary_key=True),
    Column("config", Text, nullable=False),  # AliasConfiguration as answered, JSON
)

# Code and layer archives, content-addressed (sha256 hex): in the database so that every node can fetch them.
lambda_code = Table(
    "lambda_code",
    metadata,
    Column("sha", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("size", BigInteger, nullable=False),
)

lambda_layers = Table(
    "lambda_layers",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(140), primary_key=True),
    Column("version", Integer, primary_key=True),  # 0: the counter row (last version number handed out)
    Column("config", Text, nullable=False),  # GetLayerVersion's answer, JSON ("{}" on the counter row)
    Column("code_sha", String(64), nullable=False),
    Column("policy", Text),  # JSON
)

# Per-function or per-qualifier configuration objects: kind "url", "event-invoke", "provisioned", "code-signing".
lambda_configs = Table(
    "lambda_configs",
    metadata,
    Column("function_id", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), primary_key=True),
    Column("qualifier", String(128), primary_key=True),  # "" for the unqualified function
    Column("config", Text, nullable=False),  # JSON
    Column("url_id", String(40), unique=True),  # function URLs: the host label
)

lambda_event_source_mappings = Table(
    "lambda_event_source_mappings",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("function_arn", String(250), nullable=False),
    Column("config", Text, nullable=False),  # EventSourceMappingConfiguration, JSON
    Index("ix_lambda_esm_account", "account", "region", "uuid"),
)

# Accepted asynchronous invocations (InvocationType=Event, InvokeAsync), stored before they are answered 202.
lambda_async_invocations = Table(
    "lambda_async_invocations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("request_id", String(36), nullable=False, unique=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("function_arn", String(250), nullable=False),  # as invoked (qualified when it was)
    Column("payload", LargeBinary, nullable=False),
    Column("client_context", Text),
    Column("trace_id", String(256), nullable=False),
    Column("received_at", BigInteger, nullable=False),  # ms
    Column("attempts", Integer, nullable=False),
    Column("due_at", BigInteger, nullable=False),  # ms: next attempt
    Column("claimed_until", BigInteger, nullable=False, server_default="0"),  # wall ms: the running attempt's claim
    Column("function_errors", Integer, nullable=False, server_default="0"),  # attempts that ended in a function error
    Column("throttles", Integer, nullable=False, server_default="0"),  # throttles/system errors in a row (backoff)
    Column("last_outcome", Text),  # JSON: the last attempt's response (for the invocation record)
    Index("ix_lambda_async_due", "due_at"),
)

# Where each event source mapping's poller of a stream shard stands: the counter of the last record done, the tumbling
# window's state, and whether the shard was read to its end (its children may start). Written with each outcome.
lambda_esm_checkpoints = Table(
    "lambda_esm_checkpoints",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("shard", Integer, primary_key=True),
    Column("stream_id", BigInteger, nullable=False),
    Column("stream_created", BigInteger, nullable=False),  # a stream deleted and created again starts over
    Column("after", BigInteger, nullable=False),
    Column("window_start", BigInteger),  # ms: the open tumbling window
    Column("state", Text),  # JSON: the tumbling window's state
    Column("finished", Boolean, nullable=False, default=False),
)

# Running invocations, one row each, so that concurrency limits hold across workers and nodes; a crashed worker's
# rows expire (wall-clock ms).
lambda_slots = Table(
    "lambda_slots",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("function_id", Integer, nullable=False),
    Column("reserved", Boolean, nullable=False),  # counted against the function's reservation, not the shared pool
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_lambda_slots_function", "function_id"),
    Index("ix_lambda_slots_account", "account", "region", "reserved"),
)

# API Gateway: every object (REST API, resource with its methods and integrations, deployment, stage) as the
# document AWS answers for it, by kind under its API ("" for the APIs themselves).
apigateway_objects = Table(
    "apigateway_objects",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("api_id", String(64), primary_key=True),
    Column("object_id", String(256), primary_key=True),
    Column("doc", Text, nullable=False),
)

# API Gateway usage plan quotas (services/apigateway/usage_store.py): requests counted per plan, API key and UTC day
# ("yyyy-MM-dd"); `adjust` holds what UpdateUsage granted (or took back) on that day, so a period's remaining quota
# is limit - sum(used - adjust) over its days.
apigateway_usage = Table(
    "apigateway_usage",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("plan_id", String(64), primary_key=True),
    Column("key_id", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("used", BigInteger, nullable=False, default=0),
    Column("adjust", BigInteger, nullable=False, default=0),
)

# EventBridge (services/events/store.py): buses, rules and targets as the documents the operations answer from. The
# `default` bus has a row only once something (its tags) is stored for it.
events_buses = Table(
    "events_buses",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("doc", Text, nullable=False),
)

events_rules = Table(
    "events_rules",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("bus", String(256), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("doc", Text, nullable=False),
)

events_targets = Table(
    "events_targets",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("bus", String(256), primary_key=True),
    Column("rule", String(64), primary_key=True),
    Column("target_id", String(64), primary_key=True),
    Column("doc", Text, nullable=False),
)

# Deliveries to targets (services/events/delivery.py): one row per (event, target) from the moment PutEvents, a rule's
# schedule, a replay or an EventBridge Scheduler schedule (origin "schedule") accepted it until the target took it or
# its retries ran out (then it goes to the dead-letter queue, if any). `target` is the target's document as it was
# when the event was routed; `payload` the text it receives, Input/InputPath/InputTransformer applied.
events_deliveries = Table(
    "events_deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("origin", String(16), nullable=False),  # "rule" or "schedule"
    Column("source_arn", String(400), nullable=False),  # the rule's or the schedule's ARN
    Column("target", Text, nullable=False),  # JSON
    Column("payload", Text, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("accepted_at", BigInteger, nullable=False),  # ms: MaximumEventAgeInSeconds counts from here
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("due_at", BigInteger, nullable=False),  # ms: next attempt
    Column("claimed_until", BigInteger, nullable=False, server_default="0"),  # ms: a delivery run holds it until
    Column("last_error", Text),  # JSON {"code", "message"} of the last failed attempt
    Index("ix_events_deliveries_due", "due_at"),
    sqlite_autoincrement=True,  # outcomes are written by id after the attempt: ids are never reused
)

# The next firing of each enabled rule with a ScheduleExpression (a row only while it has one).
events_rule_schedules = Table(
    "events_rule_schedules",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("bus", String(256), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("next_at", BigInteger, nullable=False),  # ms
    Index("ix_events_rule_schedules_next", "next_at"),
)

# Archives (their documents) and the events they hold; replays with where they stand.
events_archives = Table(
    "events_archives",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(48), primary_key=True),
    Column("doc", Text, nullable=False),
)
events_archived = Table(
    "events_archived",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("archive", String(48), nullable=False),
    Column("event_time", BigInteger, nullable=False),  # ms: the event's Time, what a replay's window selects on
    Column("archived_at", BigInteger, nullable=False),  # ms: retention counts from here
    Column("size", Integer, nullable=False),
    Column("event", Text, nullable=False),  # JSON: the event as the bus received it
    Index("ix_events_archived_time", "account", "region", "archive", "event_time", "id"),
    Index("ix_events_archived_at", "archived_at"),
    sqlite_autoincrement=True,
)
events_replays = Table(
    "events_replays",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("doc", Text, nullable=False),
    Column("state", String(16), nullable=False),  # STARTING, RUNNING, CANCELLING, COMPLETED, CANCELLED, FAILED
    Column("cursor", BigInteger, nullable=False, server_default="0"),  # events_archived.id replayed last
    Column("due_at", BigInteger, nullable=False, server_default="0"),  # ms: when the replay job takes it next
    Index("ix_events_replays_due", "state", "due_at"),
)

# Connections (authorization for API destinations) and API destinations.
events_connections = Table(
    "events_connections",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("doc", Text, nullable=False),
)
events_api_destinations = Table(
    "events_api_destinations",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("doc", Text, nullable=False),
)

# EventBridge Scheduler (services/scheduler): schedule groups and schedules as documents; `next_at` is a schedule's
# next firing (NULL when nothing is left to fire: disabled, past its EndDate, a one-time schedule that fired).
scheduler_groups = Table(
    "scheduler_groups",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("doc", Text, nullable=False),
)
scheduler_schedules = Table(
    "scheduler_schedules",
    metadata,
    Column("account", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("group_name", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("doc", Text, nullable=False),
    Column("next_at", BigInteger),  # ms
    Index("ix_scheduler_schedules_next", "next_at"),
)
