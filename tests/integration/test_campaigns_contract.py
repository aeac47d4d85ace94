"""The campaign fakes and the DynamoDB repositories answer the same calls the same way.

Every fixture runs once on ``tests/support/fakes/campaigns.py`` and once on the real
repository over moto, so a rule tested with the fakes holds on DynamoDB. Covered:
every method of :mod:`outreach.campaigns.ports` the campaign service calls
(the reads of other domains, ``AudienceSource``, ``OptOutList.all_phones`` and
``OrganizationReader.get_organization``, are held by ``test_contacts_contract.py`` and
``test_identity_contract.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.campaigns import domain
from outreach.campaigns.ports import CampaignStore, RecipientStore
from outreach.campaigns.repository import CampaignRepository, RecipientRepository
from outreach.data.keys import campaign_key, daily_counter_key
from outreach.data.models import CampaignStatsModel, CounterModel, PhoneHistoryModel
from outreach.errors import BadRequest, Conflict, NotFound
from outreach.ids import new_id
from outreach.sending.domain import Candidate, Claim
from outreach.sending.repository import SendingRepository
from outreach_local.streams import StatsPump
from tests.support import builders
from tests.support.contract import IMPLEMENTATIONS, use_dynamodb
from tests.support.fakes.campaigns import InMemoryCampaignStore, InMemoryRecipientStore

NOW = datetime(2026, 3, 2, 15, 0, 0, 123000, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
ORG = "01JA0000000000000000000001"
OTHER_ORG = "01JA0000000000000000000002"
DRAFT_ONLY = frozenset({domain.CampaignStatus.DRAFT})
CANCEL_DRAFT = domain.Transition(DRAFT_ONLY, domain.CampaignStatus.CANCELLED)
ACTIVE_ONLY = frozenset({domain.CampaignStatus.ACTIVE})
EDITABLE = frozenset({domain.CampaignStatus.DRAFT, domain.CampaignStatus.PAUSED})


@pytest.fixture(params=IMPLEMENTATIONS)
def campaigns(request: pytest.FixtureRequest) -> CampaignStore:
    return CampaignRepository() if use_dynamodb(request) else InMemoryCampaignStore()


@dataclass
class Recipients:
    """A recipient store, and how the other writers (inbound, a sender) add to what it
    reads; ``drain`` counts the recipients' stream, as the stats function does."""

    store: RecipientStore
    add_counts: Callable[[str, str, domain.VariantCounts], None]
    count_sends: Callable[[str, str, str, int], None]
    drain: Callable[[], object]
    note_texted: Callable[[str, str], None]  # a number's history, as the sender writes it


def _stored_counts(org_id: str, campaign_id: str, counts: domain.VariantCounts) -> None:
    CampaignStatsModel(campaign_key(org_id, campaign_id), counts.name).update(
        actions=[
            getattr(CampaignStatsModel, name).add(getattr(counts, name))
            for name in domain.COUNTERS
            if getattr(counts, name)
        ]
    )


def _stored_sends(org_id: str, campaign_id: str, day: str, sends: int) -> None:
    CounterModel(daily_counter_key(org_id, campaign_id, day)).update(
        actions=[CounterModel.value.add(sends)]
    )


def _stored_history(org_id: str, phone: str) -> None:
    """A campaign text to ``phone``, as the sender counts it (its claim)."""
    candidate = Candidate(org_id, CAMPAIGN, _contact_id(0), phone, "A", None)
    claim = Claim.of("sender", NOW + timedelta(minutes=5))
    assert SendingRepository().claim(candidate, None, claim, now=NOW) is not None


@pytest.fixture(params=IMPLEMENTATIONS)
def recipients(request: pytest.FixtureRequest) -> Recipients:
    if use_dynamodb(request):
        return Recipients(
            RecipientRepository(),
            _stored_counts,
            _stored_sends,
            StatsPump().drain,
            _stored_history,
        )
    fake = InMemoryRecipientStore()
    return Recipients(fake, fake.add_counts, fake.count_sends, lambda: None, fake.note_texted)


# A draft with every field the service may default set otherwise.
NOT_DEFAULTS: dict[str, object] = {
    "variants": (domain.Variant("A", "Hi {first_name|there}", 3), domain.Variant("B", "Hey", 1)),
    "audience": domain.Audience(tags=("leads", "vip")),
    "daily_limit": 40,
    "timezone": "America/Chicago",
    "window": domain.Window("10:00", "16:30", ("mon", "sat")),
    "start_at": datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
}


def _campaign(org_id: str = ORG, at: datetime = NOW, **changes: object) -> domain.Campaign:
    return builders.campaign(org_id, at=at, **(NOT_DEFAULTS | changes))


def _recipient(
    contact_id: str,
    status: domain.RecipientStatus = domain.RecipientStatus.PENDING,
    variant: str = "A",
    campaign_id: str = "01JB0000000000000000000001",
    org_id: str = ORG,
) -> domain.Recipient:
    phone = f"+1617555{int(contact_id[-4:]):04d}"
    return builders.pending_recipient(
        org_id, campaign_id, contact_id, phone, at=NOW, variant=variant, status=status
    )


def _contact_id(index: int) -> str:
    return f"01JC{index:022d}"


CAMPAIGN = "01JB0000000000000000000001"


# --- CampaignStore ---------------------------------------------------------------------------


def test_a_created_campaign_reads_back_whole(campaigns: CampaignStore) -> None:
    made = _campaign()
    campaigns.create(made)
    assert campaigns.get(ORG, made.id) == made
    assert campaigns.get(ORG, made.id, consistent=True) == made
    plain = _campaign(
        audience=domain.Audience(all=True), window=domain.DEFAULT_WINDOW, start_at=None
    )
    campaigns.create(plain)
    assert campaigns.get(ORG, plain.id) == plain


@pytest.mark.parametrize("campaign_id", ["nope", "x" * 3000, "01HZZZZZZZZZZZZZZZZZZZZZZZ"])
def test_an_unknown_campaign_is_not_found(campaigns: CampaignStore, campaign_id: str) -> None:
    with pytest.raises(NotFound):
        campaigns.get(ORG, campaign_id)


def test_another_organizations_campaign_is_not_found(campaigns: CampaignStore) -> None:
    made = _campaign()
    campaigns.create(made)
    with pytest.raises(NotFound):
        campaigns.get(OTHER_ORG, made.id)


def test_lists_newest_first_in_sealed_pages(campaigns: CampaignStore) -> None:
    made = [_campaign(at=NOW + timedelta(milliseconds=i)) for i in range(5)]
    for campaign in made:
        campaigns.create(campaign)
    campaigns.create(_campaign(org_id=OTHER_ORG))
    first = campaigns.list(ORG, status=None, limit=2, cursor=None)
    assert first.items == [made[4], made[3]]
    assert first.next_cursor
    second = campaigns.list(ORG, status=None, limit=2, cursor=first.next_cursor)
    assert second.items == [made[2], made[1]]
    third = campaigns.list(ORG, status=None, limit=2, cursor=second.next_cursor)
    assert third.items == [made[0]]
    assert third.next_cursor is None
    exact = campaigns.list(ORG, status=None, limit=5, cursor=None)
    assert exact.items == made[::-1]
    assert exact.next_cursor is None


def test_lists_by_status(campaigns: CampaignStore) -> None:
    drafts = [_campaign(at=NOW + timedelta(milliseconds=i)) for i in range(3)]
    for campaign in drafts:
        campaigns.create(campaign)
    cancelled = campaigns.transition(ORG, drafts[1].id, CANCEL_DRAFT, now=LATER)
    page = campaigns.list(ORG, status=domain.CampaignStatus.DRAFT, limit=1, cursor=None)
    assert page.items == [drafts[2]]
    rest = campaigns.list(ORG, status=domain.CampaignStatus.DRAFT, limit=1, cursor=page.next_cursor)
    assert rest.items == [drafts[0]]
    assert campaigns.list(
        ORG, status=domain.CampaignStatus.CANCELLED, limit=5, cursor=None
    ).items == [cancelled]
    assert (
        campaigns.list(ORG, status=domain.CampaignStatus.ACTIVE, limit=5, cursor=None).items == []
    )


def test_a_list_cursor_is_bound_to_its_organization_and_filter(campaigns: CampaignStore) -> None:
    for i in range(3):
        campaigns.create(_campaign(at=NOW + timedelta(milliseconds=i)))
    cursor = campaigns.list(ORG, status=None, limit=1, cursor=None).next_cursor
    assert cursor
    with pytest.raises(BadRequest):
        campaigns.list(ORG, status=domain.CampaignStatus.DRAFT, limit=1, cursor=cursor)
    with pytest.raises(BadRequest):
        campaigns.list(OTHER_ORG, status=None, limit=1, cursor=cursor)
    with pytest.raises(BadRequest):
        campaigns.list(ORG, status=None, limit=1, cursor="B" + cursor[1:])


def test_update_content_stores_the_edit_while_allowed(campaigns: CampaignStore) -> None:
    made = _campaign()
    campaigns.create(made)
    edit = replace(
        made,
        name="Autumn",
        variants=(domain.Variant("Only", "Hello {company|friend}", 3),),
        audience=domain.Audience(contact_ids=("01JC0000000000000000000001",)),
        daily_limit=10,
        timezone="Europe/Paris",
        window=domain.Window("08:30", "12:00", ("tue",)),
        start_at=None,
        end_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    stored = campaigns.update_content(edit, allowed=EDITABLE, now=LATER)
    assert stored == replace(edit, updated_at=LATER)
    assert campaigns.get(ORG, made.id) == stored


def test_update_content_outside_the_allowed_statuses_is_a_conflict(
    campaigns: CampaignStore,
) -> None:
    made = _campaign()
    campaigns.create(made)
    campaigns.transition(ORG, made.id, CANCEL_DRAFT, now=NOW)
    before = campaigns.get(ORG, made.id)
    with pytest.raises(Conflict):
        campaigns.update_content(replace(made, name="No"), allowed=EDITABLE, now=LATER)
    assert campaigns.get(ORG, made.id) == before
    with pytest.raises(Conflict):
        campaigns.update_content(_campaign(name="Missing"), allowed=EDITABLE, now=LATER)


def test_a_running_start_holds_the_draft(campaigns: CampaignStore) -> None:
    made = _campaign()
    campaigns.create(made)
    campaigns.begin_start(ORG, made.id, token="t1", now=NOW, until=NOW + timedelta(minutes=2))
    with pytest.raises(Conflict) as second:
        campaigns.begin_start(ORG, made.id, token="t2", now=NOW, until=LATER)
    assert second.value.headers == {"Retry-After": "5"}
    with pytest.raises(Conflict):
        campaigns.update_content(replace(made, name="No"), allowed=EDITABLE, now=NOW)
    with pytest.raises(Conflict):
        campaigns.delete_draft(ORG, made.id, now=NOW)
    with pytest.raises(Conflict) as cancel:
        campaigns.transition(ORG, made.id, CANCEL_DRAFT, now=NOW)
    assert cancel.value.extra == {"campaign_status": "draft"}
    assert campaigns.get(ORG, made.id) == made
    # Once the lease lapses, another start (or an edit) may go ahead.
    campaigns.begin_start(ORG, made.id, token="t3", now=LATER, until=LATER + timedelta(minutes=2))


def _go_active(
    campaigns: CampaignStore, campaign_id: str, *, token: str, recipients: int
) -> domain.Campaign:
    """The end of a start: the draft goes active, with the start's ``token``."""
    start = domain.Transition(
        DRAFT_ONLY, domain.CampaignStatus.ACTIVE, recipients=recipients, start_token=token
    )
    return campaigns.transition(ORG, campaign_id, start, now=NOW)


def test_a_start_goes_active_with_its_own_token_only(campaigns: CampaignStore) -> None:
    made = _campaign()
    campaigns.create(made)
    campaigns.begin_start(ORG, made.id, token="mine", now=NOW, until=LATER)
    with pytest.raises(Conflict) as stale:
        _go_active(campaigns, made.id, token="theirs", recipients=3)
    assert stale.value.extra == {"campaign_status": "draft"}
    started = _go_active(campaigns, made.id, token="mine", recipients=3)
    assert started == replace(
        made, status=domain.CampaignStatus.ACTIVE, recipients=3, started_at=NOW, updated_at=NOW
    )
    assert campaigns.get(ORG, made.id, consistent=True) == started


def test_a_start_stores_what_it_left_out(campaigns: CampaignStore) -> None:
    made = _campaign()
    campaigns.create(made)
    assert campaigns.get(ORG, made.id).left_out is None
    campaigns.begin_start(ORG, made.id, token="mine", now=NOW, until=LATER)
    left_out = domain.LeftOut(opted_out=2, not_textable=1, never_in_window=3)
    start = domain.Transition(
        DRAFT_ONLY,
        domain.CampaignStatus.ACTIVE,
        recipients=4,
        left_out=left_out,
        start_token="mine",
    )
    started = campaigns.transition(ORG, made.id, start, now=NOW)
    assert started.left_out == left_out
    assert campaigns.get(ORG, made.id, consistent=True) == started
    # A later move keeps it.
    paused = campaigns.transition(
        ORG, made.id, domain.Transition(ACTIVE_ONLY, domain.CampaignStatus.PAUSED), now=LATER
    )
    assert paused.left_out == left_out


def test_a_move_the_status_does_not_allow_is_a_conflict_naming_it(
    campaigns: CampaignStore,
) -> None:
    made = _campaign()
    campaigns.create(made)
    with pytest.raises(Conflict) as refused:
        campaigns.transition(
            ORG,
            made.id,
            domain.Transition(ACTIVE_ONLY, domain.CampaignStatus.PAUSED),
            now=NOW,
        )
    assert refused.value.extra == {"campaign_status": "draft"}
    assert campaigns.get(ORG, made.id) == made
    with pytest.raises(NotFound):
        campaigns.transition(ORG, new_id(NOW), CANCEL_DRAFT, now=NOW)


def test_cancelling_and_completing_set_completed_at(campaigns: CampaignStore) -> None:
    cancelled, completed = _campaign(), _campaign(at=LATER)
    for campaign in (cancelled, completed):
        campaigns.create(campaign)
    moved = campaigns.transition(ORG, cancelled.id, CANCEL_DRAFT, now=LATER)
    assert moved == replace(
        cancelled, status=domain.CampaignStatus.CANCELLED, updated_at=LATER, completed_at=LATER
    )
    campaigns.begin_start(ORG, completed.id, token="t", now=NOW, until=LATER)
    _go_active(campaigns, completed.id, token="t", recipients=0)
    done = campaigns.transition(
        ORG,
        completed.id,
        domain.Transition(ACTIVE_ONLY, domain.CampaignStatus.COMPLETED),
        now=LATER,
    )
    assert done.status is domain.CampaignStatus.COMPLETED
    assert done.completed_at == LATER
    assert done.started_at == NOW


def test_delete_draft_deletes_only_a_draft(campaigns: CampaignStore) -> None:
    draft, cancelled = _campaign(), _campaign(at=LATER)
    for campaign in (draft, cancelled):
        campaigns.create(campaign)
    campaigns.transition(ORG, cancelled.id, CANCEL_DRAFT, now=NOW)
    campaigns.delete_draft(ORG, draft.id, now=NOW)
    with pytest.raises(NotFound):
        campaigns.get(ORG, draft.id)
    with pytest.raises(Conflict):
        campaigns.delete_draft(ORG, cancelled.id, now=NOW)
    with pytest.raises(Conflict):
        campaigns.delete_draft(ORG, draft.id, now=NOW)  # gone already
    assert campaigns.get(ORG, cancelled.id).status is domain.CampaignStatus.CANCELLED


# --- RecipientStore --------------------------------------------------------------------------


def test_a_snapshot_lists_in_contact_order_as_written(recipients: Recipients) -> None:
    store = recipients.store
    written = [_recipient(_contact_id(i), variant="AB"[i % 2]) for i in (3, 1, 4, 2)]
    attempted = replace(written[0], attempts=2, provider_message_id="m", error="e", sent_at=NOW)
    assert store.write_snapshot(iter([attempted, *written[1:]])) == 4
    expected = sorted(written, key=lambda r: r.contact_id)
    first = store.list(ORG, domain.SendsQuery(CAMPAIGN), limit=3, cursor=None)
    assert first.items == expected[:3]
    assert first.next_cursor
    rest = store.list(ORG, domain.SendsQuery(CAMPAIGN), limit=3, cursor=first.next_cursor)
    assert rest.items == expected[3:]
    assert rest.next_cursor is None
    whole = store.list(ORG, domain.SendsQuery(CAMPAIGN), limit=4, cursor=None)
    assert whole.items == expected
    assert whole.next_cursor is None
    assert store.list(OTHER_ORG, domain.SendsQuery(CAMPAIGN), limit=4, cursor=None).items == []


def test_a_status_filter_applies_to_each_page_read(recipients: Recipients) -> None:
    store = recipients.store
    pending, failed, sent = (
        domain.RecipientStatus.PENDING,
        domain.RecipientStatus.FAILED,
        domain.RecipientStatus.SENT,
    )
    statuses = [pending, failed, pending, pending, failed, sent, sent]
    written = [_recipient(_contact_id(i), status) for i, status in enumerate(statuses)]
    store.write_snapshot(written)
    first = store.list(ORG, domain.SendsQuery(CAMPAIGN, pending), limit=2, cursor=None)
    assert first.items == [written[0], written[2]]
    second = store.list(
        ORG, domain.SendsQuery(CAMPAIGN, pending), limit=2, cursor=first.next_cursor
    )
    assert second.items == [written[3]]
    # Read pages [0, 1], [2, 3]: the page is full at the end of a read page, and
    # more items follow (none of them failed): the next page is empty and the last.
    full = store.list(ORG, domain.SendsQuery(CAMPAIGN, failed), limit=2, cursor=None)
    assert full.items == [written[1], written[4]]
    assert full.next_cursor
    after = store.list(ORG, domain.SendsQuery(CAMPAIGN, failed), limit=2, cursor=full.next_cursor)
    assert after.items == []
    assert after.next_cursor is None
    assert store.list(
        ORG, domain.SendsQuery(CAMPAIGN, domain.RecipientStatus.UNKNOWN), limit=50, cursor=None
    ) == (
        store.list(
            ORG, domain.SendsQuery(CAMPAIGN, domain.RecipientStatus.SKIPPED), limit=50, cursor=None
        )
    )


def test_a_sends_cursor_is_bound_to_its_campaign_filter_and_organization(
    recipients: Recipients,
) -> None:
    store = recipients.store
    store.write_snapshot([_recipient(_contact_id(i)) for i in range(3)])
    cursor = store.list(ORG, domain.SendsQuery(CAMPAIGN), limit=1, cursor=None).next_cursor
    assert cursor
    other_campaign = "01JB0000000000000000000002"
    for org_id, campaign_id, status in (
        (ORG, CAMPAIGN, domain.RecipientStatus.PENDING),
        (ORG, other_campaign, None),
        (OTHER_ORG, CAMPAIGN, None),
        (ORG, "x" * 3000, None),
    ):
        with pytest.raises(BadRequest):
            store.list(org_id, domain.SendsQuery(campaign_id, status), limit=1, cursor=cursor)


@pytest.mark.parametrize("campaign_id", ["nope", "x" * 3000])
def test_sends_of_an_id_no_campaign_can_have_are_empty(
    recipients: Recipients, campaign_id: str
) -> None:
    page = recipients.store.list(ORG, domain.SendsQuery(campaign_id), limit=5, cursor=None)
    assert page.items == []
    assert page.next_cursor is None


def test_clear_snapshot_deletes_the_campaigns_recipients(recipients: Recipients) -> None:
    store = recipients.store
    other = "01JB0000000000000000000002"
    store.write_snapshot([_recipient(_contact_id(i)) for i in range(3)])
    store.write_snapshot([_recipient(_contact_id(9), campaign_id=other)])
    assert store.clear_snapshot(ORG, CAMPAIGN) == 3
    assert store.list(ORG, domain.SendsQuery(CAMPAIGN), limit=5, cursor=None).items == []
    assert len(store.list(ORG, domain.SendsQuery(other), limit=5, cursor=None).items) == 1
    assert store.clear_snapshot(ORG, CAMPAIGN) == 0


def test_skip_pending_skips_only_pending_recipients(recipients: Recipients) -> None:
    store = recipients.store
    pending, sending = domain.RecipientStatus.PENDING, domain.RecipientStatus.SENDING
    written = [
        _recipient(_contact_id(0), pending, "A"),
        _recipient(_contact_id(1), pending, "B"),
        _recipient(_contact_id(2), pending, "B"),
        _recipient(_contact_id(3), sending, "A"),
        _recipient(_contact_id(4), domain.RecipientStatus.SENT, "A"),
    ]
    store.write_snapshot(written)
    assert store.skip_pending(ORG, CAMPAIGN, reason="campaign cancelled", now=LATER) == {
        "A": 1,
        "B": 2,
    }
    listed = store.list(ORG, domain.SendsQuery(CAMPAIGN), limit=10, cursor=None).items
    assert listed[:3] == [
        replace(
            r, status=domain.RecipientStatus.SKIPPED, error="campaign cancelled", updated_at=LATER
        )
        for r in written[:3]
    ]
    assert listed[3:] == written[3:]
    assert store.skip_pending(ORG, CAMPAIGN, reason="again", now=LATER) == {}


def test_counts_project_the_recipients_and_add_the_reply_counters(
    recipients: Recipients,
) -> None:
    store = recipients.store
    assert store.counts(ORG, CAMPAIGN) == []
    pending, sending, sent = (
        domain.RecipientStatus.PENDING,
        domain.RecipientStatus.SENDING,
        domain.RecipientStatus.SENT,
    )
    store.write_snapshot(
        [
            _recipient(_contact_id(0), pending, "A"),
            _recipient(_contact_id(1), sending, "A"),
            _recipient(_contact_id(2), sent, "A"),
            _recipient(_contact_id(3), pending, "B"),
        ]
    )
    recipients.drain()
    recipients.add_counts(
        ORG, CAMPAIGN, domain.VariantCounts("A", replies=4, repliers=1, opt_outs=1)
    )
    recipients.add_counts(ORG, CAMPAIGN, domain.VariantCounts("A", replies=1, repliers=1))
    assert sorted(store.counts(ORG, CAMPAIGN), key=lambda c: c.name) == [
        domain.VariantCounts(
            "A", recipients=3, pending=2, sent=1, replies=5, repliers=2, opt_outs=1
        ),
        domain.VariantCounts("B", recipients=1, pending=1),
    ]
    assert store.counts(OTHER_ORG, CAMPAIGN) == []


def test_sends_on_reads_the_days_counter(recipients: Recipients) -> None:
    store = recipients.store
    assert store.sends_on(ORG, CAMPAIGN, "2026-03-02") == 0
    recipients.count_sends(ORG, CAMPAIGN, "2026-03-02", 7)
    recipients.count_sends(ORG, CAMPAIGN, "2026-03-02", 2)
    assert store.sends_on(ORG, CAMPAIGN, "2026-03-02") == 9
    assert store.sends_on(ORG, CAMPAIGN, "2026-03-03") == 0
    assert store.sends_on(OTHER_ORG, CAMPAIGN, "2026-03-02") == 0


# --- What a preview reads (issue 15, point 7) ------------------------------------------------


def test_open_recipients_are_the_pending_and_claimed_ones(recipients: Recipients) -> None:
    store = recipients.store
    statuses = [
        domain.RecipientStatus.SENT,
        domain.RecipientStatus.PENDING,
        domain.RecipientStatus.SENDING,
        domain.RecipientStatus.SKIPPED,
        domain.RecipientStatus.PENDING,
    ]
    written = [_recipient(_contact_id(i), status, "AB"[i % 2]) for i, status in enumerate(statuses)]
    store.write_snapshot(written)
    store.write_snapshot([_recipient(_contact_id(9), campaign_id="01JB0000000000000000000002")])
    assert list(store.open_recipients(ORG, CAMPAIGN)) == [
        (r.contact_id, r.phone, r.variant) for r in (written[1], written[2], written[4])
    ]
    assert list(store.open_recipients(OTHER_ORG, CAMPAIGN)) == []


def test_variant_of_reads_the_recorded_variant(recipients: Recipients) -> None:
    store = recipients.store
    store.write_snapshot(
        [
            _recipient(_contact_id(1), variant="B"),
            _recipient(_contact_id(2), domain.RecipientStatus.SENT, "A"),
        ]
    )
    assert store.variant_of(ORG, CAMPAIGN, _contact_id(1)) == "B"
    assert store.variant_of(ORG, CAMPAIGN, _contact_id(2)) == "A"
    assert store.variant_of(ORG, CAMPAIGN, _contact_id(3)) is None
    assert store.variant_of(OTHER_ORG, CAMPAIGN, _contact_id(1)) is None


def test_texted_numbers_are_those_with_a_phone_history(recipients: Recipients) -> None:
    store = recipients.store
    texted, new, elsewhere = "+16175550101", "+16175550102", "+16175550103"
    recipients.note_texted(ORG, texted)
    recipients.note_texted(OTHER_ORG, elsewhere)
    assert store.texted_numbers(ORG, [texted, new, elsewhere, texted]) == {texted}
    assert store.texted_numbers(ORG, []) == set()
    many = [f"+1617556{i:04d}" for i in range(150)]  # more than one batch read
    for phone in many[::7]:
        recipients.note_texted(ORG, phone)
    assert store.texted_numbers(ORG, many) == set(many[::7])


@pytest.mark.usefixtures("aws")
def test_texted_numbers_decide_the_footer_as_the_sender_does() -> None:
    """The preview's read and the sender's (``phone_histories``, where a number with no
    history or an untexted one gets the footer) agree, also on an item no campaign text
    wrote and on a number whose first text did not go (only its closed claim is kept)."""
    texted, new, bare, refused = "+16175550101", "+16175550102", "+16175550104", "+16175550105"
    _stored_history(ORG, texted)
    PhoneHistoryModel(ORG, bare).save()
    sending = SendingRepository()
    candidate = Candidate(ORG, CAMPAIGN, _contact_id(1), refused, "A", None)
    claim = Claim.of("sender", NOW + timedelta(minutes=5))
    assert sending.claim(candidate, None, claim, now=NOW) is not None
    assert sending.unclaim(candidate, claim, None, closed_at=NOW)
    phones = [texted, new, bare, refused]
    assert RecipientRepository().texted_numbers(ORG, phones) == {texted}
    histories = sending.phone_histories(ORG, phones)
    assert {phone for phone, history in histories.items() if history.texted} == {texted}
