"""Why a pending recipient waits: a send's ``waiting_reason`` and ``next_attempt_at``.

Source: ``api-contract.md``, Addendum 1 (``send``), and issue 14 ("a recipient held
back by it waits (it is not skipped) and ``/sends`` says why"). Two reasons belong to
one recipient and are stored on it by the sender, with the instant it waits for:
``frequency_cap`` (its number had its ``contact_daily_limit`` of campaign texts in the
last 24 hours) and ``retry`` (a transient provider error's backoff). The others follow
from the campaign and the organization at the moment the send is read, in the order
the sender meets them (:mod:`outreach.sending.sender`): the campaign's dates and
window, its ``daily_limit``, the organization's ``daily_message_limit``, then the
recipient's quiet hours (``quiet_hours``) and its states' rules (``state_rule``,
``sending-rules.md`` rule 7, issue 15 point 6), both read where the recipient is
(:class:`~outreach.sending.rules.RecipientPlace`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cached_property

from outreach.campaigns.domain import Campaign
from outreach.campaigns.statuses import CampaignStatus
from outreach.identity.domain import Organization
from outreach.sending.domain import WaitingReason
from outreach.sending.rules import (
    QuietHours,
    RecipientPlace,
    SendWindow,
    campaign_allows,
    recipient_allows,
    recipient_hold,
)
from outreach.timezones import zone


@dataclass(frozen=True)
class CampaignMoment:
    """What every pending recipient of a campaign waits on at ``now``: the campaign's and
    the organization's texts counted today."""

    now: datetime
    campaign: Campaign
    organization: Organization
    campaign_sends_today: int
    org_sends_today: int
    # Per place met so far: what holds a recipient there back now, and until when.
    _held: dict[RecipientPlace, tuple[WaitingReason | None, datetime | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @cached_property
    def common_reason(self) -> tuple[WaitingReason | None, datetime | None]:
        """The reason every pending recipient waits now and when it may next be tried: the
        window's next opening; for a day's limit, the first minute of the next day's window
        (so not the midnight its counter resets, which may fall outside the window). Or
        ``(None, None)``: each waits for its own. Worked out once per moment."""
        campaign, now = self.campaign, self.now
        if not self._in_window(now):
            return WaitingReason.WINDOW, _first_minute(now, self._in_window, _WINDOW_HORIZON)
        if self.campaign_sends_today >= campaign.daily_limit:
            return WaitingReason.DAILY_LIMIT, self._window_from(
                next_day_start(now, campaign.timezone)
            )
        if self.org_sends_today >= self.organization.daily_message_limit:
            return WaitingReason.ORG_DAILY_LIMIT, self._window_from(
                next_day_start(now, self.organization.timezone)
            )
        return None, None

    def _window_from(self, day_start: datetime) -> datetime | None:
        """When a recipient a day's limit holds back may next be tried: the first minute
        from ``day_start`` (the next day, when the limit's counter no longer counts) that
        the campaign's window allows (``None``: it never opens again within a week)."""
        if self._in_window(day_start):
            return day_start
        return _first_minute(day_start, self._in_window, _WINDOW_HORIZON)

    def reason_for(
        self,
        phone: str,
        *,
        timezone: str | None,
        state: str | None,
        stored: str | None,
        retry_at: datetime | None,
    ) -> tuple[WaitingReason | None, datetime | None]:
        """Why the pending recipient texted at ``phone`` (E.164), whose contact has
        ``timezone`` and ``state`` (or ``None``), waits, and the first instant that reason
        no longer holds (``None``: not within the week, or it waits for nothing).

        ``stored``/``retry_at``: the reason and instant the sender wrote on it; they hold
        while ``retry_at`` is ahead. ``(None, None)``: it waits for nothing but its turn
        (the next tick), or the campaign is not active. For ``quiet_hours`` and
        ``state_rule`` the instant is the first minute both the quiet hours and the
        states' rules allow: the recipient's own next chance, whichever held it.
        """
        if stored is not None and retry_at is not None and retry_at > self.now:
            return WaitingReason(stored), retry_at
        if self.campaign.status is not CampaignStatus.ACTIVE:
            return None, None
        common, until = self.common_reason
        if common is not None:
            return common, until
        place = RecipientPlace.of(
            phone,
            timezone=timezone,
            state=state,
            fallback_zones=self.organization.fallback_time_zones,
        )
        held = self._held.get(place)
        if held is None:  # worked out once per place
            hold = recipient_hold(self.now, self._quiet, place)
            until = None if hold is None else next_allowed_minute(self.now, self._quiet, place)
            held = self._held[place] = (hold, until)
        return held

    @cached_property
    def _window(self) -> SendWindow:
        return SendWindow.of(self.campaign)

    @cached_property
    def _quiet(self) -> QuietHours:
        return QuietHours.of(self.organization)

    def _in_window(self, at: datetime) -> bool:
        return campaign_allows(at, self.campaign, self._window)


# How far ahead the first allowed minute is looked for: a week for the campaign's window
# (its days repeat weekly; past its end date nothing opens), and a week and a day for a
# recipient's place: its states' rules repeat weekly too (Rhode Island's Saturday
# 17:00 to Monday 09:00 holds 40 hours), and the extra day keeps an opening of an hour
# a week in sight when a DST change moves it.
_WINDOW_HORIZON = timedelta(days=7)
_PLACE_HORIZON = timedelta(days=8)


def _first_minute(
    now: datetime, allows: Callable[[datetime], bool], horizon: timedelta
) -> datetime | None:
    """The first whole minute after ``now`` that ``allows``, within ``horizon``; ``None``
    if none. Every bound of the rules is a whole minute, so none is missed."""
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for minute in range(int(horizon.total_seconds() // 60)):
        at = start + timedelta(minutes=minute)
        if allows(at):
            return at
    return None


def next_day_start(now: datetime, timezone: str) -> datetime:
    """The next day's start in ``timezone`` (UTC): when a day's counter no longer counts
    (a recipient, or a manual text, a day's limit held back may go)."""
    local = now.astimezone(zone(timezone))
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 0), tzinfo=zone(timezone)).astimezone(UTC)


def next_allowed_minute(now: datetime, quiet: QuietHours, place: RecipientPlace) -> datetime | None:
    """The first whole minute after ``now`` at which the organization's quiet hours and the
    states' rules of ``place`` allow a text (``None``: none within eight days): when a
    recipient, or a manual text, they held back may go."""
    return _first_minute(now, lambda at: recipient_allows(at, quiet, place), _PLACE_HORIZON)
