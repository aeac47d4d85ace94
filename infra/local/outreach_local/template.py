"""Read template.yaml (with its CloudFormation tags) and build tables from it.

The local stack and the tests create their tables from the template itself, so
what runs locally is what deploys.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
_TAGS = (
    "Ref",
    "Sub",
    "GetAtt",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "ImportValue",
    "GetAZs",
    "Base64",
    "Cidr",
    "Condition",
)


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns ``!Tag value`` into ``{"Fn::Tag": value}``, as CloudFormation does.

    ``!Ref`` and ``!Condition`` (a condition's reference to another) keep their names:
    ``{"Ref": value}``, ``{"Condition": value}``.
    """


def _construct(tag: str) -> Any:
    key = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag in _TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


@lru_cache(maxsize=1)
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The parsed template (cached; treat it as read-only)."""
    with path.open() as handle:
        template: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - safe loader subclass
    return template


def table_resources(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The ``AWS::DynamoDB::Table`` resources, by logical id."""
    resources = (template or load_template())["Resources"]
    return {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def table_suffix(resource: dict[str, Any]) -> str:
    """The name after the stack prefix: ``!Sub ${AWS::StackName}-contacts`` gives ``contacts``."""
    name = resource["Properties"]["TableName"]
    text = name["Fn::Sub"] if isinstance(name, dict) else name
    prefix = "${AWS::StackName}-"
    if not isinstance(text, str) or not text.startswith(prefix):
        raise ValueError(f"table name {name!r} is not '${{AWS::StackName}}-<name>'")
    return text[len(prefix) :]


def create_table_requests(
    prefix: str, template: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """``CreateTable`` arguments for every table in the template, named ``<prefix><suffix>``."""
    requests = []
    for resource in table_resources(template).values():
        props = resource["Properties"]
        request: dict[str, Any] = {
            "TableName": prefix + table_suffix(resource),
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props["BillingMode"],
        }
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": props["StreamSpecification"]["StreamViewType"],
            }
        requests.append(request)
    return requests


def create_tables(
    client: DynamoDBClient, prefix: str, template: dict[str, Any] | None = None
) -> list[str]:
    """Create every table of the template (and its TTL) unless it exists; return their names."""
    existing = set(client.list_tables()["TableNames"])
    resources = {prefix + table_suffix(r): r for r in table_resources(template).values()}
    created = []
    for request in create_table_requests(prefix, template):
        name = request["TableName"]
        if name not in existing:
            client.create_table(**request)
            ttl = resources[name]["Properties"].get("TimeToLiveSpecification")
            if ttl:
                client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        created.append(name)
    return created


@dataclass(frozen=True)
class FunctionSpec:
    """What the local stack needs of one ``AWS::Serverless::Function`` of the template."""

    name: str  # the folder under functions/
    service: str  # its POWERTOOLS_SERVICE_NAME
    api_paths: tuple[str, ...]  # its HttpApi event paths (``/v1/users/{proxy+}``), if any

    def serves(self, path: str) -> bool:
        """Whether API Gateway routes ``path`` to this function."""
        for route in self.api_paths:
            if route.endswith("/{proxy+}"):
                if path.startswith(route.removesuffix("{proxy+}")):
                    return True
            elif path == route:
                return True
        return False


def function_specs(template: dict[str, Any] | None = None) -> dict[str, FunctionSpec]:
    """Every function of the template, by folder name."""
    specs = {}
    for resource in (template or load_template())["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        name = props["CodeUri"].strip("/").split("/")[-1]
        variables = props.get("Environment", {}).get("Variables", {})
        paths = tuple(
            event["Properties"]["Path"]
            for event in props.get("Events", {}).values()
            if event.get("Type") == "HttpApi"
        )
        specs[name] = FunctionSpec(name, str(variables.get("POWERTOOLS_SERVICE_NAME", name)), paths)
    return specs
