"""Whether a campaign could ever text a recipient: its weekly send window against the
organization's quiet hours and the recipient's states' rules, where the recipient is.

Source: issue 14, point 1 and issue 15, point 5 (a start leaves out what could never
be sent, counted as ``never_in_window`` in ``api-contract.md``'s Addendum 1), on the
rules of ``sending-rules.md``: rule 2 (the campaign's window, in the campaign's
zone), rule 3 (quiet hours in each of the recipient's zones) and rule 7 (the rules of
each of the recipient's states, in those zones), as :mod:`outreach.sending.rules`
states them (:func:`~outreach.sending.rules.recipient_allows`). A recipient no minute
satisfies all of them would stay pending for ever, and the campaign would never
complete.

The check is exact over the week that follows the start: every rule changes only at
whole minutes (``HH:MM`` bounds; zone offsets are whole minutes), so trying the
first instant of every minute of those 7 days (10,080) decides it. The campaign's
dates (rule 1) bound the campaign as a whole, not a recipient, and are left to the
sender. A week holds every day of the window and of the states' rules once; what it
cannot see is a DST change of one zone but not another later in the year, which
moves an overlap by an hour at most.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.sending.rules import (
    QuietHours,
    RecipientPlace,
    SendWindow,
    campaign_window_allows,
    recipient_allows,
)

SCAN = timedelta(days=7)
STEP = timedelta(minutes=1)


class Reach:
    """The minutes of the week from ``start`` when the campaign's ``window`` is open, and,
    per :class:`~outreach.sending.rules.RecipientPlace` (cached: an audience has few
    distinct ones, a few zones times a few states), whether the organization's ``quiet``
    hours and the place's states' rules allow at least one of them.

    Building one tries 10,080 minutes against the window (about 0.1 s, once per start);
    a place tries at most the window's open minutes (2,700 for 09:00-18:00 on weekdays;
    about 0.1 s for a place none of them reaches) and usually stops at the first.
    """

    def __init__(self, window: SendWindow, quiet: QuietHours, *, start: datetime) -> None:
        first = start.astimezone(UTC).replace(second=0, microsecond=0)
        minutes = (first + STEP * index for index in range(SCAN // STEP))
        self._open = [minute for minute in minutes if campaign_window_allows(minute, window)]
        self._quiet = quiet
        self._known: dict[RecipientPlace, bool] = {}

    def reaches(self, place: RecipientPlace) -> bool:
        """Whether some open minute of the window lets a text go to a recipient at
        ``place`` (:meth:`RecipientPlace.of <outreach.sending.rules.RecipientPlace.of>`:
        at least one zone): within quiet hours and every state's rule in each zone."""
        known = self._known.get(place)
        if known is None:
            known = any(recipient_allows(minute, self._quiet, place) for minute in self._open)
            self._known[place] = known
        return known
