"""The SNS service spec: botocore's (query-protocol) model carries SNS's wire names and error codes itself."""

from __future__ import annotations

import copy

from botocore.model import ServiceModel

from broker.protocol.spec import ServiceSpec, load_model
from broker.services.sns.operations import HANDLERS

# Required members AWS reports missing with its request validation ("1 validation error detected: Value null at
# '<path>' ..."), not with SNS's "Invalid parameter: <Name> Reason: no value for required parameter": the
# operations check them themselves (errors.null_member), so the generic check leaves them out.
NULL_CHECKED = {
    "CreatePlatformApplicationInput": "Attributes",
    "SetPlatformApplicationAttributesInput": "Attributes",
    "SetEndpointAttributesInput": "Attributes",
    "MessageAttributeValue": "DataType",
}


def _model() -> ServiceModel:
    shared = load_model("sns")
    description = copy.deepcopy(shared._service_description)  # the shared model stays as botocore loaded it
    for shape, member in NULL_CHECKED.items():
        required = description["shapes"][shape]["required"]
        required.remove(member)
    return ServiceModel(description, service_name=shared.service_name)


def build() -> ServiceSpec:
    model = _model()
    return ServiceSpec(
        name="sns",
        model=model,
        handlers=HANDLERS,
        xmlns=model.metadata["xmlNamespace"],
        query_error_xmlns="https://sns.amazonaws.com/doc/2010-03-31/",  # AWS's error documents say https
        missing_error=("InvalidParameter", "Invalid parameter: {name} Reason: no value for required parameter"),
        constraint_error="InvalidParameter",
    )
