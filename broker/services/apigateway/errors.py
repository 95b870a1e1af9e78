"""The errors API Gateway answers, with AWS's texts."""

from __future__ import annotations

from broker.errors import ServiceError


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFoundException", message, status=404)


def bad_request(message: str) -> ServiceError:
    return ServiceError("BadRequestException", message, status=400)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, status=409)


def api_not_found(account: str, api_id: str) -> ServiceError:
    return not_found(f"Invalid API identifier specified {account}:{api_id}")


def resource_not_found(account: str, resource_id: str) -> ServiceError:
    return not_found(f"Invalid Resource identifier specified {account}:{resource_id}")


def method_not_found() -> ServiceError:
    return not_found("Invalid Method identifier specified")


def integration_not_found() -> ServiceError:
    return not_found("No integration defined for method")


def invalid_patch(message: str) -> ServiceError:
    return bad_request(message)
