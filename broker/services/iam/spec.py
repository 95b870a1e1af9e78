"""The IAM service spec. The generic layer decodes and converts IAM's query requests by a copy of botocore's model
without constraints; each operation first checks its input against the model itself (validation.py), which words
the errors as IAM does (lowerCamelCase member paths, every violation at once)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from botocore.model import ServiceModel, Shape

from broker.context import RequestContext
from broker.protocol.spec import Handler, ServiceSpec, load_model
from broker.services.iam import validation
from broker.services.iam.operations import HANDLERS

CONSTRAINTS = ("min", "max", "pattern", "enum")


def unconstrained(model: ServiceModel) -> ServiceModel:
    """A copy of `model` without constraints (STS's spec is built the same way: the same AWS frontend)."""
    description = copy.deepcopy(model._service_description)  # the shared model stays as botocore loaded it
    for shape in description["shapes"].values():
        for key in CONSTRAINTS:
            shape.pop(key, None)
        shape.pop("required", None)
    return ServiceModel(description, service_name=model.service_name)


def validated(shape: Shape | None, handler: Handler) -> Handler:
    """`handler`, run once its input passed `validation.check` against `shape` (the model's input shape)."""

    async def run(ctx: RequestContext, p: dict[str, Any]) -> Any:
        if shape is not None:
            validation.check(shape, p)
        return await handler(ctx, p)

    return run


def handlers(model: ServiceModel) -> Mapping[str, Handler]:
    return {name: validated(model.operation_model(name).input_shape, fn) for name, fn in HANDLERS.items()}


def build() -> ServiceSpec:
    model = load_model("iam")
    return ServiceSpec(
        name="iam",
        model=unconstrained(model),
        handlers=handlers(model),
        xmlns=model.metadata["xmlNamespace"],
        query_error_detail=False,  # IAM's <Error> carries Type, Code and Message only
        # Never used (the copy has no required members; validation.py reports them): AWS's wording all the same.
        missing_error=(
            "ValidationError",
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null",
        ),
        constraint_error="ValidationError",
    )
