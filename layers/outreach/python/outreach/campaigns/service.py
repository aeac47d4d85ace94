"""Campaign rules: authoring, preview, the lifecycle, the audience snapshot, statistics."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import batched, islice
from typing import Any

from outreach.campaigns.domain import (
    CLEARABLE_FIELDS,
    CONTENT_FIELDS,
    DEFAULT_WINDOW,
    EDITABLE,
    SEND_DEADLINE_SECONDS,
    TRANSITIONS,
    Campaign,
    CampaignDraft,
    CampaignStats,
    CampaignStatus,
    LeftOut,
    Recipient,
    RecipientStatus,
    SendsQuery,
    VariantCounts,
    VariantStats,
)
from outreach.campaigns.ports import (
    AudienceSource,
    CampaignStore,
    OptOutList,
    OrganizationReader,
    RecipientStore,
)
from outreach.campaigns.preview import (
    AUDIENCE_READ_BATCH,
    LeftOutReason,
    Preview,
    assigned,
    preview_campaign,
)
from outreach.campaigns.reach import Reach
from outreach.campaigns.repository import CampaignRepository, RecipientRepository
from outreach.campaigns.templates import AttributeUse, TemplateWarning, check_placeholders
from outreach.campaigns.winner import VariantOutcome, find_winner, reply_rate
from outreach.clock import Clock, SystemClock
from outreach.contacts.domain import Contact
from outreach.contacts.ports import ContactPlace
from outreach.contacts.repository import ContactRepository, OptOutRepository
from outreach.data.binding import ensure_models_bound
from outreach.data.pages import Page
from outreach.destinations import allowed_regions, not_textable_reason
from outreach.errors import Conflict, NotFound, ValidationFailed
from outreach.identity.domain import Organization
from outreach.identity.repository import IdentityRepository
from outreach.ids import is_id, new_id
from outreach.sending.daily_cap import DEFAULT_DAILY_LIMIT, cap_day
from outreach.sending.rules import QuietHours, RecipientPlace, SendWindow
from outreach.sending.waiting import CampaignMoment
from outreach.spend import org_day

# Longer than a start can run (the API's 29 s); an interrupted start's lease lapses.
START_LEASE = timedelta(seconds=120)
# Audience members whose places a start reads at once (DynamoDB's BatchGetItem takes 100).
ZONE_READ_BATCH = 100
# The most audience members a create reads the attributes of, for its warnings.
ATTRIBUTE_CHECK_LIMIT = 500


@dataclass(frozen=True)
class CreatedCampaign:
    """A new draft, and what its author should know (:meth:`CampaignService.create_checked`)."""

    campaign: Campaign
    warnings: tuple[TemplateWarning, ...]


class CampaignService:
    """Every campaign rule; routes only parse and map.

    Rules come from `api-contract.md` (authoring, the lifecycle, stats and sends) and
    `sending-rules.md` (the audience snapshot, opt-out suppression, variant assignment).
    """

    def __init__(
        self,
        *,
        campaigns: CampaignStore,
        recipients: RecipientStore,
        contacts: AudienceSource,
        opt_outs: OptOutList,
        organizations: OrganizationReader,
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
        """A new draft from ``draft`` (which names ``name``, ``variants`` and ``audience``).

        Unset fields take the defaults: the daily limit ``DEFAULT_DAILY_LIMIT``, the
        organization's time zone, the window ``DEFAULT_WINDOW``. A bad placeholder or
        ``start_at`` not before ``end_at`` is a :class:`ValidationFailed`.
        """
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
            daily_limit=draft.daily_limit or DEFAULT_DAILY_LIMIT,
            timezone=timezone,
            window=draft.window or DEFAULT_WINDOW,
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

    def create_checked(self, org_id: str, draft: CampaignDraft) -> CreatedCampaign:
        """:meth:`create`, then the new draft's ``{attributes.KEY}`` placeholders that no
        contact of its audience has a value for (issue 17, point 4).

        The check is bounded, so a create costs the same whatever the audience: it reads
        the audience's first :data:`ATTRIBUTE_CHECK_LIMIT` (500) members (those its
        selection lists first) and their contacts, in batches of
        :data:`~outreach.campaigns.preview.AUDIENCE_READ_BATCH`, stopping as soon as every
        attribute named has a value in one of them; nothing when no placeholder names an
        attribute. A warning about an audience larger than that says "no contact among the
        first 500": a later member may have the attribute. The audience is the selection
        as it is now (opted-out and other numbers a start would leave out included); a
        preview checks exactly the contacts its start would take.
        """
        campaign = self.create(org_id, draft)
        return CreatedCampaign(campaign, self._attribute_warnings(campaign))

    def _attribute_warnings(self, campaign: Campaign) -> tuple[TemplateWarning, ...]:
        """The warnings of :meth:`create_checked`."""
        uses = AttributeUse((v.name, v.body) for v in campaign.variants)
        if uses.settled:
            return ()
        members = list(islice(self._audience(campaign), ATTRIBUTE_CHECK_LIMIT + 1))
        for batch in batched(members[:ATTRIBUTE_CHECK_LIMIT], AUDIENCE_READ_BATCH):
            found = self._contacts.get_many(campaign.org_id, (i for i, _ in batch))
            for contact in found.values():
                uses.add(contact.attributes)
            if uses.settled:
                return ()
        more = len(members) > ATTRIBUTE_CHECK_LIMIT
        return uses.warnings(checked_first=ATTRIBUTE_CHECK_LIMIT if more else None)

    def get(self, org_id: str, campaign_id: str) -> Campaign:
        """The campaign, or :class:`NotFound`."""
        return self._campaigns.get(org_id, campaign_id)

    def list_campaigns(
        self, org_id: str, *, status: CampaignStatus | None, limit: int, cursor: str | None
    ) -> Page[Campaign]:
        """A page of campaigns, newest first (only those in ``status`` if given)."""
        return self._campaigns.list(org_id, status=status, limit=limit, cursor=cursor)

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
            for name in CONTENT_FIELDS
            if getattr(draft, name) is not None
        }
        for name in CLEARABLE_FIELDS:
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
        """Delete a draft; :class:`Conflict` otherwise (a started campaign is cancelled)."""
        current = self._campaigns.get(org_id, campaign_id)
        if current.status is not CampaignStatus.DRAFT:
            raise Conflict(f"A {current.status.value} campaign cannot be deleted; cancel it.")
        self._campaigns.delete_draft(org_id, campaign_id, now=self._clock.now())

    def preview(self, org_id: str, campaign_id: str, contact_id: str | None) -> Preview:
        """Each variant rendered for the contact (or with every placeholder's fallback) as a
        repeat and as a first message, which of the two the contact gets now and its
        variant, and the cost of the current audience
        (:func:`~outreach.campaigns.preview.preview_campaign`; issue 15, point 7).

        The current audience of a draft is what its start would take now (the start's own
        filter, :meth:`_kept`); of a started campaign, its recipients still to be texted.
        :class:`ValidationFailed` for a ``contact_id`` the organization has no contact of.
        """
        campaign = self._campaigns.get(org_id, campaign_id)
        contact = None
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
        organization = self._organizations.get_organization(org_id)
        if campaign.status is not CampaignStatus.DRAFT:
            return preview_campaign(
                campaign,
                organization.opt_out_footer,
                contact,
                self._recipients.open_recipients(org_id, campaign.id),
                contacts=self._contacts,
                recipients=self._recipients,
            )
        audience = self._audience_filter(campaign, organization, self._clock.now())
        kept_contact = False

        def members() -> Iterator[tuple[str, str, str]]:
            nonlocal kept_contact
            for member_id, phone in self._kept(campaign, audience):
                kept_contact = kept_contact or (contact is not None and member_id == contact.id)
                yield member_id, phone, assigned(campaign, member_id)

        preview = preview_campaign(
            campaign,
            organization.opt_out_footer,
            contact,
            members(),
            contacts=self._contacts,
            recipients=self._recipients,
        )
        if contact is None or kept_contact:
            return preview
        # The start would not take this contact: no variant, and why (as the start counts).
        return replace(
            preview,
            assigned_variant=None,
            left_out=audience.reason_left_out(campaign, contact),
        )

    # --- Lifecycle -----------------------------------------------------------------------

    def start(self, org_id: str, campaign_id: str) -> Campaign:
        """Snapshot the audience into recipients and go active; answer the campaign with its
        ``recipients`` (how many were written) and ``left_out`` (:class:`LeftOut`).

        A member becomes a recipient unless its number is opted out, is one the
        organization may not text under its current settings
        (:func:`~outreach.destinations.not_textable_reason`), or could never be texted in
        the campaign's window within its quiet hours and its states' rules
        (:class:`Reach`, issue 15 point 5). 409 unless draft, or without a sender number.
        """
        campaign = self._campaigns.get(org_id, campaign_id, consistent=True)
        start = TRANSITIONS["start"]
        if campaign.status not in start.allowed:
            raise Conflict(f"A {campaign.status.value} campaign cannot be started.")
        organization = self._organizations.get_organization(org_id)
        if not organization.sender_number:
            raise Conflict("Set the organization's sender_number before starting a campaign.")
        now = self._clock.now()
        token = new_id(now)
        self._campaigns.begin_start(
            org_id, campaign.id, token=token, now=now, until=now + START_LEASE
        )
        self._recipients.clear_snapshot(org_id, campaign.id)
        audience = self._audience_filter(campaign, organization, now)

        def recipients() -> Iterator[Recipient]:
            for contact_id, phone in self._kept(campaign, audience):
                yield Recipient(
                    org_id=org_id,
                    campaign_id=campaign.id,
                    contact_id=contact_id,
                    phone=phone,
                    variant=assigned(campaign, contact_id),
                    status=RecipientStatus.PENDING,
                    attempts=0,
                    provider_message_id=None,
                    error=None,
                    sent_at=None,
                    updated_at=now,
                )

        # The variants' counters follow from the recipients' stream (outreach.stats).
        total = self._recipients.write_snapshot(recipients())
        start = replace(start, recipients=total, left_out=audience.left_out(), start_token=token)
        return self._campaigns.transition(org_id, campaign.id, start, now=self._clock.now())

    def _audience(self, campaign: Campaign) -> Iterator[tuple[str, str]]:
        if campaign.audience.all:
            return self._contacts.all_members(campaign.org_id)
        if campaign.audience.tags:
            return self._contacts.tag_members(campaign.org_id, campaign.audience.tags)
        return self._contacts.members_by_ids(campaign.org_id, campaign.audience.contact_ids)

    def _audience_filter(
        self, campaign: Campaign, organization: Organization, now: datetime
    ) -> _Audience:
        """The start's filter of ``campaign``'s members under ``organization``'s settings,
        reach checked over the week from ``now`` (a preview of a draft counts what it
        keeps: the same rules, the same reads)."""
        return _Audience(
            suppressed=self._opt_outs.all_phones(organization.id),
            allowed=allowed_regions(organization.allowed_countries, organization.sender_number),
            # The hours the sender will apply: stored ones narrowed to the federal window.
            reach=Reach(SendWindow.of(campaign), QuietHours.of(organization), start=now),
            fallback_zones=organization.fallback_time_zones,
        )

    def _kept(self, campaign: Campaign, audience: _Audience) -> Iterator[tuple[str, str]]:
        """The ``(contact id, phone)`` members of ``campaign``'s audience that ``audience``
        keeps, their places read :data:`ZONE_READ_BATCH` at a time."""
        for members in batched(self._audience(campaign), ZONE_READ_BATCH):
            yield from audience.keep(self._contacts, campaign.org_id, members)

    def pause(self, org_id: str, campaign_id: str) -> Campaign:
        """Stop sending; returns once no message can leave any more."""
        paused = self._move(org_id, campaign_id, "pause")
        self._clock.sleep(SEND_DEADLINE_SECONDS)
        return paused

    def resume(self, org_id: str, campaign_id: str) -> Campaign:
        """Send again (from paused)."""
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
        return self._campaigns.transition(
            org_id, campaign_id, TRANSITIONS[action], now=self._clock.now()
        )

    # --- Statistics and sends ------------------------------------------------------------------

    def stats(self, org_id: str, campaign_id: str) -> CampaignStats:
        """The counters of each variant (in the campaign's order) and their totals, today's
        sends in the campaign's zone, reply rates, and the winner once one is significant."""
        campaign = self._campaigns.get(org_id, campaign_id)
        counts = self._recipients.counts(org_id, campaign_id)
        by_name = {c.name: c for c in counts}
        ordered = [by_name.get(v.name, VariantCounts(name=v.name)) for v in campaign.variants]
        totals = VariantCounts.total("*", ordered)
        today = cap_day(self._clock.now(), campaign.timezone)
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
        self, org_id: str, query: SendsQuery, *, limit: int, cursor: str | None
    ) -> Page[Recipient]:
        """A page of the campaign's sends (only those in ``query.status`` if given).

        The cursor is opened before the campaign is looked up, so a cursor of another
        listing or organization is a 400 even on a campaign the caller cannot see.
        """
        page = self._recipients.list(org_id, query, limit=limit, cursor=cursor)
        campaign = self._campaigns.get(org_id, query.campaign_id)
        pending = [r for r in page.items if r.status is RecipientStatus.PENDING]
        if not pending:
            return page
        return Page(self._with_waiting_reasons(campaign, page.items, pending), page.next_cursor)

    def _with_waiting_reasons(
        self, campaign: Campaign, items: list[Recipient], pending: list[Recipient]
    ) -> list[Recipient]:
        """``items`` with each pending one's ``waiting_reason`` and ``next_attempt_at``
        (:mod:`outreach.sending.waiting`): two counter reads and one batch read of the
        pending contacts' zones and states per page."""
        org_id, now = campaign.org_id, self._clock.now()
        organization = self._organizations.get_organization(org_id)
        moment = CampaignMoment(
            now=now,
            campaign=campaign,
            organization=organization,
            campaign_sends_today=self._recipients.sends_on(
                org_id, campaign.id, cap_day(now, campaign.timezone)
            ),
            org_sends_today=self._recipients.org_sends_on(
                org_id, org_day(now, organization.timezone)
            ),
        )
        places = self._contacts.places(org_id, (r.contact_id for r in pending))
        waiting = {}
        for recipient in pending:
            # A contact deleted since the start: its number's own place.
            timezone, state = places.get(recipient.contact_id, _NOWHERE)
            reason, until = moment.reason_for(
                recipient.phone,
                timezone=timezone,
                state=state,
                stored=recipient.waiting_reason,
                retry_at=recipient.next_attempt_at,
            )
            waiting[recipient.contact_id] = replace(
                recipient, waiting_reason=reason.value if reason else None, next_attempt_at=until
            )
        return [waiting.get(r.contact_id, r) for r in items]


# A contact the batch read did not find (deleted meanwhile): no zone or state of its own.
_NOWHERE = ContactPlace(None, None)


@dataclass
class _Audience:
    """A start's filter of its audience's members, and its count of each one left out
    (:class:`LeftOut`, whose order of reasons it follows)."""

    suppressed: set[str]  # the opt-out list
    allowed: frozenset[str]  # the countries the organization may text
    reach: Reach
    fallback_zones: tuple[str, ...]  # for a number no place can be pinned to (rule 8)
    opted_out: int = 0
    not_textable: int = 0
    never_in_window: int = 0

    def keep(
        self, contacts: AudienceSource, org_id: str, members: Sequence[tuple[str, str]]
    ) -> Iterator[tuple[str, str]]:
        """The ``(contact id, phone)`` members that become recipients; the zones and
        states of those still in after the number checks are read in one call."""
        textable: list[tuple[str, str]] = []
        for contact_id, phone in members:
            if phone in self.suppressed:
                self.opted_out += 1
            elif not_textable_reason(phone, self.allowed) is not None:
                self.not_textable += 1
            else:
                textable.append((contact_id, phone))
        if not textable:
            return
        places = contacts.places(org_id, (contact_id for contact_id, _ in textable))
        for contact_id, phone in textable:
            timezone, state = places.get(contact_id, _NOWHERE)
            # The place the sender holds the text to (CampaignSender._turn): the same call.
            place = RecipientPlace.of(
                phone, timezone=timezone, state=state, fallback_zones=self.fallback_zones
            )
            if self.reach.reaches(place):
                yield contact_id, phone
            else:
                self.never_in_window += 1

    def reason_left_out(self, campaign: Campaign, contact: Contact) -> LeftOutReason:
        """Why :meth:`keep` did not keep ``contact`` (called after it saw every member of
        ``campaign``'s audience): not a member of the audience at all, else the first
        reason of :class:`LeftOut`'s order its number meets (the reach is the last)."""
        if not campaign.audience.selects(contact.id, contact.tags):
            return LeftOutReason.NOT_IN_AUDIENCE
        if contact.phone in self.suppressed:
            return LeftOutReason.OPTED_OUT
        if not_textable_reason(contact.phone, self.allowed) is not None:
            return LeftOutReason.NOT_TEXTABLE
        return LeftOutReason.NEVER_IN_WINDOW

    def left_out(self) -> LeftOut:
        """The counts so far (all of them once :meth:`keep` has seen every member)."""
        return LeftOut(self.opted_out, self.not_textable, self.never_in_window)


def _check(campaign: Campaign) -> None:
    """Rules that span fields, on the campaign as it would be stored (a PATCH may set one
    date against the other's stored value): placeholders, and ``start_at`` before
    ``end_at``. A :class:`ValidationFailed` names the field to fix."""
    check_placeholders([(v.name, v.body) for v in campaign.variants])
    if campaign.start_at and campaign.end_at and campaign.start_at >= campaign.end_at:
        raise ValidationFailed(
            "start_at must be before end_at.",
            [{"loc": ["body", "end_at"], "msg": "must be after start_at"}],
        )


def build_campaign_service(clock: Clock) -> CampaignService:
    """The service on DynamoDB, with ``clock`` (the local stack gives each organization its own)."""
    ensure_models_bound()
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
