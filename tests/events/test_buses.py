"""CreateEventBus, DescribeEventBus, ListEventBuses and DeleteEventBus through boto3: the default bus exists
without being created and cannot be deleted."""

from __future__ import annotations

from tests.events.helpers import bus_arn, error


def test_default_bus_exists_without_being_created(events):
    described = events.describe_event_bus()
    assert (described["Name"], described["Arn"]) == ("default", bus_arn("default"))
    assert events.describe_event_bus(Name="default")["Arn"] == bus_arn("default")
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]


def test_create_describe_list_delete(events):
    made = events.create_event_bus(Name="orders", Description="the orders", Tags=[{"Key": "team", "Value": "a"}])
    assert made["EventBusArn"] == bus_arn("orders")
    assert made["Description"] == "the orders"
    described = events.describe_event_bus(Name="orders")
    assert described["Arn"] == bus_arn("orders")
    assert described["Description"] == "the orders"
    assert described["CreationTime"] <= described["LastModifiedTime"]
    assert events.describe_event_bus(Name=bus_arn("orders"))["Name"] == "orders"
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default", "orders"]
    events.delete_event_bus(Name="orders")
    assert error(events.describe_event_bus, Name="orders") == (
        "ResourceNotFoundException",
        "Event bus orders does not exist.",
    )
    events.delete_event_bus(Name="orders")  # idempotent


def test_create_twice_and_default(events):
    events.create_event_bus(Name="dup")
    assert error(events.create_event_bus, Name="dup") == (
        "ResourceAlreadyExistsException",
        "Event bus dup already exists.",
    )
    assert error(events.create_event_bus, Name="default")[0] == "ResourceAlreadyExistsException"


def test_default_bus_cannot_be_deleted(events):
    assert error(events.delete_event_bus, Name="default") == ("ValidationException", "Cannot delete event bus default.")


def test_list_prefix_limit_and_token(events):
    for name in ("b-1", "b-2", "b-3", "c-1"):
        events.create_event_bus(Name=name)
    first = events.list_event_buses(NamePrefix="b-", Limit=2)
    assert [b["Name"] for b in first["EventBuses"]] == ["b-1", "b-2"]
    second = events.list_event_buses(NamePrefix="b-", Limit=2, NextToken=first["NextToken"])
    assert [b["Name"] for b in second["EventBuses"]] == ["b-3"]
    assert "NextToken" not in second
    assert error(events.list_event_buses, NextToken="bogus")[0] == "ValidationException"


def test_invalid_name_is_a_validation_error(events):
    code, message = error(events.create_event_bus, Name="bad name!")
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'bad name!' at 'name' failed to satisfy constraint")
