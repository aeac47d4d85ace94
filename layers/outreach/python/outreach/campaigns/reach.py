"""Whether a campaign could ever text a recipient: its weekly send window against the
organization's quiet hours in every zone the recipient may be in.

Source: issue 14, point 1 (a start leaves out what could never be sent, counted as
``never_in_window`` in ``api-contract.md``'s Addendum 1), on the rules of
``sending-rules.md``, "When a message may go out": rule 2 (the campaign's window,
in the campaign's zone) and rule 3 (quiet hours in each of the recipient's zones),
as :mod:`outreach.sending.rules` states them. A recipient no minute satisfies both
would stay pending for ever, and the campaign would never complete.

The check is exact over the week that follows the start: both rules change only at
whole minutes (``HH:MM`` bounds; zone offsets are whole minutes), so trying the
first instant of every minute of those 7 days (10,080) decides it. The campaign's
dates (rule 1) bound the campaign as a whole, not a recipient, and are left to the
sender. A week holds every day of the window once; what it cannot see is a DST
change of one zone but not another later in the year, which moves an overlap by an
hour at most.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.sending.rules import QuietHours, SendWindow, campaign_window_allows, quiet_hours_allow

SCAN = timedelta(days=7)
STEP = timedelta(minutes=1)


class Reach:
    """The minutes of the week from ``start`` when the campaign's ``window`` is open, and,
    per tuple of recipient zones (cached: an audience has few distinct ones), whether the
    organization's ``quiet`` hours allow at least one of them.

    Building one tries 10,080 minutes against the window (about 0.1 s, once per start);
    a zone tuple tries at most the window's open minutes (2,700 for 09:00-18:00 on
    weekdays; about 0.1 s for the 42 zones of a US toll-free number that none reaches)
    and usually stops at the first.
    """

    def __init__(self, window: SendWindow, quiet: QuietHours, *, start: datetime) -> None:
        first = start.astimezone(UTC).replace(second=0, microsecond=0)
        minutes = (first + STEP * index for index in range(SCAN // STEP))
        self._open = [minute for minute in minutes if campaign_window_allows(minute, window)]
        self._quiet = quiet
        self._known: dict[tuple[str, ...], bool] = {}

    def reaches(self, zones: tuple[str, ...]) -> bool:
        """Whether some open minute of the window is within quiet hours in every one of
        ``zones`` (:func:`~outreach.sending.rules.recipient_zones`: at least one zone)."""
        known = self._known.get(zones)
        if known is None:
            known = any(quiet_hours_allow(minute, self._quiet, zones) for minute in self._open)
            self._known[zones] = known
        return known
