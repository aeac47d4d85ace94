"""The IAM replay check (tests/support/iam_replay.py): its matcher, its reading of the
template's roles, and that it catches a call a role does not allow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from outreach_local.runtime import service_name, service_scope
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
    resource=TABLE.format("phone_history"),
    stack="test",
    sms_provider="sandbox",
)


def test_the_sender_may_batch_write_its_phone_history() -> None:
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
    from outreach.sending.domain import Candidate, history_with_text
    from outreach.sending.repository import SendingRepository

    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    candidate = Candidate("ORG1", "CAMPAIGN1", "CONTACT1", "+16175550100", "A", None)
    histories = {candidate.phone: history_with_text(None, candidate, now)}
    repository = SendingRepository()
    repository.note_texts("ORG1", histories)  # outside any function (test setup): not checked
    assert iam_replay == []
    with service_scope(service_name("sender")):
        repository.note_texts("ORG1", histories)
    assert [(c.function, c.action, c.resource) for c in iam_replay] == [
        ("sender", "dynamodb:BatchWriteItem", TABLE.format("phone_history"))
    ]
