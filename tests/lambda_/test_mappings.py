"""Event source mappings through boto3: the defaults per source kind, batch and starting position rules,
function resolution, duplicates, state changes, listing filters and Lambda's errors. (Polling is not tested
here: these are the stored mappings.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.lambda_.helpers import ARN, create, error_of

QUEUE = "arn:aws:sqs:us-east-1:000000000000:jobs"
STREAM = "arn:aws:kinesis:us-east-1:000000000000:stream/events"
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"


def test_sqs_mapping_lifecycle(lam):
    create(lam, "fn")
    lam.publish_version(FunctionName="fn")
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")

    created = lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=QUEUE)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    uuid = created["UUID"]
    assert {k: created[k] for k in ("BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes")} == {
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
    }
    assert (created["State"], created["StateTransitionReason"]) == ("Creating", "USER_INITIATED")
    assert (created["FunctionArn"], created["EventSourceArn"]) == (f"{ARN}:fn", QUEUE)
    assert created["EventSourceMappingArn"] == f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{uuid}"
    assert isinstance(created["LastModified"], datetime)
    assert "StartingPosition" not in created and "ParallelizationFactor" not in created
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"

    err = error_of(lam.create_event_source_mapping, 409, FunctionName="fn", EventSourceArn=QUEUE)
    assert err["Message"] == (
        f'An event source mapping with SQS arn (" {QUEUE} ") and function (" fn ") already exists. Please update or '
        f"delete the existing mapping with UUID {uuid}"
    )
    aliased = lam.create_event_source_mapping(
        FunctionName="000000000000:function:fn:live",
        EventSourceArn=QUEUE,
        BatchSize=100,
        MaximumBatchingWindowInSeconds=5,
        Enabled=False,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    assert aliased["FunctionArn"] == f"{ARN}:fn:live" and aliased["BatchSize"] == 100
    assert lam.get_event_source_mapping(UUID=aliased["UUID"])["State"] == "Disabled"

    disabling = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert disabling["ResponseMetadata"]["HTTPStatusCode"] == 202 and disabling["State"] == "Disabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=5, FunctionName="fn:1")
    assert (updated["State"], updated["BatchSize"], updated["FunctionArn"]) == ("Updating", 5, f"{ARN}:fn:1")
    got = lam.get_event_source_mapping(UUID=uuid)
    assert (got["State"], got["BatchSize"], got["FunctionArn"]) == ("Enabled", 5, f"{ARN}:fn:1")
    err = error_of(lam.update_event_source_mapping, 400, UUID=uuid, BatchSize=11)
    assert err["Message"] == (
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
    )

    other = lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=f"{QUEUE}-2")
    everything = lam.list_event_source_mappings()["EventSourceMappings"]
    assert sorted(m["UUID"] for m in everything) == sorted([uuid, aliased["UUID"], other["UUID"]])
    by_queue = lam.list_event_source_mappings(EventSourceArn=QUEUE)["EventSourceMappings"]
    assert sorted(m["UUID"] for m in by_queue) == sorted([uuid, aliased["UUID"]])
    by_alias = lam.list_event_source_mappings(FunctionName="fn:live")["EventSourceMappings"]
    assert [m["UUID"] for m in by_alias] == [aliased["UUID"]]
    assert len(lam.list_event_source_mappings(FunctionName="fn")["EventSourceMappings"]) == 3
    assert lam.list_event_source_mappings(FunctionName="other")["EventSourceMappings"] == []
    first = lam.list_event_source_mappings(MaxItems=2)
    rest = lam.list_event_source_mappings(MaxItems=2, Marker=first["NextMarker"])
    assert len(first["EventSourceMappings"]) == 2 and len(rest["EventSourceMappings"]) == 1

    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202 and deleted["State"] == "Deleting"
    for call in (lam.get_event_source_mapping, lam.delete_event_source_mapping):
        err = error_of(call, 404, UUID=uuid)
        assert err == {"Code": "ResourceNotFoundException", "Message": "The resource you requested does not exist."}
    assert error_of(lam.update_event_source_mapping, 404, UUID=uuid, BatchSize=1)["Code"] == "ResourceNotFoundException"


def test_stream_mappings(lam):
    create(lam, "fn")
    created = lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=STREAM, StartingPosition="TRIM_HORIZON")
    expected = {
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "LastProcessingResult": "No records processed",
        "StateTransitionReason": "User action",
        "DestinationConfig": {"OnFailure": {}},
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": False,
        "MaximumRetryAttempts": -1,
        "TumblingWindowInSeconds": 0,
    }
    assert {k: created[k] for k in expected} == expected
    when = datetime(2024, 5, 1, tzinfo=UTC)
    at = lam.create_event_source_mapping(
        FunctionName="fn",
        EventSourceArn=f"{STREAM}-2",
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=when,
        ParallelizationFactor=4,
        DestinationConfig={"OnFailure": {"Destination": QUEUE}},
    )
    assert at["StartingPositionTimestamp"] == when and at["ParallelizationFactor"] == 4
    assert at["DestinationConfig"] == {"OnFailure": {"Destination": QUEUE}}
    table = lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=TABLE_STREAM, StartingPosition="LATEST")
    assert table["BatchSize"] == 100
    err = error_of(
        lam.create_event_source_mapping, 409, FunctionName="fn", EventSourceArn=STREAM, StartingPosition="LATEST"
    )
    assert err["Message"] == (
        f'The event source arn (" {STREAM} ") and function (" fn ") provided mapping already exists. Please update '
        f"or delete the existing mapping with UUID {created['UUID']}"
    )
    pattern = json.dumps({"data": {"kind": ["order"]}})
    filtered = lam.create_event_source_mapping(
        FunctionName="fn", EventSourceArn=f"{QUEUE}-f", FilterCriteria={"Filters": [{"Pattern": pattern}]}
    )
    assert filtered["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}


def test_mapping_errors(broker, lam):
    create(lam, "fn")

    def create_error(status: int = 400, **kw) -> dict:
        return error_of(lam.create_event_source_mapping, status, **{"FunctionName": "fn", **kw})

    assert create_error()["Message"] == "Unrecognized event source."
    assert create_error(EventSourceArn="arn:aws:s3:::bucket")["Message"] == (
        "Unrecognized event source, must be kinesis, dynamodb stream or sqs."
    )
    assert create_error(EventSourceArn=STREAM)["Message"] == (
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not "
        "be null."
    )
    err = create_error(EventSourceArn=STREAM, StartingPosition="BOGUS")
    assert err == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value 'BOGUS' at 'startingPosition' failed to satisfy constraint: "
        "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
    }
    assert create_error(
        EventSourceArn=STREAM, StartingPosition="LATEST", StartingPositionTimestamp=datetime(2024, 1, 1, tzinfo=UTC)
    )["Message"] == ("Timestamp only valid with StartingPosition AT_TIMESTAMP")
    assert create_error(
        EventSourceArn=TABLE_STREAM,
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=datetime(2024, 1, 1, tzinfo=UTC),
    )["Message"] == (f"Unsupported starting position for arn type: {TABLE_STREAM}")
    assert create_error(EventSourceArn=QUEUE, StartingPosition="LATEST")["Message"] == (
        "StartingPosition is not valid for SQS event sources."
    )
    assert create_error(EventSourceArn=f"{QUEUE}.fifo", BatchSize=11, MaximumBatchingWindowInSeconds=0)["Message"] == (
        "Maximum batch size must be between 1 and 10 inclusive"
    )
    assert create_error(EventSourceArn=QUEUE, BatchSize=11)["Message"] == (
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
    )
    assert "ParallelizationFactor" in create_error(EventSourceArn=QUEUE, ParallelizationFactor=2)["Message"]
    err = create_error(EventSourceArn=QUEUE, FilterCriteria={"Filters": [{"Pattern": "not json"}]})
    assert err["Message"] == "Invalid filter pattern definition."
    err = create_error(EventSourceArn=QUEUE, FunctionResponseTypes=["Everything"])
    assert err["Code"] == "ValidationException" and "at 'functionResponseTypes'" in err["Message"]
    err = create_error(
        EventSourceArn=STREAM, StartingPosition="LATEST", DestinationConfig={"OnFailure": {"Destination": f"{ARN}:fn"}}
    )
    assert err["Message"].startswith("The provided destination config DestinationConfig(")
    for name in ("nope", "fn:9", "fn:nope", "arn:aws:lambda:eu-west-1:000000000000:function:fn"):
        err = create_error(FunctionName=name, EventSourceArn=QUEUE)
        assert err == {"Code": "InvalidParameterValueException", "Message": "Function does not exist"}
    loose = broker.client("lambda", parameter_validation=False)
    err = error_of(loose.create_event_source_mapping, 400, FunctionName="fn", EventSourceArn=QUEUE, BatchSize=0)
    assert err["Code"] == "ValidationException" and "at 'batchSize'" in err["Message"]
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
