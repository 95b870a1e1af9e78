"""The SQS service spec: botocore's model plus our operations and the wire facts it no longer carries."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec, load_model
from broker.services.sqs.operations import HANDLERS
from broker.services.sqs.wire import (
    ACCOUNT_OPERATIONS,
    JSON_ERROR_TYPES,
    QUERY_ERROR_CODES,
    QUERY_ERROR_MESSAGES,
    QUERY_NAMES,
    XMLNS,
)


def build() -> ServiceSpec:
    return ServiceSpec(
        name="sqs",
        model=load_model("sqs"),
        handlers=HANDLERS,
        json_error_prefix="com.amazonaws.sqs#",
        query_error_codes=QUERY_ERROR_CODES,
        query_names=QUERY_NAMES,
        xmlns=XMLNS,
        query_error_detail=True,
        json_error_types=JSON_ERROR_TYPES,
        query_error_messages=QUERY_ERROR_MESSAGES,
        account_operations=ACCOUNT_OPERATIONS,
        query_self_closing_result=True,
        missing_error=("MissingParameter", "The request must contain the parameter {name}."),
        constraint_error="InvalidParameterValue",
        path_member="QueueUrl",
        waiting_operations=frozenset({"ReceiveMessage"}),
    )
