"""template.yaml's tables, keys, indexes and TTL attributes equal the PynamoDB models'."""

import copy
from typing import Any

import pytest
from pynamodb.attributes import TTLAttribute

from outreach.data.binding import logical_table_name
from outreach.data.models import ALL_MODELS
from outreach_local.template import load_template, table_resources, table_suffix


def _keys(schema: Any) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in schema}


def model_tables() -> dict[str, dict[str, Any]]:
    """What the models say each table is."""
    tables = {}
    for model in ALL_MODELS:
        schema = model._get_schema()
        ttl = [
            name for name, attr in model.get_attributes().items() if isinstance(attr, TTLAttribute)
        ]
        tables[logical_table_name(model)] = {
            "attributes": {
                a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]
            },
            "keys": _keys(schema["key_schema"]),
            "indexes": {
                index["index_name"]: {
                    "keys": _keys(index["key_schema"]),
                    "projection": index["projection"]["ProjectionType"],
                    "included": sorted(index["projection"].get("NonKeyAttributes", [])),
                }
                for index in schema["global_secondary_indexes"]
            },
            "ttl": ttl[0] if ttl else None,
            "stream": getattr(model.Meta, "stream_view_type", None),
        }
    return tables


def template_tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What template.yaml says each table is."""
    tables = {}
    for resource in table_resources(template).values():
        props = resource["Properties"]
        ttl = props.get("TimeToLiveSpecification")
        tables[table_suffix(resource)] = {
            "attributes": {
                a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]
            },
            "keys": _keys(props["KeySchema"]),
            "indexes": {
                index["IndexName"]: {
                    "keys": _keys(index["KeySchema"]),
                    "projection": index["Projection"]["ProjectionType"],
                    "included": sorted(index["Projection"].get("NonKeyAttributes", [])),
                }
                for index in props.get("GlobalSecondaryIndexes", [])
            },
            "ttl": ttl["AttributeName"] if ttl and ttl.get("Enabled") else None,
            "stream": (props.get("StreamSpecification") or {}).get("StreamViewType"),
        }
    return tables


def assert_template_matches_models(template: dict[str, Any]) -> None:
    assert template_tables(template) == model_tables()


def test_template_tables_equal_the_models() -> None:
    assert_template_matches_models(load_template())


def test_every_table_is_on_demand_with_point_in_time_recovery() -> None:
    for logical_id, resource in table_resources().items():
        props = resource["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], logical_id
        # Kept when the stack is deleted or the table replaced, but removed when the
        # stack's first create fails (else the next deploy finds the fixed names taken).
        assert resource["DeletionPolicy"] == "RetainExceptOnCreate", logical_id
        assert resource["UpdateReplacePolicy"] == "Retain", logical_id


def _mutations() -> list[tuple[str, Any]]:
    def change_hash_key(props: dict[str, Any]) -> None:
        props["KeySchema"][0]["AttributeName"] = "something_else"

    def drop_index(props: dict[str, Any]) -> None:
        props["GlobalSecondaryIndexes"].pop()

    def change_ttl(props: dict[str, Any]) -> None:
        props["TimeToLiveSpecification"]["AttributeName"] = "expiry"

    def change_key_type(props: dict[str, Any]) -> None:
        props["AttributeDefinitions"][0]["AttributeType"] = "B"

    def drop_stream(props: dict[str, Any]) -> None:
        del props["StreamSpecification"]

    def project_more(props: dict[str, Any]) -> None:
        props["GlobalSecondaryIndexes"][-1]["Projection"]["NonKeyAttributes"].append("status")

    return [
        ("ContactsTable", change_hash_key),
        ("CampaignsTable", drop_index),
        ("CountersTable", change_ttl),
        ("RecipientsTable", change_key_type),
        ("RecipientsTable", drop_stream),
        ("RecipientsTable", project_more),
    ]


@pytest.mark.parametrize(("logical_id", "mutate"), _mutations())
def test_parity_check_fails_when_the_template_changes(logical_id: str, mutate: Any) -> None:
    template = copy.deepcopy(load_template())
    mutate(template["Resources"][logical_id]["Properties"])
    with pytest.raises(AssertionError):
        assert_template_matches_models(template)
