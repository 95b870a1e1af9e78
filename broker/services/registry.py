"""The services this broker serves: one line each. A listed package's `service.py` defines `SERVICE`, a
`broker.services.base.Service` subclass; see docs/design.md, "How to add a service"."""

from __future__ import annotations

import importlib

from broker.protocol.spec import ServiceSpec
from broker.services.base import Service

SERVICES = (
    "sqs",
    "sns",
    "kinesis",
    "sts",
    "iam",
    "logs",
    "lambda_",
    "apigateway",
    "apigatewayv2",
    "events",
    "scheduler",
)


def service_classes() -> list[type[Service]]:
    classes = []
    for name in SERVICES:
        cls = importlib.import_module(f"broker.services.{name}.service").SERVICE
        if not (isinstance(cls, type) and issubclass(cls, Service)):
            raise TypeError(f"broker.services.{name}.service.SERVICE is not a Service subclass")
        classes.append(cls)
    return classes


def all_specs() -> dict[str, ServiceSpec]:
    """Every served spec by signing name (what tests and tools enumerate: a new operation cannot escape them)."""
    return {spec.name: spec for cls in service_classes() for spec in cls.specs()}
