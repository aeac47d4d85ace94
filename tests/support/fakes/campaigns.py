"""In-memory fakes of the campaign ports (:mod:`outreach.campaigns.ports`).

They keep what the campaign rules depend on: conditional status changes that fail
with the same :class:`~outreach.errors.Conflict` (and its ``campaign_status`` or
``Retry-After``) as the DynamoDB updates, the start lease, audience snapshots
keyed by campaign and contact, and pages in the same order with sealed cursors,
including DynamoDB's way of filtering a page *after* ``limit`` items are read.
``tests/integration/test_campaigns_contract.py`` runs the same calls on these and
on the DynamoDB repositories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from outreach.campaigns import domain
from outreach.campaigns.repository import OPEN_STATUSES, campaigns_listing
from outreach.data.pages import Page, decode_cursor, encode_cursor
from outreach.errors import Conflict, NotFound
from outreach.ids import is_id


def _page[T](
    ordered: Sequence[T],
    key: Callable[[T], str],
    *,
    org_id: str,
    listing: str,
    cursor: str | None,
    limit: int,
    descending: bool = False,
    keep: Callable[[T], bool] = lambda _: True,
) -> Page[T]:
    """A page of ``ordered`` (already in the listing's order of ``key``) after ``cursor``,
    as a PynamoDB query with ``limit`` and a filter answers it on DynamoDB: pages of
    ``limit`` items are read and filtered until ``limit`` items are kept; the cursor
    names the last item kept, or the last item read when a read page ended the page,
    and there is none when nothing follows."""
    start = decode_cursor(cursor, org_id=org_id, listing=listing)
    position = 0
    if start is not None:
        after = start["k"]
        position = sum(
            1 for item in ordered if (key(item) >= after if descending else key(item) <= after)
        )
    kept: list[T] = []
    while position < len(ordered):
        read = ordered[position : position + limit]
        position += len(read)
        matches = [item for item in read if keep(item)]
        for index, item in enumerate(matches):
            kept.append(item)
            if len(kept) == limit:
                if index < len(matches) - 1:
                    last: str | None = key(item)
                else:
                    last = key(read[-1]) if position < len(ordered) else None
                sealed = None if last is None else {"k": last}
                return Page(kept, encode_cursor(sealed, org_id=org_id, listing=listing))
    return Page(kept, None)


@dataclass
class _StoredCampaign:
    campaign: domain.Campaign
    start_token: str | None = None
    start_lease_until: datetime | None = None

    def start_running(self, now: datetime) -> bool:
        return self.start_lease_until is not None and self.start_lease_until >= now


class InMemoryCampaignStore:
    """Campaigns in a dict, with the repository's conditional updates."""

    def __init__(self) -> None:
        self.campaigns: dict[tuple[str, str], _StoredCampaign] = {}

    def create(self, campaign: domain.Campaign) -> None:
        key = (campaign.org_id, campaign.id)
        if key in self.campaigns:
            raise AssertionError(f"campaign {campaign.id} already exists")
        self.campaigns[key] = _StoredCampaign(replace(campaign, recipients=0))

    def get(self, org_id: str, campaign_id: str, *, consistent: bool = False) -> domain.Campaign:
        stored = self.campaigns.get((org_id, campaign_id)) if is_id(campaign_id) else None
        if stored is None:
            raise NotFound("Campaign not found.")
        return stored.campaign

    def list(
        self, org_id: str, *, status: domain.CampaignStatus | None, limit: int, cursor: str | None
    ) -> Page[domain.Campaign]:
        ordered = sorted(
            (
                s.campaign
                for (org, _), s in self.campaigns.items()
                if org == org_id and (status is None or s.campaign.status is status)
            ),
            key=lambda c: c.id,
            reverse=True,
        )
        return _page(
            ordered,
            lambda c: c.id,
            org_id=org_id,
            listing=campaigns_listing(status),
            cursor=cursor,
            limit=limit,
            descending=True,
        )

    def update_content(
        self, campaign: domain.Campaign, *, allowed: frozenset[domain.CampaignStatus], now: datetime
    ) -> domain.Campaign:
        stored = self.campaigns.get((campaign.org_id, campaign.id))
        if stored is None or stored.campaign.status not in allowed or stored.start_running(now):
            raise Conflict(
                "The campaign can only be edited while draft or paused (and not starting)."
            )
        content = {
            name: getattr(campaign, name)
            for name in (*domain.CONTENT_FIELDS, *domain.CLEARABLE_FIELDS)
        }
        stored.campaign = replace(stored.campaign, **content, updated_at=now)
        return stored.campaign

    def delete_draft(self, org_id: str, campaign_id: str, *, now: datetime) -> None:
        stored = self.campaigns.get((org_id, campaign_id))
        if (
            stored is None
            or stored.campaign.status is not domain.CampaignStatus.DRAFT
            or stored.start_running(now)
        ):
            raise Conflict("Only a draft campaign can be deleted.")
        del self.campaigns[org_id, campaign_id]

    def begin_start(
        self, org_id: str, campaign_id: str, *, token: str, now: datetime, until: datetime
    ) -> None:
        stored = self.campaigns.get((org_id, campaign_id))
        if (
            stored is None
            or stored.campaign.status is not domain.CampaignStatus.DRAFT
            or stored.start_running(now)
        ):
            raise Conflict(
                "The campaign is being started, or is no longer a draft.",
                headers={"Retry-After": "5"},
            )
        stored.start_token = token
        stored.start_lease_until = until

    def transition(
        self, org_id: str, campaign_id: str, move: domain.Transition, *, now: datetime
    ) -> domain.Campaign:
        to = move.to
        stored = self.campaigns.get((org_id, campaign_id))
        holds = stored is not None and stored.campaign.status in move.allowed
        if stored is not None and move.start_token is not None:
            holds = holds and stored.start_token == move.start_token
        elif stored is not None and domain.CampaignStatus.DRAFT in move.allowed:
            holds = holds and not stored.start_running(now)
        if not holds:
            current = self.get(org_id, campaign_id)  # NotFound if it is gone
            raise Conflict(
                f"The campaign is {current.status.value}; it cannot become {to.value}.",
                extra={"campaign_status": current.status.value},
            )
        assert stored is not None
        moved = replace(stored.campaign, status=to, updated_at=now, paused_reason=None)
        if move.recipients is not None:
            moved = replace(moved, recipients=move.recipients, started_at=now)
        if move.left_out is not None:
            moved = replace(moved, left_out=move.left_out)
        if to in (domain.CampaignStatus.COMPLETED, domain.CampaignStatus.CANCELLED):
            moved = replace(moved, completed_at=now)
        if move.start_token is not None:
            stored.start_token = stored.start_lease_until = None
        stored.campaign = moved
        return moved

    # --- What the sending engine does to a campaign, for the tests -------------------

    def engine_sets(self, org_id: str, campaign_id: str, **changes: object) -> domain.Campaign:
        """Change stored fields as the engine would (complete it, pause it with a reason)."""
        stored = self.campaigns[org_id, campaign_id]
        stored.campaign = replace(stored.campaign, **changes)  # type: ignore[arg-type]
        return stored.campaign


class InMemoryRecipientStore:
    """Recipients by campaign and contact, their counters, and the daily cap's counters.

    ``counts`` answers what DynamoDB holds once the recipients' stream is counted
    (:mod:`outreach.stats.projection`: one ``recipients`` and one status counter per
    recipient, a claimed one as ``pending``, ``accepted`` once the provider took it),
    plus what :meth:`add_counts` added, as inbound adds replies and opt-outs.
    """

    def __init__(self) -> None:
        self.recipients: dict[tuple[str, str], dict[str, domain.Recipient]] = {}
        self._counts: dict[tuple[str, str], dict[str, domain.VariantCounts]] = {}
        self._sends: dict[tuple[str, str, str], int] = {}
        # The organizations' day counters (org id, day), as the sender and inbound move them.
        self.org_sends: dict[tuple[str, str], int] = {}
        # The numbers (org id, phone) with a phone history, as the sender writes them.
        self.texted: set[tuple[str, str]] = set()

    def clear_snapshot(self, org_id: str, campaign_id: str) -> int:
        return len(self.recipients.pop((org_id, campaign_id), {}))

    def write_snapshot(self, recipients: Iterable[domain.Recipient]) -> int:
        count = 0
        for recipient in recipients:
            # What the repository writes: a new recipient, before any attempt.
            stored = replace(
                recipient, attempts=0, provider_message_id=None, error=None, sent_at=None
            )
            key = (recipient.org_id, recipient.campaign_id)
            self.recipients.setdefault(key, {})[recipient.contact_id] = stored
            count += 1
        return count

    def counts(self, org_id: str, campaign_id: str) -> list[domain.VariantCounts]:
        totals: dict[str, dict[str, int]] = {}
        for recipient in self.recipients.get((org_id, campaign_id), {}).values():
            counters = totals.setdefault(recipient.variant, dict.fromkeys(domain.COUNTERS, 0))
            status = recipient.status
            bucket = (
                domain.RecipientStatus.PENDING
                if status is domain.RecipientStatus.SENDING
                else status
            )
            counters["recipients"] += 1
            counters[bucket.value] += 1
            counters["accepted"] += recipient.provider_message_id is not None
        for name, added in self._counts.get((org_id, campaign_id), {}).items():
            counters = totals.setdefault(name, dict.fromkeys(domain.COUNTERS, 0))
            for counter in domain.COUNTERS:
                counters[counter] += getattr(added, counter)
        return [domain.VariantCounts(name, **counters) for name, counters in totals.items()]

    def list(
        self, org_id: str, query: domain.SendsQuery, *, limit: int, cursor: str | None
    ) -> Page[domain.Recipient]:
        stored = self.recipients.get((org_id, query.campaign_id), {})
        return _page(
            sorted(stored.values(), key=lambda r: r.contact_id),
            lambda r: r.contact_id,
            org_id=org_id,
            listing=query.listing,
            cursor=cursor,
            limit=limit,
            keep=lambda r: query.status is None or r.status is query.status,
        )

    def skip_pending(
        self, org_id: str, campaign_id: str, *, reason: str, now: datetime
    ) -> dict[str, int]:
        skipped: dict[str, int] = {}
        stored = self.recipients.get((org_id, campaign_id), {})
        for contact_id, recipient in stored.items():
            if recipient.status is domain.RecipientStatus.PENDING:
                stored[contact_id] = replace(
                    recipient, status=domain.RecipientStatus.SKIPPED, error=reason, updated_at=now
                )
                skipped[recipient.variant] = skipped.get(recipient.variant, 0) + 1
        return skipped

    def sends_on(self, org_id: str, campaign_id: str, day: str) -> int:
        return self._sends.get((org_id, campaign_id, day), 0)

    def org_sends_on(self, org_id: str, day: str) -> int:
        return self.org_sends.get((org_id, day), 0)

    def open_recipients(self, org_id: str, campaign_id: str) -> Iterator[tuple[str, str, str]]:
        stored = self.recipients.get((org_id, campaign_id), {})
        for contact_id in sorted(stored):
            recipient = stored[contact_id]
            if recipient.status in OPEN_STATUSES:
                yield contact_id, recipient.phone, recipient.variant

    def variant_of(self, org_id: str, campaign_id: str, contact_id: str) -> str | None:
        recipient = self.recipients.get((org_id, campaign_id), {}).get(contact_id)
        return recipient.variant if recipient else None

    def texted_numbers(self, org_id: str, phones: Iterable[str]) -> set[str]:
        return {phone for phone in phones if (org_id, phone) in self.texted}

    # --- What other writers do (the stats stream, inbound, the sender), for the tests --

    def add_counts(self, org_id: str, campaign_id: str, counts: domain.VariantCounts) -> None:
        """Add ``counts`` to its variant's counters, as inbound adds replies and opt-outs."""
        by_variant = self._counts.setdefault((org_id, campaign_id), {})
        before = by_variant.get(counts.name, domain.VariantCounts(counts.name))
        by_variant[counts.name] = domain.VariantCounts.total(counts.name, [before, counts])

    def note_texted(self, org_id: str, phone: str) -> None:
        """Give ``phone`` a phone history, as the sender's first campaign text to it does."""
        self.texted.add((org_id, phone))

    def count_sends(self, org_id: str, campaign_id: str, day: str, sends: int) -> None:
        """Count ``sends`` on the campaign's daily counter for ``day``, as a sender does."""
        key = (org_id, campaign_id, day)
        self._sends[key] = self._sends.get(key, 0) + sends

    def engine_sets(
        self, org_id: str, campaign_id: str, contact_id: str, **changes: object
    ) -> domain.Recipient:
        """Change a recipient as the sender would (claim it, record its send)."""
        stored = self.recipients[org_id, campaign_id]
        stored[contact_id] = replace(stored[contact_id], **changes)  # type: ignore[arg-type]
        return stored[contact_id]
