"""The SMS providers: sandbox (moto table), SNS (moto), End User Messaging (botocore Stubber)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from outreach.config import get_settings
from outreach.data.models import OutboxMessageModel
from outreach.sms.outbox import OutboxMessage, OutboxRepository, sandbox_box
from outreach.sms.providers import (
    END_USER_MESSAGING_ERRORS,
    AccountSendError,
    EndUserMessagingProvider,
    OutboundMessage,
    PermanentSendError,
    SandboxProvider,
    SnsProvider,
    ThrottledSendError,
    TransientSendError,
    UnknownOutcomeError,
    get_sms_provider,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
MESSAGE = OutboundMessage(
    org_id="ORG1",
    from_number="+16175550100",
    to_number="+16175550123",
    body="Hi Dana, spring foundation checks are open. Reply STOP to opt out",
    context={"campaign_id": "C1", "contact_id": "K1"},
)


def test_sandbox_stores_each_message_in_the_outbox(aws: None) -> None:
    provider = SandboxProvider()
    first = provider.send(MESSAGE, sent_at=NOW)
    second = provider.send(MESSAGE, sent_at=NOW.replace(minute=1))
    assert first.message_id < second.message_id
    stored = list(OutboxMessageModel.query(sandbox_box(MESSAGE.org_id)))
    assert not list(OutboxMessageModel.query(sandbox_box("another-org")))
    assert [m.message_id for m in stored] == [first.message_id, second.message_id]
    assert stored[0].to_number == "+16175550123" and stored[0].from_number == "+16175550100"
    assert stored[0].body == MESSAGE.body and stored[0].sent_at == NOW


def test_the_outbox_reads_one_organization_oldest_first(aws: None) -> None:
    outbox = OutboxRepository()
    # Given two messages of ORG1 stored newest first, and one of another organization,
    later = OutboxMessage(
        "02B", "ORG1", "+16175550100", "+16175550123", "two", NOW.replace(minute=1)
    )
    earlier = OutboxMessage(
        "01A", "ORG1", "+16175550100", "+16175550124", "one", NOW, context={"k": "v"}
    )
    outbox.add(later)
    outbox.add(earlier)
    outbox.add(OutboxMessage("03C", "ORG2", "+16175550200", "+16175550123", "other", NOW))
    # then ORG1's outbox holds its own two, oldest first, with their context,
    assert outbox.messages("ORG1") == [earlier, later]
    assert outbox.get("ORG1", "01A") == earlier
    # and another organization's message is not one of ORG1's.
    assert outbox.get("ORG1", "03C") is None
    assert [message.body for message in outbox.messages("ORG2")] == ["other"]


def test_sns_publishes_to_the_phone_number(aws: None) -> None:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    result = SnsProvider().send(MESSAGE, sent_at=NOW)
    assert result.message_id
    sent = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages
    assert sent[result.message_id][:2] == ("+16175550123", MESSAGE.body)


def test_sns_refuses_an_invalid_number_for_good(aws: None) -> None:
    with pytest.raises(PermanentSendError):
        SnsProvider().send(
            OutboundMessage("ORG1", "+16175550100", "not-a-number", "hi"), sent_at=NOW
        )


def _stubbed(
    configuration_set: str | None = "outreach",
) -> tuple[EndUserMessagingProvider, Stubber]:
    client = boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")
    return EndUserMessagingProvider(client, configuration_set=configuration_set), Stubber(client)


def test_end_user_messaging_sends_from_the_sender_number_with_the_configuration_set() -> None:
    provider, stubber = _stubbed()
    stubber.add_response(
        "send_text_message",
        {"MessageId": "a8c3f1e2-1111-2222-3333-444455556666"},
        expected_params={
            "DestinationPhoneNumber": "+16175550123",
            "OriginationIdentity": "+16175550100",
            "MessageBody": MESSAGE.body,
            "MessageType": "PROMOTIONAL",
            "ConfigurationSetName": "outreach",
            "Context": {"campaign_id": "C1", "contact_id": "K1"},
        },
    )
    with stubber:
        result = provider.send(MESSAGE, sent_at=NOW)
    stubber.assert_no_pending_responses()
    assert result.message_id == "a8c3f1e2-1111-2222-3333-444455556666"


def test_end_user_messaging_without_a_configuration_set_omits_it() -> None:
    provider, stubber = _stubbed(configuration_set=None)
    stubber.add_response(
        "send_text_message",
        {"MessageId": "m-1"},
        expected_params={
            "DestinationPhoneNumber": "+16175550123",
            "OriginationIdentity": "+16175550100",
            "MessageBody": "hi",
            "MessageType": "PROMOTIONAL",
        },
    )
    with stubber:
        provider.send(OutboundMessage("ORG1", "+16175550100", "+16175550123", "hi"), sent_at=NOW)


@pytest.mark.parametrize(
    ("code", "fields", "expected", "expected_code"),
    [
        ("ThrottlingException", {}, ThrottledSendError, "ThrottlingException"),
        ("InternalServerException", {}, TransientSendError, "InternalServerException"),
        (
            "ServiceQuotaExceededException",
            {"Reason": "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"},
            AccountSendError,
            "ServiceQuotaExceededException",
        ),
        ("AccessDeniedException", {"Reason": "ACCOUNT_DISABLED"}, AccountSendError, None),
        ("AccessDeniedException", {}, AccountSendError, "AccessDeniedException"),
        (
            "ResourceNotFoundException",
            {"ResourceType": "phone-number", "ResourceId": "+16175550100"},
            AccountSendError,
            "ResourceNotFoundException",
        ),
        (
            "ConflictException",
            {"Reason": "NO_ORIGINATION_IDENTITIES_FOUND"},
            AccountSendError,
            "ConflictException",
        ),
        ("ConflictException", {"Reason": "REGISTRATION_NOT_COMPLETE"}, AccountSendError, None),
        ("ValidationException", {"Reason": "CHANNEL_NOT_ENABLED"}, AccountSendError, None),
        (
            "ConflictException",
            {"Reason": "DESTINATION_PHONE_NUMBER_NOT_VERIFIED"},
            PermanentSendError,
            "ConflictException",
        ),
        (
            "ValidationException",
            {"Reason": "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY"},
            PermanentSendError,
            None,
        ),
        (
            "ValidationException",
            {"Reason": "CANNOT_PARSE"},
            PermanentSendError,
            "ValidationException",
        ),
        (
            "ConflictException",
            {
                "Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT",
                "ResourceType": "opted-out-number",
                "ResourceId": "+16175550123",
            },
            PermanentSendError,
            "opted_out_at_carrier",
        ),
    ],
)
def test_end_user_messaging_errors_are_classified(
    code: str, fields: dict[str, Any], expected: type[Exception], expected_code: str | None
) -> None:
    provider, stubber = _stubbed()
    stubber.add_client_error(
        "send_text_message", service_error_code=code, service_message="no", modeled_fields=fields
    )
    with stubber, pytest.raises(expected) as raised:
        provider.send(MESSAGE, sent_at=NOW)
    assert type(raised.value) is expected
    assert getattr(raised.value, "code", None) == (expected_code or code)


def test_every_error_the_rules_name_is_one_send_text_message_can_answer() -> None:
    """The rules' codes and reasons are the service model's (a typo would never match)."""
    model = botocore.session.get_session().get_service_model("pinpoint-sms-voice-v2")
    errors = {shape.name: shape for shape in model.operation_model("SendTextMessage").error_shapes}
    rules = END_USER_MESSAGING_ERRORS
    for entry in rules.recipient | rules.account | rules.throttled:
        code, reason = entry if isinstance(entry, tuple) else (entry, None)
        assert code in errors, code
        if reason is not None:
            reasons = getattr(errors[code], "members", {})["Reason"].enum  # a StructureShape
            assert reason in reasons, (code, reason)
    # Every modelled error is classified on purpose (transient only where named so).
    named = {e if isinstance(e, str) else e[0] for e in rules.recipient | rules.account}
    assert set(errors) - named - rules.throttled == {"InternalServerException"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("InvalidParameter", PermanentSendError),
        ("AuthorizationError", AccountSendError),
        ("KMSAccessDenied", AccountSendError),
        ("Throttled", ThrottledSendError),
        ("InternalError", TransientSendError),
    ],
)
def test_sns_errors_are_classified(code: str, expected: type[Exception]) -> None:
    client = botocore.session.get_session().create_client(
        "sns", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    stubber = Stubber(client)
    stubber.add_client_error("publish", service_error_code=code, service_message="no")
    with stubber, pytest.raises(expected) as raised:
        SnsProvider(client).send(MESSAGE, sent_at=NOW)
    assert type(raised.value) is expected


class _Raising:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def send_text_message(self, **_: Any) -> Any:
        raise self.error

    def publish(self, **_: Any) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ReadTimeoutError(endpoint_url="https://sms-voice.us-east-1.amazonaws.com"),
            UnknownOutcomeError,
        ),
        (
            ConnectTimeoutError(endpoint_url="https://sms-voice.us-east-1.amazonaws.com"),
            TransientSendError,
        ),
        (
            EndpointConnectionError(endpoint_url="https://sms-voice.us-east-1.amazonaws.com"),
            TransientSendError,
        ),
    ],
)
def test_network_failures_are_transient_only_when_nothing_was_sent(
    error: Exception, expected: type[Exception]
) -> None:
    for provider in (
        EndUserMessagingProvider(_Raising(error)),  # type: ignore[arg-type]
        SnsProvider(_Raising(error)),
    ):
        with pytest.raises(expected):
            provider.send(MESSAGE, sent_at=NOW)


@pytest.mark.parametrize(
    ("setting", "kind"),
    [
        ("sandbox", SandboxProvider),
        ("sns", SnsProvider),
        ("end_user_messaging", EndUserMessagingProvider),
    ],
)
def test_the_setting_chooses_the_provider(
    aws: None, monkeypatch: pytest.MonkeyPatch, setting: str, kind: type
) -> None:
    monkeypatch.setenv("SMS_PROVIDER", setting)
    get_settings.cache_clear()
    get_sms_provider.cache_clear()
    try:
        assert isinstance(get_sms_provider(), kind)
    finally:
        get_sms_provider.cache_clear()
