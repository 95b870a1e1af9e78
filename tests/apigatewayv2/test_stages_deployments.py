"""Stages and deployments: a deployment freezes the API's routes, integrations and authorizers (observed through
ExportApi of a stage, which exports the stage's deployment); AutoDeploy stages redeploy on every change, manual
stages keep what they were deployed with; stage settings as AWS checks them."""

from __future__ import annotations

import json

from tests.apigatewayv2.helpers import LAMBDA, error_of, http_api, lambda_integration, websocket_api


def _stage_routes(gw2, api_id: str, stage: str) -> list[str]:
    body = gw2.export_api(ApiId=api_id, Specification="OAS30", OutputType="JSON", StageName=stage)["body"].read()
    paths = json.loads(body)["paths"]
    return sorted(f"{m} {p}" for p, ops in paths.items() for m in ops)


def test_create_stage_defaults_and_errors(gw2):
    api_id = http_api(gw2)
    stage = gw2.create_stage(ApiId=api_id, StageName="dev", StageVariables={"v": "1"}, Description="d")
    assert stage["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert stage["AutoDeploy"] is False
    assert stage["DefaultRouteSettings"] == {"DetailedMetricsEnabled": False}
    assert stage["RouteSettings"] == {} and stage["StageVariables"] == {"v": "1"} and stage["Tags"] == {}
    assert "DeploymentId" not in stage
    assert stage["CreatedDate"] == stage["LastUpdatedDate"]
    e = error_of(gw2.create_stage, 409, ApiId=api_id, StageName="dev")
    assert e == {"Code": "ConflictException", "Message": "Stage already exists"}
    assert error_of(gw2.create_stage, 400, ApiId=api_id, StageName="bad name")["Code"] == "BadRequestException"
    e = error_of(gw2.create_stage, 404, ApiId=api_id, StageName="x", DeploymentId="nope00")
    assert e == {"Code": "NotFoundException", "Message": "Invalid Deployment identifier specified"}
    e = error_of(gw2.create_stage, 400, ApiId=api_id, StageName="x", DefaultRouteSettings={"LoggingLevel": "INFO"})
    assert e == {"Code": "BadRequestException", "Message": "Execution logs are not supported on protocol HTTP"}
    e = error_of(
        gw2.create_stage, 404, ApiId=api_id, StageName="x", RouteSettings={"GET /none": {"ThrottlingBurstLimit": 1}}
    )
    assert e == {
        "Code": "NotFoundException",
        "Message": "Unable to find Route by key GET /none within the provided RouteSettings",
    }
    e = error_of(gw2.create_stage, 400, ApiId=api_id, StageName="x", StageVariables={"bad-name": "1"})
    assert e["Code"] == "BadRequestException"
    e = error_of(
        gw2.create_stage,
        400,
        ApiId=api_id,
        StageName="x",
        AccessLogSettings={"DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:g"},
    )
    assert e["Code"] == "BadRequestException"  # a destination needs a format
    assert [s["StageName"] for s in gw2.get_stages(ApiId=api_id)["Items"]] == ["dev"]
    e = error_of(gw2.get_stage, 404, ApiId=api_id, StageName="nope")
    assert e == {"Code": "NotFoundException", "Message": "Invalid stage identifier specified"}


def test_manual_deployment_is_a_snapshot(gw2):
    api_id = http_api(gw2)
    target = f"integrations/{lambda_integration(gw2, api_id)}"
    gw2.create_route(ApiId=api_id, RouteKey="GET /one", Target=target)
    gw2.create_stage(ApiId=api_id, StageName="prod")
    dep = gw2.create_deployment(ApiId=api_id, StageName="prod", Description="first")
    assert dep["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (dep["AutoDeployed"], dep["DeploymentStatus"], dep["Description"]) == (False, "DEPLOYED", "first")
    stage = gw2.get_stage(ApiId=api_id, StageName="prod")
    assert stage["DeploymentId"] == dep["DeploymentId"]
    assert (
        stage["LastDeploymentStatusMessage"]
        == f"Successfully deployed stage with deployment ID '{dep['DeploymentId']}'"
    )
    gw2.create_route(ApiId=api_id, RouteKey="GET /two", Target=target)
    # the stage still serves what was deployed; the API's latest configuration has both routes
    assert _stage_routes(gw2, api_id, "prod") == ["get /one"]
    latest = json.loads(gw2.export_api(ApiId=api_id, Specification="OAS30", OutputType="JSON")["body"].read())
    assert sorted(latest["paths"]) == ["/one", "/two"]
    second = gw2.create_deployment(ApiId=api_id, StageName="prod")
    assert _stage_routes(gw2, api_id, "prod") == ["get /one", "get /two"]
    # a deployment without a stage changes no stage
    gw2.create_deployment(ApiId=api_id)
    assert gw2.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == second["DeploymentId"]
    assert len(gw2.get_deployments(ApiId=api_id)["Items"]) == 3
    e = error_of(gw2.create_deployment, 404, ApiId=api_id, StageName="nope")
    assert e["Code"] == "NotFoundException"


def test_auto_deploy_redeploys_on_every_change(gw2):
    api_id = http_api(gw2)
    stage = gw2.create_stage(ApiId=api_id, StageName="live", AutoDeploy=True)
    first = stage["DeploymentId"]
    assert first and stage["LastDeploymentStatusMessage"].endswith(f"'{first}'")
    target = f"integrations/{lambda_integration(gw2, api_id)}"
    after_integration = gw2.get_stage(ApiId=api_id, StageName="live")["DeploymentId"]
    assert after_integration != first
    route_id = gw2.create_route(ApiId=api_id, RouteKey="GET /a", Target=target)["RouteId"]
    assert _stage_routes(gw2, api_id, "live") == ["get /a"]
    gw2.update_route(ApiId=api_id, RouteId=route_id, RouteKey="POST /a")
    assert _stage_routes(gw2, api_id, "live") == ["post /a"]
    gw2.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["https://x.example"]})
    body = gw2.export_api(ApiId=api_id, Specification="OAS30", OutputType="JSON", StageName="live")["body"].read()
    assert json.loads(body)["x-amazon-apigateway-cors"] == {"allowOrigins": ["https://x.example"]}
    gw2.delete_route(ApiId=api_id, RouteId=route_id)
    assert _stage_routes(gw2, api_id, "live") == []
    deployments = gw2.get_deployments(ApiId=api_id)["Items"]
    assert all(d["AutoDeployed"] for d in deployments) and len(deployments) == 6
    # an auto-deploy stage is not deployed by hand
    e = error_of(gw2.create_deployment, 400, ApiId=api_id, StageName="live")
    assert e["Code"] == "BadRequestException"


def test_turning_auto_deploy_on_deploys(gw2):
    api_id = http_api(gw2, Target=LAMBDA)
    gw2.create_stage(ApiId=api_id, StageName="dev")
    out = gw2.update_stage(ApiId=api_id, StageName="dev", AutoDeploy=True)
    assert out["DeploymentId"]
    assert _stage_routes(gw2, api_id, "dev") == ["x-amazon-apigateway-any-method $default"]


def test_update_stage_settings(gw2):
    api_id = http_api(gw2, Target=LAMBDA, RouteKey="GET /a")
    gw2.create_stage(ApiId=api_id, StageName="dev", StageVariables={"a": "1", "b": "2"})
    out = gw2.update_stage(
        ApiId=api_id,
        StageName="dev",
        StageVariables={"a": "9", "b": ""},
        DefaultRouteSettings={"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5.0},
        RouteSettings={"GET /a": {"ThrottlingBurstLimit": 1}},
        AccessLogSettings={
            "DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:g",
            "Format": "$context.requestId",
        },
    )
    assert out["StageVariables"] == {"a": "9"}  # an empty value removes a variable
    assert out["DefaultRouteSettings"] == {
        "DetailedMetricsEnabled": False,
        "ThrottlingBurstLimit": 10,
        "ThrottlingRateLimit": 5.0,
    }
    assert out["RouteSettings"] == {"GET /a": {"ThrottlingBurstLimit": 1}}
    gw2.delete_route_settings(ApiId=api_id, StageName="dev", RouteKey="GET /a")
    assert gw2.get_stage(ApiId=api_id, StageName="dev")["RouteSettings"] == {}
    e = error_of(gw2.delete_route_settings, 404, ApiId=api_id, StageName="dev", RouteKey="GET /a")
    assert e["Code"] == "NotFoundException"
    gw2.delete_access_log_settings(ApiId=api_id, StageName="dev")
    assert "AccessLogSettings" not in gw2.get_stage(ApiId=api_id, StageName="dev")
    gw2.delete_stage(ApiId=api_id, StageName="dev")
    assert error_of(gw2.get_stage, 404, ApiId=api_id, StageName="dev")["Code"] == "NotFoundException"
    assert error_of(gw2.delete_stage, 404, ApiId=api_id, StageName="dev")["Code"] == "NotFoundException"


def test_deployment_get_update_delete(gw2):
    api_id = http_api(gw2, Target=LAMBDA)
    dep = gw2.create_deployment(ApiId=api_id)["DeploymentId"]
    assert gw2.get_deployment(ApiId=api_id, DeploymentId=dep)["DeploymentStatus"] == "DEPLOYED"
    assert gw2.update_deployment(ApiId=api_id, DeploymentId=dep, Description="x")["Description"] == "x"
    gw2.create_stage(ApiId=api_id, StageName="dev", DeploymentId=dep)
    e = error_of(gw2.delete_deployment, 400, ApiId=api_id, DeploymentId=dep)
    assert e == {
        "Code": "BadRequestException",
        "Message": "Active stages pointing to this deployment must be moved or deleted",
    }
    gw2.delete_stage(ApiId=api_id, StageName="dev")
    gw2.delete_deployment(ApiId=api_id, DeploymentId=dep)
    e = error_of(gw2.get_deployment, 404, ApiId=api_id, DeploymentId=dep)
    assert e == {"Code": "NotFoundException", "Message": "Invalid Deployment identifier specified"}


def test_websocket_deployment_needs_a_route(gw2):
    api_id = websocket_api(gw2)
    e = error_of(gw2.create_deployment, 400, ApiId=api_id)
    assert e == {"Code": "BadRequestException", "Message": "At least one route is required before deploying the Api."}
    gw2.create_route(ApiId=api_id, RouteKey="$default")
    assert gw2.create_deployment(ApiId=api_id)["DeploymentStatus"] == "DEPLOYED"
    stage = gw2.create_stage(ApiId=api_id, StageName="prod")
    assert stage["DefaultRouteSettings"] == {
        "DataTraceEnabled": False,
        "DetailedMetricsEnabled": False,
        "LoggingLevel": "OFF",
    }
    assert error_of(gw2.create_stage, 400, ApiId=api_id, StageName="$default")["Code"] == "BadRequestException"
