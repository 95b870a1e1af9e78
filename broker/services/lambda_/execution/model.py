"""What the engine is given (a function, an invocation) and what it gives back (an outcome)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.auth.temporary import TemporaryCredentials

# AWS's synchronous response limit: "6 MB" is 6,291,556 bytes in Lambda's own check and message.
MAX_RESPONSE_BYTES = 6_291_556
# The part of the log that Invoke with LogType=Tail returns.
TAIL_BYTES = 4096
# AWS's limit of the init phase of an on-demand environment.
INIT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class FunctionSpec:
    key: str  # identity of code+configuration; environments of one key are interchangeable
    function_name: str
    function_arn: str  # unqualified ARN
    version: str  # "$LATEST" or "3"
    runtime: str  # "python3.9".."python3.13", "nodejs18.x".."nodejs22.x", "provided.al2", "provided.al2023"
    handler: str
    code_dir: Path  # unpacked code (never modified)
    layer_dirs: tuple[Path, ...]  # unpacked layers in order (each as AWS would extract it under /opt)
    environment: dict[str, str]  # the function's variables
    memory_mb: int
    timeout_s: int
    account: str
    region: str
    log_group: str  # "/aws/lambda/<name>"
    architecture: str = "x86_64"
    ephemeral_mb: int = 512
    initialization_type: str = "on-demand"  # or "provisioned-concurrency"
    # New credentials of the execution role's session, issued for each environment (None: fixed stand-ins whose
    # access key id is the account, for engines run without a broker).
    credentials: Callable[[], TemporaryCredentials] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Invocation:
    request_id: str
    payload: bytes
    invoked_arn: str  # the ARN as invoked (qualified when invoked with a qualifier)
    client_context: str | None = None  # X-Amz-Client-Context as received (base64 JSON)
    cognito_identity: str | None = None
    trace_id: str = ""  # X-Amzn-Trace-Id value; one is generated if empty


@dataclass
class Outcome:
    payload: bytes  # the response, or AWS's error document
    function_error: str | None  # "Unhandled" when the function failed (X-Amz-Function-Error), else None
    log_stream: str  # the environment's stream: "YYYY/MM/DD/[<version>]<32 hex>"
    log_events: list[tuple[int, str]] = field(default_factory=list)  # (epoch ms, line) of this invocation
    log_tail: bytes = b""  # last 4 KB of this invocation's log text (for LogType=Tail)
    duration_ms: float = 0.0
    billed_ms: int = 0
    init_duration_ms: float | None = None  # on a cold start
    max_memory_mb: int = 0


class ExecutionDisabled(RuntimeError):
    """`lambda_enabled` is off: the broker runs no function code."""
