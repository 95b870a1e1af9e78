"""Two accounts on one broker in sigv4 mode (boto3 with each account's configured key): each sees none of the
other's queues, topics, streams, functions, log groups or APIs, except what a resource policy grants — an SQS queue
policy, an SNS topic policy, a Lambda function policy, a Kinesis stream policy — and an explicit Deny wins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError

from tests.auth.helpers import ADMIN_ACCOUNT as A
from tests.auth.helpers import OTHER_ACCOUNT as B
from tests.auth.helpers import OTHER_KEY, OTHER_SECRET, signed, sigv4_server_kw
from tests.conftest import serve
from tests.lambda_.helpers import python_zip
from tests.server import BrokerServer

USER_B = f"arn:aws:iam::{B}:user/other-admin"


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "accounts", workers=2, **sigv4_server_kw())


@pytest.fixture
def broker(server: BrokerServer) -> BrokerServer:
    server.reset()
    return server


class Accounts:
    """Clients of account A (the owner of what a test creates) and of account B."""

    def __init__(self, broker: BrokerServer) -> None:
        self.broker = broker

    def a(self, service: str) -> Any:
        return self.broker.client(service)

    def b(self, service: str) -> Any:
        return self.broker.client(service, access_key=OTHER_KEY, secret=OTHER_SECRET)


@pytest.fixture
def accounts(broker: BrokerServer) -> Accounts:
    return Accounts(broker)


def refused(call: Any, code: str, status: int, **kw: Any) -> str:
    """The message of the error `call(**kw)` fails with, after checking its code and HTTP status."""
    with pytest.raises(ClientError) as e:
        call(**kw)
    err = e.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), err
    return str(err["Error"].get("Message"))


def sqs_denied(action: str, queue_arn: str) -> str:
    return (
        f"User: {USER_B} is not authorized to perform: {action} on resource: {queue_arn} because no "
        f"resource-based policy allows the {action} action"
    )


# -- isolation ---------------------------------------------------------------------------------------------------
def test_sqs_queues_of_another_account_are_out_of_reach(accounts: Accounts) -> None:
    sqs_a, sqs_b = accounts.a("sqs"), accounts.b("sqs")
    url = sqs_a.create_queue(QueueName="orders")["QueueUrl"]
    assert f"/{A}/orders" in url
    arn = f"arn:aws:sqs:us-east-1:{A}:orders"
    msg = refused(sqs_b.send_message, "AccessDenied", 403, QueueUrl=url, MessageBody="x")
    assert msg == sqs_denied("sqs:sendmessage", arn)
    refused(sqs_b.receive_message, "AccessDenied", 403, QueueUrl=url)
    refused(sqs_b.get_queue_attributes, "AccessDenied", 403, QueueUrl=url, AttributeNames=["All"])
    refused(sqs_b.delete_queue, "AccessDenied", 403, QueueUrl=url)
    refused(sqs_b.purge_queue, "AccessDenied", 403, QueueUrl=url)
    refused(sqs_b.get_queue_url, "AccessDenied", 403, QueueName="orders", QueueOwnerAWSAccountId=A)
    # A queue that does not exist in another account is denied too: B learns nothing of A's queue names.
    missing = url.replace("orders", "nothing-here")
    refused(sqs_b.send_message, "AccessDenied", 403, QueueUrl=missing, MessageBody="x")
    # B's own namespace: its queue of the same name is another queue; A's is not listed.
    assert sqs_b.list_queues().get("QueueUrls") is None
    url_b = sqs_b.create_queue(QueueName="orders")["QueueUrl"]
    assert f"/{B}/orders" in url_b
    sqs_b.send_message(QueueUrl=url_b, MessageBody="mine")
    assert sqs_a.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "0"
    }
    # The owner of a queue is not refused (no policy needed in its own account).
    sqs_a.send_message(QueueUrl=url, MessageBody="own")


def test_sqs_denial_on_the_query_protocol(accounts: Accounts) -> None:
    """The query protocol (AWS CLI v1, older SDKs) carries the legacy code AccessDenied in its XML error."""
    url = accounts.a("sqs").create_queue(QueueName="legacy")["QueueUrl"]
    body = urlencode({"Action": "SendMessage", "Version": "2012-11-05", "QueueUrl": url, "MessageBody": "x"})
    r = signed(
        "POST",
        accounts.broker.url + "/",
        service="sqs",
        body=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        key=OTHER_KEY,
        secret=OTHER_SECRET,
    )
    assert r.status_code == 403, r.text
    assert "<Type>Sender</Type>" in r.text
    assert "<Code>AccessDenied</Code>" in r.text
    assert sqs_denied("sqs:sendmessage", f"arn:aws:sqs:us-east-1:{A}:legacy") in r.text


def test_sns_topics_of_another_account_are_out_of_reach(accounts: Accounts) -> None:
    sns_a, sns_b = accounts.a("sns"), accounts.b("sns")
    arn = sns_a.create_topic(Name="alerts")["TopicArn"]
    msg = refused(sns_b.publish, "AuthorizationError", 403, TopicArn=arn, Message="x")
    assert msg == (
        f"User: {USER_B} is not authorized to perform: SNS:Publish on resource: {arn} because no resource-based "
        "policy allows the SNS:Publish action"
    )
    refused(sns_b.get_topic_attributes, "AuthorizationError", 403, TopicArn=arn)
    refused(
        sns_b.subscribe,
        "AuthorizationError",
        403,
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:us-east-1:{B}:q",
    )
    refused(sns_b.delete_topic, "AuthorizationError", 403, TopicArn=arn)
    refused(sns_b.list_tags_for_resource, "AuthorizationError", 403, ResourceArn=arn)
    refused(sns_b.publish, "AuthorizationError", 403, TopicArn=arn.replace("alerts", "nothing"), Message="x")
    assert sns_b.list_topics()["Topics"] == []
    sub = sns_a.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{A}:q")["SubscriptionArn"]
    refused(sns_b.get_subscription_attributes, "AuthorizationError", 403, SubscriptionArn=sub)
    refused(sns_b.unsubscribe, "AuthorizationError", 403, SubscriptionArn=sub)
    assert sns_a.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"] == "1"


def test_kinesis_streams_of_another_account_are_out_of_reach(accounts: Accounts) -> None:
    kin_a, kin_b = accounts.a("kinesis"), accounts.b("kinesis")
    kin_a.create_stream(StreamName="clicks", ShardCount=1)
    arn = kin_a.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
    msg = refused(kin_b.put_record, "AccessDeniedException", 400, StreamARN=arn, Data=b"x", PartitionKey="k")
    assert msg == (
        f"User: {USER_B} is not authorized to perform: kinesis:PutRecord on resource: {arn} because no "
        "resource-based policy allows the kinesis:PutRecord action"
    )
    refused(kin_b.describe_stream_summary, "AccessDeniedException", 400, StreamARN=arn)
    refused(kin_b.list_shards, "AccessDeniedException", 400, StreamARN=arn)
    # Operations no stream policy can grant find no stream of another account.
    refused(kin_b.add_tags_to_stream, "ResourceNotFoundException", 400, StreamARN=arn, Tags={"k": "v"})
    refused(kin_b.delete_stream, "ResourceNotFoundException", 400, StreamARN=arn)
    # By name, B names its own account's stream.
    refused(kin_b.describe_stream_summary, "ResourceNotFoundException", 400, StreamName="clicks")
    assert kin_b.list_streams()["StreamNames"] == []


def test_lambda_functions_logs_and_apis_of_another_account_are_out_of_reach(accounts: Accounts) -> None:
    lam_a, lam_b = accounts.a("lambda"), accounts.b("lambda")
    fn = _function(lam_a, "worker")
    msg = refused(lam_b.invoke, "AccessDeniedException", 403, FunctionName=fn, InvocationType="DryRun")
    assert msg == (
        f"User: {USER_B} is not authorized to perform: lambda:InvokeFunction on resource: {fn} because no "
        "resource-based policy allows the lambda:InvokeFunction action"
    )
    refused(lam_b.get_function, "AccessDeniedException", 403, FunctionName=fn)
    refused(lam_b.delete_function, "AccessDeniedException", 403, FunctionName=fn)
    refused(lam_b.get_function, "ResourceNotFoundException", 404, FunctionName="worker")  # B's own: none
    assert lam_b.list_functions()["Functions"] == []

    logs_a, logs_b = accounts.a("logs"), accounts.b("logs")
    logs_a.create_log_group(logGroupName="/app/a")
    group_arn = f"arn:aws:logs:us-east-1:{A}:log-group:/app/a"
    refused(logs_b.describe_log_streams, "ResourceNotFoundException", 400, logGroupIdentifier=group_arn)
    assert logs_b.describe_log_groups()["logGroups"] == []

    api_id = accounts.a("apigateway").create_rest_api(name="shop")["id"]
    refused(accounts.b("apigateway").get_rest_api, "NotFoundException", 404, restApiId=api_id)
    http_id = accounts.a("apigatewayv2").create_api(Name="h", ProtocolType="HTTP")["ApiId"]
    refused(accounts.b("apigatewayv2").get_api, "NotFoundException", 404, ApiId=http_id)


def _function(lam: Any, name: str, account: str = A) -> str:
    return lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=f"arn:aws:iam::{account}:role/lambda-role",
        Handler="handler.handler",
        Code={"ZipFile": python_zip("def handler(event, context):\n    return {'got': event}\n")},
    )["FunctionArn"]


# -- grants ------------------------------------------------------------------------------------------------------
def test_a_queue_policy_grants_another_account_what_it_names(accounts: Accounts) -> None:
    sqs_a, sqs_b = accounts.a("sqs"), accounts.b("sqs")
    url = sqs_a.create_queue(QueueName="shared")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{A}:shared"
    sqs_a.add_permission(QueueUrl=url, Label="b-sends", AWSAccountIds=[B], Actions=["SendMessage", "ReceiveMessage"])
    sqs_b.send_message(QueueUrl=url, MessageBody="from b")
    # SendMessageBatch is authorised as sqs:SendMessage.
    sqs_b.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "batched"}])
    got = sqs_b.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert sorted(m["Body"] for m in got) == ["batched", "from b"]
    # What the policy does not name stays refused: deleting, purging, reading attributes.
    msg = refused(sqs_b.delete_message, "AccessDenied", 403, QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert msg == sqs_denied("sqs:deletemessage", arn)
    refused(sqs_b.purge_queue, "AccessDenied", 403, QueueUrl=url)
    refused(sqs_b.get_queue_attributes, "AccessDenied", 403, QueueUrl=url)
    # A removes the grant: B is refused again (every worker drops its cached queue at commit).
    sqs_a.remove_permission(QueueUrl=url, Label="b-sends")
    for _ in range(4):
        refused(sqs_b.send_message, "AccessDenied", 403, QueueUrl=url, MessageBody="late")


def test_a_policy_cannot_grant_owner_only_queue_actions(accounts: Accounts) -> None:
    sqs_a, sqs_b = accounts.a("sqs"), accounts.b("sqs")
    url = sqs_a.create_queue(QueueName="open")["QueueUrl"]
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sqs:*", "Resource": "*"}],
    }
    sqs_a.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(everything)})
    assert sqs_b.get_queue_url(QueueName="open", QueueOwnerAWSAccountId=A)["QueueUrl"] == url
    sqs_b.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    sqs_b.purge_queue(QueueUrl=url)
    # The SQS developer guide's list of actions cross-account permissions don't apply to.
    refused(sqs_b.set_queue_attributes, "AccessDenied", 403, QueueUrl=url, Attributes={"DelaySeconds": "1"})
    refused(sqs_b.tag_queue, "AccessDenied", 403, QueueUrl=url, Tags={"k": "v"})
    refused(sqs_b.list_queue_tags, "AccessDenied", 403, QueueUrl=url)
    refused(sqs_b.add_permission, "AccessDenied", 403, QueueUrl=url, Label="x", AWSAccountIds=[B], Actions=["*"])
    refused(sqs_b.delete_queue, "AccessDenied", 403, QueueUrl=url)
    assert sqs_a.list_queues()["QueueUrls"] == [url]


def test_an_explicit_deny_wins_for_other_accounts_and_the_owner(accounts: Accounts) -> None:
    sqs_a, sqs_b = accounts.a("sqs"), accounts.b("sqs")
    url = sqs_a.create_queue(QueueName="guarded")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{A}:guarded"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "sqs:*", "Resource": arn},
            {"Effect": "Deny", "Principal": "*", "Action": "sqs:ReceiveMessage", "Resource": arn},
            {"Effect": "Deny", "Principal": {"AWS": A}, "Action": "sqs:PurgeQueue", "Resource": arn},
        ],
    }
    sqs_a.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    sqs_b.send_message(QueueUrl=url, MessageBody="x")
    msg = refused(sqs_b.receive_message, "AccessDenied", 403, QueueUrl=url)
    assert msg == (
        f"User: {USER_B} is not authorized to perform: sqs:receivemessage on resource: {arn} with an explicit deny "
        "in a resource-based policy"
    )
    # The Deny holds in the owner's account as well; what it does not name stays the owner's.
    refused(sqs_a.receive_message, "AccessDenied", 403, QueueUrl=url)
    refused(sqs_a.purge_queue, "AccessDenied", 403, QueueUrl=url)
    sqs_a.send_message(QueueUrl=url, MessageBody="own")
    sqs_a.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert len(sqs_a.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 2
    refused(sqs_b.send_message, "AccessDenied", 403, QueueUrl=url, MessageBody="y")


def test_a_topic_policy_grants_publish_to_another_account(accounts: Accounts) -> None:
    sns_a, sns_b, sqs_a = accounts.a("sns"), accounts.b("sns"), accounts.a("sqs")
    arn = sns_a.create_topic(Name="orders")["TopicArn"]
    url = sqs_a.create_queue(QueueName="orders-copy")["QueueUrl"]
    sns_a.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:us-east-1:{A}:orders-copy",
        Attributes={"RawMessageDelivery": "true"},
    )
    sns_a.add_permission(TopicArn=arn, Label="b-publishes", AWSAccountId=[B], ActionName=["Publish"])
    sns_b.publish(TopicArn=arn, Message="from b")
    got = sqs_a.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in got] == ["from b"]
    refused(
        sns_b.subscribe,
        "AuthorizationError",
        403,
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:us-east-1:{B}:x",
    )
    refused(
        sns_b.set_topic_attributes,
        "AuthorizationError",
        403,
        TopicArn=arn,
        AttributeName="DisplayName",
        AttributeValue="b",
    )
    sns_a.remove_permission(TopicArn=arn, Label="b-publishes")
    refused(sns_b.publish, "AuthorizationError", 403, TopicArn=arn, Message="late")


def test_a_function_policy_grants_invoke_to_another_account(accounts: Accounts) -> None:
    lam_a, lam_b = accounts.a("lambda"), accounts.b("lambda")
    fn = _function(lam_a, "shared-fn")
    lam_a.add_permission(FunctionName="shared-fn", StatementId="b", Action="lambda:InvokeFunction", Principal=B)
    assert lam_b.invoke(FunctionName=fn, InvocationType="DryRun")["StatusCode"] == 204
    # A partial ARN (account:function:name) names the same function.
    assert lam_b.invoke(FunctionName=f"{A}:function:shared-fn", InvocationType="DryRun")["StatusCode"] == 204
    # The grant is for the unqualified function, not its other ARNs, and not for other actions.
    refused(lam_b.invoke, "AccessDeniedException", 403, FunctionName=fn + ":1", InvocationType="DryRun")
    refused(lam_b.get_function, "AccessDeniedException", 403, FunctionName=fn)
    lam_a.remove_permission(FunctionName="shared-fn", StatementId="b")
    refused(lam_b.invoke, "AccessDeniedException", 403, FunctionName=fn, InvocationType="DryRun")


def test_a_stream_policy_grants_puts_to_another_account(accounts: Accounts) -> None:
    kin_a, kin_b = accounts.a("kinesis"), accounts.b("kinesis")
    kin_a.create_stream(StreamName="shared", ShardCount=1)
    arn = kin_a.describe_stream_summary(StreamName="shared")["StreamDescriptionSummary"]["StreamARN"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": B},
                "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"],
                "Resource": arn,
            }
        ],
    }
    kin_a.put_resource_policy(ResourceARN=arn, Policy=json.dumps(policy))
    put = kin_b.put_record(StreamARN=arn, Data=b"from b", PartitionKey="k")
    kin_b.put_records(StreamARN=arn, Records=[{"Data": b"batch", "PartitionKey": "k"}])
    assert kin_b.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"] == "shared"
    refused(
        kin_b.get_shard_iterator,
        "AccessDeniedException",
        400,
        StreamARN=arn,
        ShardId=put["ShardId"],
        ShardIteratorType="TRIM_HORIZON",
    )
    it = kin_a.get_shard_iterator(StreamName="shared", ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")
    records = kin_a.get_records(ShardIterator=it["ShardIterator"])["Records"]
    assert [r["Data"] for r in records] == [b"from b", b"batch"]


def test_an_event_source_of_another_account_needs_its_grant(accounts: Accounts) -> None:
    """B's function may poll A's queue or stream only when its policy grants B's execution role the reads (else B
    could drain what it may not receive)."""
    sqs_a, kin_a, lam_b = accounts.a("sqs"), accounts.a("kinesis"), accounts.b("lambda")
    _function(lam_b, "consumer", account=B)
    url = sqs_a.create_queue(QueueName="work")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{A}:work"
    msg = refused(
        lam_b.create_event_source_mapping,
        "InvalidParameterValueException",
        400,
        FunctionName="consumer",
        EventSourceArn=queue_arn,
    )
    assert msg == "The provided execution role does not have permissions to call ReceiveMessage on SQS"
    kin_a.create_stream(StreamName="feed", ShardCount=1)
    stream_arn = kin_a.describe_stream_summary(StreamName="feed")["StreamDescriptionSummary"]["StreamARN"]
    refused(
        lam_b.create_event_source_mapping,
        "InvalidParameterValueException",
        400,
        FunctionName="consumer",
        EventSourceArn=stream_arn,
        StartingPosition="TRIM_HORIZON",
    )
    role = f"arn:aws:iam::{B}:role/lambda-role"
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": role}, "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"]}
        ],
    }
    sqs_a.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(grant)})
    created = lam_b.create_event_source_mapping(FunctionName="consumer", EventSourceArn=queue_arn, Enabled=False)
    assert created["EventSourceArn"] == queue_arn


def test_a_layer_version_policy_shares_a_layer_with_another_account(accounts: Accounts) -> None:
    lam_a, lam_b = accounts.a("lambda"), accounts.b("lambda")
    zip_bytes = python_zip("VALUE = 1\n", module="shared")
    arn = lam_a.publish_layer_version(LayerName="tools", Content={"ZipFile": zip_bytes})["LayerVersionArn"]
    layer = arn.rsplit(":", 1)[0]
    msg = refused(lam_b.get_layer_version_by_arn, "AccessDeniedException", 403, Arn=arn)
    assert msg == (
        f"User: {USER_B} is not authorized to perform: lambda:GetLayerVersion on resource: {arn} because no "
        "resource-based policy allows the lambda:GetLayerVersion action"
    )
    refused(lam_b.get_layer_version, "AccessDeniedException", 403, LayerName=layer, VersionNumber=1)
    refused(lam_b.delete_layer_version, "AccessDeniedException", 403, LayerName=layer, VersionNumber=1)
    refused(
        lam_b.create_function,
        "AccessDeniedException",
        403,
        FunctionName="with-layer",
        Runtime="python3.12",
        Role=f"arn:aws:iam::{B}:role/lambda-role",
        Handler="handler.handler",
        Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
        Layers=[arn],
    )
    lam_a.add_layer_version_permission(
        LayerName="tools", VersionNumber=1, StatementId="b", Action="lambda:GetLayerVersion", Principal=B
    )
    assert lam_b.get_layer_version_by_arn(Arn=arn)["LayerVersionArn"] == arn
    created = lam_b.create_function(
        FunctionName="with-layer",
        Runtime="python3.12",
        Role=f"arn:aws:iam::{B}:role/lambda-role",
        Handler="handler.handler",
        Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
        Layers=[arn],
    )
    assert [x["Arn"] for x in created["Layers"]] == [arn]
    # Granting reads does not hand over the layer's other actions.
    refused(lam_b.get_layer_version_policy, "AccessDeniedException", 403, LayerName=layer, VersionNumber=1)
    assert lam_a.list_layer_versions(LayerName="tools")["LayerVersions"][0]["LayerVersionArn"] == arn


def test_get_records_needs_its_own_grant(accounts: Accounts) -> None:
    """An iterator is no grant: another account reads a stream only when its policy grants kinesis:GetRecords —
    not with an iterator the owner obtained, nor with kinesis:GetShardIterator granted alone; an explicit Deny of
    GetRecords refuses the owner's own callers too."""
    kin_a, kin_b = accounts.a("kinesis"), accounts.b("kinesis")
    kin_a.create_stream(StreamName="ledger", ShardCount=1)
    arn = kin_a.describe_stream_summary(StreamName="ledger")["StreamDescriptionSummary"]["StreamARN"]
    shard = kin_a.put_record(StreamName="ledger", Data=b"private", PartitionKey="k")["ShardId"]
    start = {"ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
    owners = kin_a.get_shard_iterator(StreamName="ledger", **start)["ShardIterator"]
    msg = refused(kin_b.get_records, "AccessDeniedException", 400, ShardIterator=owners)
    assert msg == (
        f"User: {USER_B} is not authorized to perform: kinesis:GetRecords on resource: {arn} because no "
        "resource-based policy allows the kinesis:GetRecords action"
    )

    def grant(*actions: str, deny: bool = False) -> None:
        statements: list[dict[str, Any]] = [
            {"Effect": "Allow", "Principal": {"AWS": B}, "Action": list(actions), "Resource": arn}
        ]
        if deny:
            statements.append({"Effect": "Deny", "Principal": "*", "Action": "kinesis:GetRecords", "Resource": arn})
        policy = {"Version": "2012-10-17", "Statement": statements}
        kin_a.put_resource_policy(ResourceARN=arn, Policy=json.dumps(policy))

    grant("kinesis:GetShardIterator")
    own = kin_b.get_shard_iterator(StreamARN=arn, **start)["ShardIterator"]
    refused(kin_b.get_records, "AccessDeniedException", 400, ShardIterator=own)
    grant("kinesis:GetShardIterator", "kinesis:GetRecords")
    got = kin_b.get_records(ShardIterator=own)
    assert [r["Data"] for r in got["Records"]] == [b"private"]
    assert kin_b.get_records(ShardIterator=got["NextShardIterator"])["Records"] == []
    grant("kinesis:GetShardIterator", "kinesis:GetRecords", deny=True)
    for client in (kin_a, kin_b):
        msg = refused(client.get_records, "AccessDeniedException", 400, ShardIterator=owners)
        assert msg.endswith(f"kinesis:GetRecords on resource: {arn} with an explicit deny in a resource-based policy")
