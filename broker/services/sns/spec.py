"""The SNS service spec: botocore's (query-protocol) model carries SNS's wire names and error codes itself."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec, load_model
from broker.services.sns.operations import HANDLERS


def build() -> ServiceSpec:
    model = load_model("sns")
    return ServiceSpec(
        name="sns",
        model=model,
        handlers=HANDLERS,
        xmlns=model.metadata["xmlNamespace"],
        missing_error=("InvalidParameter", "Invalid parameter: {name} Reason: no value for required parameter"),
        constraint_error="InvalidParameter",
    )
