"""Shared by the API Gateway tests."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_of(call, status: int, **kw) -> dict:
    """The error a call answers (its HTTP status checked): {"Code": ..., "Message": ...}."""
    with pytest.raises(ClientError) as e:
        call(**kw)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return e.value.response["Error"]


MOCK_200 = {"application/json": '{"statusCode": 200}'}


def mock_method(
    gw, api_id: str, resource_id: str, http_method: str = "GET", answer: str | None = None, request_templates=None,
    **method,
):  # fmt: skip
    """A method integrated with MOCK: PutMethod (authorizationType NONE unless `method` gives one) and the
    integration (with `request_templates`, else none); with `answer`, the request template (MOCK_200 unless given)
    selects 200, whose method response and integration response (response template `answer`) are put too."""
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": http_method}
    gw.put_method(**ids, **{"authorizationType": "NONE", **method})
    if answer is not None:
        request_templates = request_templates or MOCK_200
    gw.put_integration(**ids, type="MOCK", **({"requestTemplates": request_templates} if request_templates else {}))
    if answer is not None:
        gw.put_method_response(**ids, statusCode="200")
        gw.put_integration_response(**ids, statusCode="200", responseTemplates={"application/json": answer})
