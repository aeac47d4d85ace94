"""The IAM replay check (tests/support/iam_replay.py): its matcher, its reading of the
template's roles, and that it catches a call a role does not allow."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from outreach.campaigns.statuses import RecipientStatus
from outreach.contacts.domain import RowError, RowWarning
from outreach.imports.domain import report_key, report_part_prefix, upload_key
from outreach.imports.storage import ImportStorage
from outreach_local.runtime import service_name, service_scope
from tests.support import iam_replay as replay
from tests.support.iam_replay import (
    Call,
    Statement,
    allows,
    denied,
    iam_requests,
    matches,
    policies,
)

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/test-{}"


def test_wildcards_follow_iam() -> None:
    assert matches("arn:aws:dynamodb:*:*:table/test-*", TABLE.format("phone_history"))
    assert matches("*", "anything/at:all")
    assert matches(
        "arn:aws:sms-voice:us-east-1:123456789012:phone-number/*",
        ("arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-1"),
    )
    assert matches("table/test-?sers", "table/test-users")
    assert not matches("table/test-?sers", "table/test-uusers")
    assert not matches(TABLE.format("users"), TABLE.format("users") + "/index/by_status")
    assert not matches(TABLE.format("Users"), TABLE.format("users"))  # resources: exact case
    assert matches("DynamoDB:getitem", "dynamodb:GetItem", ignore_case=True)  # actions: any case


def test_an_allow_is_needed_and_a_deny_wins() -> None:
    table = TABLE.format("counters")
    allow = Statement("Allow", ("dynamodb:GetItem", "dynamodb:Update*"), (table,))
    assert allows([allow], "dynamodb:GetItem", table)
    assert allows([allow], "dynamodb:UpdateItem", table)
    assert not allows([allow], "dynamodb:PutItem", table)
    assert not allows([allow], "dynamodb:GetItem", TABLE.format("users"))
    assert not allows([], "dynamodb:GetItem", table)
    deny = Statement("Deny", ("dynamodb:*",), ("*",))
    assert not allows([allow, deny], "dynamodb:GetItem", table)


def test_calls_become_the_requests_iam_authorizes() -> None:
    def requests(service: str, operation: str, **params: Any) -> list[tuple[str, str]]:
        prefix = {"dynamodbstreams": "dynamodb", "pinpoint-sms-voice-v2": "sms-voice"}
        return iam_requests(service, prefix.get(service, service), operation, params, "us-east-1")

    assert requests("dynamodb", "Query", TableName="test-recipients", IndexName="by_status") == [
        ("dynamodb:Query", TABLE.format("recipients") + "/index/by_status")
    ]
    assert requests("dynamodb", "BatchWriteItem", RequestItems={"test-phone_history": []}) == [
        ("dynamodb:BatchWriteItem", TABLE.format("phone_history"))
    ]
    transaction = [
        {"Put": {"TableName": "test-campaign_stats"}},
        {"ConditionCheck": {"TableName": "test-counters"}},
    ]
    assert requests("dynamodb", "TransactWriteItems", TransactItems=transaction) == [
        ("dynamodb:PutItem", TABLE.format("campaign_stats")),
        ("dynamodb:ConditionCheckItem", TABLE.format("counters")),
    ]
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/test-send.fifo"
    assert requests("sqs", "SendMessageBatch", QueueUrl=url, Entries=[]) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:test-send.fifo")
    ]
    assert requests("sns", "Publish", PhoneNumber="+16175550100") == [("sns:Publish", "*")]
    assert requests(
        "pinpoint-sms-voice-v2", "SendTextMessage", OriginationIdentity="+16175550100"
    ) == [
        (
            "sms-voice:SendTextMessage",
            "arn:aws:sms-voice:us-east-1:123456789012:phone-number/+16175550100",
        )
    ]


def test_roles_are_read_from_the_transformed_template() -> None:
    logical_id, statements = policies("dispatcher", "test", "sandbox")
    assert logical_id == "DispatcherFunction"
    index = TABLE.format("campaigns") + "/index/dispatch"
    assert allows(statements, "dynamodb:Query", index)
    assert not allows(statements, "dynamodb:Query", TABLE.format("campaigns"))
    queue = "arn:aws:sqs:us-east-1:123456789012:test-send.fifo"
    assert allows(statements, "sqs:SendMessage", queue)
    # SAM's policy templates are expanded: the signing key secret (its ARN ends in 6 random
    # characters).
    _, identity = policies("identity", "test", "sandbox")
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:test-SigningKeySecret-AbC123"
    assert allows(identity, "secretsmanager:GetSecretValue", secret)


def test_the_sms_provider_parameter_picks_the_senders_permission() -> None:
    outbox = TABLE.format("outbox")
    number = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123"
    _, sandbox = policies("sender", "test", "sandbox")
    _, end_user_messaging = policies("sender", "test", "end_user_messaging")
    _, sns = policies("sender", "test", "sns")
    assert allows(sandbox, "dynamodb:PutItem", outbox)
    assert not allows(sandbox, "sms-voice:SendTextMessage", number)
    assert allows(end_user_messaging, "sms-voice:SendTextMessage", number)
    assert not allows(end_user_messaging, "dynamodb:PutItem", outbox)
    assert allows(sns, "sns:Publish", "*")


SENDER_NOTES_SENDS = Call(
    function="sender",
    operation="BatchWriteItem",
    action="dynamodb:BatchWriteItem",
    resource=TABLE.format("messages"),
    stack="test",
    sms_provider="sandbox",
)


def test_the_sender_may_batch_write_its_texts_into_conversations() -> None:
    """Fails on the template before the sender's NoteSends statement."""
    assert denied([SENDER_NOTES_SENDS]) == []


def test_a_missing_action_is_caught_and_named() -> None:
    _, statements = policies("sender", "test", "sandbox")
    call = SENDER_NOTES_SENDS
    assert allows(statements, call.action, call.resource)
    # The sender's role as it was: no BatchWriteItem anywhere.
    before = [
        Statement(s.effect, tuple(a for a in s.actions if a != call.action), s.resources)
        for s in statements
    ]
    assert not allows(before, call.action, call.resource)
    scan = Call("dispatcher", "Scan", "dynamodb:Scan", TABLE.format("campaigns"), "test", "sandbox")
    assert denied([scan, scan]) == [
        "dispatcher (DispatcherFunction) called Scan, which needs dynamodb:Scan on "
        f"{TABLE.format('campaigns')}: its role in template.yaml does not allow it"
    ]


def test_a_functions_calls_are_recorded_and_others_are_not(
    aws: None, iam_replay: list[Call]
) -> None:
    from outreach.sending.domain import Candidate, Claim, Outcome
    from outreach.sending.repository import SendingRepository
    from outreach.sending.sender import campaign_message

    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    first = Candidate("ORG1", "CAMPAIGN1", "CONTACT1", "+16175550100", "A", None)
    second = Candidate("ORG1", "CAMPAIGN2", "CONTACT1", "+16175550100", "A", None)
    claim = Claim.of("t", now + timedelta(minutes=5))
    sent = Outcome(RecipientStatus.SENT, message_id="provider-1")
    messages = [campaign_message(first, "MESSAGE1", "Hi", sent, now)]
    repository = SendingRepository()
    # Outside any function (test setup): not checked.
    assert repository.claim(first, None, claim, now=now) is not None
    repository.note_texts(messages)
    earlier = repository.phone_histories("ORG1", [first.phone])[first.phone]
    assert iam_replay == []
    with service_scope(service_name("sender")):
        assert repository.claim(second, earlier, claim, now=now) is not None
        repository.note_texts(messages)
    assert [(c.function, c.action, c.resource) for c in iam_replay] == [
        ("sender", "dynamodb:PutItem", TABLE.format("phone_history")),
        ("sender", "dynamodb:BatchWriteItem", TABLE.format("messages")),
    ]


# --- S3, the imports bucket and presigned requests ----------------------------------------

BUCKET = "test-imports"  # the imports_bucket fixture's, named by IMPORTS_BUCKET
BUCKETS = (("ImportsBucket", BUCKET),)
UPLOAD = upload_key("ORG1", "IMPORT1")
REPORT = report_key("ORG1", "IMPORT1")


def s3_object(key: str, bucket: str = BUCKET) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def test_s3_calls_become_the_object_and_bucket_requests_s3_authorizes() -> None:
    def requests(operation: str, **params: Any) -> list[tuple[str, str]]:
        return iam_requests("s3", "s3", operation, params, "us-east-1")

    assert requests("GetObject", Bucket=BUCKET, Key=UPLOAD) == [("s3:GetObject", s3_object(UPLOAD))]
    assert requests("HeadObject", Bucket=BUCKET, Key=UPLOAD) == [
        ("s3:GetObject", s3_object(UPLOAD))
    ]
    assert requests("GetObject", Bucket=BUCKET, Key=UPLOAD, VersionId="v1") == [
        ("s3:GetObjectVersion", s3_object(UPLOAD))
    ]
    assert requests("ListObjectsV2", Bucket=BUCKET, Prefix="reports/") == [
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}")
    ]
    delete = {"Objects": [{"Key": "reports/a.csv"}, {"Key": "reports/b.csv"}], "Quiet": True}
    assert requests("DeleteObjects", Bucket=BUCKET, Delete=delete) == [
        ("s3:DeleteObject", s3_object("reports/a.csv")),
        ("s3:DeleteObject", s3_object("reports/b.csv")),
    ]
    # A multipart upload is authorized as s3:PutObject at every step; its abort is not.
    for operation in (
        "PutObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
    ):
        assert requests(operation, Bucket=BUCKET, Key=REPORT) == [
            ("s3:PutObject", s3_object(REPORT))
        ]
    assert requests("AbortMultipartUpload", Bucket=BUCKET, Key=REPORT, UploadId="u") == [
        ("s3:AbortMultipartUpload", s3_object(REPORT))
    ]
    assert requests("CopyObject", Bucket=BUCKET, Key=REPORT, CopySource=f"{BUCKET}/{UPLOAD}") == [
        ("s3:GetObject", s3_object(UPLOAD)),
        ("s3:PutObject", s3_object(REPORT)),
    ]


def test_the_imports_bucket_is_the_one_the_environment_names() -> None:
    _, imports = policies("imports", "test", "sandbox", BUCKETS)
    assert allows(imports, "s3:GetObject", s3_object(UPLOAD))
    assert allows(imports, "s3:PutObject", s3_object(REPORT))
    assert allows(imports, "s3:ListBucket", f"arn:aws:s3:::{BUCKET}")
    assert not allows(imports, "s3:PutObject", s3_object(UPLOAD))  # uploads are read only
    assert not allows(imports, "s3:GetObject", s3_object(UPLOAD, "another-bucket"))
    # The on-failure destination: SAM's own statement, from EventInvokeConfig.
    queue = "arn:aws:sqs:us-east-1:123456789012:test-ImportsDeadLetterQueue"
    assert allows(imports, "sqs:SendMessage", queue)
    _, contacts = policies("contacts", "test", "sandbox", BUCKETS)
    assert allows(contacts, "s3:PutObject", s3_object(UPLOAD))  # signs the upload form
    assert allows(contacts, "s3:GetObject", s3_object(REPORT))  # signs the report link
    assert not allows(contacts, "s3:GetObject", s3_object(UPLOAD))
    assert not allows(contacts, "s3:PutObject", s3_object(REPORT))
    # Unknown, CloudFormation's generated name: <stack>-<logical id>-<random>, lower case.
    _, generated = policies("imports", "test", "sandbox")
    assert allows(generated, "s3:GetObject", s3_object(UPLOAD, "test-importsbucket-1x2y3z4a5b6c"))
    assert not allows(generated, "s3:GetObject", s3_object(UPLOAD))


def test_the_imports_functions_s3_calls_are_recorded_and_allowed(
    imports_bucket: str, iam_replay: list[Call]
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=imports_bucket, Key=UPLOAD, Body=b"phone\n+16175550100\n")
    assert iam_replay == []  # test setup: not a function's call
    prefix = report_part_prefix("ORG1", "IMPORT1")
    storage = ImportStorage()
    with service_scope(service_name("imports")):
        assert storage.open_upload(UPLOAD).read() == b"phone\n+16175550100\n"
        storage.write_part(
            prefix, 1, [RowError(2, "No phone number.")], [RowWarning(1, "Bad email.")]
        )
        assert storage.join_parts(prefix, REPORT)
        storage.delete_upload(UPLOAD)

    part = f"{prefix}{1:010d}.csv"
    assert {(c.function, c.operation, c.action, c.resource) for c in iam_replay} == {
        ("imports", "GetObject", "s3:GetObject", s3_object(UPLOAD)),
        ("imports", "PutObject", "s3:PutObject", s3_object(part)),
        ("imports", "ListObjectsV2", "s3:ListBucket", f"arn:aws:s3:::{BUCKET}"),
        ("imports", "GetObject", "s3:GetObject", s3_object(part)),
        # upload_fileobj's PutObject, made in one of s3transfer's threads: still the function's.
        ("imports", "PutObject", "s3:PutObject", s3_object(REPORT)),
        ("imports", "DeleteObjects", "s3:DeleteObject", s3_object(part)),
        ("imports", "DeleteObject", "s3:DeleteObject", s3_object(UPLOAD)),
    }
    assert {c.buckets for c in iam_replay} == {BUCKETS}
    assert denied(iam_replay) == []


def test_a_multipart_upload_is_recorded_step_by_step(
    imports_bucket: str, iam_replay: list[Call]
) -> None:
    from boto3.s3.transfer import TransferConfig

    client = boto3.client("s3", region_name="us-east-1")
    config = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    with service_scope(service_name("imports")):
        client.upload_fileobj(
            io.BytesIO(b"x" * (6 * 1024 * 1024)), imports_bucket, REPORT, Config=config
        )
    assert sorted({c.operation for c in iam_replay}) == [
        "CompleteMultipartUpload",
        "CreateMultipartUpload",
        "UploadPart",
    ]
    assert {(c.action, c.resource) for c in iam_replay} == {("s3:PutObject", s3_object(REPORT))}
    assert denied(iam_replay) == []


def signed_by_contacts() -> tuple[dict[str, Any], str]:
    """The upload form and the report link, signed as the contacts function signs them."""
    storage = ImportStorage()
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    with service_scope(service_name("contacts")):
        form = storage.upload_form(
            UPLOAD, max_bytes=1024, expires_in=timedelta(minutes=15), now=now
        )
        link = storage.report_link(REPORT, expires_in=timedelta(hours=1))
    return {"url": form.url, "fields": form.fields}, link


def test_presigned_requests_are_recorded_as_the_signers(
    imports_bucket: str, iam_replay: list[Call]
) -> None:
    form, link = signed_by_contacts()
    assert form["fields"]["key"] == UPLOAD and REPORT in link  # signed, no call made
    assert [(c.function, c.operation, c.action, c.resource) for c in iam_replay] == [
        ("contacts", "generate_presigned_post (PutObject)", "s3:PutObject", s3_object(UPLOAD)),
        ("contacts", "generate_presigned_url (GetObject)", "s3:GetObject", s3_object(REPORT)),
    ]
    assert denied(iam_replay) == []


def test_a_role_without_sign_import_uploads_fails_the_presigned_post(
    imports_bucket: str, iam_replay: list[Call]
) -> None:
    signed_by_contacts()
    post = iam_replay[0]
    assert (post.operation, post.action) == ("generate_presigned_post (PutObject)", "s3:PutObject")
    logical_id, statements = policies("contacts", "test", "sandbox", BUCKETS)
    assert "SignImportUploads" in {s.sid for s in statements}
    # The contacts function's role as it would be without the statement (only for this
    # check: the test's own replay, at its teardown, reads the template's role).
    without = [s for s in statements if s.sid != "SignImportUploads"]
    assert not allows(without, post.action, post.resource)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "policies", lambda *_: (logical_id, without))
        problems = denied(iam_replay)
    assert problems == [
        "contacts (ContactsFunction) called generate_presigned_post (PutObject), which needs "
        f"s3:PutObject on {s3_object(UPLOAD)}: its role in template.yaml does not allow it"
    ]
    assert denied(iam_replay) == []
