"""The STS service spec. As IAM's (the same AWS frontend), the generic layer converts types by a copy of botocore's
model without constraints, and each operation first checks its input against the model itself, so violations are
worded as STS words them (lowerCamelCase member paths, every violation at once)."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec, load_model
from broker.services.iam.spec import unconstrained, validated
from broker.services.sts.operations import HANDLERS


def build() -> ServiceSpec:
    model = load_model("sts")
    return ServiceSpec(
        name="sts",
        model=unconstrained(model),
        handlers={name: validated(model.operation_model(name).input_shape, fn) for name, fn in HANDLERS.items()},
        xmlns="https://sts.amazonaws.com/doc/2011-06-15/",
        json_target="AWSSecurityTokenServiceV20110615",
        # Never used (the copy has no required members; IAM's validation reports them): AWS's wording all the same.
        missing_error=(
            "ValidationError",
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null",
        ),
        constraint_error="ValidationError",
    )
