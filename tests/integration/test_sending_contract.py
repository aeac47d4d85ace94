"""The sending fakes and the DynamoDB repositories answer the same calls the same way.

Every test runs once on ``tests/support/fakes/sending.py`` and once on the real
repositories over moto, so a rule the sender's unit tests check with the fakes
holds on DynamoDB. Setting up (a campaign, its recipients, contacts, opt-outs) is
done the way each side stores it; the calls under test are the ports' own. (The
opt-out list the sender checks is contacts' ``OptOutList``, held to its fake by
``test_contacts_contract.py``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from outreach.campaigns.domain import Campaign, Transition
from outreach.campaigns.repository import CampaignRepository
from outreach.campaigns.statuses import CampaignStatus, RecipientStatus
from outreach.contacts.domain import TemplateValues, template_values_from
from outreach.data.keys import campaign_key, open_key, sending_turn_key
from outreach.data.models import (
    CampaignModel,
    ContactModel,
    RecipientModel,
    SendingTurnModel,
    dispatch_shard_for,
)
from outreach.sending import domain
from outreach.sending.daily_cap import sends_on
from outreach.sending.ports import ActiveCampaigns, SendingStore, SendingTurns
from outreach.sending.repository import (
    SendingRepository,
    SendingTurnRepository,
)
from outreach.sending.work_queue import ActiveCampaignRepository
from tests.support import builders
from tests.support.contract import IMPLEMENTATIONS, use_dynamodb
from tests.support.fakes.sending import (
    InMemoryActiveCampaigns,
    InMemorySendingStore,
    InMemorySendingTurns,
    StoredRecipient,
)

NOW = datetime(2026, 11, 23, 15, 0, 0, 123000, tzinfo=UTC)
LEASE = timedelta(minutes=5)
ORG = "01KAXQ3Y0000000000000000AB"
OTHER_ORG = "01KAXQ3Y0000000000000000ZZ"
CAMPAIGN = "01KAXQ3Y0000000000000000CD"
DAY = "2026-11-23"
LATER = NOW + timedelta(minutes=30)


def _campaign(campaign_id: str = CAMPAIGN, org_id: str = ORG) -> Campaign:
    return builders.campaign(
        org_id,
        at=NOW,
        id=campaign_id,
        status=CampaignStatus.ACTIVE,
        recipients=3,
        started_at=NOW,
    )


def _contact_id(index: int) -> str:
    return f"01KAXQ3Y00000000000000CT{index:02d}"


def _phone(index: int) -> str:
    return f"+1617555{index:04d}"


class Seeder(Protocol):
    """Writes what other packages own (campaigns, recipients, contacts)."""

    def campaign(self, campaign: Campaign) -> None: ...
    def status(self, org_id: str, campaign_id: str, status: CampaignStatus) -> None: ...
    def recipient(self, index: int, campaign_id: str = CAMPAIGN) -> domain.Candidate: ...
    def contact(self, index: int, timezone: str | None = None) -> None: ...
    def sends_on(self, day: str) -> int: ...


@dataclass
class MemorySeeder:
    store: InMemorySendingStore

    def campaign(self, campaign: Campaign) -> None:
        self.store.add_campaign(campaign)

    def status(self, org_id: str, campaign_id: str, status: CampaignStatus) -> None:
        self.store.set_status(org_id, campaign_id, status)

    def recipient(self, index: int, campaign_id: str = CAMPAIGN) -> domain.Candidate:
        recipient = StoredRecipient(ORG, campaign_id, _contact_id(index), _phone(index), "A")
        self.store.add_recipient(recipient)
        return recipient.candidate()

    def contact(self, index: int, timezone: str | None = None) -> None:
        self.store.add_contact(
            ORG, _contact_id(index), domain.ContactFields(_values(index), timezone)
        )

    def sends_on(self, day: str) -> int:
        return self.store.sends_on(ORG, CAMPAIGN, day)


class DynamoSeeder:
    def campaign(self, campaign: Campaign) -> None:
        """As the campaign service writes it: created a draft, then moved to its status."""
        campaigns = CampaignRepository()
        campaigns.create(replace(campaign, status=CampaignStatus.DRAFT))
        if campaign.status is not CampaignStatus.DRAFT:
            campaigns.transition(
                campaign.org_id,
                campaign.id,
                Transition(frozenset({CampaignStatus.DRAFT}), campaign.status, campaign.recipients),
                now=campaign.updated_at,
            )

    def status(self, org_id: str, campaign_id: str, status: CampaignStatus) -> None:
        CampaignModel(org_id, campaign_id).update(
            actions=[
                CampaignModel.status.set(status.value),
                CampaignModel.org_status.set(f"{org_id}#{status.value}"),
            ]
        )

    def recipient(self, index: int, campaign_id: str = CAMPAIGN) -> domain.Candidate:
        RecipientModel(
            campaign_key(ORG, campaign_id),
            _contact_id(index),
            campaign_status=open_key(ORG, campaign_id),
            org_id=ORG,
            campaign_id=campaign_id,
            phone=_phone(index),
            variant="A",
            status=RecipientStatus.PENDING.value,
            attempts=0,
            updated_at=NOW,
        ).save()
        return domain.Candidate(ORG, campaign_id, _contact_id(index), _phone(index), "A", None)

    def contact(self, index: int, timezone: str | None = None) -> None:
        ContactModel(
            ORG,
            _contact_id(index),
            phone=_phone(index),
            first_name=f"N{index}",
            timezone=timezone,
            created_at=NOW,
            updated_at=NOW,
        ).save()

    def sends_on(self, day: str) -> int:
        return sends_on(ORG, CAMPAIGN, day)


def _values(index: int) -> TemplateValues:
    """The render values of contact ``index`` (as the DynamoDB seeder writes it)."""
    return template_values_from(
        phone=_phone(index),
        first_name=f"N{index}",
        last_name=None,
        company=None,
        email=None,
        attributes={},
    )


@dataclass
class Side:
    store: SendingStore
    seed: Seeder


@pytest.fixture(params=IMPLEMENTATIONS)
def side(request: pytest.FixtureRequest) -> Iterator[Side]:
    if use_dynamodb(request):
        yield Side(SendingRepository(), DynamoSeeder())
    else:
        store = InMemorySendingStore()
        yield Side(store, MemorySeeder(store))


@pytest.fixture(params=IMPLEMENTATIONS)
def active(request: pytest.FixtureRequest) -> Iterator[tuple[ActiveCampaigns, Seeder]]:
    if use_dynamodb(request):
        yield ActiveCampaignRepository(), DynamoSeeder()
    else:
        index = InMemoryActiveCampaigns()
        store = InMemorySendingStore()

        class IndexSeeder(MemorySeeder):
            def campaign(self, campaign: Campaign) -> None:
                if campaign.status is CampaignStatus.ACTIVE:
                    shard = dispatch_shard_for(campaign.id)
                    index.shards.setdefault(shard, []).append((campaign.org_id, campaign.id))

        yield index, IndexSeeder(store)


# --- Reads ---------------------------------------------------------------------------------


def test_a_campaign_and_its_status_are_read_back(side: Side) -> None:
    assert side.store.campaign(ORG, CAMPAIGN) is None
    assert side.store.campaign_status(ORG, CAMPAIGN) is None
    side.seed.campaign(_campaign())
    assert side.store.campaign(ORG, CAMPAIGN) == _campaign()
    assert side.store.campaign(OTHER_ORG, CAMPAIGN) is None
    side.seed.status(ORG, CAMPAIGN, CampaignStatus.PAUSED)
    assert side.store.campaign_status(ORG, CAMPAIGN) is CampaignStatus.PAUSED


def test_open_recipients_are_the_pending_ones_in_contact_order(side: Side) -> None:
    candidates = [side.seed.recipient(index) for index in (2, 0, 1)]
    assert [c.contact_id for c in side.store.open_recipients(ORG, CAMPAIGN)] == [
        _contact_id(0),
        _contact_id(1),
        _contact_id(2),
    ]
    assert side.store.has_open(ORG, CAMPAIGN)
    assert side.store.claim(candidates[1], None, _claim("t"), now=NOW) is not None
    assert len(list(side.store.open_recipients(ORG, CAMPAIGN))) == 3, "a claim stays open"
    for candidate in candidates:
        skipped = domain.Outcome(RecipientStatus.SKIPPED)
        side.store.record(candidate, skipped, attempted=False, now=NOW)
    assert list(side.store.open_recipients(ORG, CAMPAIGN)) == []
    assert not side.store.has_open(ORG, CAMPAIGN)
    assert not side.store.has_open(ORG, "01KAXQ3Y0000000000000000XX")


def test_contacts_give_their_render_fields_and_skip_the_missing(side: Side) -> None:
    side.seed.contact(1)
    side.seed.contact(2, timezone="America/Chicago")
    found = side.store.contacts(ORG, [_contact_id(1), _contact_id(2), _contact_id(3)])
    assert found == {
        _contact_id(1): domain.ContactFields(_values(1), None),
        _contact_id(2): domain.ContactFields(_values(2), "America/Chicago"),
    }


def _candidate(index: int, campaign_id: str = CAMPAIGN) -> domain.Candidate:
    return domain.Candidate(ORG, campaign_id, _contact_id(index), _phone(index), "A", None)


def _claim(token: str, at: datetime = NOW) -> domain.Claim:
    return domain.Claim.of(token, at + LEASE)


SECOND_CAMPAIGN = "01KAXQ3Y00000000000000CA02"


def test_a_claim_counts_the_text_in_the_numbers_history(side: Side) -> None:
    assert side.store.phone_histories(ORG, [_phone(1)]) == {}
    first = side.store.claim(_candidate(1), None, _claim("a"), now=NOW)
    assert first == domain.history_with_text(None, _candidate(1), NOW, _claim("a"))
    read = side.store.phone_histories(ORG, [_phone(1)])[_phone(1)]
    assert read == first
    second = _candidate(1, campaign_id=SECOND_CAMPAIGN)
    assert side.store.claim(second, read, _claim("b", LATER), now=LATER) is not None
    histories = side.store.phone_histories(ORG, [_phone(1), _phone(2)])
    assert histories == {
        _phone(1): domain.PhoneHistory(
            first_sent_at=NOW,
            last_campaign_id=SECOND_CAMPAIGN,
            last_variant="A",
            last_contact_id=_contact_id(1),
            last_sent_at=LATER,
            recent=(NOW, LATER),
            claims={CAMPAIGN: _claim("a"), SECOND_CAMPAIGN: _claim("b", LATER)},
        )
    }
    assert side.store.phone_histories(OTHER_ORG, [_phone(1)]) == {}


def test_a_campaign_claims_a_number_once(side: Side) -> None:
    candidate = _candidate(1)
    assert side.store.claim(candidate, None, _claim("first"), now=NOW) is not None
    assert side.store.claim(candidate, None, _claim("second"), now=NOW) is None
    held = side.store.phone_histories(ORG, [_phone(1)])[_phone(1)]
    assert held.claim_of(CAMPAIGN) == _claim("first"), "the first claim holds"
    other = _candidate(1, campaign_id=SECOND_CAMPAIGN)
    assert side.store.claim(other, held, _claim("third"), now=NOW) is not None


def test_a_text_that_did_not_go_gives_the_history_back(side: Side) -> None:
    # Given a number texted once (campaign two), then claimed by the campaign
    earlier = side.store.claim(_candidate(1, SECOND_CAMPAIGN), None, _claim("x"), now=NOW)
    candidate = _candidate(1)
    claim = _claim("t", LATER)
    assert side.store.claim(candidate, earlier, claim, now=LATER) is not None
    # Only the claim held gives it back
    assert not side.store.unclaim(candidate, _claim("other"), earlier, closed_at=None)
    # A recipient to be retried: the history is as it was, without the claim
    assert side.store.unclaim(candidate, claim, earlier, closed_at=None)
    assert side.store.phone_histories(ORG, [_phone(1)]) == {_phone(1): earlier}
    assert not side.store.unclaim(candidate, claim, earlier, closed_at=None), "given back"
    # A recipient closed: as it was, and the campaign's claim closed, never taken again
    assert side.store.claim(candidate, earlier, claim, now=LATER) is not None
    assert side.store.unclaim(candidate, claim, earlier, closed_at=LATER)
    assert earlier is not None
    closed = replace(earlier, claims={**earlier.claims, CAMPAIGN: domain.Claim.closed(LATER)})
    assert side.store.phone_histories(ORG, [_phone(1)]) == {_phone(1): closed}
    assert side.store.claim(candidate, closed, _claim("again", LATER), now=LATER) is None


def test_a_first_text_that_did_not_go_leaves_the_number_untexted(side: Side) -> None:
    candidate = _candidate(1)
    claim = _claim("t")
    assert side.store.claim(candidate, None, claim, now=NOW) is not None
    assert side.store.unclaim(candidate, claim, None, closed_at=None)
    assert side.store.phone_histories(ORG, [_phone(1)]) == {}, "its footer is still due"
    assert side.store.claim(candidate, None, claim, now=NOW) is not None
    assert side.store.unclaim(candidate, claim, None, closed_at=NOW)
    (history,) = side.store.phone_histories(ORG, [_phone(1)]).values()
    assert history == domain.PhoneHistory(
        first_sent_at=None, claims={CAMPAIGN: domain.Claim.closed(NOW)}
    )
    assert not history.texted


@pytest.fixture
def turns(side: Side) -> SendingTurns:
    """The turns on the same side."""
    if isinstance(side.store, InMemorySendingStore):
        return InMemorySendingTurns(side.store)
    return SendingTurnRepository()


def test_one_run_holds_the_turn_until_it_gives_it_back_or_it_runs_out(turns: SendingTurns) -> None:
    mine = turns.take(ORG, token="a", now=NOW, until=LATER)
    assert mine == domain.Turn(ORG, "a", LATER)
    assert turns.take(ORG, token="b", now=NOW, until=LATER) is None
    assert turns.take(ORG, token="b", now=LATER, until=LATER + LEASE) is None, "to its end"
    assert turns.take(OTHER_ORG, token="b", now=NOW, until=LATER) is not None
    assert turns.mark(ORG, token="a", campaign_id=CAMPAIGN, contact_ids=[_contact_id(1)])
    assert not turns.mark(ORG, token="b", campaign_id=CAMPAIGN, contact_ids=[_contact_id(2)])
    turns.give_back(ORG, token="b", now=NOW)  # not b's: nothing
    assert turns.take(ORG, token="c", now=NOW, until=LATER) is None
    turns.give_back(ORG, token="a", now=NOW)
    assert turns.take(ORG, token="c", now=NOW, until=LATER) == domain.Turn(ORG, "c", LATER)
    after = LATER + timedelta(microseconds=1)
    ran_out = turns.take(ORG, token="d", now=after, until=after + LEASE)
    assert ran_out == domain.Turn(ORG, "d", after + LEASE), "c died: its turn ran out"


def test_the_first_turn_after_a_run_died_closes_the_recipient_it_claimed_unknown(
    side: Side, turns: SendingTurns
) -> None:
    # Given a run that noted its page (recipients 1 to 4), then claimed 1's number and
    # died before recording it; it had sent 2, and 3's text had failed; 4 untouched
    claimed, sent, refused, untouched = (side.seed.recipient(i) for i in range(1, 5))
    assert turns.take(ORG, token="dead", now=NOW, until=LATER) is not None
    page = [c.contact_id for c in (claimed, sent, refused, untouched)]
    assert turns.mark(ORG, token="dead", campaign_id=CAMPAIGN, contact_ids=page)
    assert side.store.claim(claimed, None, _claim("dead"), now=NOW) is not None
    assert side.store.claim(sent, None, _claim("dead"), now=NOW) is not None
    assert side.store.record(
        sent, domain.Outcome(RecipientStatus.SENT, "m2"), attempted=True, now=NOW
    )
    assert side.store.claim(refused, None, _claim("dead"), now=NOW) is not None
    failed = domain.Outcome(RecipientStatus.FAILED, error="refused")
    assert side.store.record(refused, failed, attempted=True, now=NOW)
    assert side.store.unclaim(refused, _claim("dead"), None, closed_at=NOW)
    # When its turn has run out and the next run takes it (within the claim's lease)
    assert turns.take(ORG, token="next", now=LATER, until=LATER + LEASE) is None, "to its end"
    after = LATER + timedelta(microseconds=1)
    assert turns.take(ORG, token="next", now=after, until=after + LEASE) is not None
    # Then the recipient it claimed and did not record is unknown (maybe sent), at once
    states = [side.store.recipient_state(c) for c in (claimed, sent, refused, untouched)]
    assert states == [
        domain.RecipientState(RecipientStatus.UNKNOWN, 1),
        domain.RecipientState(RecipientStatus.SENT, 1),
        domain.RecipientState(RecipientStatus.FAILED, 1),
        domain.RecipientState(RecipientStatus.PENDING, 0),
    ]
    # And a turn given back leaves nothing in flight for the next one
    turns.give_back(ORG, token="next", now=after)
    assert turns.take(ORG, token="n2", now=after, until=after + LEASE) is not None
    assert side.store.recipient_state(untouched) == domain.RecipientState(
        RecipientStatus.PENDING, 0
    )
    # But a run that failed leaves its page noted, and the next turn closes its claim
    assert turns.mark(ORG, token="n2", campaign_id=CAMPAIGN, contact_ids=[untouched.contact_id])
    assert side.store.claim(untouched, None, _claim("n2", after), now=after) is not None
    turns.give_back(ORG, token="n2", now=after, failed=True)
    assert turns.take(ORG, token="n3", now=after, until=after + LEASE) is not None
    assert side.store.recipient_state(untouched) == domain.RecipientState(
        RecipientStatus.UNKNOWN, 1
    )


@pytest.mark.usefixtures("aws")
def test_the_first_turn_after_a_dead_run_of_the_older_protocol_closes_its_claim() -> None:
    # Given a run of the protocol before stop 31 that died: recipient 1 claimed
    # ("sending"), 2 recorded sent, 3 pending, all on its page in flight
    seed = DynamoSeeder()
    claimed, sent, pending = (seed.recipient(i) for i in (1, 2, 3))
    RecipientModel(campaign_key(ORG, CAMPAIGN), claimed.contact_id).update(
        actions=[
            RecipientModel.status.set(RecipientStatus.SENDING.value),
            RecipientModel.claim.set(_claim("dead").value),
        ]
    )
    store = SendingRepository()
    assert store.record(sent, domain.Outcome(RecipientStatus.SENT, "m2"), attempted=True, now=NOW)
    SendingTurnModel(
        sending_turn_key(ORG),
        holder="dead",
        until=NOW,
        in_flight=[c.contact_id for c in (claimed, sent, pending)],
        in_flight_campaign=CAMPAIGN,
    ).save()
    # When the next run takes the turn
    turns = SendingTurnRepository()
    assert turns.take(ORG, token="next", now=LATER, until=LATER + LEASE) is not None
    # Then the claimed recipient ends unknown (maybe sent), the others are as they were
    states = [store.recipient_state(c) for c in (claimed, sent, pending)]
    assert [state.status if state else None for state in states] == [
        RecipientStatus.UNKNOWN,
        RecipientStatus.SENT,
        RecipientStatus.PENDING,
    ]
    assert [c.contact_id for c in store.open_recipients(ORG, CAMPAIGN)] == [pending.contact_id]
    turns.give_back(ORG, token="next", now=LATER)
    turn_item = SendingTurnModel.get(sending_turn_key(ORG), consistent_read=True)
    assert turn_item.in_flight is None, "once"


@pytest.mark.usefixtures("aws")
def test_a_turn_item_with_a_page_in_flight_never_expires_before_a_turn_reads_it() -> None:
    # A dead run's claims must be closed by the next turn before any is a day old (then
    # a text of another campaign may drop it): DynamoDB's TTL must not take the page.
    turns = SendingTurnRepository()

    def expiry() -> datetime | None:
        return SendingTurnModel.get(sending_turn_key(ORG), consistent_read=True).expires_at

    assert turns.take(ORG, token="a", now=NOW, until=LATER) is not None
    assert expiry() is not None, "a turn with nothing in flight expires"
    assert turns.mark(ORG, token="a", campaign_id=CAMPAIGN, contact_ids=[_contact_id(1)])
    assert expiry() is None, "a page in flight does not"
    turns.give_back(ORG, token="a", now=LATER, failed=True)
    assert expiry() is None, "nor one a failed run leaves"
    after = LATER + timedelta(seconds=1)
    assert turns.take(ORG, token="b", now=after, until=after + LEASE) is not None
    turns.give_back(ORG, token="b", now=after)
    assert expiry() is not None, "given back with nothing in flight: it expires"


@pytest.mark.usefixtures("aws")
def test_racing_runs_on_dynamodb_take_the_turn_once() -> None:
    turns = SendingTurnRepository()

    def take(index: int) -> bool:
        return turns.take(ORG, token=f"run{index}", now=NOW, until=LATER) is not None

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(take, range(8))) == 1


def test_a_held_back_recipient_waits_with_its_reason(side: Side) -> None:
    candidate = side.seed.recipient(1)
    until = NOW + timedelta(hours=20)
    reason = domain.WaitingReason.FREQUENCY_CAP
    assert side.store.hold_back(candidate, until=until, reason=reason, now=NOW)
    assert not side.store.hold_back(candidate, until=until, reason=reason, now=NOW)
    (waiting,) = side.store.open_recipients(ORG, CAMPAIGN)
    assert waiting.retry_at == until
    assert side.store.hold_back(waiting, until=until + LEASE, reason=reason, now=until)


# --- The day's cap -------------------------------------------------------------------------


def test_slots_never_pass_the_limit_and_unused_ones_go_back(side: Side) -> None:
    reserve = side.store.reserve_slots
    assert reserve(ORG, CAMPAIGN, DAY, limit=25, wanted=10, now=NOW) == 10
    assert reserve(ORG, CAMPAIGN, DAY, limit=25, wanted=10, now=NOW) == 10
    assert reserve(ORG, CAMPAIGN, DAY, limit=25, wanted=10, now=NOW) == 5, "only what is left"
    assert reserve(ORG, CAMPAIGN, DAY, limit=25, wanted=10, now=NOW) == 0
    assert side.seed.sends_on(DAY) == 25
    side.store.release_slots(ORG, CAMPAIGN, DAY, 7)
    side.store.release_slots(ORG, CAMPAIGN, DAY, 0)
    assert side.seed.sends_on(DAY) == 18
    assert reserve(ORG, CAMPAIGN, DAY, limit=25, wanted=10, now=NOW) == 7
    assert side.seed.sends_on("2026-11-24") == 0
    assert reserve(ORG, CAMPAIGN, "2026-11-24", limit=3, wanted=10, now=NOW) == 3


# --- Outcomes ------------------------------------------------------------------------------


def test_an_outcome_closes_a_pending_recipient_once(side: Side) -> None:
    candidate = side.seed.recipient(1)
    assert side.store.recipient_state(candidate) == domain.RecipientState(
        RecipientStatus.PENDING, 0
    )
    failed = domain.Outcome(RecipientStatus.FAILED, error="x" * 600)
    assert side.store.record(candidate, failed, attempted=True, now=NOW)
    assert side.store.recipient_state(candidate) == domain.RecipientState(RecipientStatus.FAILED, 1)
    sent = domain.Outcome(RecipientStatus.SENT, message_id="m-1")
    assert not side.store.record(candidate, sent, attempted=True, now=NOW)
    assert list(side.store.open_recipients(ORG, CAMPAIGN)) == []
    missing = replace(candidate, contact_id=_contact_id(9))
    assert side.store.recipient_state(missing) is None
    assert not side.store.record(missing, sent, attempted=True, now=NOW)


def test_a_skip_counts_no_attempt(side: Side) -> None:
    candidate = side.seed.recipient(1)
    skipped = domain.Outcome(RecipientStatus.SKIPPED, error="opted out")
    assert side.store.record(candidate, skipped, attempted=False, now=NOW)
    assert side.store.recipient_state(candidate) == domain.RecipientState(
        RecipientStatus.SKIPPED, 0
    )


def test_a_release_counts_an_attempt_if_made_and_may_delay(side: Side) -> None:
    candidate = side.seed.recipient(1)
    assert side.store.release(candidate, domain.Retry(), attempted=False, now=NOW)
    assert side.store.recipient_state(candidate) == domain.RecipientState(
        RecipientStatus.PENDING, 0
    )
    retry_at = NOW + timedelta(minutes=1)
    retry = domain.Retry(at=retry_at, reason=domain.WaitingReason.RETRY)
    assert side.store.release(candidate, retry, attempted=True, now=NOW)
    assert side.store.recipient_state(candidate) == domain.RecipientState(
        RecipientStatus.PENDING, 1
    )
    (waiting,) = side.store.open_recipients(ORG, CAMPAIGN)
    assert waiting.retry_at == retry_at
    reason = domain.WaitingReason.FREQUENCY_CAP
    assert not side.store.hold_back(candidate, until=LATER, reason=reason, now=NOW), "waiting"
    sent = domain.Outcome(RecipientStatus.SENT, message_id="m-1")
    assert side.store.record(waiting, sent, attempted=True, now=retry_at)
    assert side.store.recipient_state(candidate) == domain.RecipientState(RecipientStatus.SENT, 2)
    assert not side.store.release(candidate, domain.Retry(), attempted=False, now=NOW)


# --- The campaign leaving active -----------------------------------------------------------


def test_complete_and_pause_only_leave_active(side: Side) -> None:
    side.seed.campaign(_campaign())
    assert side.store.pause_for_account(ORG, CAMPAIGN, "spend limit " + "x" * 600, NOW)
    paused = side.store.campaign(ORG, CAMPAIGN)
    assert paused is not None
    assert paused.status is CampaignStatus.PAUSED
    assert paused.paused_reason == ("spend limit " + "x" * 600)[:500]
    assert paused.updated_at == NOW
    assert not side.store.complete(ORG, CAMPAIGN, NOW)
    assert not side.store.pause_for_account(ORG, CAMPAIGN, "again", NOW)
    side.seed.status(ORG, CAMPAIGN, CampaignStatus.ACTIVE)
    later = NOW + timedelta(minutes=1)
    assert side.store.complete(ORG, CAMPAIGN, later)
    completed = side.store.campaign(ORG, CAMPAIGN)
    assert completed is not None
    assert (completed.status, completed.completed_at) == (CampaignStatus.COMPLETED, later)
    assert not side.store.complete(ORG, "01KAXQ3Y0000000000000000XX", NOW)


def test_the_dispatch_index_holds_the_active_campaigns(
    active: tuple[ActiveCampaigns, Seeder],
) -> None:
    index, seed = active
    ids = [f"01KAXQ3Y000000000000000C{n:02d}" for n in range(12)]
    for n, campaign_id in enumerate(ids):
        status = CampaignStatus.ACTIVE if n % 3 else CampaignStatus.DRAFT
        seed.campaign(replace(_campaign(campaign_id), status=status))
    found = sorted(pair for shard in range(8) for pair in index.in_shard(shard))
    assert found == sorted((ORG, c) for n, c in enumerate(ids) if n % 3)
    for shard in range(8):
        assert all(dispatch_shard_for(c) == shard for _, c in index.in_shard(shard))


@pytest.mark.usefixtures("aws")
def test_racing_claims_of_one_number_on_dynamodb_have_one_winner() -> None:
    # One run per organization holds its turn, so the sender no longer races itself;
    # the claim stays the at-most-once guarantee (a turn that ran out, a crash).
    candidate = DynamoSeeder().recipient(1)
    store = SendingRepository()

    def claim(index: int) -> bool:
        return store.claim(candidate, None, _claim(f"w{index}"), now=NOW) is not None

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(claim, range(8))) == 1
