"""One typed settings object: TOML file, then BROKER_* environment, then CLI flags (each overrides the last)."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from broker.resources.model import Resources

ENV_PREFIX = "BROKER_"
# The parent process hands its resolved settings to uvicorn worker processes through this variable.
RESOLVED_ENV = "BROKER__RESOLVED_SETTINGS"


class ConfigError(Exception):
    """A setting is wrong; the CLI prints it as one line and exits non-zero."""


class Credential(BaseModel):
    """A key pair of the configuration (auth = "sigv4"): a bootstrap administrator of its account."""

    model_config = ConfigDict(extra="forbid")

    access_key_id: str = Field(pattern=r"^\w{1,128}$")
    secret_access_key: str = Field(min_length=1, max_length=256)
    account_id: str = Field(pattern=r"^\d{12}$")
    # The IAM user name of whoever signs with this key; empty = `user_name`.
    user_name: str = Field("", pattern=r"^[\w+=,.@-]{0,64}$")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(4566, ge=1, le=65535)
    data_dir: str = "./data"
    db_url: str | None = None
    workers: int = Field(1, ge=1, le=64)
    default_account: str = Field("000000000000", pattern=r"^\d{12}$")
    default_region: str = Field("us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$")
    # The IAM user every caller is (STS GetCallerIdentity, SNS SubscriptionPrincipal).
    user_name: str = Field("broker", pattern=r"^[\w+=,.@-]{1,64}$")
    # "none": any caller acts in the account its access key names (12 digits) or default_account. "sigv4": every
    # AWS request must carry a valid Signature Version 4 made with a configured or IAM-created key, and acts in
    # that key's account (see docs/operations.md, "Authentication and accounts").
    auth: Literal["none", "sigv4"] = "none"
    # The configured keys ([[credentials]] tables; BROKER_CREDENTIALS: a JSON list of the same), and a TOML file
    # with more [[credentials]] tables (kept apart from the main config, e.g. readable by the broker's user only).
    credentials: list[Credential] = []
    credentials_file: str = ""
    # A bearer token for /_broker/* and the console in sigv4 mode ("Authorization: Bearer <token>"); empty = none.
    admin_token: str = ""
    durability: Literal["normal", "fsync"] = "normal"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Public host:port used in queue URLs; empty means "the Host header of the request".
    public_host: str = ""
    # Queue URLs: "regional" = http://sqs.<region>.<host>/<account>/<name> (AWS's form: same-named queues of two
    # regions differ), "host" = http://<host>/<account>/<name> (for clients that send to a queue's URL but cannot
    # resolve sqs.<region>.<host>).
    sqs_queue_url_style: Literal["regional", "host"] = "regional"
    # Host names (no port) that are this broker, besides `*.execute-api.*` and `*.lambda-url.*`: requests the broker
    # itself makes to them (API Gateway HTTP integrations, SNS HTTP/HTTPS subscriptions) go to its own port on
    # loopback with their Host header kept, so such names need not resolve on the machine. A comma-separated list in
    # BROKER_OWN_HOST_NAMES.
    own_host_names: list[str] = []
    # Lambda control plane: the account's concurrency limit (GetAccountSettings; enforced across all workers), and
    # whether CreateFunction refuses a role IAM does not hold (off: any well-formed role ARN, as LocalStack does).
    lambda_account_concurrency: int = Field(1000, ge=1, le=100_000)
    lambda_strict_roles: bool = False
    # Enables /_broker/clock and /_broker/reset. Never in production.
    test_mode: bool = False
    # Scheduler and leases.
    lease_ttl_seconds: float = Field(15.0, gt=0)
    sweep_interval_seconds: float = Field(5.0, gt=0)
    # Message move tasks (dead-letter redrive) and SNS replays: how often they step; a move task's velocity when
    # the task gives none.
    move_interval_seconds: float = Field(0.1, gt=0)
    sqs_move_default_rate: int = Field(1000, ge=1)
    # Safety-net recheck for idle long polls (wakeups normally come from the notifier).
    long_poll_recheck_seconds: float = Field(10.0, gt=0)
    # How long a write waits for a locked database before answering a retryable error.
    db_busy_timeout_ms: int = Field(5000, ge=0)
    # SQLite only: a cap on the database file in pages (PRAGMA max_page_count; 0 = none). Past it, writes answer
    # a retryable ServiceUnavailable and reads go on, as when the disk is full.
    sqlite_max_page_count: int = Field(0, ge=0)
    # Most requests committed together in one transaction (group commit).
    write_batch_max: int = Field(128, ge=1)
    # SQLite only: the writes of one turn of a worker's event loop commit together at its end, on the loop, when
    # its writer thread is idle and the write lock free (no thread hand-over); false: all through the writer thread.
    write_inline: bool = True
    read_threads: int = Field(4, ge=1, le=64)
    # RSA key size of SNS message signatures. AWS's certificates carry 2048-bit keys; a 1024-bit key signs about
    # six times faster (one signature per published message) and verifies the same way.
    sns_signing_key_bits: Literal[1024, 2048, 3072, 4096] = 1024
    # How long a Kinesis stream stays CREATING / UPDATING. boto3's stream waiters poll every 10 s, so any delay
    # costs each waiter 10 s; 0 still goes through the states (a describe right after shows ACTIVE).
    kinesis_status_delay_ms: int = Field(0, ge=0, le=600_000)
    # AWS's per-shard limits (1 MiB or 1,000 records per second in; 5 GetRecords and 2 MiB per second out), answered
    # with ProvisionedThroughputExceededException: for testing a producer's or consumer's retries. Off by default.
    kinesis_throughput_limits: bool = False
    # Lambda execution
    # Off: no function code runs on this broker (Invoke answers an error). Function code runs as the broker's OS
    # user, unsandboxed.
    lambda_enabled: bool = True
    # An execution environment idle this long is stopped (provisioned concurrency excepted).
    lambda_idle_seconds: float = Field(300.0, gt=0)
    # The safety net of asynchronous invocations: how often due retries and ended claims are looked for (new events
    # and retries are normally dispatched on wakeups).
    lambda_async_interval_seconds: float = Field(10.0, gt=0)
    # Interpreter per Python runtime ({"python3.12" = "/usr/bin/python3.12"}); others are discovered on PATH and
    # in pyenv's versions.
    lambda_python_interpreters: dict[str, str] = {}
    # The one node binary that runs every nodejs runtime (a name on PATH or a path).
    lambda_node_binary: str = "node"
    # Where `broker lambda install-runtimes` installs awslambdaric + boto3 per Python version and the AWS SDK for
    # JavaScript v3; "" = <venv>/lambda-runtimes (next to the broker's interpreter).
    lambda_runtimes_dir: str = ""
    # Kill an environment whose processes' resident memory exceeds the function's MemorySize (Runtime.OutOfMemory).
    lambda_enforce_memory: bool = True
    # How old the database gauges of /_broker/metrics may be: the workers of a node read the database for them at
    # most once per this many seconds, shared among them (see docs/operations.md, "Metrics").
    metrics_gauge_ttl_seconds: float = Field(10.0, ge=0)
    # Queues, topics, streams, functions and event source mappings created at start when missing ([[resources.*]]
    # tables; BROKER_RESOURCES: the same as a JSON object). See docs/operations.md, "Startup resources".
    resources: Resources = Resources()

    @field_validator("lambda_python_interpreters", mode="before")
    @classmethod
    def _interpreters_from_json(cls, v: Any) -> Any:
        # BROKER_LAMBDA_PYTHON_INTERPRETERS carries a JSON object.
        if isinstance(v, str):
            try:
                return json.loads(v) if v.strip() else {}
            except ValueError:
                raise ValueError('must be a JSON object such as {"python3.12": "/usr/bin/python3.12"}') from None
        return v

    @field_validator("credentials", mode="before")
    @classmethod
    def _credentials_from_json(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                return json.loads(v) if v.strip() else []
            except ValueError:
                raise ValueError("must be a JSON list of {access_key_id, secret_access_key, account_id}") from None
        return v

    @field_validator("credentials")
    @classmethod
    def _distinct_keys(cls, v: list[Credential]) -> list[Credential]:
        ids = [c.access_key_id for c in v]
        if len(set(ids)) != len(ids):
            raise ValueError("an access_key_id is listed twice")
        return v

    @field_validator("own_host_names", mode="before")
    @classmethod
    def _host_list(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [h.strip().lower() for h in v.split(",") if h.strip()]
        return [str(h).lower() for h in v] if isinstance(v, list) else v

    @field_validator("db_url")
    @classmethod
    def _normalize_db_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        if v.startswith("postgresql://") or v.startswith("postgres://"):
            v = "postgresql+psycopg://" + v.split("://", 1)[1]
        if not (v.startswith("postgresql+psycopg://") or v.startswith("sqlite:///")):
            raise ValueError("must be postgresql://... or sqlite:///path")
        return v

    @property
    def sigv4(self) -> bool:
        """auth = "sigv4": requests must be signed, accounts are separate, resource policies are enforced."""
        return self.auth == "sigv4"

    @property
    def is_postgres(self) -> bool:
        return bool(self.db_url and self.db_url.startswith("postgresql"))

    @property
    def state_dir(self) -> str:
        """Where a SQLite deployment keeps its lock files and wakeup sockets: the database file's directory."""
        if self.db_url and self.db_url.startswith("sqlite:///"):
            return str(Path(self.db_url.removeprefix("sqlite:///")).resolve().parent)
        return str(Path(self.data_dir).resolve())

    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return "sqlite:///" + str(Path(self.data_dir).resolve() / "broker.db")


def _env_values(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        key = ENV_PREFIX + name.upper()
        if key in environ:
            out[name] = environ[key]
    return out


def load_settings(
    config_file: str | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Resolve settings from file, environment and explicit overrides, raising ConfigError on any bad value."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    config_file = config_file or environ.get("BROKER_CONFIG")
    if config_file:
        try:
            with open(config_file, "rb") as f:
                values.update(tomllib.load(f))
        except OSError as e:
            raise ConfigError(f"cannot read config file {config_file}: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {config_file} is not valid TOML: {e}") from None
    values.update(_env_values(environ))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        settings = Settings(**values)
        if settings.credentials_file:
            # Read once here: workers get the merged list in the resolved settings.
            listed = [c.model_dump() for c in settings.credentials] + _credentials_file(settings.credentials_file)
            settings = Settings(**{**values, "credentials": listed})
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        raise ConfigError(f"invalid setting {where!s}: {err['msg']}") from None
    if settings.sigv4 and not settings.credentials:
        raise ConfigError('auth = "sigv4" needs at least one [[credentials]] key (in the config or credentials_file)')
    return settings


def _credentials_file(path: str) -> list[Any]:
    try:
        with open(path, "rb") as f:
            listed = tomllib.load(f).get("credentials", [])
    except OSError as e:
        raise ConfigError(f"cannot read credentials file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"credentials file {path} is not valid TOML: {e}") from None
    if not isinstance(listed, list):
        raise ConfigError(f"credentials file {path}: credentials must be [[credentials]] tables")
    return listed


def settings_from_resolved_env() -> Settings:
    """Settings for a worker process: the parent's resolved settings, or a fresh resolution."""
    raw = os.environ.get(RESOLVED_ENV)
    if raw:
        return Settings(**json.loads(raw))
    return load_settings()
