"""Clients that speak the AWS *query* protocol to the broker, built only from botocore and AWS's documentation.

Two kinds:

* `QueryClient` sends raw form-encoded requests (member names written out by hand, as AWS's SQS API Reference
  spells them) signed with botocore's own SigV4 signer, and parses the XML answer with xml.etree.
* `query_protocol_sqs_client()` builds a real botocore client from botocore's SQS model switched to
  `protocol: query`, with the query member names (locationName) that AWS's API Reference documents added by hand.
  Nothing here is imported from the broker: the names are an independent statement of the wire format.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import botocore.session
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.loaders import Loader

SQS_NS = "http://queue.amazonaws.com/doc/2012-11-05/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
SQS_VERSION = "2012-11-05"
ACCOUNT = "000000000000"

Params = dict[str, str] | list[tuple[str, str]]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _strip(el: ET.Element) -> ET.Element:
    for node in el.iter():
        node.tag = _local(node.tag)
    return el


@dataclass
class QueryResponse:
    status: int
    headers: httpx.Headers
    raw: bytes
    root: ET.Element  # namespaces stripped, so paths read like AWS's examples
    namespace: str  # the root element's namespace as sent

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8")

    def result(self, action: str) -> ET.Element:
        """The <ActionResult> element, after checking the <ActionResponse> envelope and its RequestId."""
        assert self.status == 200, f"{self.status}: {self.text}"
        assert self.root.tag == f"{action}Response", self.text
        request_id = self.root.findtext("ResponseMetadata/RequestId")
        assert request_id, self.text
        result = self.root.find(f"{action}Result")
        assert result is not None, self.text
        return result

    def empty_result(self, action: str) -> None:
        """Actions without output: <ActionResponse> holding only ResponseMetadata/RequestId."""
        assert self.status == 200, f"{self.status}: {self.text}"
        assert self.root.tag == f"{action}Response", self.text
        assert self.root.findtext("ResponseMetadata/RequestId"), self.text
        assert [c.tag for c in self.root if c.tag != "ResponseMetadata"] in ([], [f"{action}Result"]), self.text

    def error(self, status: int = 400) -> tuple[str, str, str]:
        """(Type, Code, Message) of an <ErrorResponse>, after checking its shape."""
        assert self.status == status, f"{self.status}: {self.text}"
        assert self.root.tag == "ErrorResponse", self.text
        err = self.root.find("Error")
        assert err is not None, self.text
        assert self.root.findtext("RequestId"), self.text
        kind, code, message = err.findtext("Type"), err.findtext("Code"), err.findtext("Message")
        assert kind in ("Sender", "Receiver"), self.text
        assert code, self.text
        assert message is not None, self.text
        return kind, code, message


def sign_and_send(
    url: str,
    params: Params,
    *,
    method: str = "POST",
    service: str = "sqs",
    region: str = "us-east-1",
    access_key: str = "test",
    timeout: float = 30,
) -> httpx.Response:
    """Sign a query-protocol request with botocore's SigV4 signer and send it with httpx."""
    creds = Credentials(access_key, "secret")
    encoded = urlencode(params, quote_via=quote) if method == "GET" else urlencode(params)
    if method == "GET":
        req = AWSRequest(method="GET", url=f"{url}?{encoded}" if encoded else url)
    else:
        req = AWSRequest(
            method=method,
            url=url,
            data=encoded.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
    SigV4Auth(creds, service, region).add_auth(req)
    prepared = req.prepare()
    return httpx.request(
        prepared.method, prepared.url, headers=dict(prepared.headers.items()), content=prepared.body, timeout=timeout
    )


class QueryClient:
    """Raw SQS query-protocol requests: `call("CreateQueue", {"QueueName": "q"})`."""

    def __init__(self, endpoint: str, *, access_key: str = "test", region: str = "us-east-1") -> None:
        self.endpoint = endpoint.rstrip("/")
        self.access_key = access_key
        self.region = region

    def call(
        self,
        action: str | None,
        params: Params | None = None,
        *,
        path: str = "/",
        method: str = "POST",
        service: str = "sqs",
        version: str | None = SQS_VERSION,
    ) -> QueryResponse:
        pairs: list[tuple[str, str]] = []
        if action is not None:
            pairs.append(("Action", action))
        if version is not None:
            pairs.append(("Version", version))
        if isinstance(params, dict):
            pairs += list(params.items())
        elif params:
            pairs += list(params)
        r = sign_and_send(
            self.endpoint + path,
            pairs,
            method=method,
            service=service,
            region=self.region,
            access_key=self.access_key,
        )
        root = ET.fromstring(r.content)
        ns = _namespace(root.tag)
        return QueryResponse(r.status_code, r.headers, r.content, _strip(root), ns)

    # -- conveniences for setting up state -------------------------------------------------------------------
    def create_queue(self, name: str, params: Params | None = None) -> str:
        extra = list(params.items()) if isinstance(params, dict) else list(params or [])
        res = self.call("CreateQueue", [("QueueName", name), *extra]).result("CreateQueue")
        url = res.findtext("QueueUrl")
        assert url, ET.tostring(res)
        return url

    def send(self, url: str, body: str, params: Params | None = None) -> ET.Element:
        extra = list(params.items()) if isinstance(params, dict) else list(params or [])
        return self.call("SendMessage", [("QueueUrl", url), ("MessageBody", body), *extra]).result("SendMessage")

    def receive(self, url: str, params: Params | None = None) -> list[ET.Element]:
        extra = list(params.items()) if isinstance(params, dict) else list(params or [])
        res = self.call("ReceiveMessage", [("QueueUrl", url), *extra]).result("ReceiveMessage")
        return res.findall("Message")


def attributes(el: ET.Element, tag: str = "Attribute", key: str = "Name") -> dict[str, str]:
    """A flattened <Attribute><Name/><Value/></Attribute>* list as a dict."""
    out = {}
    for a in el.findall(tag):
        name = a.findtext(key)
        assert name is not None and name not in out, ET.tostring(el)
        out[name] = a.findtext("Value")
    return out


def message_attributes(msg: ET.Element) -> dict[str, dict[str, str]]:
    """<MessageAttribute><Name/><Value><StringValue|BinaryValue/><DataType/></Value></MessageAttribute>* ."""
    out: dict[str, dict[str, str]] = {}
    for a in msg.findall("MessageAttribute"):
        name = a.findtext("Name")
        value = a.find("Value")
        assert name and value is not None, ET.tostring(a)
        out[name] = {child.tag: child.text or "" for child in value}
    return out


# -- a botocore client speaking the query protocol ---------------------------------------------------------
# Query-protocol member names from AWS's SQS API Reference (the "Using AWS query protocol" examples and the
# Request Parameters sections, e.g. `Attribute.N.Name`, `MessageAttribute.N.Value.StringValue`, `TagKey.N`).
# Structure members that serialize under another name: (shape, member) -> locationName.
_MEMBER_NAMES = {
    ("CreateQueueRequest", "Attributes"): "Attribute",
    ("CreateQueueRequest", "tags"): "Tag",
    ("SetQueueAttributesRequest", "Attributes"): "Attribute",
    ("GetQueueAttributesResult", "Attributes"): "Attribute",
    ("TagQueueRequest", "Tags"): "Tag",
    ("ListQueueTagsResult", "Tags"): "Tag",
    ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("Message", "Attributes"): "Attribute",
    ("Message", "MessageAttributes"): "MessageAttribute",
}
# Flattened lists: list shape -> the element name each item is written under.
_LIST_MEMBER_NAMES = {
    "AttributeNameList": "AttributeName",
    "MessageAttributeNameList": "MessageAttributeName",
    "MessageSystemAttributeList": "MessageSystemAttributeName",
    "QueueUrlList": "QueueUrl",
    "TagKeyList": "TagKey",
    "MessageList": "Message",
    "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "AWSAccountIdList": "AWSAccountId",
    "ActionNameList": "ActionName",
}
# Flattened maps: map shape -> (key element, value element).
_MAP_ENTRY_NAMES = {
    "QueueAttributeMap": ("Name", "Value"),
    "TagMap": ("Key", "Value"),
    "MessageBodyAttributeMap": ("Name", "Value"),
    "MessageSystemAttributeMap": ("Name", "Value"),
    "MessageBodySystemAttributeMap": ("Name", "Value"),
}
# Error shapes -> the query-protocol error code AWS sends for them (as in the `ErrorResponse/Error/Code` element).
_ERROR_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "ReceiptHandleIsInvalid": "ReceiptHandleIsInvalid",
    "InvalidAttributeName": "InvalidAttributeName",
}


def sqs_query_model() -> dict:
    """botocore's SQS model, switched from JSON to the query protocol."""
    model = copy.deepcopy(Loader().load_service_model("sqs", "service-2"))
    meta = model["metadata"]
    meta["protocol"] = "query"
    meta["protocols"] = ["query"]
    meta["xmlNamespace"] = SQS_NS
    for key in ("jsonVersion", "targetPrefix", "awsQueryCompatible"):
        meta.pop(key, None)
    shapes = model["shapes"]
    for (shape, member), name in _MEMBER_NAMES.items():
        shapes[shape]["members"][member]["locationName"] = name
    for shape, name in _LIST_MEMBER_NAMES.items():
        assert shapes[shape].get("flattened"), shape
        shapes[shape]["member"]["locationName"] = name
    for shape, (key, value) in _MAP_ENTRY_NAMES.items():
        assert shapes[shape].get("flattened"), shape
        shapes[shape]["key"]["locationName"] = key
        shapes[shape]["value"]["locationName"] = value
    for shape, code in _ERROR_CODES.items():
        shapes[shape]["error"] = {"code": code, "httpStatusCode": 400, "senderFault": True}
    for name, op in model["operations"].items():
        if "output" in op:
            op["output"]["resultWrapper"] = f"{name}Result"
    return model


def query_protocol_sqs_client(endpoint: str, data_dir: Path, access_key: str = "test"):
    """A botocore SQS client that speaks the query protocol (model written to `data_dir`, searched first)."""
    model = sqs_query_model()
    target = data_dir / "sqs" / model["metadata"]["apiVersion"]
    target.mkdir(parents=True, exist_ok=True)
    (target / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.Session()
    loader = session.get_component("data_loader")
    loader.search_paths.insert(0, str(data_dir))
    client = session.create_client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    assert client.meta.service_model.protocol == "query"
    return client
