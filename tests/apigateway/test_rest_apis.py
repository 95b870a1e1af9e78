"""REST APIs and their resources through boto3: create (with the root resource), read, list with paging, patch,
delete with everything under them; the resource tree (paths, variables, greedy proxies, moves) and AWS's errors."""

from __future__ import annotations

import re

from tests.apigateway.helpers import error_of


def test_create_read_list_and_delete(gw):
    api = gw.create_rest_api(name="shop", description="the shop", tags={"team": "a"})
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"[a-z0-9]{10}", api["id"])
    assert (api["name"], api["description"], api["apiKeySource"]) == ("shop", "the shop", "HEADER")
    assert api["endpointConfiguration"] == {"types": ["EDGE"], "ipAddressType": "ipv4"}
    assert api["disableExecuteApiEndpoint"] is False and api["tags"] == {"team": "a"}
    root = gw.get_resources(restApiId=api["id"])["items"]
    assert root == [{"id": api["rootResourceId"], "path": "/"}]
    got = gw.get_rest_api(restApiId=api["id"])
    assert got["createdDate"] == api["createdDate"] and got["rootResourceId"] == api["rootResourceId"]
    names = [gw.create_rest_api(name=f"api-{i}")["id"] for i in range(3)]
    first = gw.get_rest_apis(limit=2)
    assert len(first["items"]) == 2 and first["position"]
    rest = gw.get_rest_apis(position=first["position"])
    assert {a["id"] for a in first["items"] + rest["items"]} == {api["id"], *names}
    assert gw.delete_rest_api(restApiId=api["id"])["ResponseMetadata"]["HTTPStatusCode"] == 202
    err = error_of(gw.get_rest_api, 404, restApiId=api["id"])
    assert err == {"Code": "NotFoundException", "Message": f"Invalid API identifier specified 000000000000:{api['id']}"}
    error_of(gw.get_resources, 404, restApiId=api["id"])
    error_of(gw.delete_rest_api, 404, restApiId=api["id"])


def test_update_rest_api_with_patch_operations(gw):
    api = gw.create_rest_api(name="shop", binaryMediaTypes=["image/png"])
    updated = gw.update_rest_api(
        restApiId=api["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "store"},
            {"op": "replace", "path": "/description", "value": "now a store"},
            {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"},
            {"op": "remove", "path": "/binaryMediaTypes/image~1png"},
            {"op": "replace", "path": "/minimumCompressionSize", "value": "1024"},
            {"op": "replace", "path": "/apiKeySource", "value": "AUTHORIZER"},
        ],
    )
    assert (updated["name"], updated["description"]) == ("store", "now a store")
    assert updated["binaryMediaTypes"] == ["image/jpeg"] and updated["minimumCompressionSize"] == 1024
    assert updated["apiKeySource"] == "AUTHORIZER"
    assert gw.get_rest_api(restApiId=api["id"])["name"] == "store"
    err = error_of(
        gw.update_rest_api, 400, restApiId=api["id"], patchOperations=[{"op": "replace", "path": "/id", "value": "x"}]
    )
    assert err["Code"] == "BadRequestException" and "/id" in err["Message"]
    error_of(
        gw.update_rest_api,
        400,
        restApiId=api["id"],
        patchOperations=[{"op": "replace", "path": "/apiKeySource", "value": "BODY"}],
    )
    error_of(gw.update_rest_api, 404, restApiId="missing123", patchOperations=[])


def test_resource_tree(gw):
    api = gw.create_rest_api(name="shop")
    api_id, root = api["id"], api["rootResourceId"]
    items = gw.create_resource(restApiId=api_id, parentId=root, pathPart="items")
    assert items["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert {k: items[k] for k in ("parentId", "pathPart", "path")} == {
        "parentId": root,
        "pathPart": "items",
        "path": "/items",
    }
    one = gw.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    assert one["path"] == "/items/{id}"
    proxy = gw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")
    assert proxy["path"] == "/{proxy+}"
    err = error_of(gw.create_resource, 409, restApiId=api_id, parentId=root, pathPart="items")
    assert err["Message"] == "Another resource with the same parent already has this name: items"
    err = error_of(gw.create_resource, 400, restApiId=api_id, parentId=items["id"], pathPart="{other}")
    assert "only one is allowed" in err["Message"]
    err = error_of(gw.create_resource, 400, restApiId=api_id, parentId=root, pathPart="bad/part")
    assert err["Message"].startswith("Resource's path part only allow a-zA-Z0-9._-")
    err = error_of(gw.create_resource, 404, restApiId=api_id, parentId="nope00", pathPart="x")
    assert err["Message"] == "Invalid Resource identifier specified 000000000000:nope00"
    # A move renames the subtree's paths.
    moved = gw.update_resource(
        restApiId=api_id,
        resourceId=items["id"],
        patchOperations=[{"op": "replace", "path": "/pathPart", "value": "products"}],
    )
    assert moved["path"] == "/products"
    assert gw.get_resource(restApiId=api_id, resourceId=one["id"])["path"] == "/products/{id}"
    error_of(
        gw.update_resource,
        400,
        restApiId=api_id,
        resourceId=items["id"],
        patchOperations=[{"op": "replace", "path": "/parentId", "value": one["id"]}],
    )
    paths = sorted(r["path"] for r in gw.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/products", "/products/{id}", "/{proxy+}"]
    gw.delete_resource(restApiId=api_id, resourceId=items["id"])  # with its child
    paths = sorted(r["path"] for r in gw.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/{proxy+}"]
    error_of(gw.get_resource, 404, restApiId=api_id, resourceId=one["id"])
    error_of(gw.delete_resource, 400, restApiId=api_id, resourceId=root)
