"""Where texts may go, on the contact and campaign-start side (issue 14, point 1), through
:class:`ContactService` and :class:`CampaignService` on the in-memory fakes.

The attack replayed: ``+449098790000`` (UK premium rate) and ``+88216001234`` (a
satellite number) were accepted as contacts of a US organization and received
campaign texts. They are still accepted, but shown ``textable: false`` with the
reason, and a start leaves them out, counted by reason in ``left_out``
(``api-contract.md``, Addendum 1). A start also leaves out recipients its send
window never reaches within the organization's quiet hours and their states' rules
(:mod:`outreach.campaigns.reach`; issue 15, points 1, 4 and 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.campaigns import domain
from outreach.campaigns.reach import Reach
from outreach.clock import SimulatedClock
from outreach.contacts.domain import ContactChanges, OptOutSource
from outreach.contacts.service import ContactService
from outreach.destinations import NotTextableReason
from outreach.identity.domain import Organization
from outreach.sending.rules import QuietHours, RecipientPlace, SendWindow
from tests.support import builders
from tests.support.campaign_fakes import CampaignFakes
from tests.support.fakes.identity import InMemoryIdentityStore

# Monday 23 November 2026, 10:00 in New York (winter: UTC-5).
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SENDER = "+16175550100"  # Boston: the organization texts the US by default
BOSTON = "+16175550101"
UK_PREMIUM = "+449098790000"
SATELLITE = "+88216001234"
UK_MOBILE = "+447400123456"  # GB in libphonenumber (+447781... is Guernsey's, GG)
# A US toll-free number: libphonenumber places it in 42 zones, from Guam (UTC+10) to
# Pago Pago (UTC-11), so it is pinned nowhere and takes the organization's
# fallback_time_zones (rule 8): by default the four contiguous zones, where 08:00-21:00
# in all of them at once is 11:00-21:00 in New York.
TOLL_FREE = "+18005550199"
# Idaho's area code spans Mountain (Boise) and Pacific time: 08:00-21:00 in both at once
# is 11:00-23:00 in New York.
IDAHO = "+12085550123"
PROVIDENCE = "+14015550123"  # Rhode Island: no marketing texts on Sundays
HOUSTON = "+17135550123"  # Texas: Sundays 12:00-21:00, Central time
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


class CountingOrganizations(InMemoryIdentityStore):
    """The identity fake, counting reads of an organization."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_organization(self, org_id: str) -> Organization:
        self.reads += 1
        return super().get_organization(org_id)


@dataclass
class World(CampaignFakes):
    """A US organization (sender in Boston, no ``allowed_countries``), its contacts and the
    two services on one set of fakes."""

    clock: SimulatedClock = field(default_factory=lambda: SimulatedClock(NOW))
    organizations: CountingOrganizations = field(default_factory=CountingOrganizations)

    def __post_init__(self) -> None:
        made = builders.organization(at=NOW, sender_number=SENDER)
        self.org_id = made.id
        self.organizations.organizations[made.id] = made

    @property
    def contact_service(self) -> ContactService:
        return ContactService(
            contacts=self.contacts,
            opt_outs=self.opt_outs,
            organizations=self.organizations,
            clock=self.clock,
        )

    def allow(self, *countries: str) -> None:
        stored = self.organizations.organizations[self.org_id]
        self.organizations.organizations[self.org_id] = replace(stored, allowed_countries=countries)

    def add(self, phone: str, timezone: str | None = None, state: str | None = None) -> str:
        self.clock.advance(timedelta(milliseconds=1))
        changes = ContactChanges(phone=phone, timezone=timezone, state=state)
        return self.contact_service.create(self.org_id, changes).id

    def start(self, window: domain.Window = domain.DEFAULT_WINDOW) -> domain.Campaign:
        draft = domain.CampaignDraft(
            name="Spring check",
            variants=(domain.Variant("A", "Hi", 1),),
            audience=domain.Audience(all=True),
            window=window,
        )
        campaign = self.service.create(self.org_id, draft)
        return self.service.start(self.org_id, campaign.id)

    def recipient_phones(self, campaign_id: str) -> set[str]:
        page = self.recipients.list(
            self.org_id, domain.SendsQuery(campaign_id), limit=1000, cursor=None
        )
        return {r.phone for r in page.items}


@pytest.fixture
def world() -> World:
    return World()


# --- Contacts: stored, and shown not textable with the reason -----------------------------


def test_premium_and_satellite_numbers_are_stored_but_shown_not_textable(world: World) -> None:
    service = world.contact_service
    boston, premium, satellite = (world.add(p) for p in (BOSTON, UK_PREMIUM, SATELLITE))
    shown = {
        c.id: c for c in service.list_contacts(world.org_id, tag=None, limit=10, cursor=None).items
    }
    # Stored: each is a contact, listed and read back.
    assert set(shown) == {boston, premium, satellite}
    # A US organization may not text the UK or a satellite network: the country comes
    # first, so the premium number abroad is reported as a country not allowed.
    assert (shown[boston].textable, shown[boston].not_textable_reason) == (True, None)
    for contact_id in (premium, satellite):
        assert shown[contact_id].textable is False
        assert shown[contact_id].not_textable_reason is NotTextableReason.COUNTRY_NOT_ALLOWED
    assert service.get(world.org_id, premium) == shown[premium]


def test_allowing_gb_makes_a_uk_mobile_textable_but_never_the_premium_line(
    world: World,
) -> None:
    service = world.contact_service
    mobile, premium, satellite = (world.add(p) for p in (UK_MOBILE, UK_PREMIUM, SATELLITE))
    assert service.get(world.org_id, mobile).not_textable_reason == "country_not_allowed"
    # The settings are read as they are now: nothing about the contact is rewritten.
    world.allow("US", "GB")
    assert service.get(world.org_id, mobile).textable is True
    assert service.get(world.org_id, premium).not_textable_reason is NotTextableReason.LINE_TYPE
    assert service.get(world.org_id, satellite).not_textable_reason == "country_not_allowed"


def test_a_patch_answers_the_reason_of_the_new_number(world: World) -> None:
    contact_id = world.add(BOSTON)
    service = world.contact_service
    changed = service.update(world.org_id, contact_id, ContactChanges(phone=UK_PREMIUM))
    assert changed.phone == UK_PREMIUM
    assert changed.not_textable_reason is NotTextableReason.COUNTRY_NOT_ALLOWED
    # A PATCH that changes nothing answers the reason too.
    same = service.update(world.org_id, contact_id, ContactChanges())
    assert same == changed


def test_the_organization_is_read_once_per_call_not_per_contact(world: World) -> None:
    for index in range(5):
        world.add(f"+1617555020{index}")
    world.organizations.reads = 0
    page = world.contact_service.list_contacts(world.org_id, tag=None, limit=50, cursor=None)
    assert len(page.items) == 5
    assert world.organizations.reads == 1
    world.contact_service.update(world.org_id, page.items[0].id, ContactChanges(first_name="Al"))
    assert world.organizations.reads == 2


# --- Campaign start: left out, counted by reason --------------------------------------------


def test_a_start_leaves_out_what_may_not_be_texted_and_counts_it(world: World) -> None:
    kept = world.add(BOSTON)
    world.add(UK_PREMIUM)
    world.add(SATELLITE)
    world.add("+16175550102")
    world.opt_outs.add(world.org_id, "+16175550102", OptOutSource.MANUAL, NOW)
    started = world.start()
    assert started.left_out == domain.LeftOut(opted_out=1, not_textable=2, never_in_window=0)
    # Neither number gets a recipient item, so the sender can never text them.
    assert world.recipient_phones(started.id) == {BOSTON}
    assert started.recipients == 1
    assert [
        r.contact_id
        for r in world.recipients.list(
            world.org_id, domain.SendsQuery(started.id), limit=10, cursor=None
        ).items
    ] == [kept]
    # The counts stay with the campaign.
    assert world.service.get(world.org_id, started.id).left_out == started.left_out


def test_a_start_follows_the_allowed_countries_of_the_moment(world: World) -> None:
    for phone in (BOSTON, UK_MOBILE, UK_PREMIUM, SATELLITE):
        world.add(phone)
    world.allow("US", "GB")
    started = world.start()
    assert world.recipient_phones(started.id) == {BOSTON, UK_MOBILE}
    assert started.left_out == domain.LeftOut(not_textable=2)


def test_a_recipient_the_window_never_reaches_is_left_out(world: World) -> None:
    # Issue 15 changed this on purpose (rule 8): a toll-free number was held to all 42
    # of its zones (17:00-19:30 New York) and a 09:00-17:00 window left it out; it is
    # now held to the four fallback zones (11:00-21:00 New York) and kept. An area code
    # truly spanning two zones keeps the every-zone rule: Idaho (11:00-23:00 New York)
    # is out of a 09:00-10:30 window's reach, while Boston is in it.
    world.add(TOLL_FREE)
    world.add(IDAHO)
    world.add(BOSTON)
    office = world.start(domain.Window("09:00", "17:00", WEEKDAYS))
    assert office.left_out == domain.LeftOut()
    assert world.recipient_phones(office.id) == {BOSTON, IDAHO, TOLL_FREE}
    early = world.start(domain.Window("09:00", "10:30", WEEKDAYS))
    assert early.left_out == domain.LeftOut(never_in_window=2)
    # Only what was written counts as recipients: the sender can close every one of
    # them, so the campaign can complete.
    assert early.recipients == 1
    assert world.recipient_phones(early.id) == {BOSTON}


def test_a_toll_free_number_follows_the_organizations_own_fallback_zones(world: World) -> None:
    # An organization texting the East Coast only: 09:00-10:30 New York reaches its
    # toll-free contacts (the default four zones would not: 08:00 Pacific is 11:00).
    stored = world.organizations.organizations
    stored[world.org_id] = replace(stored[world.org_id], fallback_time_zones=("America/New_York",))
    world.add(TOLL_FREE)
    started = world.start(domain.Window("09:00", "10:30", WEEKDAYS))
    assert started.left_out == domain.LeftOut()
    assert world.recipient_phones(started.id) == {TOLL_FREE}


def test_a_states_rule_the_window_never_meets_leaves_the_recipient_out(world: World) -> None:
    # A Sunday-only campaign, 09:00-11:00 in New York (08:00-10:00 in Houston): within
    # quiet hours everywhere, but Rhode Island allows no Sunday texts and Texas none
    # before 12:00; Massachusetts (08:00-20:00) allows Boston.
    world.add(PROVIDENCE)
    world.add(HOUSTON)
    world.add(BOSTON)
    sunday = world.start(domain.Window("09:00", "11:00", ("sun",)))
    assert sunday.left_out == domain.LeftOut(never_in_window=2)
    assert world.recipient_phones(sunday.id) == {BOSTON}
    # 13:00-15:00 New York is 12:00-14:00 in Houston: Texas allows it, Rhode Island never.
    afternoon = world.start(domain.Window("13:00", "15:00", ("sun",)))
    assert afternoon.left_out == domain.LeftOut(never_in_window=1)
    assert world.recipient_phones(afternoon.id) == {BOSTON, HOUSTON}


def test_the_contacts_own_state_decides_its_reach(world: World) -> None:
    # A Boston number whose contact lives in Rhode Island: no Sunday campaign reaches it.
    world.add("+16175550113", state="RI")
    world.add("+16175550114")
    started = world.start(domain.Window("13:00", "15:00", ("sun",)))
    assert started.left_out == domain.LeftOut(never_in_window=1)
    assert world.recipient_phones(started.id) == {"+16175550114"}


def test_quiet_hours_stored_wider_than_the_federal_window_do_not_widen_the_reach(
    world: World,
) -> None:
    # An organization whose stored setting says 00:00-23:59 (written before it was
    # refused): the sender narrows it to 08:00-21:00, so must the start. A 21:30-23:00
    # New York window never reaches a Boston number.
    stored = world.organizations.organizations
    stored[world.org_id] = replace(
        stored[world.org_id], quiet_hours_start="00:00", quiet_hours_end="23:59"
    )
    world.add(BOSTON)
    started = world.start(domain.Window("21:30", "23:00", WEEKDAYS))
    assert started.left_out == domain.LeftOut(never_in_window=1)
    assert world.recipient_phones(started.id) == set()


def test_the_contacts_own_zone_decides_its_reach(world: World) -> None:
    # The same Boston number: in Tokyo, 09:00-18:00 New York is 23:00-08:00 there.
    world.add("+16175550111", timezone="Asia/Tokyo")
    world.add("+16175550112")
    started = world.start()
    assert started.left_out == domain.LeftOut(never_in_window=1)
    assert world.recipient_phones(started.id) == {"+16175550112"}


def test_every_reason_counts_once_under_its_first(world: World) -> None:
    # Opted out and not textable: counted as opted out only.
    world.add(UK_PREMIUM)
    world.opt_outs.add(world.org_id, UK_PREMIUM, OptOutSource.MANUAL, NOW)
    # Not textable and out of reach: counted as not textable only.
    world.add(SATELLITE, timezone="Asia/Tokyo")
    started = world.start()
    assert started.left_out == domain.LeftOut(opted_out=1, not_textable=1)
    assert started.recipients == 0


# --- The reach check itself ---------------------------------------------------------------


def _reach(start: str, end: str, *, days: tuple[str, ...] = WEEKDAYS) -> Reach:
    window = SendWindow.from_hhmm("America/New_York", start, end, days)
    return Reach(window, QuietHours.from_hhmm("08:00", "21:00"), start=NOW)


def test_reach_is_exact_to_the_minute() -> None:
    # New York and Guam both allow only 17:00-21:00 New York.
    place = RecipientPlace(("America/New_York", "Pacific/Guam"))
    assert _reach("16:59", "17:01").reaches(place)
    assert not _reach("16:59", "17:00").reaches(place)
    assert _reach("20:59", "21:00").reaches(place)
    assert not _reach("21:00", "23:00").reaches(place)


def test_reach_is_exact_to_the_minute_of_a_states_rule() -> None:
    # Florida's 20:00 in New York's zone, on top of quiet hours until 21:00.
    florida = RecipientPlace(("America/New_York",), ("FL",))
    assert _reach("19:59", "20:30").reaches(florida)
    assert not _reach("20:00", "21:00").reaches(florida)
    assert _reach("20:00", "21:00").reaches(RecipientPlace(("America/New_York",), ("NY",)))


def test_reach_sees_every_day_of_the_window_once() -> None:
    # Sunday only: the scan covers the next Sunday, six days after this Monday.
    guam = RecipientPlace(("Pacific/Guam",))
    assert _reach("17:00", "18:00", days=("sun",)).reaches(guam)
    assert not _reach("09:00", "10:00", days=("sun",)).reaches(guam)
    # And every day of a state's rules: Alabama has no Sunday, Texas a later one.
    assert not _reach("13:00", "15:00", days=("sun",)).reaches(
        RecipientPlace(("America/Chicago",), ("AL",))
    )
    assert _reach("13:00", "15:00", days=("sun", "mon")).reaches(
        RecipientPlace(("America/Chicago",), ("AL",))
    )
    assert _reach("13:00", "15:00", days=("sun",)).reaches(
        RecipientPlace(("America/Chicago",), ("TX",))
    )
