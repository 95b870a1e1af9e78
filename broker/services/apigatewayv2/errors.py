"""The errors API Gateway v2 answers, with AWS's texts ({"message": ...} and the x-amzn-errortype header, as v1).
Only the API's NotFoundException names the account, as AWS writes it."""

from __future__ import annotations

from broker.errors import ServiceError
from broker.services.apigateway.errors import bad_request, conflict, not_found

__all__ = ["bad_request", "conflict", "not_found"]


def api_not_found(account: str, api_id: str) -> ServiceError:
    return not_found(f"Invalid API identifier specified {account}:{api_id}")


def route_not_found(route_id: str) -> ServiceError:
    return not_found(f"Invalid Route identifier specified {route_id}")


def route_response_not_found(route_response_id: str) -> ServiceError:
    return not_found(f"Invalid RouteResponse identifier specified {route_response_id}")


def integration_not_found(integration_id: str) -> ServiceError:
    return not_found(f"Invalid Integration identifier specified {integration_id}")


def integration_response_not_found(integration_response_id: str) -> ServiceError:
    return not_found(f"Invalid IntegrationResponse identifier specified {integration_response_id}")


def authorizer_not_found(authorizer_id: str) -> ServiceError:
    return not_found(f"Invalid Authorizer identifier specified {authorizer_id}")


def model_not_found(model_id: str) -> ServiceError:
    return not_found(f"Invalid Model identifier specified {model_id}")


def stage_not_found(stage_name: str) -> ServiceError:
    return not_found("Invalid stage identifier specified")


def deployment_not_found(deployment_id: str) -> ServiceError:
    return not_found("Invalid Deployment identifier specified")


def domain_not_found(domain_name: str) -> ServiceError:
    return not_found("The domain name resource specified in the request was not found.")


def api_mapping_not_found(mapping_id: str) -> ServiceError:
    return not_found("The api mapping resource specified in the request was not found.")


def vpc_link_not_found(vpc_link_id: str) -> ServiceError:
    return not_found(f"Invalid VpcLink identifier specified {vpc_link_id}")


def http_only(member: str) -> ServiceError:
    return bad_request(f"{member} is not supported for WEBSOCKET APIs")


def websocket_only(member: str) -> ServiceError:
    return bad_request(f"{member} is not supported for HTTP APIs")
