"""`broker bench sqs-fifo`: FIFO throughput with 100 message groups, and dead-letter redrive velocity."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from broker.bench.sqs import HEADERS_LUA, RECEIVE_DELETE_LUA, Client, _depth, running_broker
from broker.bench.wrk import report, require_wrk, run_wrk

FIFO_SEND_LUA = (
    HEADERS_LUA
    + """
wrk.headers["X-Amz-Target"] = "AmazonSQS.SendMessage"
local n = 0
request = function()
  n = n + 1
  local body = '{"QueueUrl":"QURL","MessageBody":"fifo benchmark message ' .. n .. '","MessageGroupId":"g'
    .. (n % 100) .. '","MessageDeduplicationId":"' .. tid .. '-' .. n .. '"}'
  return wrk.format(nil, "/", nil, body)
end
response = function(status, headers, body) if status == 200 then items = items + 1 end end
"""
)

FIFO_BATCH_LUA = (
    HEADERS_LUA
    + """
wrk.headers["X-Amz-Target"] = "AmazonSQS.SendMessageBatch"
local n = 0
request = function()
  local parts = {}
  for i = 1, 10 do
    n = n + 1
    parts[i] = '{"Id":"e' .. i .. '","MessageBody":"fifo benchmark message ' .. n .. '","MessageGroupId":"g'
      .. (n % 100) .. '","MessageDeduplicationId":"b' .. tid .. '-' .. n .. '"}'
  end
  return wrk.format(nil, "/", nil, '{"QueueUrl":"QURL","Entries":[' .. table.concat(parts, ",") .. ']}')
end
response = function(status, headers, body)
  if status == 200 and not body:find('"Failed"') then items = items + 10 end  -- AWS leaves out an empty Failed
end
"""
)


def _redrive_fill(client: Client, source: str, dlq: str, count: int) -> float:
    """Make `count` messages dead-letter through real receives; returns the redrive rate (msg/s)."""
    for i in range(0, count, 10):
        client.call(
            "SendMessageBatch",
            {"QueueUrl": source, "Entries": [{"Id": str(k), "MessageBody": f"poison {i + k}"} for k in range(10)]},
        )
    t0 = time.perf_counter()
    while True:
        # maxReceiveCount=1 and VisibilityTimeout=0: the second receive of each message moves it to the DLQ.
        r = client.call("ReceiveMessage", {"QueueUrl": source, "MaxNumberOfMessages": 10, "VisibilityTimeout": 0})
        if not r.get("Messages"):
            attrs = client.call("GetQueueAttributes", {"QueueUrl": source, "AttributeNames": ["All"]})["Attributes"]
            if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
                break
    return count / (time.perf_counter() - t0)


def _move_velocity(client: Client, dlq_arn: str, params: dict[str, Any], expected: int) -> dict[str, Any]:
    client.call("StartMessageMoveTask", {"SourceArn": dlq_arn, **params})
    samples = []
    t0 = time.perf_counter()
    while True:
        task = client.call("ListMessageMoveTasks", {"SourceArn": dlq_arn})["Results"][0]
        samples.append((time.perf_counter() - t0, task["ApproximateNumberOfMessagesMoved"]))
        if task["Status"] != "RUNNING":
            break
        time.sleep(0.25)
    # Velocity over the steady part: from the first sample after 1 s to the last one before completion.
    steady = [s for s in samples if s[0] >= 1.0]
    (ta, ma), (tb, mb) = steady[0], steady[-2] if len(steady) > 2 else steady[-1]
    rate = (mb - ma) / (tb - ta) if tb > ta else 0.0
    return {
        "status": task["Status"],
        "moved": task["ApproximateNumberOfMessagesMoved"],
        "to_move": expected,
        "steady_rate": rate,
        "total_seconds": samples[-1][0],
    }


def main(args: argparse.Namespace) -> int:
    require_wrk()
    d, c = args.duration, args.connections
    results: dict[str, Any] = {"workers": args.workers, "connections": c, "duration_s": d, "groups": 100}
    with running_broker(args) as port:
        base = f"http://127.0.0.1:{port}/"
        admin = Client(port)
        fifo = admin.call("CreateQueue", {"QueueName": "bench.fifo", "Attributes": {"FifoQueue": "true"}})["QueueUrl"]
        results["fifo_send"] = run_wrk(base, FIFO_SEND_LUA.replace("QURL", fifo), d, c)
        print(f"FIFO SendMessage: {results['fifo_send']['items_per_s']:.0f} msg/s", flush=True)
        results["fifo_send_batch"] = run_wrk(base, FIFO_BATCH_LUA.replace("QURL", fifo), d, c)
        print(f"FIFO SendMessageBatch(10): {results['fifo_send_batch']['items_per_s']:.0f} msg/s", flush=True)
        # Every send carried a unique deduplication id, so all of them must be in the queue (and a few more
        # whose answers wrk did not wait for).
        enqueued = _depth(port, fifo)
        sent = results["fifo_send"]["items"] + results["fifo_send_batch"]["items"]
        if enqueued < sent:
            raise SystemExit(f"FIFO benchmark: {sent} sends acknowledged but {enqueued} messages queued")
        results["fifo_receive_delete"] = run_wrk(base, RECEIVE_DELETE_LUA.replace("QURL", fifo), d, c)
        # A queue drained before the end would make the figure a measure of empty receives.
        results["fifo_receive_delete"]["left_in_queue"] = _depth(port, fifo)
        print(
            f"FIFO Receive(10)+DeleteBatch: {results['fifo_receive_delete']['items_per_s']:.0f} msg/s "
            f"({results['fifo_receive_delete']['left_in_queue']} messages left)",
            flush=True,
        )

        count = args.move_messages
        for label, params, dest in (
            ("move_to_sources", {}, False),
            ("move_to_destination", {}, True),
            ("move_to_sources_500", {"MaxNumberOfMessagesPerSecond": 500}, False),
        ):
            dlq = admin.call("CreateQueue", {"QueueName": f"dlq-{label}"})["QueueUrl"]
            dlq_arn = admin.call("GetQueueAttributes", {"QueueUrl": dlq, "AttributeNames": ["QueueArn"]})["Attributes"][
                "QueueArn"
            ]
            policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
            source = admin.call("CreateQueue", {"QueueName": f"src-{label}", "Attributes": {"RedrivePolicy": policy}})[
                "QueueUrl"
            ]
            redrive_rate = _redrive_fill(admin, source, dlq, count)
            if dest:
                target = admin.call("CreateQueue", {"QueueName": f"dst-{label}"})["QueueUrl"]
                params = {
                    **params,
                    "DestinationArn": admin.call(
                        "GetQueueAttributes", {"QueueUrl": target, "AttributeNames": ["QueueArn"]}
                    )["Attributes"]["QueueArn"],
                }
            results[label] = {
                "redrive_on_receive_rate": redrive_rate,
                **_move_velocity(admin, dlq_arn, params, count),
            }
            print(f"{label}: {results[label]}", flush=True)
    return report(args, results)
