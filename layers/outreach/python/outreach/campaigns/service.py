"""Campaign rules: authoring, preview, the lifecycle, the audience snapshot, statistics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from outreach.campaigns.domain import (
    EDITABLE,
    SEND_DEADLINE_SECONDS,
    TRANSITIONS,
    Audience,
    Campaign,
    CampaignStatus,
    Recipient,
    RecipientStatus,
    Variant,
    VariantCounts,
    Window,
)
from outreach.campaigns.repository import CampaignRepository, RecipientRepository
from outreach.campaigns.sms_length import SmsLength, measure
from outreach.campaigns.templates import parse_template, render_for_contact, validate_variants
from outreach.campaigns.variants import assign_variant
from outreach.campaigns.winner import VariantOutcome, Winner, find_winner, reply_rate
from outreach.clock import Clock, SystemClock
from outreach.contacts.repository import ContactRepository, OptOutRepository
from outreach.errors import Conflict, NotFound, ValidationFailed
from outreach.identity.repository import IdentityRepository
from outreach.ids import is_id, new_id

# Longer than a start can run (the API's 29 s); an interrupted start's lease lapses.
START_LEASE = timedelta(seconds=120)


@dataclass(frozen=True)
class CampaignDraft:
    """What a create or an edit says (``None``: not given)."""

    name: str | None = None
    variants: tuple[Variant, ...] | None = None
    audience: Audience | None = None
    daily_limit: int | None = None
    timezone: str | None = None
    window: Window | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    # Fields explicitly set to null (start_at, end_at): cleared.
    cleared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PreviewVariant:
    name: str
    body: str
    length: SmsLength


@dataclass(frozen=True)
class VariantStats:
    counts: VariantCounts
    reply_rate: float


@dataclass(frozen=True)
class CampaignStats:
    status: CampaignStatus
    daily_limit: int
    sends_today: int
    totals: VariantCounts
    variants: tuple[VariantStats, ...]
    winner: Winner | None
    paused_reason: str | None = None


class CampaignService:
    """Every campaign rule; routes only parse and map."""

    def __init__(
        self,
        *,
        campaigns: CampaignRepository,
        recipients: RecipientRepository,
        contacts: ContactRepository,
        opt_outs: OptOutRepository,
        organizations: IdentityRepository,
        clock: Clock,
    ) -> None:
        self._campaigns = campaigns
        self._recipients = recipients
        self._contacts = contacts
        self._opt_outs = opt_outs
        self._organizations = organizations
        self._clock = clock

    # --- Authoring ---------------------------------------------------------------------

    def create(self, org_id: str, draft: CampaignDraft) -> Campaign:
        assert draft.name is not None and draft.variants is not None and draft.audience is not None
        now = self._clock.now()
        timezone = draft.timezone or self._organizations.get_organization(org_id).timezone
        campaign = Campaign(
            id=new_id(now),
            org_id=org_id,
            name=draft.name,
            status=CampaignStatus.DRAFT,
            variants=draft.variants,
            audience=draft.audience,
            daily_limit=draft.daily_limit or 125,
            timezone=timezone,
            window=draft.window or Window("09:00", "18:00", ("mon", "tue", "wed", "thu", "fri")),
            start_at=draft.start_at,
            end_at=draft.end_at,
            recipients=0,
            created_at=now,
            updated_at=now,
            started_at=None,
            completed_at=None,
        )
        _check(campaign)
        self._campaigns.create(campaign)
        return campaign

    def get(self, org_id: str, campaign_id: str) -> Campaign:
        return self._campaigns.get(org_id, campaign_id)

    def list_campaigns(
        self,
        org_id: str,
        *,
        status: CampaignStatus | None,
        limit: int,
        start_key: dict[str, Any] | None,
    ) -> tuple[list[Campaign], dict[str, Any] | None]:
        return self._campaigns.list(org_id, status=status, limit=limit, start_key=start_key)

    def update(self, org_id: str, campaign_id: str, draft: CampaignDraft) -> Campaign:
        """Edit while draft or paused. A paused campaign keeps its audience and variant names:
        its recipients were chosen and assigned when it started."""
        current = self._campaigns.get(org_id, campaign_id)
        if current.status not in EDITABLE:
            raise Conflict(f"A {current.status.value} campaign cannot be edited.")
        if current.status is CampaignStatus.PAUSED:
            if draft.audience is not None and not draft.audience.same_as(current.audience):
                raise Conflict("The audience was fixed when the campaign started.")
            if draft.variants is not None and {v.name for v in draft.variants} != {
                v.name for v in current.variants
            }:
                raise Conflict("A started campaign keeps its variant names (recipients have them).")
        changes: dict[str, Any] = {
            name: getattr(draft, name)
            for name in ("name", "variants", "audience", "daily_limit", "timezone", "window")
            if getattr(draft, name) is not None
        }
        for name in ("start_at", "end_at"):
            if getattr(draft, name) is not None:
                changes[name] = getattr(draft, name)
            elif name in draft.cleared:
                changes[name] = None
        if not changes:
            return current
        edited = replace(current, **changes)
        _check(edited)
        return self._campaigns.update_content(edited, allowed=EDITABLE, now=self._clock.now())

    def delete(self, org_id: str, campaign_id: str) -> None:
        current = self._campaigns.get(org_id, campaign_id)
        if current.status is not CampaignStatus.DRAFT:
            raise Conflict(f"A {current.status.value} campaign cannot be deleted; cancel it.")
        self._campaigns.delete_draft(org_id, campaign_id, now=self._clock.now())

    def preview(
        self, org_id: str, campaign_id: str, contact_id: str | None
    ) -> list[PreviewVariant]:
        """Each variant rendered for the contact (or with every fallback), measured."""
        campaign = self._campaigns.get(org_id, campaign_id)
        values: dict[str, Any] = {"attributes": {}}
        if contact_id is not None:
            try:
                contact = self._contacts.get(org_id, contact_id) if is_id(contact_id) else None
            except NotFound:
                contact = None
            if contact is None:
                raise ValidationFailed(
                    "The contact does not exist.",
                    [{"loc": ["body", "contact_id"], "msg": "no such contact"}],
                )
            values = {
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "company": contact.company,
                "email": contact.email,
                "phone": contact.phone,
                "attributes": contact.attributes,
            }
        previews = []
        for variant in campaign.variants:
            body = render_for_contact(parse_template(variant.body), values)
            previews.append(PreviewVariant(name=variant.name, body=body, length=measure(body)))
        return previews

    # --- Lifecycle -----------------------------------------------------------------------

    def start(self, org_id: str, campaign_id: str) -> Campaign:
        """Snapshot the audience (minus opted-out numbers) into recipients and go active."""
        campaign = self._campaigns.get(org_id, campaign_id, consistent=True)
        allowed, target = TRANSITIONS["start"]
        if campaign.status not in allowed:
            raise Conflict(f"A {campaign.status.value} campaign cannot be started.")
        if not self._organizations.get_organization(org_id).sender_number:
            raise Conflict("Set the organization's sender_number before starting a campaign.")
        now = self._clock.now()
        token = new_id(now)
        self._campaigns.begin_start(
            org_id, campaign.id, token=token, now=now, until=now + START_LEASE
        )
        self._recipients.clear_snapshot(org_id, campaign.id)
        suppressed = self._opt_outs.all_phones(org_id)
        weights = [(v.name, v.weight) for v in campaign.variants]

        def recipients() -> Iterator[Recipient]:
            for contact_id, phone in self._audience(campaign):
                if phone in suppressed:
                    continue
                variant = assign_variant(campaign.id, contact_id, weights)
                yield Recipient(
                    org_id=org_id,
                    campaign_id=campaign.id,
                    contact_id=contact_id,
                    phone=phone,
                    variant=variant,
                    status=RecipientStatus.PENDING,
                    attempts=0,
                    provider_message_id=None,
                    error=None,
                    sent_at=None,
                    updated_at=now,
                )

        # The variants' counters follow from the recipients' stream (outreach.stats).
        total = self._recipients.write_snapshot(recipients())
        return self._campaigns.transition(
            org_id,
            campaign.id,
            allowed=allowed,
            to=target,
            now=self._clock.now(),
            recipients=total,
            start_token=token,
        )

    def _audience(self, campaign: Campaign) -> Iterator[tuple[str, str]]:
        if campaign.audience.all:
            return self._contacts.all_members(campaign.org_id)
        if campaign.audience.tags:
            return self._contacts.tag_members(campaign.org_id, campaign.audience.tags)
        return self._contacts.members_by_ids(campaign.org_id, campaign.audience.contact_ids)

    def pause(self, org_id: str, campaign_id: str) -> Campaign:
        """Stop sending; returns once no message can leave any more."""
        paused = self._move(org_id, campaign_id, "pause")
        self._clock.sleep(SEND_DEADLINE_SECONDS)
        return paused

    def resume(self, org_id: str, campaign_id: str) -> Campaign:
        return self._move(org_id, campaign_id, "resume")

    def cancel(self, org_id: str, campaign_id: str) -> Campaign:
        """Cancel; every recipient still pending becomes skipped."""
        cancelled = self._move(org_id, campaign_id, "cancel")
        self._clock.sleep(SEND_DEADLINE_SECONDS)
        self._recipients.skip_pending(
            org_id, campaign_id, reason="campaign cancelled", now=self._clock.now()
        )
        return cancelled

    def _move(self, org_id: str, campaign_id: str, action: str) -> Campaign:
        self._campaigns.get(org_id, campaign_id)  # 404 before 409
        allowed, target = TRANSITIONS[action]
        return self._campaigns.transition(
            org_id, campaign_id, allowed=allowed, to=target, now=self._clock.now()
        )

    # --- Statistics and sends ------------------------------------------------------------------

    def stats(self, org_id: str, campaign_id: str) -> CampaignStats:
        campaign = self._campaigns.get(org_id, campaign_id)
        counts = self._recipients.counts(org_id, campaign_id)
        by_name = {c.name: c for c in counts}
        ordered = [by_name.get(v.name, VariantCounts(name=v.name)) for v in campaign.variants]
        totals = VariantCounts(
            name="*",
            **{
                field: sum(getattr(c, field) for c in ordered)
                for field in VariantCounts.__dataclass_fields__
                if field != "name"
            },
        )
        today = self._clock.now().astimezone(ZoneInfo(campaign.timezone)).date().isoformat()
        winner = find_winner(
            [
                VariantOutcome(name=c.name, sent=c.accepted, replies=min(c.repliers, c.accepted))
                for c in ordered
            ]
        )
        return CampaignStats(
            status=campaign.status,
            daily_limit=campaign.daily_limit,
            sends_today=self._recipients.sends_on(org_id, campaign_id, today),
            totals=totals,
            variants=tuple(
                VariantStats(counts=c, reply_rate=reply_rate(c.repliers, c.accepted))
                for c in ordered
            ),
            winner=winner,
            paused_reason=campaign.paused_reason,
        )

    def sends(
        self,
        org_id: str,
        campaign_id: str,
        *,
        status: RecipientStatus | None,
        limit: int,
        start_key: dict[str, Any] | None,
    ) -> tuple[list[Recipient], dict[str, Any] | None]:
        self._campaigns.get(org_id, campaign_id)
        return self._recipients.list(
            org_id, campaign_id, status=status, limit=limit, start_key=start_key
        )


def _check(campaign: Campaign) -> None:
    """Rules that span fields: placeholders, dates."""
    validate_variants([(v.name, v.body) for v in campaign.variants])
    if campaign.start_at and campaign.end_at and campaign.start_at >= campaign.end_at:
        raise ValidationFailed(
            "start_at must be before end_at.",
            [{"loc": ["body", "end_at"], "msg": "must be after start_at"}],
        )


def build_campaign_service(clock: Clock) -> CampaignService:
    """The service on DynamoDB, with ``clock`` (the local stack gives each organization its own)."""
    return CampaignService(
        campaigns=CampaignRepository(),
        recipients=RecipientRepository(),
        contacts=ContactRepository(),
        opt_outs=OptOutRepository(),
        organizations=IdentityRepository(),
        clock=clock,
    )


@lru_cache(maxsize=1)
def get_campaign_service() -> CampaignService:
    """The process-wide service on the real clock, built on first use."""
    return build_campaign_service(SystemClock())
