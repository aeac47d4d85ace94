"""Every enumerated value template.yaml gives an AWS resource is one the service's model knows.

cfn-lint and moto accept values AWS refuses at deploy time (the configuration
set once listed `TEXT_MAX_PRICE_EXCEEDED`, which End User Messaging does not
have, so stack creation failed with real SMS on). botocore ships each
service's model with its enums: the template is checked against those.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
import pytest

from outreach.inbound.events import DELIVERED, FAILED
from outreach_local.template import load_template

# (resource type, property path) -> (botocore service, enum shape). `[]` walks a list.
ENUMERATED: dict[tuple[str, str], tuple[str, str]] = {
    ("AWS::SMSVOICE::ConfigurationSet", "EventDestinations[].MatchingEventTypes[]"): (
        "pinpoint-sms-voice-v2",
        "EventType",
    ),
    ("AWS::DynamoDB::Table", "BillingMode"): ("dynamodb", "BillingMode"),
    ("AWS::DynamoDB::Table", "AttributeDefinitions[].AttributeType"): (
        "dynamodb",
        "ScalarAttributeType",
    ),
    ("AWS::DynamoDB::Table", "KeySchema[].KeyType"): ("dynamodb", "KeyType"),
    ("AWS::DynamoDB::Table", "GlobalSecondaryIndexes[].KeySchema[].KeyType"): (
        "dynamodb",
        "KeyType",
    ),
    ("AWS::DynamoDB::Table", "GlobalSecondaryIndexes[].Projection.ProjectionType"): (
        "dynamodb",
        "ProjectionType",
    ),
    ("AWS::DynamoDB::Table", "StreamSpecification.StreamViewType"): (
        "dynamodb",
        "StreamViewType",
    ),
    ("AWS::CloudWatch::Alarm", "ComparisonOperator"): ("cloudwatch", "ComparisonOperator"),
    ("AWS::CloudWatch::Alarm", "Statistic"): ("cloudwatch", "Statistic"),
}


@cache
def enum_of(service: str, shape: str) -> frozenset[str]:
    model = botocore.session.get_session().get_service_model(service)
    values = getattr(model.shape_for(shape), "enum", None)  # StringShape only
    assert values, f"{service}.{shape} enumerates nothing"
    return frozenset(values)


def values_at(node: Any, path: str) -> list[Any]:
    """The values at ``path`` (``A.B``, ``A[]``, ``A[].B``) below ``node``; none when absent."""
    nodes = [node]
    for part in path.split("."):
        is_list = part.endswith("[]")
        key = part.removesuffix("[]")
        found = []
        for item in nodes:
            if isinstance(item, dict) and key in item:
                value = item[key]
                if is_list:
                    found.extend(value if isinstance(value, list) else [])
                else:
                    found.append(value)
        nodes = found
    return nodes


def checked_values() -> list[tuple[str, str, str, Any]]:
    """(logical id, path, service.shape, value) of every enumerated value in the template."""
    rows = []
    for logical_id, resource in load_template()["Resources"].items():
        for (resource_type, path), (service, shape) in ENUMERATED.items():
            if resource["Type"] != resource_type:
                continue
            for value in values_at(resource.get("Properties", {}), path):
                rows.append((logical_id, path, f"{service}.{shape}", value))
    return rows


def test_every_enumerated_value_is_in_the_service_model() -> None:
    rows = checked_values()
    invalid = []
    for logical_id, path, where, value in rows:
        service, shape = where.split(".", 1)
        if not isinstance(value, str) or value not in enum_of(service, shape):
            invalid.append(f"{logical_id}.{path} = {value!r} (not in {where})")
    assert not invalid, "\n".join(invalid)
    # Each mapping matched something: a renamed property cannot make the check vacuous.
    matched = {(path, where) for _id, path, where, _value in rows}
    expected = {(path, f"{service}.{shape}") for (_t, path), (service, shape) in ENUMERATED.items()}
    assert matched == expected, expected - matched


def test_the_configuration_set_sends_exactly_the_events_the_inbound_function_reads() -> None:
    [configuration_set] = [
        r
        for r in load_template()["Resources"].values()
        if r["Type"] == "AWS::SMSVOICE::ConfigurationSet"
    ]
    subscribed = set(
        values_at(configuration_set["Properties"], "EventDestinations[].MatchingEventTypes[]")
    )
    assert subscribed == DELIVERED | FAILED
    assert subscribed <= enum_of("pinpoint-sms-voice-v2", "EventType")


@pytest.mark.parametrize(
    ("path", "expected"),
    [("A.B", [1]), ("L[].B", [2, 3]), ("L[]", [{"B": 2}, {"B": 3}, {}]), ("X.Y", [])],
)
def test_values_at_walks_maps_and_lists(path: str, expected: list[Any]) -> None:
    assert values_at({"A": {"B": 1}, "L": [{"B": 2}, {"B": 3}, {}]}, path) == expected
