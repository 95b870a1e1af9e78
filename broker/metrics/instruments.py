"""The metrics each worker process counts itself: requests, Lambda invocations, Kinesis records, SNS deliveries,
the writer's batches.

Under `broker serve` every value lives in this process's mmap file (prometheus_client's multiprocess mode) and a
scrape of any worker sums all of them. Recording sits on hot paths, so each function keeps the label children it
bound once in a dict (a call costs a dict lookup, no label formatting), and the busiest counts go through
`buffer.py`, which applies them to the files in batches. Label values only ever
come from names the broker resolved (models' operations, AWS error codes, stored resources), never from raw input,
so the number of series stays bounded.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from broker.metrics import buffer

# -- AWS requests (gateway) ---------------------------------------------------------------------------------------
REQUESTS = Counter(
    "broker_requests",
    "AWS API requests answered, by service (signing name), operation and outcome (success or the AWS error code).",
    ("service", "operation", "outcome"),
)
REQUEST_SECONDS = Histogram(
    "broker_request_duration_seconds",
    "Time from a request's arrival to its answer (to the opening of an event stream), by service and operation.",
    ("service", "operation"),
    # Long polls and synchronous Lambda invocations wait up to 20 s and beyond.
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0),
)
SUCCESS = "success"
UNKNOWN = "unknown"  # a request no service or operation could be found for
DISCONNECTED = "disconnected"  # the client went away before its answer (a long poll)

_requests: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def request(service: str, operation: str, outcome: str, seconds: float) -> None:
    key = (service, operation, outcome)
    bound = _requests.get(key)
    if bound is None:
        bound = _requests[key] = (REQUESTS.labels(*key), REQUEST_SECONDS.labels(service, operation))
    buffer.inc(bound[0])
    buffer.observe(bound[1], seconds)


# -- the writer thread (storage/db.py) ---------------------------------------------------------------------------
WRITE_BATCH_SIZE = Histogram(
    "broker_db_write_batch_size",
    "Write units (requests' writes) committed together in one transaction by the writer thread (group commit).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
WRITE_BATCH_SECONDS = Histogram(
    "broker_db_write_batch_seconds",
    "Time of one writer transaction, from BEGIN through the units to COMMIT (retries and busy waits included).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def write_batch(units: int, seconds: float) -> None:
    buffer.observe(WRITE_BATCH_SIZE, units)
    buffer.observe(WRITE_BATCH_SECONDS, seconds)


# -- Lambda (invoke_operations.py) -------------------------------------------------------------------------------
_FUNCTION = ("account", "region", "function")
LAMBDA_INVOCATIONS = Counter(
    "broker_lambda_invocations",
    "Invocations that ran the function's code, successful or not (throttled requests are not counted).",
    _FUNCTION,
)
LAMBDA_ERRORS = Counter(
    "broker_lambda_errors", "Invocations that ended in a function error (thrown, timeout, crash).", _FUNCTION
)
LAMBDA_THROTTLES = Counter(
    "broker_lambda_throttles",
    "Invocation requests refused for lack of concurrency (TooManyRequestsException).",
    _FUNCTION,
)
LAMBDA_DURATION = Histogram(
    "broker_lambda_duration_seconds",
    "Time the function's code ran per invocation (the Duration of its REPORT line).",
    _FUNCTION,
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)
LAMBDA_CONCURRENT = Gauge(
    "broker_lambda_concurrent_executions",
    "Invocations running now, summed over the live worker processes of this node.",
    _FUNCTION,
    multiprocess_mode="livesum",
)


class LambdaFunction:
    """The bound children of one function's series."""

    __slots__ = ("invocations", "errors", "throttles", "duration", "concurrent")

    def __init__(self, key: tuple[str, str, str]) -> None:
        self.invocations = LAMBDA_INVOCATIONS.labels(*key)
        self.errors = LAMBDA_ERRORS.labels(*key)
        self.throttles = LAMBDA_THROTTLES.labels(*key)
        self.duration = LAMBDA_DURATION.labels(*key)
        self.concurrent = LAMBDA_CONCURRENT.labels(*key)

    def finished(self, duration_ms: float, function_error: bool) -> None:
        self.invocations.inc()
        if function_error:
            self.errors.inc()
        self.duration.observe(duration_ms / 1000)


_functions: dict[tuple[str, str, str], LambdaFunction] = {}


def lambda_function(account: str, region: str, name: str) -> LambdaFunction:
    key = (account, region, name)
    bound = _functions.get(key)
    if bound is None:
        bound = _functions[key] = LambdaFunction(key)
    return bound


# -- Kinesis (record_operations.py) ------------------------------------------------------------------------------
_STREAM = ("account", "region", "stream")
KINESIS_RECORDS_IN = Counter(
    "broker_kinesis_records_in", "Records written to the stream (PutRecord, PutRecords).", _STREAM
)
KINESIS_RECORDS_OUT = Counter(
    "broker_kinesis_records_out",
    "Records read from the stream (GetRecords, SubscribeToShard, Lambda event source mappings).",
    _STREAM,
)
KINESIS_ITERATOR_AGE = Gauge(
    "broker_kinesis_iterator_age_seconds",
    "MillisBehindLatest (in seconds) of the latest read of a shard by a consumer: `GetRecords` for the readers of "
    "shard iterators (shared throughput), the consumer's name for SubscribeToShard, `lambda:<mapping UUID>` for an "
    "event source mapping. max by (stream) is AWS's GetRecords.IteratorAgeMilliseconds.",
    (*_STREAM, "shard", "consumer"),
    # The value of the latest read, whichever worker made it. Not a maximum since the last scrape: a scrape is
    # answered by one worker, which cannot reset the others' files, and each of several scrapers would reset it.
    multiprocess_mode="mostrecent",
)
GET_RECORDS = "GetRecords"

_streams: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_iterator_ages: dict[tuple[str, str, str, str, str], Any] = {}


def _stream(account: str, region: str, name: str) -> tuple[Any, Any]:
    key = (account, region, name)
    bound = _streams.get(key)
    if bound is None:
        bound = _streams[key] = (KINESIS_RECORDS_IN.labels(*key), KINESIS_RECORDS_OUT.labels(*key))
    return bound


def kinesis_put(account: str, region: str, name: str, records: int) -> None:
    if records:
        buffer.inc(_stream(account, region, name)[0], records)


def kinesis_read(
    account: str, region: str, name: str, shard: str, consumer: str, records: int, millis_behind: int
) -> None:
    """A read that returned (counted once, however often the database read was retried)."""
    if records:
        buffer.inc(_stream(account, region, name)[1], records)
    key = (account, region, name, shard, consumer)
    age = _iterator_ages.get(key)
    if age is None:
        age = _iterator_ages[key] = KINESIS_ITERATOR_AGE.labels(*key)
    age.set(millis_behind / 1000)


# -- SNS (fanout.py, http_delivery.py) ---------------------------------------------------------------------------
SNS_DELIVERIES = Counter(
    "broker_sns_deliveries",
    "Notifications handed to subscriptions, by protocol and outcome: delivered (an SQS message or Lambda event "
    "committed, an HTTP/S endpoint's 2xx, an email/SMS/push outbox entry), dead_lettered or dropped after the "
    "last HTTP/S retry.",
    ("protocol", "outcome"),
)
SNS_RETRIES = Counter(
    "broker_sns_delivery_retries", "Failed HTTP/S delivery attempts scheduled to be tried again.", ("protocol",)
)
DELIVERED = "delivered"

_sns: dict[tuple[str, str], Any] = {}
_sns_retries: dict[str, Any] = {}


def sns_delivered(protocol: str, outcome: str = DELIVERED, count: int = 1) -> None:
    key = (protocol, outcome)
    bound = _sns.get(key)
    if bound is None:
        bound = _sns[key] = SNS_DELIVERIES.labels(protocol, outcome)
    buffer.inc(bound, count)


def sns_fanout(sqs: int, lambda_: int, outbox: list[str]) -> None:
    """A committed fan-out: SQS messages, Lambda events and outbox entries (by their protocols)."""
    if sqs:
        sns_delivered("sqs", DELIVERED, sqs)
    if lambda_:
        sns_delivered("lambda", DELIVERED, lambda_)
    for protocol in outbox:
        sns_delivered(protocol)


def sns_retry(protocol: str) -> None:
    bound = _sns_retries.get(protocol)
    if bound is None:
        bound = _sns_retries[protocol] = SNS_RETRIES.labels(protocol)
    bound.inc()
