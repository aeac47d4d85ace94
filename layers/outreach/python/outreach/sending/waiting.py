"""Why a pending recipient waits: a send's ``waiting_reason`` and ``next_attempt_at``.

Source: ``api-contract.md``, Addendum 1 (``send``), and issue 14 ("a recipient held
back by it waits (it is not skipped) and ``/sends`` says why"). Two reasons belong to
one recipient and are stored on it by the sender, with the instant it waits for:
``frequency_cap`` (its number had its ``contact_daily_limit`` of campaign texts in the
last 24 hours) and ``retry`` (a transient provider error's backoff). The others follow
from the campaign and the organization at the moment the send is read, in the order
the sender meets them (:mod:`outreach.sending.sender`): the campaign's dates and
window, its ``daily_limit``, the organization's ``daily_message_limit``, then the
recipient's quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from outreach.campaigns.domain import Campaign, CampaignStatus
from outreach.identity.domain import Organization
from outreach.sending.domain import WaitingReason
from outreach.sending.rules import (
    QuietHours,
    SendWindow,
    campaign_window_allows,
    quiet_hours_allow,
    recipient_zones,
    within_dates,
)


@dataclass(frozen=True)
class CampaignMoment:
    """What every pending recipient of a campaign waits on at ``now``: the campaign's and
    the organization's texts counted today."""

    now: datetime
    campaign: Campaign
    organization: Organization
    campaign_sends_today: int
    org_sends_today: int

    def common_reason(self) -> WaitingReason | None:
        """The reason every pending recipient waits now, or ``None`` (each its own)."""
        campaign, now = self.campaign, self.now
        window = SendWindow.from_hhmm(
            campaign.timezone, campaign.window.start, campaign.window.end, campaign.window.days
        )
        if not (
            within_dates(now, campaign.start_at, campaign.end_at)
            and campaign_window_allows(now, window)
        ):
            return WaitingReason.WINDOW
        if self.campaign_sends_today >= campaign.daily_limit:
            return WaitingReason.DAILY_LIMIT
        if self.org_sends_today >= self.organization.daily_message_limit:
            return WaitingReason.ORG_DAILY_LIMIT
        return None

    def reason_for(
        self,
        phone: str,
        contact_timezone: str | None,
        *,
        stored: str | None,
        retry_at: datetime | None,
    ) -> tuple[WaitingReason | None, datetime | None]:
        """Why the pending recipient texted at ``phone`` waits, and until when if known.

        ``stored``/``retry_at``: the reason and instant the sender wrote on it; they hold
        while ``retry_at`` is ahead. ``(None, None)``: it waits for nothing but its turn
        (the next tick), or the campaign is not active.
        """
        if stored is not None and retry_at is not None and retry_at > self.now:
            return WaitingReason(stored), retry_at
        if self.campaign.status is not CampaignStatus.ACTIVE:
            return None, None
        common = self.common_reason()
        if common is not None:
            return common, None
        organization = self.organization
        quiet = QuietHours.from_hhmm(
            organization.quiet_hours_start, organization.quiet_hours_end
        ).within_legal_hours()
        zones = recipient_zones(contact_timezone, phone, organization.timezone)
        if not quiet_hours_allow(self.now, quiet, zones):
            return WaitingReason.QUIET_HOURS, None
        return None, None
