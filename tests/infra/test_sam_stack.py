"""template.yaml transformed offline by the SAM translator, checked, and deployed into moto.

moto's CloudFormation creates the tables, functions, roles and queues; it skips
API Gateway v2 and Scheduler resources, which are asserted on the transformed
template instead.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import boto3
import pytest
from samtranslator.translator.transform import transform

from outreach.data.binding import logical_table_name
from outreach.data.models import ALL_MODELS
from outreach_local.template import load_template

STACK = "outreach-test"
BUCKET = "sam-artifacts"
PARAMETERS = {"Stage": "test", "SmsProvider": "sandbox"}
# CloudFormation hands a CommaDelimitedList to the transform as a list.
CORS_ORIGINS = ["https://app.example.com", "https://admin.example.com"]


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs; offline, name the few SAM uses."""

    def load(self) -> dict[str, str]:
        return {
            name: f"arn:aws:iam::aws:policy/{path}{name}"
            for name, path in (
                ("AWSLambdaBasicExecutionRole", "service-role/"),
                ("AWSXrayWriteOnlyAccess", ""),
                ("AWSXRayDaemonWriteAccess", ""),
            )
        }


def _packaged_template() -> dict[str, Any]:
    """What ``sam package`` hands CloudFormation: local code paths become S3 objects."""
    template = copy.deepcopy(load_template())
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://{BUCKET}/{logical_id}.zip"
    return template


@lru_cache(maxsize=1)
def transformed() -> dict[str, Any]:
    """The template as CloudFormation receives it after the SAM transform."""
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    parameters: dict[str, Any] = {**PARAMETERS, "CorsAllowedOrigins": CORS_ORIGINS}
    result: dict[str, Any] = transform(_packaged_template(), parameters, _NoManagedPolicies())
    return result


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in transformed()["Resources"].items() if v["Type"] == kind}


def function_props(logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = transformed()["Resources"][logical_id]["Properties"]
    return props


# --- On the transformed template ---------------------------------------------------------


def test_every_function_gets_the_globals() -> None:
    functions = resources_of("AWS::Lambda::Function")
    assert functions
    for logical_id, resource in functions.items():
        props = resource["Properties"]
        assert props["Runtime"] == "python3.12", logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        variables = props["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Outreach"
        assert variables["POWERTOOLS_SERVICE_NAME"]
        assert "TABLE_PREFIX" in variables
        assert len(props["Layers"]) == 2
        assert "LogGroup" in props["LoggingConfig"], logical_id


def test_http_api_routes_each_function_only_its_own_paths() -> None:
    routes: dict[str, set[str]] = {}
    api = next(iter(resources_of("AWS::ApiGatewayV2::Api").values()))
    body = api["Properties"]["Body"]
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            uri = json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
            match = re.search(r"\$\{(\w+)\.Arn\}", uri)
            assert match, uri
            function = match.group(1)
            routes.setdefault(function, set()).add(f"{method.upper()} {path}")
    assert routes == {
        "IdentityFunction": {
            "GET /v1/health",
            "GET /v1/openapi.json",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/auth/{proxy+}",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/organization",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/organization/{proxy+}",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/users",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/users/{proxy+}",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/api-keys",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/api-keys/{proxy+}",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/webhooks",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/webhooks/{proxy+}",
        },
        "ContactsFunction": {
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/contacts",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/contacts/{proxy+}",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/imports",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/imports/{proxy+}",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/opt-outs",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/opt-outs/{proxy+}",
        },
        "CampaignsFunction": {
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/campaigns",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/campaigns/{proxy+}",
        },
        "ConversationsFunction": {
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/conversations",
            "X-AMAZON-APIGATEWAY-ANY-METHOD /v1/conversations/{proxy+}",
        },
    }


def test_dev_routes_are_never_deployed() -> None:
    text = json.dumps(transformed())
    assert "/v1/dev" not in text


def test_api_stage_is_throttled_and_cors_is_a_parameter() -> None:
    stage = next(iter(resources_of("AWS::ApiGatewayV2::Stage").values()))["Properties"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {
        "Ref": "ApiThrottlingBurstLimit"
    }
    api = next(iter(resources_of("AWS::ApiGatewayV2::Api").values()))["Properties"]
    cors = api["Body"]["x-amazon-apigateway-cors"]
    # The transform resolves the parameter, as CloudFormation's does at deploy time.
    assert cors["allowOrigins"] == CORS_ORIGINS


def test_dispatcher_schedule_runs_every_minute_with_retries_and_a_dead_letter_queue() -> None:
    schedule = next(iter(resources_of("AWS::Scheduler::Schedule").values()))["Properties"]
    assert schedule["ScheduleExpression"] == "rate(1 minute)"
    assert schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["DispatcherFunction", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]}
    payload = json.loads(target["Input"])
    assert payload["scheduled_time"] == "<aws.scheduler.scheduled-time>"


def test_signing_key_is_a_generated_secret() -> None:
    secret = transformed()["Resources"]["SigningKeySecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    assert "SecretString" not in secret["Properties"]


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    statements = []
    for policy in role["Properties"].get("Policies", []):
        statements.extend(policy["PolicyDocument"]["Statement"])
    return statements


def _dynamodb_resources(role_id: str) -> set[str]:
    found = set()
    for statement in _statements(transformed()["Resources"][role_id]):
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if any(action.startswith("dynamodb:") for action in actions):
            assert "dynamodb:Scan" not in actions and "dynamodb:*" not in actions
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                found.add(json.dumps(resource, sort_keys=True))
    return found


def test_functions_reach_only_their_tables() -> None:
    identity = _dynamodb_resources("IdentityFunctionRole")
    for table in ("OrganizationsTable", "UsersTable", "UniqueKeysTable", "AuthSessionsTable"):
        assert json.dumps({"Fn::GetAtt": [table, "Arn"]}, sort_keys=True) in identity
    assert not any("Contacts" in entry or "Recipients" in entry for entry in identity)
    dispatcher = _dynamodb_resources("DispatcherFunctionRole")
    assert dispatcher == {json.dumps({"Fn::Sub": "${CampaignsTable.Arn}/index/dispatch"})}


def test_nothing_account_specific_is_hard_coded() -> None:
    text = json.dumps(load_template())
    assert "123456789012" not in text
    assert "arn:aws:" not in text.replace("arn:aws:iam::aws:policy", "")


# --- Deployed into moto's CloudFormation ---------------------------------------------------


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, dict[str, Any]]]:
    """Deploy the transformed template into moto and describe what it created."""
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for logical_id in load_template()["Resources"]:
            s3.put_object(Bucket=BUCKET, Key=f"{logical_id}.zip", Body=_zip({"app.py": ""}))
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(transformed()),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        listed = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        yield {r["LogicalResourceId"]: r for r in listed}


def test_deployed_tables_have_the_models_keys(stack: dict[str, dict[str, Any]]) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    names = set(dynamodb.list_tables()["TableNames"])
    for model in ALL_MODELS:
        name = f"{STACK}-{logical_table_name(model)}"
        assert name in names
        table = dynamodb.describe_table(TableName=name)["Table"]
        schema = model._get_schema()
        assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
            (k["AttributeName"], k["KeyType"]) for k in schema["key_schema"]
        }
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == {
            i["index_name"] for i in schema["global_secondary_indexes"]
        }


def _physical_id(stack: dict[str, dict[str, Any]], logical_id: str) -> str:
    assert logical_id in stack, f"moto did not create {logical_id}"
    physical: str = stack[logical_id]["PhysicalResourceId"]
    return physical


@pytest.mark.parametrize(
    "logical_id",
    [
        "IdentityFunction",
        "ContactsFunction",
        "CampaignsFunction",
        "ConversationsFunction",
        "DispatcherFunction",
        "SenderFunction",
    ],
)
def test_deployed_functions_run_python_312(
    stack: dict[str, dict[str, Any]], logical_id: str
) -> None:
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    config = lambda_client.get_function(FunctionName=_physical_id(stack, logical_id))[
        "Configuration"
    ]
    # moto's CloudFormation drops Architectures, TracingConfig and tables' TTL: those are asserted
    # on the transformed template and by the parity test.
    assert config["Runtime"] == "python3.12"
    assert config["Handler"] == "app.handler"
    assert config["Environment"]["Variables"]["TABLE_PREFIX"] == f"{STACK}-"


def test_deployed_roles_carry_their_table_policies(stack: dict[str, dict[str, Any]]) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    for role_id in ("IdentityFunctionRole", "DispatcherFunctionRole"):
        role_name = _physical_id(stack, role_id)
        policy_names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        documents = [
            json.dumps(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
            for name in policy_names
        ]
        assert any("dynamodb:Query" in document for document in documents), role_id
        assert not any("dynamodb:Scan" in document for document in documents), role_id
        assumed = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        assert "lambda.amazonaws.com" in json.dumps(assumed)


def test_deployed_send_queue_is_fifo_with_a_dead_letter_queue(
    stack: dict[str, dict[str, Any]],
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = _physical_id(stack, "SendQueue")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f"{STACK}-send-dlq.fifo")
    assert int(redrive["maxReceiveCount"]) >= 1
    assert _physical_id(stack, "SchedulerDeadLetterQueue")


def test_sender_consumes_the_send_queue_reporting_batch_item_failures() -> None:
    mapping = next(iter(resources_of("AWS::Lambda::EventSourceMapping").values()))["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["SendQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["FunctionName"] == {"Ref": "SenderFunction"}


def test_provider_permissions_follow_the_sms_provider_parameter() -> None:
    policies = transformed()["Resources"]["SenderFunctionRole"]["Properties"]["Policies"]
    statements = [st for p in policies for st in p["PolicyDocument"]["Statement"]]
    provider = next(st for st in statements if st["Sid"] == "SmsProvider")
    sns, rest = provider["Action"]["Fn::If"][1:]
    assert provider["Action"]["Fn::If"][0] == "UseSnsSms" and sns == ["sns:Publish"]
    assert rest == {
        "Fn::If": ["UseEndUserMessagingSms", ["sms-voice:SendTextMessage"], ["dynamodb:PutItem"]]
    }
    others = json.dumps([st for st in statements if st["Sid"] != "SmsProvider"])
    assert "sns:" not in others and "sms-voice:" not in others and "OutboxTable" not in others


def test_alarms_watch_the_dead_letter_queues_and_function_errors() -> None:
    alarms = resources_of("AWS::CloudWatch::Alarm")
    watched = {json.dumps(a["Properties"]["Dimensions"][0]["Value"]) for a in alarms.values()}
    assert json.dumps({"Fn::GetAtt": ["SendDeadLetterQueue", "QueueName"]}) in watched
    assert json.dumps({"Fn::GetAtt": ["SchedulerDeadLetterQueue", "QueueName"]}) in watched
    assert json.dumps({"Ref": "SenderFunction"}) in watched
    assert json.dumps({"Ref": "DispatcherFunction"}) in watched


def test_a_sandbox_deployment_grants_the_outbox_and_no_sms_service(
    stack: dict[str, dict[str, Any]],
) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    role = _physical_id(stack, "SenderFunctionRole")
    documents = " ".join(
        json.dumps(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    )
    assert "dynamodb:PutItem" in documents
    assert "sns:Publish" not in documents and "sms-voice" not in documents


def test_both_sms_topics_deliver_to_the_inbound_queue() -> None:
    subscriptions = {
        k: v
        for k, v in resources_of("AWS::SNS::Subscription").items()
        if k != "AlarmEmailSubscription"
    }
    assert {s["Properties"]["Protocol"] for s in subscriptions.values()} == {"sqs"}
    assert {json.dumps(s["Properties"]["Endpoint"]) for s in subscriptions.values()} == {
        json.dumps({"Fn::GetAtt": ["InboundQueue", "Arn"]})
    }
    topics = {json.dumps(s["Properties"]["TopicArn"]) for s in subscriptions.values()}
    assert topics == {
        json.dumps({"Ref": "InboundTextsTopic"}),
        json.dumps({"Ref": "DeliveryEventsTopic"}),
    }
    policy = transformed()["Resources"]["SmsTopicsPolicy"]["Properties"]["PolicyDocument"]
    assert policy["Statement"][0]["Principal"] == {"Service": "sms-voice.amazonaws.com"}
    configuration_set = transformed()["Resources"]["SmsConfigurationSet"]
    assert configuration_set["Condition"] == "UseEndUserMessagingSms"
    destination = configuration_set["Properties"]["EventDestinations"][0]
    assert destination["SnsDestination"]["TopicArn"] == {"Ref": "DeliveryEventsTopic"}
    assert "TEXT_DELIVERED" in destination["MatchingEventTypes"]
