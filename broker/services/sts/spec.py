"""The STS service spec."""

from __future__ import annotations

from broker.protocol.spec import ServiceSpec, load_model
from broker.services.sts.operations import HANDLERS


def build() -> ServiceSpec:
    return ServiceSpec(
        name="sts",
        model=load_model("sts"),
        handlers=HANDLERS,
        xmlns="https://sts.amazonaws.com/doc/2011-06-15/",
        json_target="AWSSecurityTokenServiceV20110615",
        missing_error=("MissingParameter", "The request must contain the parameter {name}."),
    )
