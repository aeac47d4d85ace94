"""One PynamoDB model per DynamoDB table.

Every tenant table keys by the organization id (``org_id`` as hash key, or a
composite hash key that starts with it), so a Get or Query made with the
caller's organization cannot reach another organization's items. The one
global lookup, ``unique_keys`` (email and sender-number guards, read before a
caller is known), is documented in docs/data-model.md. Delivery receipts find
their recipient by the keys the sender gave the provider as the message's
context, and check its message id.

``Meta.table_name`` holds the logical name here; :func:`outreach.data.binding.bind_models`
prefixes it for the deployment (``<stack>-contacts``) before first use.
template.yaml declares the same tables; tests/infra/test_template_parity.py
keeps the two equal.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model


class _Meta:
    billing_mode = "PAY_PER_REQUEST"
    max_retry_attempts = 5


# --- Identity -----------------------------------------------------------------


class OrganizationModel(Model):
    """An organization (tenant) and its settings."""

    class Meta(_Meta):
        table_name = "organizations"

    org_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    timezone = UnicodeAttribute()
    sender_number = UnicodeAttribute(null=True)
    messages_per_second = NumberAttribute()
    quiet_hours_start = UnicodeAttribute()
    quiet_hours_end = UnicodeAttribute()
    # The organization's own English HELP answer (null: the default). Items written before
    # issue 15 hold the old default text here (outreach.replies.LEGACY_HELP_TEXT).
    help_text = UnicodeAttribute(null=True)
    opt_out_footer = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Spend limits (outreach.spend); absent on items written before they existed.
    allowed_countries = ListAttribute[str](null=True)
    daily_message_limit = NumberAttribute(null=True)
    contact_daily_limit = NumberAttribute(null=True)
    auto_reply_hourly_limit = NumberAttribute(null=True)
    # Issue 15; absent on items written before: the defaults.
    fallback_time_zones = ListAttribute[str](null=True)
    support_contact = UnicodeAttribute(null=True)
    help_texts = MapAttribute[str, str](null=True)  # es, fr (en lives in help_text)
    opt_out_confirmations = MapAttribute[str, str](null=True)


class UserModel(Model):
    """A user of one organization. The email's uniqueness lives in ``unique_keys``."""

    class Meta(_Meta):
        table_name = "users"

    org_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()
    full_name = UnicodeAttribute()
    role = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class UniqueKeyModel(Model):
    """A product-wide uniqueness guard, claimed with a conditional put.

    ``key`` is ``email#<lowercased email>`` (login lookup: org and user id) or
    ``sender#<E.164>`` (inbound routing: the organization owning the number).
    """

    class Meta(_Meta):
        table_name = "unique_keys"

    key = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    # A released sender number: still routed to `org_id`, which alone may take it back
    # before this instant; from then on any organization may claim it (issue 14, point 8).
    available_at = UTCDateTimeAttribute(null=True)


class AuthSessionModel(Model):
    """Refresh-token state: ``refresh#<sha256>`` per token, ``family#<id>`` per login."""

    class Meta(_Meta):
        table_name = "auth_sessions"

    key = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    family_id = UnicodeAttribute()
    state = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class ApiKeyModel(Model):
    """An organization's API key: name, role, the shown prefix and the SHA-256 of its
    secret (:mod:`outreach.api_keys.domain`; the key itself is never stored). Keyed by
    organization, so a listing is a Query; ids are ULIDs, oldest first."""

    class Meta(_Meta):
        table_name = "api_keys"

    org_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    prefix = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    last_used_at = UTCDateTimeAttribute(null=True)


class WebhookModel(Model):
    """An organization's webhook endpoint (:mod:`outreach.webhooks.domain`), with its
    signing secret (and the one it replaced, which signs until ``previous_until``)."""

    class Meta(_Meta):
        table_name = "webhooks"

    org_id = UnicodeAttribute(hash_key=True)
    webhook_id = UnicodeAttribute(range_key=True)
    url = UnicodeAttribute()
    events = ListAttribute[str]()
    description = UnicodeAttribute(default="")
    enabled = BooleanAttribute()
    secret = UnicodeAttribute()
    previous_secret = UnicodeAttribute(null=True)
    previous_until = UTCDateTimeAttribute(null=True)
    disabled_reason = UnicodeAttribute(null=True)
    failing_since = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class WebhookDeliveryModel(Model):
    """One event's delivery to one endpoint: ``endpoint_key`` is ``<org_id>#<webhook_id>``,
    ``delivery_id`` the event's id (time-ordered: newest last; one delivery per event and
    endpoint). Kept :data:`~outreach.webhooks.domain.DELIVERIES_KEPT` (``expires_at``)."""

    class Meta(_Meta):
        table_name = "webhook_deliveries"

    endpoint_key = UnicodeAttribute(hash_key=True)
    delivery_id = UnicodeAttribute(range_key=True)
    org_id = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    body = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    status_code = NumberAttribute(null=True)
    duration_ms = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    response_excerpt = UnicodeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class CounterModel(Model):
    """A number that expires: login failures, a campaign's sends per day, rate windows."""

    class Meta(_Meta):
        table_name = "counters"

    key = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


class SendingTurnModel(Model):
    """An organization's sending turn (``outreach.sending.domain.Turn``), in the counters
    table: who holds it (``holder``, a run's token) until when. ``in_flight`` and
    ``in_flight_campaign`` are read, then removed, on the first turn after a run of the
    protocol before stop 31 (the recipients, contact ids of one campaign, of the page it
    had in flight when it died)."""

    class Meta(_Meta):
        table_name = "counters"

    key = UnicodeAttribute(hash_key=True)
    holder = UnicodeAttribute(null=True)
    until = UTCDateTimeAttribute(null=True)
    in_flight = ListAttribute[str](null=True)
    in_flight_campaign = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class ManualSendModel(Model):
    """A manual text's ``Idempotency-Key`` (issue 19), in the counters table: ``key`` is
    :func:`outreach.data.keys.manual_send_key`; the message it made, a digest of the
    request it came with, and whether that request finished. Kept a day (TTL)."""

    class Meta(_Meta):
        table_name = "counters"

    key = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute()
    request_digest = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    finished = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


# --- Contacts and opt-outs -------------------------------------------------------


class ContactModel(Model):
    """A contact. ``contact_id`` is time-ordered, so the partition reads newest first."""

    class Meta(_Meta):
        table_name = "contacts"

    org_id = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)
    phone = UnicodeAttribute()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    company = UnicodeAttribute(null=True)
    tags = ListAttribute[str](default=list)
    # Keyed by outreach.contacts.domain.attribute_key; items written before issue 17 hold
    # the names as given, read through the same normalisation (keyed_attributes).
    attributes = MapAttribute[str, Any](default=dict)
    # key -> the name it was given, where they differ; absent when there is none.
    attribute_labels = MapAttribute[str, Any](null=True)
    timezone = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)  # a USPS code (outreach.state_rules.US_STATES)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class ContactPhoneModel(Model):
    """One contact per phone per organization: claimed with a conditional put.

    The item ``phone = "#import"`` (never an E.164 number) is the organization's
    import lease: while it is live, creates, phone changes and deletes wait.
    """

    class Meta(_Meta):
        table_name = "contact_phones"

    org_id = UnicodeAttribute(hash_key=True)
    phone = UnicodeAttribute(range_key=True)
    contact_id = UnicodeAttribute()
    lease_until = UTCDateTimeAttribute(null=True)


class ContactTagModel(Model):
    """Membership of a contact in a tag; ``tag_key`` is ``<org_id>#<tag>``."""

    class Meta(_Meta):
        table_name = "contact_tags"

    tag_key = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)
    phone = UnicodeAttribute()


class OptOutModel(Model):
    """A number the organization must not text, contact or not."""

    class Meta(_Meta):
        table_name = "opt_outs"
        stream_view_type = "NEW_AND_OLD_IMAGES"  # facts for webhooks (outreach.webhooks.facts)

    org_id = UnicodeAttribute(hash_key=True)
    phone = UnicodeAttribute(range_key=True)
    source = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class ImportModel(Model):
    """A CSV import job (``POST /v1/imports``): the upload's place, then the run's progress.

    ``rows_planned`` counts the rows whose outcome (``created`` ... ``warning_count``) is
    already added in; ``rows_written`` those whose contacts are written too. A run that
    stops between the two writes those rows again on resume, without counting them twice
    (:mod:`outreach.imports.runner`). ``run_token`` and ``lease_until`` say which run holds
    the job and until when.
    """

    class Meta(_Meta):
        table_name = "imports"
        stream_view_type = "NEW_AND_OLD_IMAGES"  # facts for webhooks (outreach.webhooks.facts)

    org_id = UnicodeAttribute(hash_key=True)
    import_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    user_id = UnicodeAttribute()
    upload_key = UnicodeAttribute()
    tags = ListAttribute[str](default=list)
    phone_column = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    upload_expires_at = UTCDateTimeAttribute()
    # The instant every contact the import writes carries (created_at, updated_at).
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    run_token = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    encoding = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    rows_planned = NumberAttribute(default=0)
    rows_written = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    error_count = NumberAttribute(default=0)
    warning_count = NumberAttribute(default=0)
    # The first problems, in row order ({row, error} / {row, warning}); all are in the report.
    errors = ListAttribute[Any](default=list)
    warnings = ListAttribute[Any](default=list)
    report_key = UnicodeAttribute(null=True)
    failure = UnicodeAttribute(null=True)


# --- Campaigns and sending ---------------------------------------------------------


class CampaignStatusIndex(GlobalSecondaryIndex["CampaignModel"]):
    """Campaigns of one organization in one status: ``org_status`` = ``<org_id>#<status>``."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    org_status = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute(range_key=True)


class CampaignDispatchIndex(GlobalSecondaryIndex["CampaignModel"]):
    """Sparse: only active campaigns carry ``dispatch_shard`` (0..DISPATCH_SHARDS-1).

    The dispatcher Queries each shard instead of scanning the table.
    """

    class Meta:
        index_name = "dispatch"
        projection = KeysOnlyProjection()

    dispatch_shard = NumberAttribute(hash_key=True)
    campaign_id = UnicodeAttribute(range_key=True)


class VariantAttribute(MapAttribute[str, Any]):
    """One A/B variant of a campaign."""

    name = UnicodeAttribute()
    body = UnicodeAttribute()
    weight = NumberAttribute()


class CampaignModel(Model):
    """A campaign: its content, audience, rules and lifecycle."""

    class Meta(_Meta):
        table_name = "campaigns"
        stream_view_type = "NEW_AND_OLD_IMAGES"  # facts for webhooks (outreach.webhooks.facts)

    org_id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute(range_key=True)
    org_status = UnicodeAttribute()
    dispatch_shard = NumberAttribute(null=True)
    name = UnicodeAttribute()
    status = UnicodeAttribute()
    variants = ListAttribute[VariantAttribute](of=VariantAttribute)
    audience = MapAttribute[str, Any]()
    daily_limit = NumberAttribute()
    timezone = UnicodeAttribute()
    window_start = UnicodeAttribute()
    window_end = UnicodeAttribute()
    window_days = ListAttribute[str]()
    start_at = UTCDateTimeAttribute(null=True)
    end_at = UTCDateTimeAttribute(null=True)
    recipients = NumberAttribute(default=0)
    # What the start left out, by reason: {"opted_out": n, "not_textable": n, ...}.
    left_out = MapAttribute[str, Any](null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)
    # Why the engine paused it (an account-level provider error); cleared by any move.
    paused_reason = UnicodeAttribute(null=True)
    # While a start writes the audience snapshot: who holds it and until when.
    start_token = UnicodeAttribute(null=True)
    start_lease_until = UTCDateTimeAttribute(null=True)

    by_status = CampaignStatusIndex()
    dispatch = CampaignDispatchIndex()


class CampaignStatsModel(Model):
    """Counters of one campaign variant.

    ``campaign_key`` is ``<org_id>#<campaign_id>``; the campaign's totals are the
    sum over its (at most five) variants, one Query. The recipient status
    counters (``recipients`` to ``accepted``) are a projection of the recipients
    table's stream (``outreach.stats``): ``applied`` holds, per stream shard, the
    last sequence number counted, which makes a redelivered batch count once.
    ``replies``, ``repliers`` and ``opt_outs`` are counted by the inbound function.
    """

    class Meta(_Meta):
        table_name = "campaign_stats"

    campaign_key = UnicodeAttribute(hash_key=True)
    variant = UnicodeAttribute(range_key=True)
    recipients = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)  # claimed (sending) recipients count here too
    sent = NumberAttribute(default=0)
    delivered = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    unknown = NumberAttribute(default=0)
    # Messages the provider accepted (whatever their receipt says later), and
    # recipients who replied at least once: the A/B test's sample and successes.
    accepted = NumberAttribute(default=0)
    repliers = NumberAttribute(default=0)
    replies = NumberAttribute(default=0)
    opt_outs = NumberAttribute(default=0)
    applied = MapAttribute[str, Any](null=True)


class RecipientStatusIndex(GlobalSecondaryIndex["RecipientModel"]):
    """Sparse: a campaign's open (pending or claimed) recipients, ``<org>#<campaign>#pending``.

    A recipient enters at the start and leaves when its outcome is recorded
    (``campaign_status`` removed): one index write each way. The projection
    holds what the sender needs before a claim and nothing a claim changes, so
    claiming writes no index entry; readers get the rest from the claim itself.
    Recipients in other states are listed from the table (filtered by status).
    """

    class Meta:
        index_name = "by_status"
        projection = IncludeProjection(["phone", "variant", "retry_at"])

    campaign_status = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)


class RecipientModel(Model):
    """One contact in one campaign's audience: its variant and its send.

    The table's stream (old and new images) is the source of the campaign's
    status counters: ``outreach.stats`` projects every change onto
    ``campaign_stats``, so no writer of a recipient moves a counter itself.
    """

    class Meta(_Meta):
        table_name = "recipients"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    campaign_key = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)
    # Set while the recipient is open (the sparse ``by_status`` index), removed after.
    campaign_status = UnicodeAttribute(null=True)
    org_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    variant = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    provider_message_id = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    # A claim of the protocol before stop 31 ("<lease end>|<token>", status "sending"):
    # claims are on the numbers' histories now (PhoneHistoryModel.claims); one left by a
    # run that died is closed on the next turn (outreach.sending.repository).
    claim = UnicodeAttribute(null=True)
    # After a transient provider error, or held back by the contact_daily_limit: not
    # before this instant, for ``waiting_reason`` (outreach.sending.domain.WaitingReason).
    retry_at = UTCDateTimeAttribute(null=True)
    waiting_reason = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    # The first reply (a recipient counts once as a replier in the A/B test).
    replied_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()

    by_status = RecipientStatusIndex()


class PhoneHistoryModel(Model):
    """What an organization's campaigns last sent a number, and when it first texted it.

    Inbound replies and opt-outs are attributed through ``last_*``; the opt-out footer
    goes on the first text ever (``first_sent_at`` unset: a campaign's, or a manual
    one's). Only the organization's sending turn writes the campaign fields and
    ``claims``, one update per text (``outreach.sending.repository``); manual texts set
    ``first_sent_at`` only. The conversation's summary is its own item
    (:class:`ConversationModel`).
    """

    class Meta(_Meta):
        table_name = "phone_history"

    org_id = UnicodeAttribute(hash_key=True)
    phone = UnicodeAttribute(range_key=True)
    first_sent_at = UTCDateTimeAttribute(null=True)
    last_campaign_id = UnicodeAttribute(null=True)
    last_variant = UnicodeAttribute(null=True)
    last_contact_id = UnicodeAttribute(null=True)
    last_sent_at = UTCDateTimeAttribute(null=True)
    # The campaign texts of the last 24 hours (the contact_daily_limit). (PynamoDB's
    # stubs type ``of`` as the element type, not as its attribute class.)
    recent = ListAttribute[datetime](of=UTCDateTimeAttribute, null=True)  # type: ignore[arg-type]
    # Each campaign's claim on the number, by campaign id: "<lease end>|<token>"
    # (outreach.sending.domain.Claim), kept a day past its lease.
    claims = MapAttribute[str, Any](null=True)


class InboxIndex(GlobalSecondaryIndex["ConversationModel"]):
    """An organization's conversations, newest activity first: ``inbox`` is
    ``<org_id>#unread`` while inbound texts wait to be read, else ``<org_id>#read``
    (:func:`outreach.data.keys.inbox_key`); ``last_at`` is the last message's instant.
    A message moves the entry (its ``last_at`` changes): 2 index writes, as DynamoDB
    bills a key change.
    """

    class Meta:
        index_name = "inbox"
        projection = IncludeProjection(["last_message", "unread_count", "last_campaign_id"])

    inbox = UnicodeAttribute(hash_key=True)
    last_at = UTCDateTimeAttribute(range_key=True)


class ConversationModel(Model):
    """A conversation of the inbox (:mod:`outreach.conversations`): an organization and a
    number that texted it, or that a user or an auto-reply texted. Its last message, its
    unread inbound texts, when the person last texted, the carrier ids of their latest
    texts (a redelivered text is recorded once), and the campaign that last texted the
    number. Numbers only campaigns texted have none (their texts are messages all the
    same). The messages themselves are in ``messages``.
    """

    class Meta(_Meta):
        table_name = "conversations"

    org_id = UnicodeAttribute(hash_key=True)
    phone = UnicodeAttribute(range_key=True)
    inbox = UnicodeAttribute()
    last_at = UTCDateTimeAttribute()
    # {id, direction, kind, preview, at}: outreach.conversations.domain.LastMessage.
    last_message = MapAttribute[str, Any]()
    unread_count = NumberAttribute(default=0)
    last_campaign_id = UnicodeAttribute(null=True)
    last_inbound_at = UTCDateTimeAttribute(null=True)
    # carrier message id -> message id, the latest RECENT_INBOUND_KEPT inbound texts.
    recent_inbound = MapAttribute[str, Any](null=True)

    by_inbox = InboxIndex()


class OutboxMessageModel(Model):
    """A message the sandbox SMS provider "sent"; ``box`` is ``sandbox#<org_id>``."""

    class Meta(_Meta):
        table_name = "outbox"

    box = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute(range_key=True)
    org_id = UnicodeAttribute(null=True)
    from_number = UnicodeAttribute()
    to_number = UnicodeAttribute()
    body = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()
    # What a real provider would carry back on the message's receipts.
    context = MapAttribute[str, Any](null=True)


class MessageModel(Model):
    """One text of a conversation (:class:`outreach.conversations.messages.Message`).

    ``conversation_key`` is ``<org_id>#<E.164>``; ``message_id`` is time-ordered, so a
    Query on the partition reads the conversation newest first.
    """

    class Meta(_Meta):
        table_name = "messages"
        stream_view_type = "NEW_AND_OLD_IMAGES"  # facts for webhooks (outreach.webhooks.facts)

    conversation_key = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute(range_key=True)
    org_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    direction = UnicodeAttribute()
    kind = UnicodeAttribute()
    body = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    campaign_id = UnicodeAttribute(null=True)
    variant = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    # An inbound text's keyword outcome, and what became of the answer it called for.
    keyword = UnicodeAttribute(null=True)
    auto_reply = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    OrganizationModel,
    UserModel,
    UniqueKeyModel,
    AuthSessionModel,
    ApiKeyModel,
    WebhookModel,
    WebhookDeliveryModel,
    CounterModel,
    SendingTurnModel,
    ManualSendModel,
    ContactModel,
    ContactPhoneModel,
    ContactTagModel,
    OptOutModel,
    ImportModel,
    CampaignModel,
    CampaignStatsModel,
    RecipientModel,
    PhoneHistoryModel,
    ConversationModel,
    OutboxMessageModel,
    MessageModel,
)


DISPATCH_SHARDS = 8


def dispatch_shard_for(campaign_id: str) -> int:
    """The dispatch-index shard of an active campaign: stable, spread evenly."""
    return (
        int.from_bytes(hashlib.sha256(campaign_id.encode()).digest()[:4], "big") % DISPATCH_SHARDS
    )
