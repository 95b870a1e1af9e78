"""PutEvents: per-entry checks and errors, routing by rule patterns, every in-database target type end to end (SQS
standard and FIFO, SNS, Lambda, Kinesis, another bus) and the input transformations of the user guide. Against a
broker of two worker processes per backend."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.conftest import serve
from tests.events.helpers import ACCOUNT, REGION, bus_arn, error, queue, rule_arn
from tests.lambda_.helpers import create as create_function
from tests.server import BrokerServer, drain

EC2_DETAIL = {"instance-id": "i-0123456789", "state": "RUNNING"}


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "events-put", workers=2)


@pytest.fixture
def broker(server: BrokerServer) -> BrokerServer:
    server.reset()
    return server


@pytest.fixture
def events(broker):
    return broker.client("events")


def receive(broker, url: str, timeout: float = 20, sqs=None, **kw) -> dict:
    sqs = sqs or broker.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"], AttributeNames=["All"], **kw
        ).get("Messages")
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return got[0]
    raise AssertionError(f"nothing arrived in {url}")


def empty(broker, url: str, sqs=None) -> bool:
    return not (sqs or broker.client("sqs")).receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")


def rule_to(events, name: str, target: dict, pattern: dict | None = None, bus: str = "default") -> None:
    events.put_rule(
        Name=name, EventBusName=bus, EventPattern=json.dumps(pattern or {"source": ["my.app"]}), State="ENABLED"
    )
    out = events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t1", **target}])
    assert out["FailedEntryCount"] == 0


def put(events, detail: dict | None = None, **entry) -> str:
    entry = {"Source": "my.app", "DetailType": "thing happened", "Detail": json.dumps(detail or EC2_DETAIL), **entry}
    out = events.put_events(Entries=[entry])
    assert out["FailedEntryCount"] == 0, out
    return out["Entries"][0]["EventId"]


# -- checks ---------------------------------------------------------------------------------------------------------
def test_entries_are_checked_one_by_one_in_order(events):
    good = {"Source": "my.app", "DetailType": "t", "Detail": "{}"}
    out = events.put_events(
        Entries=[
            good,
            {"DetailType": "t", "Detail": "{}"},
            {"Source": "my.app", "Detail": "{}"},
            {"Source": "my.app", "DetailType": "t"},
            {**good, "Detail": "{not json"},
            {**good, "Detail": "[1, 2]"},
            {**good, "Source": "aws.ec2"},
            good,
        ]
    )
    entries = out["Entries"]
    assert out["FailedEntryCount"] == 6
    assert len(entries) == 8
    assert "EventId" in entries[0] and "EventId" in entries[7]
    assert entries[0]["EventId"] != entries[7]["EventId"]
    failures = [(e.get("ErrorCode"), e.get("ErrorMessage")) for e in entries[1:7]]
    assert failures == [
        ("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."),
        ("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
        ("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."),
        ("MalformedDetail", "Detail is malformed."),
        ("MalformedDetail", "Detail is malformed."),
        ("NotAuthorizedForSourceException", "Not authorized for the source."),
    ]
    assert all("EventId" not in e for e in entries[1:7])


MB = 1024 * 1024


def _sized(total: int) -> dict:
    """An entry of `total` bytes as "Calculating PutEvents event entry size" counts them: Time 14 bytes, then the
    UTF-8 bytes of Source, DetailType, each Resource and Detail (here two bytes per "é")."""
    fixed = 14 + len("my.app") + len("t") + len("arn:r")
    pad = total - fixed - len('{"x":""}')
    detail = '{"x":"' + "é" * (pad // 2) + "a" * (pad % 2) + '"}'
    when = datetime(2024, 1, 1, tzinfo=UTC)
    entry = {"Source": "my.app", "DetailType": "t", "Resources": ["arn:r"], "Time": when, "Detail": detail}
    assert 14 + sum(len(x.encode()) for x in ("my.app", "t", "arn:r", detail)) == total
    return entry


def test_request_of_1_mb_is_refused_whole(events):
    # "The total entry size must be less than 1MB" (the model's PutEvents documentation).
    code, message = error(events.put_events, Entries=[_sized(MB)])
    assert (code, message) == ("ValidationException", "Total size of the entries in the request is over the limit.")
    assert events.put_events(Entries=[_sized(MB - 1)])["FailedEntryCount"] == 0


def test_the_limit_is_on_the_total_of_the_entries(events):
    half = _sized(MB // 2)
    code, _ = error(events.put_events, Entries=[half, half])
    assert code == "ValidationException"
    out = events.put_events(Entries=[half, _sized(MB // 2 - 1)])
    assert out["FailedEntryCount"] == 0 and len(out["Entries"]) == 2


def test_detail_type_of_more_than_128_characters_fails_the_entry(events):
    good = {"Source": "my.app", "Detail": "{}"}
    out = events.put_events(Entries=[{**good, "DetailType": "t" * 129}, {**good, "DetailType": "é" * 128}])
    first, second = out["Entries"]
    assert out["FailedEntryCount"] == 1
    assert first == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType must be at most 128 characters long.",
    }
    assert "EventId" in second


@pytest.mark.parametrize(
    ("number", "ok"), [(2**63 - 1, True), (-(2**63), True), (2**63, False), (-(2**63) - 1, False), (1.5e300, True)]
)
def test_detail_integers_must_fit_in_64_bits(events, number, ok):
    out = events.put_events(Entries=[{"Source": "my.app", "DetailType": "t", "Detail": f'{{"n": [{number}]}}'}])
    if ok:
        assert out["FailedEntryCount"] == 0, out
    else:
        assert out["Entries"] == [{"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}]


def _nested(depth: int) -> str:
    return '{"a":' * (depth - 1) + "[1]" + "}" * (depth - 1)


def test_detail_nested_1000_levels_is_delivered_and_1001_fails(broker, events):
    url, arn = queue(broker, "deep")
    rule_to(events, "r", {"Arn": arn, "InputPath": "$.detail"})
    entry = {"Source": "my.app", "DetailType": "t"}
    brackets = '{"s": "' + "[" * 2000 + '"}'  # brackets inside a string are no nesting
    out = events.put_events(
        Entries=[{**entry, "Detail": _nested(1001)}, {**entry, "Detail": _nested(1000)}, {**entry, "Detail": brackets}]
    )
    assert out["Entries"][0] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert out["FailedEntryCount"] == 1
    assert receive(broker, url)["Body"] == _nested(1000)
    assert receive(broker, url)["Body"] == '{"s":"' + "[" * 2000 + '"}'


def test_entry_count_is_checked_by_the_model(events):
    entry = {"Source": "my.app", "DetailType": "t", "Detail": "{}"}
    code, _ = error(events.put_events, Entries=[entry] * 11)
    assert code == "ValidationException"


def test_an_unknown_bus_accepts_and_drops_the_event(broker, events):
    # AWS answers an EventId for a bus that does not exist (and delivers nothing).
    url, arn = queue(broker, "unknown-bus")
    rule_to(events, "r", {"Arn": arn})
    out = events.put_events(Entries=[{"Source": "my.app", "DetailType": "t", "Detail": "{}", "EventBusName": "nope"}])
    assert out["FailedEntryCount"] == 0 and out["Entries"][0]["EventId"]
    assert empty(broker, url)


# -- routing and SQS --------------------------------------------------------------------------------------------------
def test_matching_event_reaches_sqs_as_the_whole_event(broker, events):
    url, arn = queue(broker, "plain")
    rule_to(events, "r", {"Arn": arn}, {"source": ["my.app"], "detail": {"state": ["RUNNING"]}})
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    event_id = put(events, Resources=["arn:aws:ec2:us-east-1:123456789012:instance/i-1"], Time=when)
    body = json.loads(receive(broker, url)["Body"])
    assert body == {
        "version": "0",
        "id": event_id,
        "detail-type": "thing happened",
        "source": "my.app",
        "account": ACCOUNT,
        "time": "2024-05-06T07:08:09Z",
        "region": REGION,
        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-1"],
        "detail": EC2_DETAIL,
    }
    put(events, {"state": "STOPPED"})  # the pattern does not match
    put(events, Source="other.app")
    assert empty(broker, url)


def test_disabled_and_scheduled_rules_take_no_events(broker, events):
    url, arn = queue(broker, "quiet")
    rule_to(events, "off", {"Arn": arn})
    events.disable_rule(Name="off")
    events.put_rule(Name="cron", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="cron", Targets=[{"Id": "t", "Arn": arn}])
    put(events)
    assert empty(broker, url)
    events.enable_rule(Name="off")
    event_id = put(events)
    assert json.loads(receive(broker, url)["Body"])["id"] == event_id
    assert empty(broker, url)


def test_rule_on_custom_bus_by_arn(broker, events):
    events.create_event_bus(Name="orders")
    url, arn = queue(broker, "orders-q")
    rule_to(events, "r", {"Arn": arn}, bus="orders")
    put(events)  # the default bus has no such rule
    assert empty(broker, url)
    event_id = put(events, EventBusName=bus_arn("orders"))
    assert json.loads(receive(broker, url)["Body"])["id"] == event_id


def test_fifo_queue_gets_group_id_and_content_deduplication(broker, events):
    # EventBridge sends no deduplication id: a FIFO target has content-based deduplication (Target.SqsParameters).
    url, arn = queue(broker, "ordered.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    rule_to(events, "r", {"Arn": arn, "SqsParameters": {"MessageGroupId": "g1"}})
    ids = [put(events, {"n": n}) for n in range(3)]
    got = [receive(broker, url) for _ in ids]
    assert [json.loads(m["Body"])["id"] for m in got] == ids
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"g1"}
    dedup = [hashlib.sha256(m["Body"].encode()).hexdigest() for m in got]
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == dedup
    # The same payload again (a constant Input) is a duplicate within the deduplication interval.
    events.put_targets(
        Rule="r", Targets=[{"Id": "t1", "Arn": arn, "Input": '"same"', "SqsParameters": {"MessageGroupId": "g1"}}]
    )
    put(events)
    put(events)
    assert receive(broker, url)["Body"] == '"same"'
    assert empty(broker, url)


# -- other targets ----------------------------------------------------------------------------------------------------
def test_sns_target_fans_out_to_a_subscribed_queue(broker, events):
    sns = broker.client("sns")
    topic = sns.create_topic(Name="events-topic")["TopicArn"]
    url, qarn = queue(broker, "from-sns")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    rule_to(events, "r", {"Arn": topic})
    event_id = put(events)
    notification = json.loads(receive(broker, url)["Body"])
    assert notification["Type"] == "Notification" and notification["TopicArn"] == topic
    assert json.loads(notification["Message"])["id"] == event_id


def test_lambda_target_runs_the_function_asynchronously(broker, events):
    lam = broker.client("lambda", read_timeout=60)
    url, qarn = queue(broker, "lambda-ran")
    fn = create_function(lam, "on-event")["FunctionArn"]
    lam.publish_version(FunctionName="on-event")
    lam.put_function_event_invoke_config(
        FunctionName="on-event", Qualifier="1", DestinationConfig={"OnSuccess": {"Destination": qarn}}
    )
    rule_to(events, "r", {"Arn": f"{fn}:1"})  # a qualified ARN
    event_id = put(events)
    record = json.loads(receive(broker, url, timeout=60)["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestPayload"]["id"] == event_id
    assert record["responsePayload"]["event"]["detail"] == EC2_DETAIL
    assert record["responsePayload"]["version"] == "1"


def test_kinesis_target_uses_the_partition_key_path(broker, events):
    kinesis = broker.client("kinesis")
    kinesis.create_stream(StreamName="ev", ShardCount=2)
    stream = kinesis.describe_stream_summary(StreamName="ev")["StreamDescriptionSummary"]["StreamARN"]
    rule_to(events, "r", {"Arn": stream, "KinesisParameters": {"PartitionKeyPath": "$.detail.instance-id"}})
    event_id = put(events)
    events.put_targets(Rule="r", Targets=[{"Id": "t1", "Arn": stream}])  # no path: the event id
    second = put(events)
    records = []
    for shard in kinesis.list_shards(StreamName="ev")["Shards"]:
        it = kinesis.get_shard_iterator(StreamName="ev", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        records += kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]
    by_key = {r["PartitionKey"]: json.loads(r["Data"]) for r in records}
    assert by_key["i-0123456789"]["id"] == event_id
    assert by_key[second]["id"] == second
    assert len(records) == 2


def test_bus_to_bus_forwards_the_event(broker, events):
    events.create_event_bus(Name="downstream")
    url, arn = queue(broker, "downstream-q")
    rule_to(events, "fwd", {"Arn": bus_arn("downstream")})
    rule_to(events, "r", {"Arn": arn}, bus="downstream")
    event_id = put(events)
    body = json.loads(receive(broker, url)["Body"])
    assert body["id"] == event_id and body["detail"] == EC2_DETAIL


def test_a_cycle_of_buses_ends(broker, events):
    events.create_event_bus(Name="ping")
    url, arn = queue(broker, "cycle-q")
    rule_to(events, "to-ping", {"Arn": bus_arn("ping")})
    rule_to(events, "to-default", {"Arn": bus_arn("default")}, bus="ping")
    rule_to(events, "watch", {"Arn": arn})
    event_id = put(events)
    # Routed in PutEvents' own transaction: default -> ping -> default ... until the hop limit drops it.
    bodies = [json.loads(b) for b in drain(broker.client("sqs"), url)]
    assert [b["id"] for b in bodies] == [event_id] * 3


# -- input transformation ---------------------------------------------------------------------------------------------
def _one_target_payload(broker, events, target: dict, detail: dict | None = None) -> str:
    url, arn = queue(broker, "transformed")
    rule_to(events, "r", {"Arn": arn, **target})
    put(events, detail)
    return receive(broker, url)["Body"]


def test_input_is_sent_as_given(broker, events):
    assert _one_target_payload(broker, events, {"Input": '{"fixed": [1, 2]}'}) == '{"fixed": [1, 2]}'


def test_input_path_selects_part_of_the_event(broker, events):
    assert json.loads(_one_target_payload(broker, events, {"InputPath": "$.detail"})) == EC2_DETAIL
    assert json.loads(_one_target_payload(broker, events, {"InputPath": "$.detail.state"})) == "RUNNING"


PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # The examples of the user guide ("Transforming target input"), against its EC2 event.
        ('{"instance": <instance>, "state": <state>}', '{"instance": "i-0123456789", "state": "RUNNING"}'),
        (
            '{"instance": "<instance>", "state": [9, <state>, true], "Transformed": "Yes"}',
            '{"instance": "i-0123456789", "state": [9, "RUNNING", true], "Transformed": "Yes"}',
        ),
        ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
        ("instance <instance> is in <state>", "instance i-0123456789 is in RUNNING"),
        ('"<instance> is in state \\"<state>\\""', '"i-0123456789 is in state \\"RUNNING\\""'),
    ],
)
def test_input_transformer_templates(broker, events, template, expected):
    body = _one_target_payload(
        broker, events, {"InputTransformer": {"InputPathsMap": PATHS, "InputTemplate": template}}
    )
    assert body == expected


def test_input_transformer_predefined_variables(broker, events):
    template = (
        '{"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", "at": <aws.events.event.ingestion-time>,'
        ' "event": <aws.events.event>, "whole": <aws.events.event.json>}'
    )
    body = json.loads(_one_target_payload(broker, events, {"InputTransformer": {"InputTemplate": template}}))
    assert body["arn"] == rule_arn("r") and body["name"] == "r"
    assert datetime.strptime(body["at"], "%Y-%m-%dT%H:%M:%SZ")
    # <aws.events.event> is the original event without its detail; <aws.events.event.json> the whole event.
    assert "detail" not in body["event"] and body["event"]["source"] == "my.app"
    assert body["whole"] == {**body["event"], "detail": EC2_DETAIL}


def test_input_transformer_missing_paths_are_not_created(broker, events):
    # User guide, "Common issues with transforming input": a variable whose JSON path is not in the event isn't
    # created and won't appear in the output -- its placeholder is replaced by nothing, even where the JSON
    # template then is no JSON.
    transformer = {
        "InputPathsMap": {"detail": "$.detail", "none": "$.detail.absent", "first": "$.detail.state.deeper"},
        "InputTemplate": '{"d": <detail>, "n": <none>, "text": "got <none>!", "r": <first>}',
    }
    body = _one_target_payload(broker, events, {"InputTransformer": transformer})
    assert body == '{"d": {"instance-id":"i-0123456789","state":"RUNNING"}, "n": , "text": "got !", "r": }'


UTF8_DETAIL = {"name": "café ☕", "n": [1, 2.5, {"deep": None}]}


def test_every_payload_is_minified_utf8(broker, events):
    # The whole event, an InputPath's selection and a template's values: one encoding, compared as raw bodies.
    compact = json.dumps(UTF8_DETAIL, separators=(",", ":"), ensure_ascii=False)
    assert _one_target_payload(broker, events, {"InputPath": "$.detail"}, UTF8_DETAIL) == compact
    transformer = {
        "InputPathsMap": {"d": "$.detail", "name": "$.detail.name", "n": "$.detail.n"},
        "InputTemplate": '{"d": <d>, "in string": "<name> and <n>", "name": <name>}',
    }
    body = _one_target_payload(broker, events, {"InputTransformer": transformer}, UTF8_DETAIL)
    n_text = json.dumps(json.dumps(UTF8_DETAIL["n"], separators=(",", ":")))[1:-1]
    assert body == f'{{"d": {compact}, "in string": "café ☕ and {n_text}", "name": "café ☕"}}'
    url, arn = queue(broker, "whole")
    rule_to(events, "r", {"Arn": arn})
    event_id = put(events, UTF8_DETAIL)
    raw = receive(broker, url)["Body"]
    event = json.loads(raw)
    assert event["id"] == event_id
    assert raw == json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    assert f'"detail":{compact}' in raw


def test_data_of_records_is_the_event_json(broker, events):
    # Kinesis Data is base64 on the wire; boto3 decodes it: the bytes are the event's JSON text.
    kinesis = broker.client("kinesis")
    kinesis.create_stream(StreamName="raw", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="raw")["StreamDescriptionSummary"]["StreamARN"]
    rule_to(events, "r", {"Arn": stream, "InputPath": "$.detail"})
    put(events)
    shard = kinesis.list_shards(StreamName="raw")["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName="raw", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    (record,) = kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]
    assert json.loads(record["Data"]) == EC2_DETAIL


# -- other accounts and Regions ---------------------------------------------------------------------------------------
A, B = "111111111111", "222222222222"  # an access key id of 12 digits is the account


def _account(broker, account: str):
    return broker.client("events", access_key=account), broker.client("sqs", access_key=account)


def _b_receives(broker) -> tuple[object, str]:
    """Account B: a queue that a rule of B's default bus fills with every my.app event."""
    b_events, b_sqs = _account(broker, B)
    url = b_sqs.create_queue(QueueName="b-inbox")["QueueUrl"]
    arn = b_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule_to(b_events, "inbox", {"Arn": arn})
    return b_events, url


def _b_messages(b_sqs, url: str) -> list[dict]:
    return [json.loads(b) for b in drain(b_sqs, url)]


def test_a_bus_of_another_account_takes_events_its_policy_allows(broker):
    a_events, _ = _account(broker, A)
    b_events, url = _b_receives(broker)
    b_sqs = broker.client("sqs", access_key=B)
    entry = {
        "Source": "my.app",
        "DetailType": "t",
        "Detail": "{}",
        "EventBusName": f"arn:aws:events:{REGION}:{B}:event-bus/default",
    }
    out = a_events.put_events(Entries=[entry, {**entry, "EventBusName": "default"}])
    assert out["FailedEntryCount"] == 1
    assert out["Entries"][0] == {
        "ErrorCode": "AccessDeniedException",
        "ErrorMessage": f"User: arn:aws:iam::{A}:user/broker is not authorized to perform: "
        f"events:PutEvents on resource: arn:aws:events:{REGION}:{B}:event-bus/default because no resource-based "
        "policy allows the events:PutEvents action",
    }
    assert "EventId" in out["Entries"][1]  # A's own default bus
    assert _b_messages(b_sqs, url) == []
    b_events.put_permission(Action="events:PutEvents", Principal=A, StatementId="from-a")
    out = a_events.put_events(Entries=[entry])
    assert out["FailedEntryCount"] == 0
    (event,) = _b_messages(b_sqs, url)
    assert event["id"] == out["Entries"][0]["EventId"]
    assert event["account"] == A  # the sender's account
    b_events.remove_permission(StatementId="from-a")
    assert a_events.put_events(Entries=[entry])["Entries"][0]["ErrorCode"] == "AccessDeniedException"


def test_a_bus_of_another_region_is_refused(broker, events):
    entry = {"Source": "my.app", "DetailType": "t", "Detail": "{}"}
    other = f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/default"
    out = events.put_events(Entries=[{**entry, "EventBusName": other}, entry])
    assert out["Entries"][0] == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter EventBusName is not valid. Reason: Cross-region API call is not allowed.",
    }
    assert out["FailedEntryCount"] == 1


def test_bus_target_of_another_account_needs_its_policy(broker):
    a_events, a_sqs = _account(broker, A)
    b_events, url = _b_receives(broker)
    b_sqs = broker.client("sqs", access_key=B)
    dlq = a_sqs.create_queue(QueueName="a-dlq")["QueueUrl"]
    dlq_arn = a_sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    b_bus = f"arn:aws:events:{REGION}:{B}:event-bus/default"
    role = f"arn:aws:iam::{A}:role/to-b"
    rule_to(a_events, "to-b", {"Arn": b_bus, "RoleArn": role, "DeadLetterConfig": {"Arn": dlq_arn}})
    refused = put(a_events)
    message = receive(broker, dlq, sqs=a_sqs)
    assert json.loads(message["Body"])["id"] == refused
    attrs = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attrs["ERROR_CODE"] == "NO_PERMISSIONS" and attrs["RETRY_ATTEMPTS"] == "0"
    assert attrs["ERROR_MESSAGE"] == f"Account {A} is not authorized to put events on event bus {b_bus}."
    assert _b_messages(b_sqs, url) == []
    b_events.put_permission(Action="events:PutEvents", Principal=A, StatementId="from-a")
    delivered = put(a_events)
    (event,) = _b_messages(b_sqs, url)
    assert event["id"] == delivered and event["account"] == A
    assert empty(broker, dlq, sqs=a_sqs)
