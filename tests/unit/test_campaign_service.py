"""The campaign rules, through :class:`CampaignService` on the in-memory fakes.

Sources: `api-contract.md` ("Campaigns": defaults, edits, the lifecycle, preview,
stats) and `sending-rules.md` (the audience snapshot, opt-out suppression at start,
variant assignment, the A/B winner). The fakes are held to DynamoDB by
``tests/integration/test_campaigns_contract.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.campaigns import domain
from outreach.campaigns.service import START_LEASE
from outreach.campaigns.variants import assign_variant
from outreach.clock import SimulatedClock
from outreach.contacts.domain import OptOutSource
from outreach.errors import BadRequest, Conflict, NotFound, ValidationFailed
from outreach.ids import new_id
from outreach.sending.daily_cap import DEFAULT_DAILY_LIMIT
from tests.support import builders
from tests.support.campaign_fakes import CampaignFakes

# Monday 23 November 2026, 10:00 in New York.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
AB = (
    domain.Variant("A", "Hi {first_name|there}", 50),
    domain.Variant("B", "Hey {first_name|there}!", 50),
)
MISSING_ID = "01HZZZZZZZZZZZZZZZZZZZZZZZ"


@dataclass
class World(CampaignFakes):
    """An organization with a sender number, its contacts and opt-outs, and the service."""

    clock: SimulatedClock = field(default_factory=lambda: SimulatedClock(NOW))

    def __post_init__(self) -> None:
        self.org_id = self.organization("Acme", sender_number="+16175550100")

    def organization(
        self, name: str, *, sender_number: str | None, timezone: str = "America/New_York"
    ) -> str:
        org_id = new_id(self.clock.now())
        self.organizations.organizations[org_id] = builders.organization(
            name, at=NOW, id=org_id, sender_number=sender_number, timezone=timezone
        )
        self.clock.advance(timedelta(milliseconds=1))
        return org_id

    def set_organization(self, org_id: str, **changes: object) -> None:
        stored = self.organizations.organizations[org_id]
        self.organizations.organizations[org_id] = replace(stored, **changes)  # type: ignore[arg-type]

    def opt_out(self, org_id: str, phone: str) -> None:
        self.opt_outs.add(org_id, phone, OptOutSource.MANUAL, self.clock.now())

    def contact(self, phone: str, *tags: str, org_id: str | None = None, **fields: str) -> str:
        contact = builders.contact(
            org_id or self.org_id,
            phone,
            at=NOW,
            id=new_id(self.clock.now()),
            tags=tags,
            attributes={k[5:]: v for k, v in fields.items() if k.startswith("attr_")},
            **{k: v for k, v in fields.items() if not k.startswith("attr_")},
        )
        self.contacts.create(contact)
        self.clock.advance(timedelta(milliseconds=1))
        return contact.id

    def draft(self, **changes: object) -> domain.Campaign:
        """A new draft: variants A and B, everyone, with ``changes`` to the draft."""
        draft = domain.CampaignDraft(
            name="Spring check", variants=AB, audience=domain.Audience(all=True)
        )
        made = self.service.create(self.org_id, replace(draft, **changes))  # type: ignore[arg-type]
        self.clock.advance(timedelta(milliseconds=1))
        return made

    def campaign_in(self, status: domain.CampaignStatus, **changes: object) -> domain.Campaign:
        """A new campaign moved to ``status`` (``completed``: as the engine completes one)."""
        campaign = self.draft(**changes)
        moves = {
            domain.CampaignStatus.DRAFT: [],
            domain.CampaignStatus.ACTIVE: [self.service.start],
            domain.CampaignStatus.PAUSED: [self.service.start, self.service.pause],
            domain.CampaignStatus.CANCELLED: [self.service.cancel],
            domain.CampaignStatus.COMPLETED: [self.service.start],
        }[status]
        for move in moves:
            move(self.org_id, campaign.id)
        if status is domain.CampaignStatus.COMPLETED:
            self.campaigns.engine_sets(self.org_id, campaign.id, status=status)
        return self.service.get(self.org_id, campaign.id)

    def snapshot(self, campaign_id: str) -> list[domain.Recipient]:
        page = self.recipients.list(
            self.org_id, domain.SendsQuery(campaign_id), limit=1000, cursor=None
        )
        assert page.next_cursor is None
        return page.items


@pytest.fixture
def world() -> World:
    return World()


# --- Create ----------------------------------------------------------------------------------


def test_a_new_draft_takes_the_defaults(world: World) -> None:
    # Given a draft naming only its name, variants and audience
    # When it is created
    created_at = world.clock.now()
    campaign = world.draft()
    # Then it takes the contract's defaults and the organization's zone
    assert campaign.status is domain.CampaignStatus.DRAFT
    assert campaign.daily_limit == DEFAULT_DAILY_LIMIT == 125
    assert (
        campaign.window
        == domain.DEFAULT_WINDOW
        == domain.Window("09:00", "18:00", domain.DEFAULT_WINDOW.days)
    )
    assert campaign.window.days == ("mon", "tue", "wed", "thu", "fri")
    assert campaign.timezone == "America/New_York"
    assert (campaign.start_at, campaign.end_at, campaign.started_at) == (None, None, None)
    assert campaign.recipients == 0
    assert campaign.created_at == campaign.updated_at == created_at
    assert world.service.get(world.org_id, campaign.id) == campaign


def test_a_draft_keeps_what_it_names(world: World) -> None:
    window = domain.Window("10:00", "16:30", ("mon", "sat"))
    start, end = datetime(2026, 12, 1, 14, tzinfo=UTC), datetime(2026, 12, 20, tzinfo=UTC)
    campaign = world.draft(
        daily_limit=40, timezone="America/Chicago", window=window, start_at=start, end_at=end
    )
    assert (campaign.daily_limit, campaign.timezone, campaign.window) == (
        40,
        "America/Chicago",
        window,
    )
    assert (campaign.start_at, campaign.end_at) == (start, end)


def test_the_zone_defaults_to_the_organizations(world: World) -> None:
    world.set_organization(world.org_id, timezone="America/Denver")
    assert world.draft().timezone == "America/Denver"
    assert world.draft(timezone="Europe/Paris").timezone == "Europe/Paris"


def test_a_bad_placeholder_is_refused_naming_the_variant_and_position(world: World) -> None:
    bad = (domain.Variant("Short", "Hi", 1), domain.Variant("Long", "Hi {foo}, spring check?", 1))
    with pytest.raises(ValidationFailed) as refused:
        world.draft(variants=bad)
    [error] = refused.value.errors
    assert error["loc"] == ["body", "variants", 1, "body"]
    assert "variant 'Long'" in error["msg"]
    assert "unknown placeholder {foo} at position 3" in error["msg"]
    assert world.service.list_campaigns(world.org_id, status=None, limit=5, cursor=None).items == []


@pytest.mark.parametrize("gap", [timedelta(0), timedelta(hours=-1)])
def test_start_at_must_come_before_end_at(world: World, gap: timedelta) -> None:
    start = datetime(2026, 12, 1, 5, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as refused:
        world.draft(start_at=start, end_at=start + gap)
    assert [e["loc"] for e in refused.value.errors] == [["body", "end_at"]]


# --- Edit and delete -------------------------------------------------------------------------


def test_an_edit_changes_what_it_names_and_clears_dates_set_to_null(world: World) -> None:
    campaign = world.draft(start_at=datetime(2026, 12, 1, tzinfo=UTC))
    world.clock.advance(timedelta(minutes=1))
    edited = world.service.update(
        world.org_id,
        campaign.id,
        domain.CampaignDraft(name="Autumn", daily_limit=10, cleared=frozenset({"start_at"})),
    )
    assert edited == replace(
        campaign, name="Autumn", daily_limit=10, start_at=None, updated_at=world.clock.now()
    )
    assert world.service.get(world.org_id, campaign.id) == edited


def test_an_edit_that_says_nothing_changes_nothing(world: World) -> None:
    campaign = world.draft()
    world.clock.advance(timedelta(minutes=1))
    assert world.service.update(world.org_id, campaign.id, domain.CampaignDraft()) == campaign


def test_an_edit_putting_start_after_the_stored_end_is_refused(world: World) -> None:
    campaign = world.draft(end_at=datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(ValidationFailed) as refused:
        world.service.update(
            world.org_id,
            campaign.id,
            domain.CampaignDraft(start_at=datetime(2026, 12, 2, tzinfo=UTC)),
        )
    assert [e["loc"] for e in refused.value.errors] == [["body", "end_at"]]
    assert world.service.get(world.org_id, campaign.id) == campaign


@pytest.mark.parametrize("status", list(domain.CampaignStatus))
def test_only_a_draft_or_paused_campaign_may_be_edited(
    world: World, status: domain.CampaignStatus
) -> None:
    campaign = world.campaign_in(status)
    edit = domain.CampaignDraft(name="Renamed")
    if status in (domain.CampaignStatus.DRAFT, domain.CampaignStatus.PAUSED):
        assert world.service.update(world.org_id, campaign.id, edit).name == "Renamed"
    else:
        with pytest.raises(Conflict):
            world.service.update(world.org_id, campaign.id, edit)
        assert world.service.get(world.org_id, campaign.id) == campaign


def test_a_paused_campaign_keeps_its_audience_and_variant_names(world: World) -> None:
    world.contact("+16175550101", "leads")
    campaign = world.campaign_in(
        domain.CampaignStatus.PAUSED, audience=domain.Audience(tags=("leads", "vip"))
    )
    for edit in (
        domain.CampaignDraft(audience=domain.Audience(all=True)),
        domain.CampaignDraft(variants=(AB[0],)),
        domain.CampaignDraft(variants=(*AB, domain.Variant("C", "Hello", 1))),
        domain.CampaignDraft(variants=(AB[0], domain.Variant("C", "Hello", 50))),
    ):
        with pytest.raises(Conflict):
            world.service.update(world.org_id, campaign.id, edit)
    assert world.service.get(world.org_id, campaign.id) == campaign
    # The same audience in another order, and new bodies under the same names, are fine.
    new_bodies = (domain.Variant("A", "New A", 1), domain.Variant("B", "New B", 3))
    edited = world.service.update(
        world.org_id,
        campaign.id,
        domain.CampaignDraft(audience=domain.Audience(tags=("vip", "leads")), variants=new_bodies),
    )
    assert edited.variants == new_bodies
    assert edited.recipients == campaign.recipients == 1


@pytest.mark.parametrize("status", list(domain.CampaignStatus))
def test_only_a_draft_may_be_deleted(world: World, status: domain.CampaignStatus) -> None:
    campaign = world.campaign_in(status)
    if status is domain.CampaignStatus.DRAFT:
        world.service.delete(world.org_id, campaign.id)
        with pytest.raises(NotFound):
            world.service.get(world.org_id, campaign.id)
    else:
        with pytest.raises(Conflict):
            world.service.delete(world.org_id, campaign.id)
        assert world.service.get(world.org_id, campaign.id) == campaign


# --- The lifecycle ---------------------------------------------------------------------------

LEGAL_MOVES = {
    (domain.CampaignStatus.DRAFT, "start"): domain.CampaignStatus.ACTIVE,
    (domain.CampaignStatus.DRAFT, "cancel"): domain.CampaignStatus.CANCELLED,
    (domain.CampaignStatus.ACTIVE, "pause"): domain.CampaignStatus.PAUSED,
    (domain.CampaignStatus.ACTIVE, "cancel"): domain.CampaignStatus.CANCELLED,
    (domain.CampaignStatus.PAUSED, "resume"): domain.CampaignStatus.ACTIVE,
    (domain.CampaignStatus.PAUSED, "cancel"): domain.CampaignStatus.CANCELLED,
}
ACTIONS = ["start", "pause", "resume", "cancel"]


@pytest.mark.parametrize(("status", "action"), list(LEGAL_MOVES))
def test_a_legal_move(world: World, status: domain.CampaignStatus, action: str) -> None:
    campaign = world.campaign_in(status)
    world.clock.advance(timedelta(minutes=1))
    moved_at = world.clock.now()
    moved = getattr(world.service, action)(world.org_id, campaign.id)
    assert moved.status is LEGAL_MOVES[status, action]
    assert moved.updated_at == moved_at
    assert world.service.get(world.org_id, campaign.id) == moved
    if moved.status is domain.CampaignStatus.CANCELLED:
        assert moved.completed_at == moved_at
    if action == "start":
        assert moved.started_at == moved_at


@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for s in domain.CampaignStatus for a in ACTIONS if (s, a) not in LEGAL_MOVES],
)
def test_an_illegal_move_is_a_conflict_and_changes_nothing(
    world: World, status: domain.CampaignStatus, action: str
) -> None:
    campaign = world.campaign_in(status)
    with pytest.raises(Conflict):
        getattr(world.service, action)(world.org_id, campaign.id)
    assert world.service.get(world.org_id, campaign.id) == campaign


@pytest.mark.parametrize("action", ACTIONS)
def test_a_move_of_an_unknown_campaign_is_not_found(world: World, action: str) -> None:
    for campaign_id in (MISSING_ID, "nope"):
        with pytest.raises(NotFound):
            getattr(world.service, action)(world.org_id, campaign_id)


def test_pause_and_cancel_return_once_nothing_can_leave(world: World) -> None:
    campaign = world.campaign_in(domain.CampaignStatus.ACTIVE)
    for action in ("pause", "cancel"):
        before = world.clock.monotonic()
        getattr(world.service, action)(world.org_id, campaign.id)
        assert world.clock.monotonic() - before == pytest.approx(domain.SEND_DEADLINE_SECONDS)


def test_a_start_needs_a_sender_number_and_writes_nothing_without_one(world: World) -> None:
    world.set_organization(world.org_id, sender_number=None)
    world.contact("+16175550101")
    campaign = world.draft()
    with pytest.raises(Conflict) as refused:
        world.service.start(world.org_id, campaign.id)
    assert "sender_number" in refused.value.detail
    assert world.service.get(world.org_id, campaign.id) == campaign
    assert world.snapshot(campaign.id) == []
    # Nothing holds the draft: once the number is set, it starts.
    world.set_organization(world.org_id, sender_number="+16175550100")
    assert world.service.start(world.org_id, campaign.id).recipients == 1


def test_starting_twice_is_a_conflict_and_keeps_the_snapshot(world: World) -> None:
    for index in range(4):
        world.contact(f"+1617555010{index}")
    campaign = world.draft()
    started = world.service.start(world.org_id, campaign.id)
    snapshot = world.snapshot(campaign.id)
    world.contact("+16175550109")
    with pytest.raises(Conflict):
        world.service.start(world.org_id, campaign.id)
    assert world.service.get(world.org_id, campaign.id) == started
    assert world.snapshot(campaign.id) == snapshot
    assert len(snapshot) == started.recipients == 4


def test_a_running_start_holds_the_draft(world: World) -> None:
    campaign = world.draft()
    now = world.clock.now()
    world.campaigns.begin_start(
        world.org_id, campaign.id, token="other", now=now, until=now + timedelta(seconds=60)
    )
    for attempt in (world.service.start, world.service.cancel, world.service.delete):
        with pytest.raises(Conflict):
            attempt(world.org_id, campaign.id)
    with pytest.raises(Conflict):
        world.service.update(world.org_id, campaign.id, domain.CampaignDraft(name="Renamed"))
    assert world.service.get(world.org_id, campaign.id).name == "Spring check"


def test_an_interrupted_start_is_resumable_and_its_leftovers_are_cleared(world: World) -> None:
    dana = world.contact("+16175550101")
    campaign = world.draft()
    # A start that died, long enough ago for its lease to lapse, after writing a
    # recipient of an audience since changed.
    now = world.clock.now()
    world.campaigns.begin_start(
        world.org_id, campaign.id, token="dead", now=now - START_LEASE * 2, until=now - START_LEASE
    )
    leftover = builders.pending_recipient(
        world.org_id, campaign.id, MISSING_ID, "+16175550199", at=now
    )
    world.recipients.write_snapshot([leftover])
    started = world.service.start(world.org_id, campaign.id)
    assert started.recipients == 1
    assert [r.contact_id for r in world.snapshot(campaign.id)] == [dana]


def test_cancel_skips_the_pending_recipients_but_not_a_claimed_one(world: World) -> None:
    for index in range(3):
        world.contact(f"+1617555010{index}")
    campaign = world.campaign_in(domain.CampaignStatus.ACTIVE)
    claimed = world.snapshot(campaign.id)[0].contact_id
    world.recipients.engine_sets(
        world.org_id, campaign.id, claimed, status=domain.RecipientStatus.SENDING
    )
    world.service.cancel(world.org_id, campaign.id)
    after = {r.contact_id: r for r in world.snapshot(campaign.id)}
    assert after.pop(claimed).status is domain.RecipientStatus.SENDING
    assert {(r.status, r.error) for r in after.values()} == {
        (domain.RecipientStatus.SKIPPED, "campaign cancelled")
    }
    assert len(after) == 2


# --- The audience snapshot -------------------------------------------------------------------


@dataclass
class People:
    """Five contacts of the organization (Hal opted out) and one of another."""

    ids: dict[str, str]

    def named(self, *names: str) -> set[str]:
        return {self.ids[name] for name in names}


@pytest.fixture
def people(world: World) -> People:
    other = world.organization("Rival", sender_number="+16175550199")
    ids = {
        "dana": world.contact("+16175550101", "leads", first_name="Dana"),
        "eli": world.contact("+16175550102", "customers"),
        "fay": world.contact("+16175550103", "leads", "customers"),
        "gus": world.contact("+16175550104"),
        "hal": world.contact("+16175550105", "leads"),
        "ivy": world.contact("+16175550106", "leads", org_id=other),
    }
    world.opt_out(world.org_id, "+16175550105")
    world.opt_out(other, "+16175550101")
    return People(ids)


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        pytest.param(lambda p: domain.Audience(all=True), {"dana", "eli", "fay", "gus"}, id="all"),
        pytest.param(lambda p: domain.Audience(tags=("leads",)), {"dana", "fay"}, id="one tag"),
        pytest.param(
            lambda p: domain.Audience(tags=("leads", "customers", "nobody")),
            {"dana", "eli", "fay"},
            id="any tag, each contact once",
        ),
        pytest.param(
            lambda p: domain.Audience(
                contact_ids=(*p.named("dana", "gus", "hal", "ivy"), MISSING_ID, "nope")
            ),
            {"dana", "gus"},
            id="ids: unknown, opted-out and another organization's left out",
        ),
    ],
)
def test_a_start_snapshots_the_audience_minus_opt_outs(
    world: World, people: People, audience: object, expected: set[str]
) -> None:
    campaign = world.draft(audience=audience(people))  # type: ignore[operator]
    started = world.service.start(world.org_id, campaign.id)
    snapshot = world.snapshot(campaign.id)
    assert {r.contact_id for r in snapshot} == people.named(*expected)
    assert started.recipients == len(snapshot) == len(expected)
    weights = [(v.name, v.weight) for v in AB]
    for recipient in snapshot:
        assert recipient.status is domain.RecipientStatus.PENDING
        assert recipient.variant == assign_variant(campaign.id, recipient.contact_id, weights)
        assert recipient.attempts == 0
        assert recipient.updated_at == started.started_at


def test_an_opt_out_after_start_keeps_the_snapshot(world: World, people: People) -> None:
    campaign = world.campaign_in(domain.CampaignStatus.ACTIVE)
    world.opt_out(world.org_id, "+16175550101")
    # Suppression at send time is the engine's job; the snapshot is not rewritten.
    assert len(world.snapshot(campaign.id)) == 4
    assert world.service.stats(world.org_id, campaign.id).totals.recipients == 4


def test_another_organizations_contacts_are_not_an_audience(world: World, people: People) -> None:
    rival = world.organization("Other", sender_number="+16175550198")
    world.org_id, own = rival, world.org_id
    ids = tuple(people.ids.values())
    for audience in (
        domain.Audience(all=True),
        domain.Audience(tags=("leads",)),
        domain.Audience(contact_ids=ids),
    ):
        campaign = world.draft(audience=audience)
        assert world.service.start(rival, campaign.id).recipients == 0
        assert world.snapshot(campaign.id) == []
    assert own != rival


def test_the_split_follows_the_weights(world: World) -> None:
    for index in range(400):
        world.contact(f"+1617555{1000 + index:04d}")
    weights = (domain.Variant("A", "a", 3), domain.Variant("B", "b", 1))
    campaign = world.campaign_in(domain.CampaignStatus.ACTIVE, variants=weights)
    split = Counter(r.variant for r in world.snapshot(campaign.id))
    # 400 draws at 3:1; 300 expected for A, with a standard deviation under 9.
    assert 250 < split["A"] < 350
    assert split["A"] + split["B"] == 400


def test_two_campaigns_with_one_audience_may_split_it_differently(world: World) -> None:
    for index in range(8):
        world.contact(f"+1617555{110 + index:04d}")

    def assignment() -> dict[str, str]:
        campaign = world.campaign_in(domain.CampaignStatus.ACTIVE)
        return {r.contact_id: r.variant for r in world.snapshot(campaign.id)}

    # Campaigns draw independently: 8 fair coins agree with probability 1/256, five in a row
    # with about 1e-12.
    first = assignment()
    assert any(assignment() != first for _ in range(5))


# --- Preview ---------------------------------------------------------------------------------

PREVIEW = (
    domain.Variant(
        "A", "Hi {first_name|there}, {company|your company}: {attributes.crack|a crack}.", 1
    ),
    domain.Variant("B", "{last_name}{phone|?} {email|no email}", 1),
)


def test_preview_renders_each_variant_for_a_contact(world: World) -> None:
    dana = world.contact(
        "+16175550101", first_name="Dana", last_name="Diaz", company="Acme", attr_crack="north wall"
    )
    campaign = world.draft(variants=PREVIEW)
    previews = world.service.preview(world.org_id, campaign.id, dana).variants
    assert [(p.name, p.repeat.body) for p in previews] == [
        ("A", "Hi Dana, Acme: north wall."),
        ("B", "Diaz+16175550101 no email"),
    ]


def test_preview_without_a_contact_uses_every_fallback_and_measures(world: World) -> None:
    campaign = world.draft(variants=PREVIEW)
    previews = world.service.preview(world.org_id, campaign.id, None).variants
    assert [(p.name, p.repeat.body) for p in previews] == [
        ("A", "Hi there, your company: a crack."),
        ("B", "? no email"),
    ]
    length = previews[0].repeat.length
    assert (length.encoding, length.characters, length.segments) == ("GSM-7", 32, 1)


def test_preview_for_a_contact_it_cannot_see_is_refused(world: World) -> None:
    other = world.organization("Rival", sender_number=None)
    stranger = world.contact("+16175550101", org_id=other, first_name="Stranger")
    campaign = world.draft()
    for contact_id in (MISSING_ID, "nope", stranger):
        with pytest.raises(ValidationFailed) as refused:
            world.service.preview(world.org_id, campaign.id, contact_id)
        assert [e["loc"] for e in refused.value.errors] == [["body", "contact_id"]]
        assert "Stranger" not in refused.value.detail


# --- Statistics ------------------------------------------------------------------------------


def test_stats_of_a_draft_are_zero_for_each_variant(world: World) -> None:
    campaign = world.draft(daily_limit=3)
    stats = world.service.stats(world.org_id, campaign.id)
    assert stats.status is domain.CampaignStatus.DRAFT
    assert stats.totals == domain.VariantCounts("*")
    assert [(v.counts, v.reply_rate) for v in stats.variants] == [
        (domain.VariantCounts("A"), 0.0),
        (domain.VariantCounts("B"), 0.0),
    ]
    assert (stats.daily_limit, stats.sends_today, stats.winner) == (3, 0, None)


def test_stats_add_up_the_variants_in_the_campaigns_order(world: World) -> None:
    for index in range(4):
        world.contact(f"+1617555010{index}")
    campaign = world.campaign_in(domain.CampaignStatus.ACTIVE)
    by_variant = Counter(r.variant for r in world.snapshot(campaign.id))
    world.recipients.add_counts(
        world.org_id, campaign.id, domain.VariantCounts("B", replies=3, repliers=2, opt_outs=1)
    )
    stats = world.service.stats(world.org_id, campaign.id)
    assert [v.counts.name for v in stats.variants] == ["A", "B"]
    assert [v.counts.recipients for v in stats.variants] == [by_variant["A"], by_variant["B"]]
    assert stats.totals == domain.VariantCounts(
        "*", recipients=4, pending=4, replies=3, repliers=2, opt_outs=1
    )
    # Nothing accepted yet: no rate, whatever the replies.
    assert [v.reply_rate for v in stats.variants] == [0.0, 0.0]


def test_the_reply_rate_is_repliers_over_accepted_and_a_winner_needs_significance(
    world: World,
) -> None:
    campaign = world.campaign_in(domain.CampaignStatus.ACTIVE)
    add = world.recipients.add_counts
    add(world.org_id, campaign.id, domain.VariantCounts("A", accepted=99, repliers=60))
    add(world.org_id, campaign.id, domain.VariantCounts("B", accepted=200, repliers=20))
    stats = world.service.stats(world.org_id, campaign.id)
    assert [round(v.reply_rate, 6) for v in stats.variants] == [round(60 / 99, 6), 0.1]
    assert stats.winner is None  # A has fewer than 100 sends
    add(world.org_id, campaign.id, domain.VariantCounts("A", accepted=101))
    winner = world.service.stats(world.org_id, campaign.id).winner
    assert winner is not None
    assert winner.variant == "A"
    assert winner.p_value < 0.05


def test_sends_today_are_counted_on_the_day_in_the_campaigns_zone(world: World) -> None:
    campaign = world.draft(timezone="America/Los_Angeles", daily_limit=40)
    # 05:00 UTC on the 24th is 21:00 on the 23rd in Los Angeles.
    world.clock.set(datetime(2026, 11, 24, 5, 0, tzinfo=UTC))
    world.recipients.count_sends(world.org_id, campaign.id, "2026-11-23", 7)
    world.recipients.count_sends(world.org_id, campaign.id, "2026-11-24", 3)
    stats = world.service.stats(world.org_id, campaign.id)
    assert (stats.sends_today, stats.daily_limit) == (7, 40)


def test_stats_carry_the_engines_pause_reason(world: World) -> None:
    campaign = world.campaign_in(domain.CampaignStatus.ACTIVE)
    reason = "The provider's monthly spend limit was reached."
    world.campaigns.engine_sets(
        world.org_id, campaign.id, status=domain.CampaignStatus.PAUSED, paused_reason=reason
    )
    assert world.service.stats(world.org_id, campaign.id).paused_reason == reason
    # A resume ends the engine's pause, and its reason.
    assert world.service.resume(world.org_id, campaign.id).paused_reason is None


# --- Listings --------------------------------------------------------------------------------


def test_campaigns_list_newest_first_by_status(world: World) -> None:
    drafts = [world.draft() for _ in range(3)]
    active = world.campaign_in(domain.CampaignStatus.ACTIVE)
    listed = world.service.list_campaigns(world.org_id, status=None, limit=10, cursor=None)
    assert [c.id for c in listed.items] == [active.id, *(d.id for d in drafts[::-1])]
    first = world.service.list_campaigns(
        world.org_id, status=domain.CampaignStatus.DRAFT, limit=2, cursor=None
    )
    rest = world.service.list_campaigns(
        world.org_id, status=domain.CampaignStatus.DRAFT, limit=2, cursor=first.next_cursor
    )
    assert [c.id for c in first.items + rest.items] == [d.id for d in drafts[::-1]]
    assert rest.next_cursor is None


def test_sends_of_a_campaign_the_caller_cannot_see_are_not_found(world: World) -> None:
    for index in range(3):
        world.contact(f"+1617555010{index}")
    campaign = world.campaign_in(domain.CampaignStatus.ACTIVE)
    sends = domain.SendsQuery(campaign.id)
    page = world.service.sends(world.org_id, sends, limit=1, cursor=None)
    assert page.next_cursor
    rival = world.organization("Rival", sender_number=None)
    for org_id, campaign_id in ((rival, campaign.id), (world.org_id, MISSING_ID)):
        with pytest.raises(NotFound):
            world.service.sends(org_id, domain.SendsQuery(campaign_id), limit=1, cursor=None)
    # Another listing's cursor is a 400 before the campaign is looked up.
    with pytest.raises(BadRequest):
        world.service.sends(rival, sends, limit=1, cursor=page.next_cursor)
