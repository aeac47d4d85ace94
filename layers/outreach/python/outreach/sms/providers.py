"""SMS providers behind one interface, chosen by configuration (``SMS_PROVIDER``).

Every provider sends one message per call and classifies failures, because the
engine's promises depend on it:

* :class:`TransientSendError`: the message certainly did not leave (throttled,
  unavailable, connection never made); the engine may retry it.
* :class:`PermanentSendError`: the provider refused the message for good
  (invalid number, opted out at the carrier); the recipient fails at once.
* :class:`UnknownOutcomeError`: the request may have reached the provider (a
  read timeout): the message must never be re-sent blindly.

The AWS clients are built with SDK retries off, so that a message is never
re-sent by the SDK behind the engine's back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from outreach import aws
from outreach.config import SmsProviderName, get_settings
from outreach.ids import new_id
from outreach.sms.outbox import (
    OutboxMessage,
    OutboxRepository,
    outbox_repository,
)

if TYPE_CHECKING:
    from mypy_boto3_pinpoint_sms_voice_v2 import PinpointSMSVoiceV2Client


_NO_SDK_RETRIES = Config(
    retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=10
)


@dataclass(frozen=True)
class OutboundMessage:
    """One text to send."""

    org_id: str
    from_number: str
    to_number: str
    body: str
    # Tags the provider carries back on delivery receipts (End User Messaging's
    # Context): a receipt finds its recipient by them.
    context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    message_id: str


class SendError(Exception):
    """A provider call that did not send (or may not have sent) the message."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class TransientSendError(SendError):
    """Not sent; trying again later may succeed."""


class PermanentSendError(SendError):
    """Not sent, and never will be, because of the recipient (an invalid or unreachable
    number, opted out at the carrier, a country this number cannot reach): it fails."""


class AccountSendError(SendError):
    """Not sent because of the sending account or its configuration (spend limit reached,
    access denied, origination number missing, unverified or inactive, a configuration
    set that does not exist): no recipient is at fault, and none would be sent until an
    operator fixes it. The engine pauses the campaign with the reason."""


class ThrottledSendError(TransientSendError):
    """Not sent: the provider's rate was exceeded. Retried later without counting an
    attempt against the recipient."""


class UnknownOutcomeError(SendError):
    """The provider may or may not have sent it: report, never re-send."""


class SmsProvider(Protocol):
    """What the engine needs of an SMS provider."""

    def send(self, message: OutboundMessage, *, sent_at: datetime) -> SendResult:
        """Send one message or raise a :class:`SendError` subclass."""
        ...


class SandboxProvider:
    """Sends nothing: stores each message in the outbox (``GET /v1/dev/outbox``)."""

    def __init__(self, outbox: OutboxRepository | None = None) -> None:
        self._outbox = outbox or outbox_repository()

    def send(self, message: OutboundMessage, *, sent_at: datetime) -> SendResult:
        message_id = new_id(sent_at)
        self._outbox.add(
            OutboxMessage(
                message_id=message_id,
                org_id=message.org_id,
                from_number=message.from_number,
                to_number=message.to_number,
                body=message.body,
                sent_at=sent_at,
                context=dict(message.context),
            )
        )
        return SendResult(message_id=message_id)


@dataclass(frozen=True)
class ErrorRules:
    """How one provider's API errors map to the engine's outcomes.

    ``recipient`` and ``account`` hold error codes, or ``(code, reason)`` pairs where
    the service models a ``Reason`` (a pair wins over its code alone). Anything not
    named is transient: retried a few times, then the recipient fails.
    """

    recipient: frozenset[str | tuple[str, str]]
    account: frozenset[str | tuple[str, str]]
    throttled: frozenset[str]

    def classify(self, code: str, reason: str, message: str) -> SendError:
        detail = f"{reason}: {message}" if reason and message else reason or message
        for rules, error_type in (
            (self.recipient, PermanentSendError),
            (self.account, AccountSendError),
        ):
            if (code, reason) in rules:
                return error_type(code, detail)
        if code in self.throttled:
            return ThrottledSendError(code, detail)
        for rules, error_type in (
            (self.recipient, PermanentSendError),
            (self.account, AccountSendError),
        ):
            if code in rules:
                return error_type(code, detail)
        return TransientSendError(code, detail)


def _classify(error: Exception, rules: ErrorRules) -> SendError:
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        reason = str(error.response.get("Reason", "") or "")
        message = str(error.response.get("Error", {}).get("Message", ""))
        if reason == "DESTINATION_PHONE_NUMBER_OPTED_OUT":
            return PermanentSendError("opted_out_at_carrier", message)
        return rules.classify(code, reason, message)
    if isinstance(error, (ReadTimeoutError, ConnectionClosedError)):
        return UnknownOutcomeError("no_response", str(error))
    if isinstance(error, (ConnectTimeoutError, EndpointConnectionError)):
        return TransientSendError("unreachable", str(error))
    if isinstance(error, BotoCoreError):
        return UnknownOutcomeError("client_error", str(error))
    raise error


# pinpoint-sms-voice-v2 SendTextMessage's errors (codes and Reason values are the
# service model's; tests/integration/test_sms_providers.py checks them against it).
END_USER_MESSAGING_ERRORS = ErrorRules(
    recipient=frozenset(
        {
            # A request the service refused for this message: the number, its country.
            "ValidationException",
            ("ConflictException", "DESTINATION_PHONE_NUMBER_NOT_VERIFIED"),
            ("ConflictException", "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION"),
            ("ConflictException", "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE"),
        }
    ),
    account=frozenset(
        {
            "AccessDeniedException",  # IAM, ACCOUNT_DISABLED, INSUFFICIENT_ACCOUNT_REPUTATION
            "ServiceQuotaExceededException",  # MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT, ...
            "ResourceNotFoundException",  # the origination number or configuration set
            "ConflictException",  # NO_ORIGINATION_IDENTITIES_FOUND, REGISTRATION_NOT_COMPLETE, ...
            ("ValidationException", "CHANNEL_NOT_ENABLED"),
            ("ValidationException", "RESOURCE_NOT_ACCESSIBLE"),
            ("ValidationException", "INVALID_ARN"),
            ("ValidationException", "SENDER_ID_NOT_REGISTERED"),
            ("ValidationException", "SENDER_ID_NOT_SUPPORTED"),
            ("ValidationException", "SENDER_ID_REQUIRES_REGISTRATION"),
        }
    ),
    throttled=frozenset({"ThrottlingException"}),
)

# SNS Publish's errors (SNS models no reasons).
SNS_ERRORS = ErrorRules(
    recipient=frozenset({"InvalidParameter", "InvalidParameterValue", "ValidationException"}),
    account=frozenset(
        {
            "AuthorizationError",
            "KMSAccessDenied",
            "KMSDisabled",
            "KMSInvalidState",
            "KMSNotFound",
            "KMSOptInRequired",
            "NotFound",
        }
    ),
    throttled=frozenset({"Throttled", "KMSThrottling"}),
)


class SnsProvider:
    """Amazon SNS SMS (``Publish`` to a phone number)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client or aws.client(
            "sns", region_name=get_settings().aws_region, config=_NO_SDK_RETRIES
        )

    def send(self, message: OutboundMessage, *, sent_at: datetime) -> SendResult:
        try:
            response = self._client.publish(
                PhoneNumber=message.to_number,
                Message=message.body,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Promotional"},
                    "AWS.MM.SMS.OriginationNumber": {
                        "DataType": "String",
                        "StringValue": message.from_number,
                    },
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise _classify(error, SNS_ERRORS) from error
        return SendResult(message_id=str(response["MessageId"]))


class EndUserMessagingProvider:
    """AWS End User Messaging SMS (``pinpoint-sms-voice-v2`` ``SendTextMessage``).

    The organization's sender number is the origination identity; the
    configuration set's event destination publishes delivery receipts.
    """

    def __init__(
        self,
        client: PinpointSMSVoiceV2Client | None = None,
        *,
        configuration_set: str | None = None,
    ) -> None:
        self._client = client or aws.client(
            "pinpoint-sms-voice-v2", region_name=get_settings().aws_region, config=_NO_SDK_RETRIES
        )
        self._configuration_set = configuration_set

    def send(self, message: OutboundMessage, *, sent_at: datetime) -> SendResult:
        request: dict[str, Any] = {
            "DestinationPhoneNumber": message.to_number,
            "OriginationIdentity": message.from_number,
            "MessageBody": message.body,
            "MessageType": "PROMOTIONAL",
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        if message.context:
            request["Context"] = dict(message.context)
        try:
            response = self._client.send_text_message(**request)
        except (ClientError, BotoCoreError) as error:
            raise _classify(error, END_USER_MESSAGING_ERRORS) from error
        return SendResult(message_id=str(response["MessageId"]))


@lru_cache(maxsize=1)
def get_sms_provider() -> SmsProvider:
    """The provider the settings name, built on first use."""
    settings = get_settings()
    if settings.sms_provider is SmsProviderName.SNS:
        return SnsProvider()
    if settings.sms_provider is SmsProviderName.END_USER_MESSAGING:
        return EndUserMessagingProvider(configuration_set=settings.sms_configuration_set)
    return SandboxProvider()
