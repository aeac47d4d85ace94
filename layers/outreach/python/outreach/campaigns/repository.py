"""Campaign persistence: campaigns, their recipients (sends) and statistics counters.

Every call takes the caller's organization id; composite keys start with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, fields, replace
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition

from outreach.campaigns.domain import (
    COUNTERS,
    Audience,
    Campaign,
    CampaignStatus,
    LeftOut,
    Recipient,
    RecipientStatus,
    SendsQuery,
    Transition,
    Variant,
    VariantCounts,
    Window,
)
from outreach.data.counters import DynamoCounters
from outreach.data.keys import campaign_key, open_key, org_daily_counter_key
from outreach.data.models import (
    CampaignModel,
    CampaignStatsModel,
    PhoneHistoryModel,
    RecipientModel,
    VariantAttribute,
    dispatch_shard_for,
)
from outreach.data.pages import Page, decode_cursor, sealed_page
from outreach.data.pynamo import condition_failed, from_item, raw_map
from outreach.errors import Conflict, NotFound
from outreach.ids import is_id
from outreach.sending import daily_cap
from outreach.sending.claims import claims_on
from outreach.sending.domain import CLAIM_EXPIRED

OPEN_STATUSES = frozenset({RecipientStatus.PENDING, RecipientStatus.SENDING})


def campaigns_listing(status: CampaignStatus | None) -> str:
    """The listing a campaigns cursor is sealed for: one per status filter."""
    return f"campaigns:{status.value}" if status else "campaigns"


def _left_out(value: Any) -> LeftOut | None:
    """The stored ``left_out`` map (numbers as read: ``Decimal``), or ``None`` if not set."""
    counts = raw_map(value)
    if not counts:
        return None
    return LeftOut(**{f.name: int(counts.get(f.name, 0)) for f in fields(LeftOut)})


def to_campaign(item: CampaignModel) -> Campaign:
    audience = raw_map(item.audience)
    return from_item(
        Campaign,
        item,
        id=item.campaign_id,
        status=CampaignStatus(item.status),
        variants=tuple(
            Variant(name=v.name, body=v.body, weight=int(v.weight)) for v in item.variants
        ),
        audience=Audience(
            all=bool(audience.get("all", False)),
            tags=tuple(audience.get("tags") or ()),
            contact_ids=tuple(audience.get("contact_ids") or ()),
        ),
        daily_limit=int(item.daily_limit),
        window=Window(start=item.window_start, end=item.window_end, days=tuple(item.window_days)),
        recipients=int(item.recipients or 0),
        left_out=_left_out(item.left_out),
    )


def to_recipient(item: RecipientModel) -> Recipient:
    """A recipient as stored: the sender's reason and instant for one that waits."""
    return from_item(
        Recipient,
        item,
        status=RecipientStatus(item.status),
        attempts=int(item.attempts or 0),
        next_attempt_at=item.retry_at,
    )


def _variant_attributes(variants: Sequence[Variant]) -> list[VariantAttribute]:
    return [
        VariantAttribute(name=v.name, body=v.body, weight=v.weight)  # type: ignore[no-untyped-call]
        for v in variants
    ]


def _no_start_running(now: datetime) -> Any:
    return CampaignModel.start_lease_until.does_not_exist() | (
        CampaignModel.start_lease_until < now
    )


class CampaignRepository:
    """Campaigns, keyed by organization; status changes are conditional updates.

    Implements :class:`~outreach.campaigns.ports.CampaignStore`; the models must be bound
    (``build_campaign_service`` does it).
    """

    def create(self, campaign: Campaign) -> None:
        item = CampaignModel(
            campaign.org_id,
            campaign.id,
            org_status=f"{campaign.org_id}#{campaign.status.value}",
            name=campaign.name,
            status=campaign.status.value,
            variants=_variant_attributes(campaign.variants),
            audience=campaign.audience.as_dict(),
            daily_limit=campaign.daily_limit,
            timezone=campaign.timezone,
            window_start=campaign.window.start,
            window_end=campaign.window.end,
            window_days=list(campaign.window.days),
            start_at=campaign.start_at,
            end_at=campaign.end_at,
            recipients=0,
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
        )
        item.save(condition=CampaignModel.campaign_id.does_not_exist())

    def get(self, org_id: str, campaign_id: str, *, consistent: bool = False) -> Campaign:
        if not is_id(campaign_id):
            raise NotFound("Campaign not found.")
        try:
            return to_campaign(CampaignModel.get(org_id, campaign_id, consistent_read=consistent))
        except DoesNotExist as error:
            raise NotFound("Campaign not found.") from error

    def list(
        self, org_id: str, *, status: CampaignStatus | None, limit: int, cursor: str | None
    ) -> Page[Campaign]:
        """Newest first; with ``status``, only campaigns in it (the ``by_status`` index)."""
        listing = campaigns_listing(status)
        start_key = decode_cursor(cursor, org_id=org_id, listing=listing)
        if status is None:
            result = CampaignModel.query(
                org_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
            )
        else:
            result = CampaignModel.by_status.query(
                f"{org_id}#{status.value}",
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=start_key,
            )
        return sealed_page(result, to_campaign, org_id=org_id, listing=listing)

    def update_content(
        self, campaign: Campaign, *, allowed: frozenset[CampaignStatus], now: datetime
    ) -> Campaign:
        """Store edited fields, only while the campaign is in an ``allowed`` status."""
        actions: list[Any] = [
            CampaignModel.name.set(campaign.name),
            CampaignModel.variants.set(_variant_attributes(campaign.variants)),
            CampaignModel.audience.set(campaign.audience.as_dict()),
            CampaignModel.daily_limit.set(campaign.daily_limit),
            CampaignModel.timezone.set(campaign.timezone),
            CampaignModel.window_start.set(campaign.window.start),
            CampaignModel.window_end.set(campaign.window.end),
            CampaignModel.window_days.set(list(campaign.window.days)),
            CampaignModel.updated_at.set(now),
            CampaignModel.start_at.set(campaign.start_at)
            if campaign.start_at
            else CampaignModel.start_at.remove(),
            CampaignModel.end_at.set(campaign.end_at)
            if campaign.end_at
            else CampaignModel.end_at.remove(),
        ]
        item = CampaignModel(campaign.org_id, campaign.id)
        try:
            item.update(
                actions=actions,
                condition=CampaignModel.status.is_in(*[s.value for s in allowed])
                & _no_start_running(now),
            )
        except UpdateError as error:
            if condition_failed(error):
                raise Conflict(
                    "The campaign can only be edited while draft or paused (and not starting)."
                ) from error
            raise
        return to_campaign(item)

    def delete_draft(self, org_id: str, campaign_id: str, *, now: datetime) -> None:
        try:
            CampaignModel(org_id, campaign_id).delete(
                condition=(CampaignModel.status == CampaignStatus.DRAFT.value)
                & _no_start_running(now)
            )
        except DeleteError as error:
            if condition_failed(error):
                raise Conflict("Only a draft campaign can be deleted.") from error
            raise

    def begin_start(
        self, org_id: str, campaign_id: str, *, token: str, now: datetime, until: datetime
    ) -> None:
        """Hold the draft's start until ``until``: one start writes the snapshot at a time."""
        try:
            CampaignModel(org_id, campaign_id).update(
                actions=[
                    CampaignModel.start_token.set(token),
                    CampaignModel.start_lease_until.set(until),
                ],
                condition=(CampaignModel.status == CampaignStatus.DRAFT.value)
                & _no_start_running(now),
            )
        except UpdateError as error:
            if condition_failed(error):
                raise Conflict(
                    "The campaign is being started, or is no longer a draft.",
                    headers={"Retry-After": "5"},
                ) from error
            raise

    def transition(
        self, org_id: str, campaign_id: str, move: Transition, *, now: datetime
    ) -> Campaign:
        """One conditional update: the status condition, and the start's lease."""
        to = move.to
        actions: list[Any] = [
            CampaignModel.status.set(to.value),
            CampaignModel.org_status.set(f"{org_id}#{to.value}"),
            CampaignModel.updated_at.set(now),
            CampaignModel.paused_reason.remove(),  # the engine's reason ends with its pause
        ]
        if to is CampaignStatus.ACTIVE:
            # The sparse dispatch index holds exactly the active campaigns.
            actions.append(CampaignModel.dispatch_shard.set(dispatch_shard_for(campaign_id)))
        else:
            actions.append(CampaignModel.dispatch_shard.remove())
        if move.recipients is not None:
            actions += [
                CampaignModel.recipients.set(move.recipients),
                CampaignModel.started_at.set(now),
            ]
        if move.left_out is not None:
            actions.append(CampaignModel.left_out.set(asdict(move.left_out)))
        if to in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
            actions.append(CampaignModel.completed_at.set(now))
        condition = CampaignModel.status.is_in(*[s.value for s in move.allowed])
        if move.start_token is not None:
            condition &= CampaignModel.start_token == move.start_token
            actions += [
                CampaignModel.start_token.remove(),
                CampaignModel.start_lease_until.remove(),
            ]
        elif CampaignStatus.DRAFT in move.allowed:
            condition &= _no_start_running(now)
        item = CampaignModel(org_id, campaign_id)
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as error:
            if condition_failed(error):
                current = self.get(org_id, campaign_id, consistent=True)
                raise Conflict(
                    f"The campaign is {current.status.value}; it cannot become {to.value}.",
                    extra={"campaign_status": current.status.value},
                ) from error
            raise
        return to_campaign(item)


class RecipientRepository:
    """Recipients (the audience snapshot and each one's send) and the per-variant counters.

    Implements :class:`~outreach.campaigns.ports.RecipientStore`; the models must be bound
    (``build_campaign_service`` does it).
    """

    def clear_snapshot(self, org_id: str, campaign_id: str) -> int:
        """Delete recipients an interrupted start left behind (the draft's audience may differ)."""
        key = campaign_key(org_id, campaign_id)
        stale = [
            item.contact_id for item in RecipientModel.query(key, attributes_to_get=["contact_id"])
        ]
        with RecipientModel.batch_write() as batch:
            for contact_id in stale:
                batch.delete(RecipientModel(key, contact_id))
        return len(stale)

    def write_snapshot(self, recipients: Iterable[Recipient]) -> int:
        """Batch-write pending recipients (idempotent: keys are campaign and contact)."""
        count = 0
        with RecipientModel.batch_write() as batch:
            for recipient in recipients:
                batch.save(
                    RecipientModel(
                        campaign_key(recipient.org_id, recipient.campaign_id),
                        recipient.contact_id,
                        campaign_status=open_key(recipient.org_id, recipient.campaign_id)
                        if recipient.status in OPEN_STATUSES
                        else None,
                        org_id=recipient.org_id,
                        campaign_id=recipient.campaign_id,
                        phone=recipient.phone,
                        variant=recipient.variant,
                        status=recipient.status.value,
                        attempts=0,
                        updated_at=recipient.updated_at,
                    )
                )
                count += 1
        return count

    def counts(self, org_id: str, campaign_id: str) -> list[VariantCounts]:
        return [
            VariantCounts(
                name=item.variant,
                **{name: int(getattr(item, name) or 0) for name in COUNTERS},
            )
            for item in CampaignStatsModel.query(
                campaign_key(org_id, campaign_id), consistent_read=True
            )
        ]

    def list(
        self, org_id: str, query: SendsQuery, *, limit: int, cursor: str | None
    ) -> Page[Recipient]:
        """In contact-id order; ``status`` filters after ``limit`` items are read.

        A pending recipient whose number its campaign holds a claim on is being sent (or
        its run died, and it ends ``unknown`` once the lease is over): it is listed as
        ``sending`` (one batch read of the page's pending numbers' claims). A page of
        ``sending`` or ``pending`` ones may then be short, with a cursor.
        """
        campaign_id, status, listing = query.campaign_id, query.status, query.listing
        start_key = decode_cursor(cursor, org_id=org_id, listing=listing)
        if not is_id(campaign_id):
            # No campaign has this id, and a long one is not even a valid key.
            return Page([], None)
        # The table, not the open index: the index holds no status and only the open
        # recipients. A claim is on the number: ``sending`` is a pending recipient (or one
        # a run of the protocol before stop 31 left ``sending``).
        wanted: Condition | None
        if status is RecipientStatus.SENDING:
            wanted = RecipientModel.status.is_in(
                RecipientStatus.PENDING.value, RecipientStatus.SENDING.value
            )
        else:
            wanted = None if status is None else RecipientModel.status == status.value
        result = RecipientModel.query(
            campaign_key(org_id, campaign_id),
            filter_condition=wanted,
            limit=limit,
            last_evaluated_key=start_key,
        )
        page = sealed_page(result, to_recipient, org_id=org_id, listing=listing)
        pending = [r.phone for r in page.items if r.status is RecipientStatus.PENDING]
        if not pending:
            return page
        claimed = claims_on(org_id, campaign_id, pending)
        items = [
            replace(r, status=RecipientStatus.SENDING, waiting_reason=None, next_attempt_at=None)
            if r.status is RecipientStatus.PENDING and r.phone in claimed
            else r
            for r in page.items
        ]
        if status is not None:
            items = [r for r in items if r.status is status]
        return Page(items, page.next_cursor)

    def pending_contact_ids(self, org_id: str, campaign_id: str) -> Iterator[str]:
        """Contacts whose recipient the status index shows pending (eventually consistent)."""
        for item in RecipientModel.by_status.query(open_key(org_id, campaign_id)):
            yield item.contact_id

    def skip_pending(
        self, org_id: str, campaign_id: str, *, reason: str, now: datetime
    ) -> dict[str, int]:
        """Close every still-pending recipient; return how many were skipped per variant.

        A recipient whose number the campaign holds a claim on was being sent when the
        campaign stopped: while the claim's lease lasts, its run records it (it is left
        pending); past the lease, its run died and it ends ``unknown`` (maybe sent).
        Every other pending recipient ends ``skipped`` with ``reason``. The counters
        follow from the recipients' stream.

        Call only once the campaign can no longer be sent from (cancelled or ended, and
        the send deadline passed): then a consistent read of a recipient as pending
        with no claim on its number is final, and batch writes overwrite no send.
        """
        key = campaign_key(org_id, campaign_id)
        skipped: dict[str, int] = {}
        ids = list(dict.fromkeys(self.pending_contact_ids(org_id, campaign_id)))
        for offset in range(0, len(ids), 100):
            chunk = ids[offset : offset + 100]
            items = RecipientModel.batch_get([(key, i) for i in chunk], consistent_read=True)
            still_pending = [item for item in items if item.status == RecipientStatus.PENDING.value]
            claims = claims_on(org_id, campaign_id, (item.phone for item in still_pending))
            with RecipientModel.batch_write() as batch:
                for item in still_pending:
                    claim = claims.get(item.phone)
                    if claim is not None and claim.until >= now:
                        continue  # being sent: its run records it
                    item.status = (
                        RecipientStatus.SKIPPED.value
                        if claim is None
                        else RecipientStatus.UNKNOWN.value
                    )
                    item.campaign_status = None  # leaves the open index
                    item.error = reason if claim is None else CLAIM_EXPIRED
                    item.updated_at = now
                    batch.save(item)
                    if claim is None:
                        skipped[item.variant] = skipped.get(item.variant, 0) + 1
        return skipped

    def sends_on(self, org_id: str, campaign_id: str, day: str) -> int:
        """The day's cap counter, read as the sender reads it (:func:`daily_cap.sends_on`)."""
        return daily_cap.sends_on(org_id, campaign_id, day)

    def org_sends_on(self, org_id: str, day: str) -> int:
        """The organization's day counter, read consistently (the sender's and the
        auto-replies' conditional ADDs move it)."""
        return DynamoCounters().value(org_daily_counter_key(org_id, day))

    def open_recipients(self, org_id: str, campaign_id: str) -> Iterator[tuple[str, str, str]]:
        """One Query of the sparse ``by_status`` index, which holds exactly the open
        recipients and projects their phone and variant."""
        for item in RecipientModel.by_status.query(open_key(org_id, campaign_id)):
            yield item.contact_id, item.phone, item.variant

    def variant_of(self, org_id: str, campaign_id: str, contact_id: str) -> str | None:
        """One GetItem of the variant only."""
        try:
            item = RecipientModel.get(
                campaign_key(org_id, campaign_id), contact_id, attributes_to_get=["variant"]
            )
        except DoesNotExist:
            return None
        return item.variant

    def texted_numbers(self, org_id: str, phones: Iterable[str]) -> set[str]:
        """The ``phone_history`` items the sender reads for its footer decision
        (``SendingRepository.phone_histories``, consistent), projected to what decides it:
        a number was texted once its first text's instant is set, as there (a number
        whose conversation holds only inbound texts was never texted)."""
        keys = [(org_id, phone) for phone in dict.fromkeys(phones)]
        items = PhoneHistoryModel.batch_get(
            keys, consistent_read=True, attributes_to_get=["phone", "first_sent_at"]
        )
        return {item.phone for item in items if item.first_sent_at is not None}
