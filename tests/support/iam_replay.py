"""IAM replay: every AWS call a function makes in the tests is allowed by its template role.

While a test runs, every botocore call (PynamoDB's too) made inside a function's
service scope (:func:`outreach_local.runtime.service_scope`: the local stack's
requests, ticks and drains, and the handlers the tests invoke through
:func:`function_handler` or ``ApiClient``) is recorded as the IAM requests it
needs: ``(action, resource ARN)``, e.g. ``dynamodb:BatchWriteItem`` on the
phone history table. At the test's teardown each one is evaluated against the
policies of the role template.yaml gives that function, expanded by SAM's
translator (policy templates included), with intrinsics resolved for the test
stack (stack ``test`` for ``TABLE_PREFIX=test-``, us-east-1, moto's account).
A call the role does not allow fails the test, naming the function, the
operation, the action and the resource.

S3 calls become the object or bucket requests S3 authorizes (``s3:GetObject`` on
``arn:aws:s3:::<bucket>/<key>`` for GetObject and HeadObject, ``s3:PutObject`` for
PutObject and each step of a multipart upload, ``s3:DeleteObject`` per key of a
DeleteObjects, ``s3:ListBucket`` on the bucket for ListObjectsV2, ...). An
``upload_fileobj`` runs its PutObject (or multipart steps) in s3transfer's worker
threads: while recording, those run in the context of the thread that started the
transfer, so they are seen as that function's. A presigned request
(``generate_presigned_url``, ``generate_presigned_post``) makes no call, yet S3
authorizes it against the signer's role when it is used: it is recorded when signed,
as the request it will make (``s3:PutObject`` on the form's key, ``s3:GetObject`` on
the link's key, ...), for the function that signed it.

A bucket without a ``BucketName`` (the imports bucket) gets its name from
CloudFormation, unknown until deployed; each function learns it from the variable the
template sets to the bucket's ``Ref`` (``IMPORTS_BUCKET``). So in the replay such a
bucket's ``Ref`` is that variable's value when the call was made (the test stack's
bucket, e.g. ``test-imports`` of the ``imports_bucket`` fixture); with the variable
unset, CloudFormation's pattern ``<stack>-<logical id>-*``.

Calls outside any function's scope (test setup through repositories, moto
setup, the local stack's own ``dev`` work) are not checked. Statement
conditions are not evaluated (the template's roles have none); NotAction and
NotResource are refused rather than guessed.
"""

from __future__ import annotations

import contextvars
import inspect
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlparse

import botocore.signers
import pytest
from botocore.client import BaseClient
from s3transfer.futures import BoundedExecutor

from outreach_local.cfn import Conditions

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, in its queue URLs and ARNs

# The AWS managed policies SAM attaches, as AWS publishes them (only what a function could
# use from them; the logs and X-Ray writes the runtime makes are not botocore calls here).
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": "*",
        }
    ],
}


# --- Matching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One resolved policy statement: effect, action patterns, resource patterns, and its
    ``Sid`` (``""`` when it has none)."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    sid: str = ""


@lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches the IAM ``pattern``."""
    return _pattern(pattern, ignore_case).match(value) is not None


def allows(statements: list[Statement], action: str, resource: str) -> bool:
    """IAM's evaluation for one request: an explicit deny wins, else some allow is needed."""
    allowed = False
    for statement in statements:
        if any(matches(p, action, ignore_case=True) for p in statement.actions) and any(
            matches(p, resource) for p in statement.resources
        ):
            if statement.effect == "Deny":
                return False
            allowed = True
    return allowed


# --- The template's roles, resolved --------------------------------------------------------


class _NoValue:
    """``AWS::NoValue``: dropped from the list or mapping that holds it."""


NO_VALUE = _NoValue()


class Resolver:
    """Resolves the intrinsics a role policy uses, as CloudFormation would for one stack."""

    def __init__(
        self,
        template: dict[str, Any],
        stack: str,
        parameters: dict[str, str],
        buckets: Mapping[str, str] | None = None,
    ) -> None:
        self.resources: dict[str, Any] = template["Resources"]
        # Bucket logical id -> its name in this stack, for buckets without a BucketName.
        self.buckets = dict(buckets or {})
        self.conditions = Conditions(template.get("Conditions", {}), self.resolve)
        self.stack = stack
        self.parameters = {
            name: str(spec.get("Default", ""))
            for name, spec in template.get("Parameters", {}).items()
        }
        self.parameters.update(parameters)
        self.pseudo: dict[str, Any] = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack,
            "AWS::NoValue": NO_VALUE,
        }

    def condition(self, name: str) -> bool:
        return self.conditions.condition(name)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self.sub(value)
            if key == "Fn::If":
                return self.resolve(value[1] if self.condition(value[0]) else value[2])
            if key == "Fn::Join":
                return str(value[0]).join(str(self.resolve(item)) for item in value[1])
            if key == "Fn::Select":
                return self.resolve(value[1])[int(self.resolve(value[0]))]
            if key.startswith("Fn::"):
                raise ValueError(f"unsupported intrinsic {key} in a role policy")
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def sub(self, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
        values = {name: self.resolve(item) for name, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if name in self.pseudo or name in self.parameters or name in self.resources:
                return str(self.ref(name))
            logical_id, attribute = name.split(".", 1)
            return str(self.get_att(logical_id, attribute))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _physical_name(self, logical_id: str, name_property: str | None) -> str:
        props = self.resources[logical_id].get("Properties", {})
        if name_property and name_property in props:
            return str(self.resolve(props[name_property]))
        return f"{self.stack}-{logical_id}"  # CloudFormation's generated name, less its suffix

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        kind = self.resources[name]["Type"]
        if kind == "AWS::DynamoDB::Table":
            return self._physical_name(name, "TableName")
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self._queue_name(name)}"
        if kind in ("AWS::SNS::Topic", "AWS::SecretsManager::Secret"):
            return self.get_att(name, "Arn")
        if kind == "AWS::SMSVOICE::ConfigurationSet":
            return self._physical_name(name, "ConfigurationSetName")
        if kind == "AWS::S3::Bucket":
            if "BucketName" in self.resources[name].get("Properties", {}):
                return self._physical_name(name, "BucketName")
            # CloudFormation's generated name (lower case, a random suffix), unless the test
            # stack's own bucket is known (see the module's docstring).
            return self.buckets.get(name) or f"{self.stack}-{name.lower()}-*"
        return self._physical_name(name, None)

    def _queue_name(self, logical_id: str) -> str:
        name = self._physical_name(logical_id, "QueueName")
        props = self.resources[logical_id].get("Properties", {})
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        return name

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.resources[logical_id]["Type"]
        prefix = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:"
        if kind == "AWS::DynamoDB::Table":
            arn = prefix.format("dynamodb") + f"table/{self.ref(logical_id)}"
            # A stream's ARN ends in its creation time, unknown until it exists.
            return {"Arn": arn, "StreamArn": f"{arn}/stream/*"}[attribute]
        if kind == "AWS::SQS::Queue":
            name = self._queue_name(logical_id)
            return {
                "Arn": prefix.format("sqs") + name,
                "QueueName": name,
                "QueueUrl": str(self.ref(logical_id)),
            }[attribute]
        if kind == "AWS::SNS::Topic":
            name = self._physical_name(logical_id, "TopicName")
            return {"Arn": prefix.format("sns") + name, "TopicArn": prefix.format("sns") + name}[
                attribute
            ]
        if kind == "AWS::SecretsManager::Secret" and attribute in ("Arn", "Id"):
            # Secrets Manager appends six random characters to the name.
            name = self._physical_name(logical_id, "Name")
            return prefix.format("secretsmanager") + f"secret:{name}-??????"
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{self.ref(logical_id)}"
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return prefix.format("lambda") + f"function:{self._physical_name(logical_id, None)}"
        raise ValueError(f"unsupported attribute {logical_id}.{attribute} ({kind})")


def role_statements(
    template: dict[str, Any], function_logical_id: str, resolver: Resolver
) -> list[Statement]:
    """The resolved statements of the role the (transformed) template gives a function."""
    role_ref = template["Resources"][function_logical_id]["Properties"]["Role"]
    role = template["Resources"][role_ref["Fn::GetAtt"][0]]["Properties"]
    raw: list[dict[str, Any]] = []
    for arn in role.get("ManagedPolicyArns", []):
        if arn not in MANAGED_POLICIES:
            raise ValueError(f"{function_logical_id}: managed policy {arn} is not known here")
        raw.extend(MANAGED_POLICIES[arn])
    for policy in role.get("Policies", []):
        statements = resolver.resolve(policy["PolicyDocument"]["Statement"])
        raw.extend(statements if isinstance(statements, list) else [statements])
    resolved = []
    for statement in raw:
        if "NotAction" in statement or "NotResource" in statement:
            raise ValueError(f"{function_logical_id}: NotAction/NotResource are not evaluated")
        actions, resources = statement["Action"], statement["Resource"]
        resolved.append(
            Statement(
                statement["Effect"],
                tuple(actions if isinstance(actions, list) else [actions]),
                tuple(resources if isinstance(resources, list) else [resources]),
                str(statement.get("Sid", "")),
            )
        )
    return resolved


@lru_cache(maxsize=1)
def _transformed() -> dict[str, Any]:
    from tests.infra.test_sam_stack import transformed

    return transformed()


@lru_cache(maxsize=1)
def _function_logical_ids() -> dict[str, str]:
    """Function folder name -> logical id in the template."""
    from outreach_local.template import load_template

    return {
        resource["Properties"]["CodeUri"].strip("/").split("/")[-1]: logical_id
        for logical_id, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


@lru_cache(maxsize=1)
def _functions_by_service() -> dict[str, str]:
    """``POWERTOOLS_SERVICE_NAME`` -> function folder name."""
    from outreach_local.template import function_specs

    return {spec.service: name for name, spec in function_specs().items()}


@lru_cache(maxsize=1)
def _bucket_variables() -> dict[str, str]:
    """Environment variable -> the logical id of the bucket whose ``Ref`` the template sets
    it to (Globals' or any function's), for the buckets without a ``BucketName``."""
    from outreach_local.template import load_template

    template = load_template()
    resources = template["Resources"]
    found: dict[str, str] = {}
    scopes = [template.get("Globals", {}).get("Function", {})] + [
        r["Properties"] for r in resources.values() if r["Type"] == "AWS::Serverless::Function"
    ]
    for props in scopes:
        for name, value in props.get("Environment", {}).get("Variables", {}).items():
            logical = value.get("Ref") if isinstance(value, dict) else None
            if (
                logical in resources
                and resources[logical]["Type"] == "AWS::S3::Bucket"
                and "BucketName" not in resources[logical].get("Properties", {})
            ):
                found[name] = str(logical)
    return found


def current_buckets() -> tuple[tuple[str, str], ...]:
    """``(bucket logical id, name)`` of each bucket the environment names now."""
    return tuple(
        sorted(
            (logical, os.environ[variable])
            for variable, logical in _bucket_variables().items()
            if os.environ.get(variable)
        )
    )


@lru_cache(maxsize=64)
def policies(
    function: str, stack: str, sms_provider: str, buckets: tuple[tuple[str, str], ...] = ()
) -> tuple[str, list[Statement]]:
    """The function's logical id and its role's statements for a stack and SMS provider,
    ``buckets`` naming the stack's buckets that have no ``BucketName`` (logical id, name)."""
    template = _transformed()
    logical_id = _function_logical_ids()[function]
    resolver = Resolver(
        template, stack, {"Stage": "test", "SmsProvider": sms_provider}, dict(buckets)
    )
    return logical_id, role_statements(template, logical_id, resolver)


# --- From a botocore call to the IAM requests it makes ------------------------------------


_SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _table_arn(name: str, region: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"


def _queue_arn(url: str, region: str) -> str:
    parts = urlparse(url).path.strip("/").split("/")
    account, name = (parts[0], parts[1]) if len(parts) == 2 else (ACCOUNT, parts[-1])
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _dynamodb_requests(
    operation: str, params: dict[str, Any], region: str
) -> list[tuple[str, str]]:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [
            (f"dynamodb:{operation}", _table_arn(table, region))
            for table in params.get("RequestItems", {})
        ]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        # No transaction action exists: each item needs its own action on its table.
        return [
            (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table_arn(body["TableName"], region))
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if "TableName" not in params:
        return [(f"dynamodb:{operation}", "*")]
    arn = _table_arn(params["TableName"], region)
    if params.get("IndexName"):
        arn += f"/index/{params['IndexName']}"
    return [(f"dynamodb:{operation}", arn)]


def _sms_voice_requests(
    prefix: str, operation: str, params: dict[str, Any], region: str
) -> list[tuple[str, str]]:
    base = f"arn:aws:{prefix}:{region}:{ACCOUNT}:"
    resources = []
    identity = str(params.get("OriginationIdentity") or "")
    if identity:
        kind = "pool" if identity.startswith("pool-") else "phone-number"
        resources.append(identity if identity.startswith("arn:") else f"{base}{kind}/{identity}")
    name = str(params.get("ConfigurationSetName") or "")
    if name:
        resources.append(name if name.startswith("arn:") else f"{base}configuration-set/{name}")
    return [(f"{prefix}:{operation}", resource) for resource in resources or ["*"]]


# S3 operations on one object, and the action S3 authorizes each with (a multipart upload
# is authorized as s3:PutObject at every step).
_S3_OBJECT_ACTIONS = {
    "GetObject": "GetObject",
    "HeadObject": "GetObject",
    "PutObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "ListParts": "ListMultipartUploadParts",
    "DeleteObject": "DeleteObject",
}
# Of a given version (a VersionId), these need their own action.
_S3_VERSION_ACTIONS = {
    "GetObject": "GetObjectVersion",
    "HeadObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
}
# S3 operations on a bucket, and their action (on the bucket's ARN).
_S3_BUCKET_ACTIONS = {
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
}


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _copy_source(source: Any) -> tuple[str, str, str | None]:
    """``(bucket, key, version)`` of a CopySource (``"bucket/key?versionId=v"`` or a mapping)."""
    if isinstance(source, Mapping):
        return str(source["Bucket"]), str(source["Key"]), source.get("VersionId")
    path, _, query = str(source).lstrip("/").partition("?versionId=")
    bucket, _, key = path.partition("/")
    return bucket, unquote(key), query or None


def _s3_requests(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    bucket = str(params.get("Bucket") or "")
    if not bucket:
        return [(f"s3:{operation}", "*")]  # ListBuckets and the like
    if operation == "DeleteObjects":
        return [
            (
                "s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject",
                _object_arn(bucket, str(item["Key"])),
            )
            for item in params.get("Delete", {}).get("Objects", [])
        ]
    if operation in ("CopyObject", "UploadPartCopy"):
        source_bucket, source_key, version = _copy_source(params["CopySource"])
        read = "s3:GetObjectVersion" if version else "s3:GetObject"
        return [
            (read, _object_arn(source_bucket, source_key)),
            ("s3:PutObject", _object_arn(bucket, str(params["Key"]))),
        ]
    if operation in _S3_BUCKET_ACTIONS:
        return [(f"s3:{_S3_BUCKET_ACTIONS[operation]}", f"arn:aws:s3:::{bucket}")]
    if "Key" in params:
        action = _S3_OBJECT_ACTIONS.get(operation, operation)
        if params.get("VersionId") and operation in _S3_VERSION_ACTIONS:
            action = _S3_VERSION_ACTIONS[operation]
        return [(f"s3:{action}", _object_arn(bucket, str(params["Key"])))]
    # Other bucket operations are mostly named as their action (GetBucketPolicy, ...).
    return [(f"s3:{operation}", f"arn:aws:s3:::{bucket}")]


def iam_requests(
    service: str, prefix: str, operation: str, params: dict[str, Any], region: str
) -> list[tuple[str, str]]:
    """``(action, resource)`` pairs IAM authorizes for one API call.

    ``service`` is botocore's service name, ``prefix`` the IAM prefix (its signing name).
    """
    if service == "dynamodb":
        return _dynamodb_requests(operation, params, region)
    if service == "dynamodbstreams" and "StreamArn" in params:
        return [(f"{prefix}:{operation}", params["StreamArn"])]
    if service == "sqs":
        action = f"sqs:{_SQS_ACTIONS.get(operation, operation)}"
        if "QueueUrl" in params:
            return [(action, _queue_arn(params["QueueUrl"], region))]
        if "QueueName" in params:
            return [(action, f"arn:aws:sqs:{region}:{ACCOUNT}:{params['QueueName']}")]
    if service == "sns":
        arn = params.get("TopicArn") or params.get("TargetArn")
        return [(f"sns:{operation}", str(arn) if arn else "*")]
    if service == "pinpoint-sms-voice-v2":
        return _sms_voice_requests(prefix, operation, params, region)
    if service == "s3":
        return _s3_requests(operation, params)
    if service == "secretsmanager" and "SecretId" in params:
        secret = str(params["SecretId"])
        return [
            (
                f"secretsmanager:{operation}",
                secret if secret.startswith("arn:") else f"{secret}-??????",
            )
        ]
    return [(f"{prefix}:{operation}", "*")]


# --- Recording in the tests ---------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One IAM request a function's code made (or signed, for a presigned request), with
    the stack it ran against: its SMS provider and its buckets' names (logical id, name)."""

    function: str
    operation: str
    action: str
    resource: str
    stack: str
    sms_provider: str
    buckets: tuple[tuple[str, str], ...] = ()


def denied(calls: list[Call]) -> list[str]:
    """A line for each distinct call its function's role does not allow."""
    problems = []
    for call in dict.fromkeys(calls):
        logical_id, statements = policies(
            call.function, call.stack, call.sms_provider, call.buckets
        )
        if not allows(statements, call.action, call.resource):
            problems.append(
                f"{call.function} ({logical_id}) called {call.operation}, which needs "
                f"{call.action} on {call.resource}: its role in template.yaml does not allow it"
            )
    return problems


_recording: list[list[Call]] = []


def _current_function() -> str | None:
    from outreach.observability import logger

    service = logger.thread_safe_get_current_keys().get("service")
    return _functions_by_service().get(service) if isinstance(service, str) else None


def _record(
    client: BaseClient, operation: str, params: dict[str, Any], *, label: str | None = None
) -> None:
    """Record the IAM requests of ``operation`` (shown as ``label`` if given) for the
    function in scope, if any."""
    function = _current_function()
    if function is None or not _recording:
        return
    model = client.meta.service_model
    stack = os.environ.get("TABLE_PREFIX", "").removesuffix("-")
    provider = os.environ.get("SMS_PROVIDER", "sandbox")
    buckets = current_buckets()
    requests = iam_requests(
        model.service_name, model.signing_name, operation, params, client.meta.region_name
    )
    _recording[-1].extend(
        Call(function, label or operation, action, resource, stack, provider, buckets)
        for action, resource in requests
    )


class _InSubmittersContext:
    """An s3transfer task that runs in a copy of the context of the thread that submitted it
    (where the function's scope is set), as all of a Lambda process is that function."""

    def __init__(self, task: Any) -> None:
        self._task = task
        self._context = contextvars.copy_context()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._context.run(self._task, *args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _iam_recorder() -> Iterator[None]:
    """Sees every botocore API call of the session (PynamoDB's and s3transfer's included)
    and every presigned request signed (by the clients made from now on: botocore gives
    each new client class the module's presigning functions)."""
    original = BaseClient.__dict__["_make_api_call"]
    original_url = botocore.signers.generate_presigned_url
    original_post = botocore.signers.generate_presigned_post
    original_submit = BoundedExecutor.submit
    url_signature = inspect.signature(original_url)
    post_signature = inspect.signature(original_post)

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        _record(self, operation_name, api_params)
        return original(self, operation_name, api_params)

    def presigned_url(self: BaseClient, *args: Any, **kwargs: Any) -> Any:
        arguments = url_signature.bind(self, *args, **kwargs).arguments
        operation = self.meta.method_to_api_mapping.get(arguments["ClientMethod"])
        if operation is not None:
            label = f"generate_presigned_url ({operation})"
            _record(self, operation, dict(arguments.get("Params") or {}), label=label)
        return original_url(self, *args, **kwargs)

    def presigned_post(self: BaseClient, *args: Any, **kwargs: Any) -> Any:
        arguments = post_signature.bind(self, *args, **kwargs).arguments
        params = {"Bucket": arguments["Bucket"], "Key": arguments["Key"]}
        _record(self, "PutObject", params, label="generate_presigned_post (PutObject)")
        return original_post(self, *args, **kwargs)

    def submit(self: BoundedExecutor, task: Any, *args: Any, **kwargs: Any) -> Any:
        in_context: Any = _InSubmittersContext(task)
        return original_submit(self, in_context, *args, **kwargs)

    setattr(BaseClient, "_make_api_call", recording)  # noqa: B010 - not in the stubs
    botocore.signers.generate_presigned_url = presigned_url
    botocore.signers.generate_presigned_post = presigned_post
    BoundedExecutor.submit = submit  # type: ignore[method-assign]
    try:
        yield
    finally:
        setattr(BaseClient, "_make_api_call", original)  # noqa: B010
        botocore.signers.generate_presigned_url = original_url
        botocore.signers.generate_presigned_post = original_post
        BoundedExecutor.submit = original_submit  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def iam_replay(_iam_recorder: None) -> Iterator[list[Call]]:
    """Fails the test, at its teardown, if a function made a call its role does not allow."""
    calls: list[Call] = []
    _recording.append(calls)
    try:
        yield calls
    finally:
        _recording.remove(calls)
    problems = denied(calls)
    if problems:
        pytest.fail("IAM replay: a call the template does not allow\n" + "\n".join(problems))


def function_handler(name: str) -> Callable[[Any, Any], Any]:
    """``functions/<name>/app.py``'s handler, run as that function (in its service scope)."""
    from outreach_local.runtime import load_function, service_name, service_scope

    handler = load_function(name).handler

    def invoke(event: Any, context: Any) -> Any:
        with service_scope(service_name(name)):
            return handler(event, context)

    return invoke
