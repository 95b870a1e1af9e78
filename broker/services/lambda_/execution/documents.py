"""AWS's texts: the error documents Invoke answers for platform failures, and the platform's log lines."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import orjson

from broker.services.lambda_.execution.model import MAX_RESPONSE_BYTES

UNHANDLED = "Unhandled"


def error_document(error_type: str, message: str) -> bytes:
    """The payload Invoke answers when the platform (not the function) reports the failure."""
    return orjson.dumps({"errorType": error_type, "errorMessage": message})


def timeout_document(request_id: str, timeout_s: float) -> bytes:
    return error_document(
        "Sandbox.Timedout", f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
    )


def timeout_line(now_ms: int, request_id: str, timeout_s: float) -> str:
    return f"{iso_ms(now_ms)} {request_id} Task timed out after {timeout_s:.2f} seconds"


def exit_reason(returncode: int) -> str:
    """How Lambda (a Go program) words a runtime's exit: Go's ProcessState text."""
    if returncode < 0:
        return f"Runtime exited with error: signal: {_SIGNAL_NAMES.get(-returncode, f'signal {-returncode}')}"
    if returncode == 0:
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: exit status {returncode}"


def exit_document(request_id: str, returncode: int, error_type: str = "Runtime.ExitError") -> bytes:
    return error_document(error_type, f"RequestId: {request_id} Error: {exit_reason(returncode)}")


def exit_line(request_id: str, returncode: int, error_type: str = "Runtime.ExitError") -> str:
    return f"RequestId: {request_id} Error: {exit_reason(returncode)}\n{error_type}"


def entrypoint_document(request_id: str, reason: str) -> bytes:
    return error_document("Runtime.InvalidEntrypoint", f"RequestId: {request_id} Error: {reason}")


def too_large_document() -> bytes:
    return error_document(
        "Function.ResponseSizeTooLarge",
        f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
    )


def unknown_error_document(error_type: str | None) -> bytes:
    """An /error or /init/error post without a body: Lambda builds the document from the error-type header."""
    return error_document(error_type or "Runtime.Unknown", "Unknown application error occurred")


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def billed_ms(duration_ms: float) -> int:
    return max(1, math.ceil(duration_ms))


def report_line(
    request_id: str,
    duration_ms: float,
    billed: int,
    memory_mb: int,
    max_memory_mb: int,
    init_duration_ms: float | None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_mb} MB",
    ]
    if init_duration_ms is not None:
        fields.append(f"Init Duration: {init_duration_ms:.2f} ms")
    if status:
        fields.append(f"Status: {status}")
    if error_type:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\t"


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


# Go's names of the signals (syscall.Signal.String), as Lambda prints them.
_SIGNAL_NAMES = {
    1: "hangup",
    2: "interrupt",
    3: "quit",
    4: "illegal instruction",
    5: "trace/breakpoint trap",
    6: "aborted",
    7: "bus error",
    8: "floating point exception",
    9: "killed",
    10: "user defined signal 1",
    11: "segmentation fault",
    12: "user defined signal 2",
    13: "broken pipe",
    14: "alarm clock",
    15: "terminated",
}
