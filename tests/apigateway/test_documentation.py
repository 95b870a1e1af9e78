"""Documentation parts and versions through boto3: locations as AWS validates and completes them (the fields each
type takes, defaults for path, method and status code), one part per location, filters and paging, patching the
content, importing from OpenAPI's x-amazon-apigateway-documentation (merge and overwrite, warnings, failOnWarnings),
and versions that snapshot the parts and name a stage, with AWS's errors."""

from __future__ import annotations

import json

import pytest

from tests.apigateway.helpers import error_of, mock_method


@pytest.fixture
def api(gw) -> str:
    return gw.create_rest_api(name="documented")["id"]


def _props(text: str) -> str:
    return json.dumps({"description": text})


def test_part_locations(gw, api):
    part = gw.create_documentation_part(restApiId=api, location={"type": "API"}, properties=_props("the api"))
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert part["location"] == {"type": "API"} and json.loads(part["properties"]) == {"description": "the api"}
    assert len(part["id"]) == 6

    root = gw.create_documentation_part(restApiId=api, location={"type": "RESOURCE"}, properties=_props("root"))
    assert root["location"] == {"type": "RESOURCE", "path": "/"}
    method = gw.create_documentation_part(
        restApiId=api, location={"type": "METHOD", "path": "/pets"}, properties=_props("any")
    )
    assert method["location"] == {"type": "METHOD", "path": "/pets", "method": "*"}
    header = gw.create_documentation_part(
        restApiId=api,
        location={"type": "RESPONSE_HEADER", "path": "/pets", "method": "GET", "statusCode": "200", "name": "x-n"},
        properties=_props("count"),
    )
    assert header["location"]["statusCode"] == "200" and header["location"]["name"] == "x-n"
    response = gw.create_documentation_part(
        restApiId=api, location={"type": "RESPONSE", "path": "/pets", "method": "GET"}, properties=_props("ok")
    )
    assert response["location"]["statusCode"] == "*"
    model = gw.create_documentation_part(restApiId=api, location={"type": "MODEL", "name": "Pet"}, properties="{}")
    assert model["location"] == {"type": "MODEL", "name": "Pet"}

    dup = error_of(gw.create_documentation_part, 409, restApiId=api, location={"type": "API"}, properties="{}")
    assert dup == {
        "Code": "ConflictException",
        "Message": "Documentation part already exists for the specified location: type 'API'.",
    }
    # An omitted field is its default: the same location as the explicit one.
    same = error_of(
        gw.create_documentation_part,
        409,
        restApiId=api,
        location={"type": "METHOD", "path": "/pets", "method": "*"},
        properties="{}",
    )
    assert same["Code"] == "ConflictException"

    for location in (
        {"type": "API", "path": "/"},
        {"type": "RESOURCE", "method": "GET"},
        {"type": "METHOD", "statusCode": "200"},
        {"type": "MODEL"},
        {"type": "QUERY_PARAMETER", "path": "/pets"},
        {"type": "RESOURCE", "path": "pets"},
    ):
        bad = error_of(gw.create_documentation_part, 400, restApiId=api, location=location, properties="{}")
        assert bad["Code"] == "BadRequestException", location
    empty = error_of(
        gw.create_documentation_part, 400, restApiId=api, location={"type": "RESOURCE", "path": "/a"}, properties=""
    )
    assert empty == {"Code": "BadRequestException", "Message": "Documentation part properties must be non-empty"}
    not_json = error_of(
        gw.create_documentation_part, 400, restApiId=api, location={"type": "RESOURCE", "path": "/a"}, properties="{"
    )
    assert not_json["Code"] == "BadRequestException"
    too_deep = error_of(
        gw.create_documentation_part,
        400,
        restApiId=api,
        location={"type": "RESOURCE", "path": "/a"},
        properties="[" * 100_000,
    )
    assert too_deep["Code"] == "BadRequestException"
    no_api = error_of(
        gw.create_documentation_part, 404, restApiId="nope000000", location={"type": "API"}, properties="{}"
    )
    assert no_api["Message"] == "Invalid API identifier specified 000000000000:nope000000"


def test_part_reads_filters_updates_and_deletes(gw, api):
    made = {}
    for key, location in {
        "api": {"type": "API"},
        "pets": {"type": "RESOURCE", "path": "/pets"},
        "get": {"type": "METHOD", "path": "/pets", "method": "GET"},
        "page": {"type": "QUERY_PARAMETER", "path": "/pets", "method": "GET", "name": "page"},
        "pageSize": {"type": "QUERY_PARAMETER", "path": "/pets", "method": "GET", "name": "pageSize"},
        "empty": {"type": "RESOURCE", "path": "/empty"},
    }.items():
        props = "{}" if key == "empty" else _props(key)
        made[key] = gw.create_documentation_part(restApiId=api, location=location, properties=props)["id"]

    got = gw.get_documentation_part(restApiId=api, documentationPartId=made["get"])
    assert got["location"] == {"type": "METHOD", "path": "/pets", "method": "GET"}

    def ids(**kw) -> set[str]:
        return {p["id"] for p in gw.get_documentation_parts(restApiId=api, **kw)["items"]}

    assert ids() == set(made.values())
    assert ids(type="QUERY_PARAMETER") == {made["page"], made["pageSize"]}
    assert ids(type="QUERY_PARAMETER", nameQuery="pageS") == {made["pageSize"]}
    assert ids(path="/pets") == {made["pets"], made["get"], made["page"], made["pageSize"]}
    assert ids(locationStatus="UNDOCUMENTED") == {made["empty"]}
    assert made["empty"] not in ids(locationStatus="DOCUMENTED")
    first = gw.get_documentation_parts(restApiId=api, limit=4)
    rest = gw.get_documentation_parts(restApiId=api, limit=4, position=first["position"])
    assert len(first["items"]) == 4 and len(rest["items"]) == 2 and "position" not in rest
    assert {p["id"] for p in first["items"] + rest["items"]} == set(made.values())

    updated = gw.update_documentation_part(
        restApiId=api,
        documentationPartId=made["get"],
        patchOperations=[{"op": "replace", "path": "/properties", "value": _props("list pets")}],
    )
    assert json.loads(updated["properties"]) == {"description": "list pets"}
    assert (
        gw.get_documentation_part(restApiId=api, documentationPartId=made["get"])["properties"]
        == (updated["properties"])
    )
    for operation in (
        {"op": "replace", "path": "/location/path", "value": "/x"},
        {"op": "remove", "path": "/properties"},
        {"op": "replace", "path": "/properties", "value": "not json"},
    ):
        bad = error_of(
            gw.update_documentation_part,
            400,
            restApiId=api,
            documentationPartId=made["get"],
            patchOperations=[operation],
        )
        assert bad["Code"] == "BadRequestException", operation

    gw.delete_documentation_part(restApiId=api, documentationPartId=made["get"])
    missing = {"Code": "NotFoundException", "Message": "Invalid Documentation part identifier specified"}
    assert error_of(gw.get_documentation_part, 404, restApiId=api, documentationPartId=made["get"]) == missing
    assert error_of(gw.delete_documentation_part, 404, restApiId=api, documentationPartId=made["get"]) == missing
    assert (
        error_of(gw.update_documentation_part, 404, restApiId=api, documentationPartId=made["get"], patchOperations=[])
        == missing
    )
    # Its location is free again.
    gw.create_documentation_part(
        restApiId=api, location={"type": "METHOD", "path": "/pets", "method": "GET"}, properties=_props("again")
    )


def _openapi(parts: list[dict]) -> bytes:
    return json.dumps(
        {
            "swagger": "2.0",
            "info": {"title": "docs", "version": "1"},
            "paths": {},
            "x-amazon-apigateway-documentation": {"version": "1.0", "documentationParts": parts},
        }
    ).encode()


def test_import_documentation_parts(gw, api):
    existing = gw.create_documentation_part(restApiId=api, location={"type": "API"}, properties=_props("old"))
    kept = gw.create_documentation_part(
        restApiId=api, location={"type": "RESOURCE", "path": "/kept"}, properties=_props("kept")
    )
    body = _openapi(
        [
            {"location": {"type": "API"}, "properties": {"description": "new"}},
            {"location": {"type": "METHOD", "path": "/pets", "method": "GET"}, "properties": {"summary": "list"}},
            {"location": {"type": "MODEL"}, "properties": {"description": "no name"}},
        ]
    )
    merged = gw.import_documentation_parts(restApiId=api, body=body)
    assert len(merged["ids"]) == 2 and existing["id"] in merged["ids"]
    assert len(merged["warnings"]) == 1 and "documentationParts[2]" in merged["warnings"][0]
    api_part = gw.get_documentation_part(restApiId=api, documentationPartId=existing["id"])
    assert json.loads(api_part["properties"]) == {"description": "new"}
    assert kept["id"] in {p["id"] for p in gw.get_documentation_parts(restApiId=api)["items"]}

    failed = error_of(gw.import_documentation_parts, 400, restApiId=api, body=body, failOnWarnings=True)
    assert failed["Code"] == "BadRequestException" and "documentationParts[2]" in failed["Message"]

    overwritten = gw.import_documentation_parts(
        restApiId=api,
        mode="overwrite",
        body=_openapi([{"location": {"type": "RESOURCE", "path": "/only"}, "properties": {"description": "x"}}]),
    )
    assert overwritten["warnings"] == []
    remaining = gw.get_documentation_parts(restApiId=api)["items"]
    assert [p["id"] for p in remaining] == overwritten["ids"]
    assert remaining[0]["location"] == {"type": "RESOURCE", "path": "/only"}

    not_json = error_of(gw.import_documentation_parts, 400, restApiId=api, body=b"{not json")
    assert not_json["Code"] == "BadRequestException"
    no_api = error_of(gw.import_documentation_parts, 404, restApiId="nope000000", body=body)
    assert no_api["Code"] == "NotFoundException"


def test_documentation_versions(gw, api):
    root = gw.get_resources(restApiId=api)["items"][0]["id"]
    mock_method(gw, api, root)
    gw.create_deployment(restApiId=api, stageName="prod")
    gw.create_documentation_part(restApiId=api, location={"type": "API"}, properties=_props("v1 docs"))

    version = gw.create_documentation_version(
        restApiId=api, documentationVersion="1.0", description="first", stageName="prod"
    )
    assert version["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (version["version"], version["description"]) == ("1.0", "first") and version["createdDate"]
    assert gw.get_stage(restApiId=api, stageName="prod")["documentationVersion"] == "1.0"
    plain = gw.create_documentation_version(restApiId=api, documentationVersion="2.0")
    assert "description" not in plain

    assert gw.get_documentation_version(restApiId=api, documentationVersion="1.0")["description"] == "first"
    assert [v["version"] for v in gw.get_documentation_versions(restApiId=api)["items"]] == ["1.0", "2.0"]
    first = gw.get_documentation_versions(restApiId=api, limit=1)
    assert [
        v["version"] for v in gw.get_documentation_versions(restApiId=api, limit=1, position=first["position"])["items"]
    ] == ["2.0"]

    dup = error_of(gw.create_documentation_version, 409, restApiId=api, documentationVersion="1.0")
    assert dup["Code"] == "ConflictException"
    no_stage = error_of(gw.create_documentation_version, 404, restApiId=api, documentationVersion="3.0", stageName="x")
    assert no_stage == {"Code": "NotFoundException", "Message": "Invalid stage identifier specified"}
    assert "3.0" not in {v["version"] for v in gw.get_documentation_versions(restApiId=api)["items"]}

    updated = gw.update_documentation_version(
        restApiId=api,
        documentationVersion="1.0",
        patchOperations=[{"op": "replace", "path": "/description", "value": "renamed"}],
    )
    assert updated["description"] == "renamed" and updated["createdDate"] == version["createdDate"]
    bad = error_of(
        gw.update_documentation_version,
        400,
        restApiId=api,
        documentationVersion="1.0",
        patchOperations=[{"op": "replace", "path": "/version", "value": "9"}],
    )
    assert bad["Code"] == "BadRequestException"

    gw.delete_documentation_version(restApiId=api, documentationVersion="2.0")
    missing = {"Code": "NotFoundException", "Message": "Invalid Documentation version identifier specified"}
    assert error_of(gw.get_documentation_version, 404, restApiId=api, documentationVersion="2.0") == missing
    assert error_of(gw.delete_documentation_version, 404, restApiId=api, documentationVersion="2.0") == missing
    assert (
        error_of(gw.update_documentation_version, 404, restApiId=api, documentationVersion="2.0", patchOperations=[])
        == missing
    )
    assert error_of(gw.get_documentation_versions, 404, restApiId="nope000000")["Code"] == "NotFoundException"

    # Deleting the API takes its documentation with it.
    gw.delete_rest_api(restApiId=api)
    assert error_of(gw.get_documentation_parts, 404, restApiId=api)["Code"] == "NotFoundException"
