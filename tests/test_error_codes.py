"""Every error code the broker can send is one AWS sends: an error shape of the service's botocore model, one of
AWS's common errors, or a code AWS still sends that the model does not list (each named below with its source).

Codes are written once, in `broker/errors.py` (common) and `broker/services/<svc>/errors.py`; this test also keeps
it that way: a `ServiceError("Code", ...)` with a literal code anywhere else fails it."""

from __future__ import annotations

import ast
from pathlib import Path

from broker.services.registry import all_specs

BROKER = Path(__file__).resolve().parent.parent / "broker"

# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html (the same list for every
# query/JSON service), plus the awsJson protocol's own codes and the broker's 501 for unserved model operations.
COMMON = {
    "AccessDeniedException",
    "IncompleteSignature",
    "InternalFailure",
    "InvalidAction",
    "InvalidClientTokenId",
    "InvalidParameterCombination",
    "InvalidParameterValue",
    "InvalidQueryParameter",
    "MalformedQueryString",
    "MissingAction",
    "MissingAuthenticationToken",
    "MissingParameter",
    "NotAuthorized",
    "OptInRequired",
    "RequestExpired",
    "ServiceUnavailable",
    "ThrottlingException",
    "ValidationError",
    "ValidationException",
    "SerializationException",
    "UnknownOperationException",
    "RequestEntityTooLarge",
    "NotImplemented",
    # Refused signatures (broker/auth/errors.py): 403 SignatureDoesNotMatch (IAM User Guide, "Troubleshoot
    # Signature Version 4 signing"), and the awsJson / rest-json services' spellings as their SDKs report them
    # (aws-sdk-js#254 InvalidSignatureException, amazon-kinesis-scaling-utils#46 UnrecognizedClientException).
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "UnrecognizedClientException",
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    # Expired session tokens: ExpiredTokenException is in the common errors of every service (AWS Management
    # Console guide, "Common Errors"); the query services spell it ExpiredToken ("An error occurred (ExpiredToken)
    # when calling the GetCallerIdentity operation: The security token included in the request is expired").
    "ExpiredTokenException",
    "ExpiredToken",
}

# Codes AWS sends that the current models do not list as error shapes, by service, each with its source.
LEGACY: dict[str, set[str]] = {
    # Lambda answers oversized requests (Invoke payloads over 6 MB, Event payloads over 1 MB, zips over 50 MB) with
    # 413 RequestEntityTooLargeException, not the model's RequestTooLargeException: recorded against AWS in
    # localstack's tests/aws/services/lambda_/test_lambda_api.snapshot.json (test_oversized_request_create_lambda,
    # test_oversized_zipped_create_lambda); function URLs send the same code in x-amzn-ErrorType for 6 MB bodies.
    "lambda": {"RequestEntityTooLargeException"},
    # STS refuses AssumeRole of a role whose trust policy does not allow the caller (or that does not exist), and
    # GetSessionToken with session credentials, with 403 AccessDenied ("User: <arn> is not authorized to perform:
    # sts:AssumeRole on resource: <role arn>", "Cannot call GetSessionToken with session credentials"): AWS's
    # answers as SDK users quote them (e.g. aws/aws-sdk-js#3670, amzn/selling-partner-api-models#1186).
    "sts": {"AccessDenied"},
}


def _literal_codes(path: Path) -> list[tuple[int, str]]:
    """(line, code) of every ServiceError(...) call in `path` whose code is a string literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name != "ServiceError" or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append((node.lineno, first.value))
    return found


def _model_codes(service: str) -> set[str]:
    """The model's error shape names and the codes they are sent as (SNS's InvalidParameterException is sent as
    InvalidParameter)."""
    shapes = all_specs()[service].model.error_shapes
    return {shape.name for shape in shapes} | {shape.error_code for shape in shapes if shape.error_code}


def _service_of(path: Path) -> str | None:
    parts = path.relative_to(BROKER).parts
    # A folder named after a Python keyword carries a trailing underscore (lambda_ serves "lambda").
    return parts[1].rstrip("_") if parts[0] == "services" and len(parts) > 2 else None


def test_codes_are_written_only_in_errors_modules() -> None:
    stray = [
        f"{path.relative_to(BROKER.parent)}:{line} {code}"
        for path in sorted(BROKER.rglob("*.py"))
        if path.name != "errors.py"
        for line, code in _literal_codes(path)
    ]
    assert stray == [], "error codes belong in errors.py modules:\n" + "\n".join(stray)


def test_every_code_is_one_aws_sends() -> None:
    unknown = []
    for path in sorted(BROKER.rglob("errors.py")):
        service = _service_of(path)
        allowed = set(COMMON)
        if service is not None:
            allowed |= _model_codes(service) | LEGACY.get(service, set())
        where = path.relative_to(BROKER.parent)
        unknown += [f"{where}:{line} {code}" for line, code in _literal_codes(path) if code not in allowed]
    assert unknown == []


def test_spec_error_settings_are_codes_aws_sends() -> None:
    for name, spec in all_specs().items():
        shapes = _model_codes(name) | COMMON | LEGACY.get(name, set())
        assert spec.missing_error[0] in shapes, name
        assert spec.constraint_error in shapes, name
        assert set(spec.query_error_codes) <= shapes, name


def test_the_check_sees_literal_codes(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text('from broker.errors import ServiceError\nraise ServiceError("Nope", "m")\n')
    assert _literal_codes(sample) == [(2, "Nope")]
