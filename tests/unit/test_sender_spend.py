"""The sender's spend limits (sending-rules.md rule 9, issue 14), on fakes.

The organization's ``daily_message_limit`` across all its campaigns, the per-person
``contact_daily_limit`` across campaigns (rolling 24 hours; the recipient waits, it is
not skipped), where texts may go (countries and line types, checked again at send
time), and quiet hours that no stored setting can widen past the federal window.
Exactness under concurrent workers is shown on DynamoDB in
``tests/integration/test_spend_concurrency.py``.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from outreach.campaigns.domain import Window
from outreach.sending.domain import WaitingReason
from outreach.sending.sender import CLAIM_LEASE
from outreach.sms.providers import PermanentSendError, TransientSendError
from tests.support.builders import boston
from tests.support.faults import KILLED_AFTER_PROVIDER, Killed
from tests.unit.test_sender import DAY, ORG, assert_accounted, rig_with

PREMIUM_UK = "+449098790000"
SATELLITE = "+88216001234"
UK_MOBILE = "+447400123456"  # (+447781234567 of the issue is Guernsey's, GG)


def _texts_per_number(numbers: list[str]) -> Counter[str]:
    return Counter(numbers)


# --- Per person: contact_daily_limit across campaigns ---------------------------------------


def test_six_campaigns_to_the_same_people_text_each_person_once_a_day() -> None:
    # Given six campaigns started at the same ten contacts (the attack: 6 texts each)
    phones = [boston(i) for i in range(10)]
    rig = rig_with(10, phones=phones)
    campaigns = [rig.campaign_id] + [rig.start(phones) for _ in range(5)]
    # When every campaign's tick runs
    for campaign_id in campaigns:
        rig.campaign_id = campaign_id
        rig.run()
    # Then each person got one text, and the other recipients wait (pending, not skipped)
    assert _texts_per_number(rig.provider.numbers) == Counter(dict.fromkeys(phones, 1))
    waiting = [r for c in campaigns for r in rig.store.of_campaign(ORG, c) if r.retry_at]
    assert len(waiting) == 50
    assert {r.waiting_reason for r in waiting} == {WaitingReason.FREQUENCY_CAP}
    assert {r.status.value for r in waiting} == {"pending"}
    first_sent = rig.clock.now()
    assert all(
        r.retry_at is not None and first_sent < r.retry_at <= first_sent + timedelta(hours=24)
        for r in waiting
    )


def test_a_held_back_recipient_is_texted_once_the_24_hours_have_passed() -> None:
    rig = rig_with(1)
    first_campaign = rig.campaign_id
    rig.run()
    second = rig.start([boston(0)])
    # 23 hours later (Tuesday 09:00 Eastern): still held back
    rig.clock.advance(timedelta(hours=23))
    report = rig.run()
    assert report.sent == 0
    assert report.held_back == 1
    # 24 hours and a minute after the first text: the second campaign's text goes
    rig.clock.advance(timedelta(hours=1, minutes=1))
    assert rig.run().sent == 1
    assert rig.provider.numbers == [boston(0), boston(0)]
    assert rig.store.statuses(ORG, first_campaign)["sent"] == 1
    assert rig.store.statuses(ORG, second)["sent"] == 1


def test_a_higher_contact_daily_limit_allows_exactly_that_many() -> None:
    rig = rig_with(3)
    rig.settings(contact_daily_limit=2)
    phones = [boston(i) for i in range(3)]
    campaigns = [rig.campaign_id] + [rig.start(phones) for _ in range(3)]
    for campaign_id in campaigns:
        rig.campaign_id = campaign_id
        rig.run()
    assert _texts_per_number(rig.provider.numbers) == Counter(dict.fromkeys(phones, 2))


def test_a_text_that_did_not_go_gives_its_place_in_the_window_back() -> None:
    # Given a first campaign whose text is refused by the provider (permanent)
    rig = rig_with(1)
    rig.provider.outcomes = [PermanentSendError("30007", "carrier filtered")]
    rig.run()
    assert rig.provider.numbers == []
    # Then a second campaign the same day may text the number
    rig.start([boston(0)])
    assert rig.run().sent == 1
    assert rig.store.history[(ORG, boston(0))].recent == (rig.clock.now(),)


def test_a_transient_failure_waits_as_a_retry_and_frees_the_window() -> None:
    rig = rig_with(1)
    rig.provider.outcomes = [TransientSendError("throttled-ish", "try later")]
    report = rig.run()
    assert report.retried == 1
    (recipient,) = rig.recipients()
    assert recipient.waiting_reason is WaitingReason.RETRY
    assert recipient.retry_at == rig.clock.now() + timedelta(minutes=1)
    assert (ORG, boston(0)) not in rig.store.history  # the reserved text was undone


# --- The organization's daily_message_limit -------------------------------------------------


def test_the_organization_daily_limit_holds_across_its_campaigns() -> None:
    # Given three campaigns of four contacts each and an organization limit of 5 a day
    rig = rig_with(4, phones=[boston(i) for i in range(4)])
    rig.settings(daily_message_limit=5)
    campaigns = [rig.campaign_id]
    campaigns += [rig.start([boston(i) for i in range(4 * n, 4 * n + 4)]) for n in (1, 2)]
    reports = []
    for campaign_id in campaigns:
        rig.campaign_id = campaign_id
        reports.append(rig.run())
    # Then exactly 5 texts went that day, and the runs that met the limit say so
    assert len(rig.provider.numbers) == 5
    assert rig.counters.values[f"orgday#{ORG}#{DAY}"] == 5
    assert [r.org_cap_reached for r in reports] == [False, True, True]
    assert reports[-1].stopped == "organization daily limit reached"
    # And 5 more go each following day, and no campaign slot was kept for a text not sent
    for total in (10, 12):
        rig.clock.advance(timedelta(days=1))
        for campaign_id in campaigns:
            rig.campaign_id = campaign_id
            rig.run()
            assert_accounted(rig)
        assert len(rig.provider.numbers) == total
    assert sum(rig.store.sends_on(ORG, c, DAY) for c in campaigns) == 5


# --- Where texts may go ------------------------------------------------------------------


def test_numbers_the_organization_may_not_text_are_skipped_at_send_time_with_the_reason() -> None:
    # Given recipients written before the organization's settings changed
    rig = rig_with(0, phones=[boston(0), PREMIUM_UK, SATELLITE, UK_MOBILE])
    rig.settings(allowed_countries=("US", "GB"))
    rig.run()
    errors = {r.phone: (r.status.value, r.error) for r in rig.recipients()}
    assert errors == {
        boston(0): ("sent", None),
        UK_MOBILE: ("sent", None),
        PREMIUM_UK: ("skipped", "line_type"),
        SATELLITE: ("skipped", "country_not_allowed"),
    }
    assert sorted(rig.provider.numbers) == sorted([boston(0), UK_MOBILE])


def test_by_default_only_the_sender_numbers_country_is_texted() -> None:
    rig = rig_with(0, phones=[boston(0), UK_MOBILE])
    rig.run()
    assert rig.provider.numbers == [boston(0)]
    assert {r.phone: r.error for r in rig.recipients()}[UK_MOBILE] == "country_not_allowed"


# --- The federal window cannot be widened ---------------------------------------------------


def test_quiet_hours_stored_wider_than_the_federal_window_are_narrowed_to_it() -> None:
    # An organization whose stored setting says 00:00-23:59 (written before it was refused)
    rig = rig_with(1, window=Window("00:00", "23:59", ("mon", "tue", "wed", "thu", "fri")))
    rig.settings(quiet_hours_start="00:00", quiet_hours_end="23:59")
    rig.clock.set(datetime(2026, 11, 24, 12, 30, tzinfo=UTC))  # 07:30 in Boston
    report = rig.run()
    assert report.sent == 0
    assert report.quiet_hours_deferred == 1
    rig.clock.set(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))  # 08:00 in Boston
    assert rig.run().sent == 1


# --- One run per organization at a time -------------------------------------------------


def test_a_second_run_for_the_organization_waits_for_the_first_to_end() -> None:
    rig = rig_with(2)
    busy = rig.turns.take(ORG, token="other run", now=rig.clock.now(), until=rig.clock.now())
    assert busy is not None
    report = rig.run()
    assert report.stopped == "organization busy"
    assert rig.provider.numbers == []
    rig.turns.give_back(ORG, token="other run", now=rig.clock.now())
    assert rig.run().sent == 2
    assert rig.turns.turns[ORG].holder is None, "the run gave its turn back"


def test_a_run_that_died_mid_page_leaves_what_it_may_have_texted_counted_for_a_day() -> None:
    # Given a run killed after the provider took its first text (nothing recorded after)
    phones = [boston(i) for i in range(3)]
    rig = rig_with(3, phones=phones)
    with pytest.raises(Killed):
        rig.sender(hooks=KILLED_AFTER_PROVIDER).run(rig.work())
    (texted,) = rig.provider.numbers
    # When its turn has run out and another campaign to the same people runs
    rig.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    rig.start(phones)
    report = rig.run()
    # Then the number it claimed is not texted again within the day; the others are
    assert report.sent == 2
    assert report.held_back == 1
    assert sorted(rig.provider.numbers) == sorted(phones)
    # And a day after the dead run's turn ended, it is
    rig.clock.advance(timedelta(hours=24))
    assert rig.run().sent == 1
    assert Counter(rig.provider.numbers)[texted] == 2
