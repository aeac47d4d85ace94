"""State rules: the US states' own hours for marketing texts, on top of the federal window.

Source: ``sending-rules.md``, "State rules and languages", rule 7 (issue 15, point 1).
A recipient's states are the contact's ``state`` when set and the state of the
number's area code (:data:`outreach.area_code_states.AREA_CODE_STATES`, distilled
from libphonenumber's geocoder); a text may go only when every one of those states'
rules allows it at that instant in the recipient's local time (each of the
recipient's zones, like the federal window of rule 3). A state with no row here adds
nothing to the federal window.

**The table is product data, not code.** A rule change is a change of
:data:`STATE_HOURS` (one row per state: Monday-Friday, Saturday, Sunday; ``none``:
no marketing texts that day), :data:`EFFECTIVE_DATE` and :data:`SOURCES`, reviewed
like any other change. It is not legal advice, and the README says so. State
holidays are not modelled yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from types import MappingProxyType
from typing import Final

from outreach.area_code_states import AREA_CODE_STATES
from outreach.timezones import parse_hhmm, zone

EFFECTIVE_DATE: Final = date(2026, 11, 30)
"""The day the table below was last reviewed against its sources."""

SOURCES: Final[tuple[str, ...]] = (
    "referrizer.com, 'TCPA Quiet Hours and State-Specific Rules for Text Campaigns'",
    "dropcowboy.com, 'State Calling Restrictions Guide' (updated 2025-11-01)",
    "Texas Business & Commerce Code ch. 301-302 (SB 140, effective 2025-09-01)",
    "Florida Statutes 501.059 (Florida Telephone Solicitation Act) and 501.616",
    "Washington RCW 80.36.390",
)
"""Where each row comes from (secondary sources summarise the statutes: verify before
relying on them)."""

# state | Monday-Friday | Saturday | Sunday    (local time, start <= t < end; "none": no texts)
_TABLE: Final = """
AL | 08:00-20:00 | 08:00-20:00 | none
CT | 09:00-20:00 | 09:00-20:00 | 09:00-20:00
FL | 08:00-20:00 | 08:00-20:00 | 08:00-20:00
KY | 10:00-21:00 | 10:00-21:00 | 10:00-21:00
LA | 08:00-20:00 | 08:00-20:00 | none
MD | 08:00-20:00 | 08:00-20:00 | 08:00-20:00
MA | 08:00-20:00 | 08:00-20:00 | 08:00-20:00
MI | 09:00-21:00 | 09:00-21:00 | 09:00-21:00
MN | 09:00-21:00 | 09:00-21:00 | 09:00-21:00
MS | 08:00-20:00 | 08:00-20:00 | none
NV | 09:00-20:00 | 09:00-20:00 | 09:00-20:00
NJ | 08:00-20:00 | 08:00-20:00 | 08:00-20:00
NM | 09:00-21:00 | 09:00-21:00 | 09:00-21:00
OK | 08:00-20:00 | 08:00-20:00 | 08:00-20:00
RI | 09:00-18:00 | 10:00-17:00 | none
TX | 09:00-21:00 | 09:00-21:00 | 12:00-21:00
WA | 08:00-20:00 | 08:00-20:00 | 08:00-20:00
"""

US_STATES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas",
        "CA": "California", "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware",
        "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii",
        "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
        "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
        "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
        "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
        "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
        "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
        "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
        "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah",
        "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
        "WI": "Wisconsin", "WY": "Wyoming",
        "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands",
        "PR": "Puerto Rico", "VI": "U.S. Virgin Islands",
    }
)  # fmt: skip
"""The two-letter USPS codes a contact's ``state`` may hold: the 50 states, the
District of Columbia and the inhabited territories."""

_NAME_KEY = re.compile(r"[^a-z]")
_BY_NAME: Final[Mapping[str, str]] = MappingProxyType(
    {
        **{_NAME_KEY.sub("", name.lower()): code for code, name in US_STATES.items()},
        "washingtondc": "DC",
        "dc": "DC",
        "usvirginislands": "VI",
        "virginislands": "VI",
    }
)


def state_code(text: str | None) -> str | None:
    """The USPS code for ``text``: a code in any case (``"fl"``) or a state's name in any
    case and spacing (``"Florida"``, ``"new  york"``, ``"District of Columbia"``);
    ``None`` for anything else (blank, ``"Ontario"``, ``"Fla."``)."""
    if not text:
        return None
    cleaned = text.strip()
    if len(cleaned) == 2 and cleaned.upper() in US_STATES:
        return cleaned.upper()
    return _BY_NAME.get(_NAME_KEY.sub("", cleaned.lower()))


@dataclass(frozen=True)
class Hours:
    """Local ``start <= t < end`` on one day."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("hours must start before they end")


@dataclass(frozen=True)
class StateRule:
    """One state's hours for marketing texts, by day of the week (``None``: no texts)."""

    state: str
    weekdays: Hours | None
    saturday: Hours | None
    sunday: Hours | None

    def hours_on(self, weekday: int) -> Hours | None:
        """The hours on ``weekday`` (``date.weekday()``: 0 Monday .. 6 Sunday)."""
        if weekday < 5:
            return self.weekdays
        return self.saturday if weekday == 5 else self.sunday

    def allows(self, local: datetime) -> bool:
        """Whether a text may go at the recipient's wall clock ``local``."""
        hours = self.hours_on(local.weekday())
        return hours is not None and hours.start <= local.time() < hours.end


def _hours(cell: str) -> Hours | None:
    if cell == "none":
        return None
    start, end = cell.split("-")
    return Hours(parse_hhmm(start), parse_hhmm(end))


def _parse(table: str) -> Mapping[str, StateRule]:
    rules: dict[str, StateRule] = {}
    for line in table.strip().splitlines():
        state, weekdays, saturday, sunday = (cell.strip() for cell in line.split("|"))
        if state not in US_STATES or state in rules:
            raise ValueError(f"state rules table: unknown or repeated state {state!r}")
        rules[state] = StateRule(state, _hours(weekdays), _hours(saturday), _hours(sunday))
    return MappingProxyType(rules)


STATE_HOURS: Final[Mapping[str, StateRule]] = _parse(_TABLE)
"""The states that restrict marketing texts beyond the federal window, by USPS code."""


def area_code_states(phone: str) -> tuple[str, ...]:
    """The US states of an E.164 number's area code (``"+13055550123"`` -> ``("FL",)``);
    ``()`` for a number outside the US states (toll-free, Canada, abroad)."""
    if len(phone) != 12 or not phone.startswith("+1"):
        return ()
    return AREA_CODE_STATES.get(phone[2:5], ())


def recipient_states(contact_state: str | None, phone: str) -> tuple[str, ...]:
    """A recipient's states, sorted: the contact's ``state`` (a USPS code) and its number's
    area code's (:func:`area_code_states`)."""
    states = set(area_code_states(phone))
    if contact_state:
        states.add(contact_state.upper())
    return tuple(sorted(states))


def restricting(states: Iterable[str]) -> tuple[StateRule, ...]:
    """The rules of those of ``states`` that have one."""
    return tuple(STATE_HOURS[state] for state in states if state in STATE_HOURS)


def state_rules_allow(now: datetime, states: Sequence[str], zones: Sequence[str]) -> bool:
    """Rule 7: every one of ``states``' rules allows ``now`` at the wall clock of every one
    of the recipient's ``zones``. ``True`` when no state has a rule."""
    rules = restricting(states)
    if not rules:
        return True
    if now.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    instant = now.astimezone(UTC)
    locals_ = [instant.astimezone(zone(name)) for name in zones]
    return all(rule.allows(local) for rule in rules for local in locals_)
