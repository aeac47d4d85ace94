"""The import jobs' infrastructure in template.yaml keeps issue 17's promises (point 6).

The imports bucket is encrypted, closed to the public, TLS-only, and forgets
everything after 7 days; S3's "Object Created" events reach the imports function
through EventBridge for the bucket's ``uploads/`` alone; a failed delivery and a
failed run both land in one watched dead-letter queue; the function may run 15
minutes; and the synchronous ``POST /v1/contacts/import`` takes only files whose
request still fits Lambda's 6 MB payload.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from outreach.contacts.schemas import FORM_OVERHEAD_BYTES, MAX_IMPORT_BYTES
from outreach.imports.domain import REPORT_RETENTION
from outreach.imports.runner import STOP_MARGIN_MS
from outreach_local.template import REPO_ROOT, load_template
from tests.infra.test_sam_stack import transformed
from tests.integration.test_every_sample_event import LAMBDA_LOAD

BUCKET = {"Ref": "ImportsBucket"}
BUCKET_ARN = {"Fn::GetAtt": ["ImportsBucket", "Arn"]}
QUEUE_ARN = {"Fn::GetAtt": ["ImportsDeadLetterQueue", "Arn"]}
# The rule SAM makes of ImportsFunction's UploadArrived event.
RULE = "ImportsFunctionUploadArrived"

# Lambda refuses a synchronous request over 6 MB (6,291,456 bytes); held to 6,000,000
# here for a margin. API Gateway's HTTP API passes at most 10,240 bytes of request line
# and headers.
LAMBDA_REQUEST_LIMIT = 6_000_000
HTTP_API_HEADER_LIMIT = 10_240


def resource(logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = load_template()["Resources"][logical_id]
    return found


def props(logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = resource(logical_id)["Properties"]
    return found


def upload_rule() -> dict[str, Any]:
    events = props("ImportsFunction")["Events"]
    rules = [e["Properties"] for e in events.values() if e["Type"] == "EventBridgeRule"]
    assert len(rules) == 1, events
    rule: dict[str, Any] = rules[0]
    return rule


def sample_upload() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (REPO_ROOT / "infra/events/imports-upload.json").read_text()
    )
    return loaded


# --- The bucket ------------------------------------------------------------------------


def test_the_bucket_is_encrypted_and_closed_to_the_public() -> None:
    bucket = props("ImportsBucket")
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    # No ACLs at all: everything in it belongs to the stack's account.
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_everything_in_the_bucket_is_deleted_after_seven_days() -> None:
    (rule,) = props("ImportsBucket")["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == 7 == REPORT_RETENTION.days
    # The whole bucket (uploads and reports): no prefix, tag or size filter narrows it.
    assert not {"Prefix", "Filter", "TagFilters", "ObjectSizeGreaterThan"} & set(rule)
    assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] <= 7
    # Unversioned: an expired object is gone, not kept as a noncurrent version.
    assert "VersioningConfiguration" not in props("ImportsBucket")


def test_the_bucket_refuses_every_request_without_tls() -> None:
    policy = props("ImportsBucketPolicy")
    assert policy["Bucket"] == BUCKET
    statements = policy["PolicyDocument"]["Statement"]
    tls_only = [
        s
        for s in statements
        if s["Effect"] == "Deny"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(tls_only) == 1, statements
    (deny,) = tls_only
    assert deny["Principal"] == "*"
    assert deny["Action"] in ("s3:*", ["s3:*"])
    assert deny["Resource"] == [BUCKET_ARN, {"Fn::Sub": "${ImportsBucket.Arn}/*"}]
    # Nothing in the policy grants access: the functions' roles do.
    assert all(s["Effect"] == "Deny" for s in statements)


def test_both_functions_are_told_the_bucket() -> None:
    for function in ("ContactsFunction", "ImportsFunction"):
        assert props(function)["Environment"]["Variables"]["IMPORTS_BUCKET"] == BUCKET


# --- The upload's arrival ----------------------------------------------------------------


def test_the_bucket_sends_its_events_to_eventbridge() -> None:
    notifications = props("ImportsBucket")["NotificationConfiguration"]
    assert notifications == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def test_the_rule_matches_object_created_in_the_buckets_uploads_alone() -> None:
    pattern = upload_rule()["Pattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [BUCKET]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "uploads/"}]
    assert "EventBusName" not in upload_rule()  # S3 sends to the default bus


@pytest.mark.parametrize(
    ("change", "matched"),
    [
        ({}, True),
        ({"reason": "PutObject"}, True),
        ({"key": "reports/01KAXQ3Y0000000000000000AB/x/errors.csv"}, False),
        ({"key": "uploadsx/01KAXQ3Y0000000000000000AB.csv"}, False),
        ({"bucket": "another-bucket"}, False),
        ({"detail-type": "Object Deleted"}, False),
        ({"source": "aws.s3.fake"}, False),
    ],
    ids=["upload", "put", "report", "not-uploads", "other-bucket", "deleted", "other-source"],
)
def test_the_rule_as_eventbridge_applies_it(change: dict[str, str], matched: bool) -> None:
    resolver = LAMBDA_LOAD.Resolver(load_template())
    pattern = resolver.resolve_tree(upload_rule()["Pattern"])
    event = copy.deepcopy(sample_upload())
    detail = event["detail"]
    detail["reason"] = change.get("reason", detail["reason"])
    detail["object"]["key"] = change.get("key", detail["object"]["key"])
    detail["bucket"]["name"] = change.get("bucket", detail["bucket"]["name"])
    event["detail-type"] = change.get("detail-type", event["detail-type"])
    event["source"] = change.get("source", event["source"])
    assert LAMBDA_LOAD.pattern_matches(pattern, event) is matched


def test_the_sample_event_is_a_presigned_posts_arrival() -> None:
    event = sample_upload()
    detail = event["detail"]
    # As S3 names the API a browser form upload used, and the bucket CloudFormation named.
    assert detail["reason"] == "POST Object"
    assert event["resources"] == [f"arn:aws:s3:::{detail['bucket']['name']}"]
    resolver = LAMBDA_LOAD.Resolver(load_template())
    assert detail["bucket"]["name"] == resolver.ref("ImportsBucket")
    org_id, import_id = detail["object"]["key"].removeprefix("uploads/").split("/")
    assert import_id.endswith(".csv") and org_id


# --- Failures: retried, then kept and watched ----------------------------------------------


def test_the_function_may_run_fifteen_minutes_and_stops_itself_before() -> None:
    timeout_ms = props("ImportsFunction")["Timeout"] * 1000
    assert timeout_ms == 900_000  # Lambda's most
    assert 30_000 <= STOP_MARGIN_MS < timeout_ms / 2


def test_failed_runs_and_undelivered_events_go_to_one_watched_queue() -> None:
    invoke = props("ImportsFunction")["EventInvokeConfig"]
    assert invoke["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": QUEUE_ARN}
    assert 1 <= invoke["MaximumRetryAttempts"] <= 2
    # Our queue, not one SAM would create (`Type: SQS`) without an alarm.
    assert upload_rule()["DeadLetterConfig"] == {"Arn": QUEUE_ARN}
    assert upload_rule()["RetryPolicy"]["MaximumRetryAttempts"] > 0
    queue = props("ImportsDeadLetterQueue")
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    alarms = {
        logical_id: r["Properties"]
        for logical_id, r in load_template()["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    watching_queue = [
        a
        for a in alarms.values()
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and a["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["ImportsDeadLetterQueue", "QueueName"]}
    ]
    watching_errors = [
        a
        for a in alarms.values()
        if a["MetricName"] == "Errors" and a["Dimensions"][0]["Value"] == {"Ref": "ImportsFunction"}
    ]
    assert watching_queue and watching_errors


def test_only_the_upload_rule_may_send_to_the_queue() -> None:
    (statement,) = props("ImportsDeadLetterQueuePolicy")["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] in ("sqs:SendMessage", ["sqs:SendMessage"])
    assert statement["Resource"] == QUEUE_ARN
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [RULE, "Arn"]}}}


def test_sam_makes_the_rule_the_queue_policy_names_and_no_queue_of_its_own() -> None:
    resources = transformed()["Resources"]
    rule = resources[RULE]
    assert rule["Type"] == "AWS::Events::Rule"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ImportsFunction", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": QUEUE_ARN}
    queues = {k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"}
    assert {q for q in queues if q.startswith("ImportsFunction")} == set()
    # EventBridge may invoke the function, for this rule only.
    permission = resources[f"{RULE}Permission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": [RULE, "Arn"]}


# --- The synchronous import's limit --------------------------------------------------------


def test_the_synchronous_imports_largest_request_fits_a_lambda_request() -> None:
    """A form of MAX_IMPORT_BYTES (plus its overhead), base64-encoded by API Gateway, in the
    event envelope with the most headers an HTTP API passes, stays below Lambda's 6 MB."""
    body = b"x" * (MAX_IMPORT_BYTES + FORM_OVERHEAD_BYTES)
    event = json.loads((REPO_ROOT / "infra/events/api-contacts-list.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/contacts/import"
    event["requestContext"]["http"]["method"] = "POST"
    event["rawQueryString"], event["queryStringParameters"] = "tags=spring", {"tags": "spring"}
    event["headers"] = {
        "content-type": "multipart/form-data; boundary=----x",
        "content-length": str(len(body)),
        "authorization": "Bearer " + "t" * 1024,
        "padding": "h" * HTTP_API_HEADER_LIMIT,  # the rest of the headers API Gateway allows
    }
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    size = len(json.dumps(event).encode())
    assert size < LAMBDA_REQUEST_LIMIT, f"{size:,} bytes"
