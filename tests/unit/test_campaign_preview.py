"""An honest preview (issue 15, point 7; ``api-contract.md`` Addendum 1), through
:class:`CampaignService` on the in-memory fakes.

The problem replayed ("Why": "The preview understates the first message"): for a
contact never texted, the preview left out the opt-out footer and showed 150
characters / 1 segment, while the text sent was 172 / 2; and it showed no cost for the
audience. Now each variant shows the repeat message and the first message (footer
appended as the sender appends it), a contact's preview says which of the two it gets,
and the current audience's segments are counted from each recipient's own text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.campaigns import domain
from outreach.campaigns.preview import AUDIENCE_READ_BATCH, Preview
from outreach.campaigns.variants import assign_variant
from outreach.clock import SimulatedClock
from outreach.contacts.domain import Contact, OptOutSource
from outreach.errors import ValidationFailed
from outreach.ids import new_id
from tests.support import builders
from tests.support.campaign_fakes import CampaignFakes
from tests.support.fakes.contacts import InMemoryContactStore

# Monday 23 November 2026, 10:00 in New York.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
FOOTER = "Reply STOP to opt out"  # registration's default: 21 characters, 22 with its newline
# The message: 150 GSM-7 characters, one segment; 172 with the footer, two.
BODY_150 = (
    "Hi {first_name|there}, your spring foundation check is due. Cracks in a basement wall"
    " grow over winter: book a free 20-minute visit this week. Reply Y to book now."
)
UK_PREMIUM = "+449098790000"  # never textable for a US organization (issue 14, point 1)


class CountingContacts(InMemoryContactStore):
    """The contacts fake, recording each batch read and refusing one-by-one reads of
    audience members (a preview reads its audience in batches only)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.single_reads = 0

    def get(self, org_id: str, contact_id: str) -> Contact:
        self.single_reads += 1
        return super().get(org_id, contact_id)

    def get_many(self, org_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        ids = list(contact_ids)
        self.batches.append(len(ids))
        return super().get_many(org_id, ids)


@dataclass
class World(CampaignFakes):
    """An organization with a Boston sender number and registration's footer."""

    clock: SimulatedClock = field(default_factory=lambda: SimulatedClock(NOW))
    contacts: CountingContacts = field(default_factory=CountingContacts)

    def __post_init__(self) -> None:
        self.org_id = new_id(NOW)
        self.organizations.organizations[self.org_id] = builders.organization(
            "Acme", at=NOW, id=self.org_id, sender_number="+16175550100", opt_out_footer=FOOTER
        )

    def set_footer(self, footer: str) -> None:
        stored = self.organizations.organizations[self.org_id]
        self.organizations.organizations[self.org_id] = replace(stored, opt_out_footer=footer)

    def contact(self, phone: str, **fields: str) -> str:
        made = builders.contact(self.org_id, phone, at=NOW, id=new_id(self.clock.now()), **fields)
        self.contacts.create(made)
        self.clock.advance(timedelta(milliseconds=1))
        return made.id

    def texted_before(self, phone: str) -> None:
        """``phone`` has a phone history, as after the sender's first campaign text to it."""
        self.recipients.note_texted(self.org_id, phone)

    def draft(self, *bodies: str, **changes: object) -> domain.Campaign:
        """A draft to everyone with a variant per body (A, B, ...; equal weights)."""
        variants = tuple(domain.Variant(chr(65 + i), body, 1) for i, body in enumerate(bodies))
        draft = domain.CampaignDraft(
            name="Spring check", variants=variants, audience=domain.Audience(all=True)
        )
        made = self.service.create(self.org_id, replace(draft, **changes))  # type: ignore[arg-type]
        self.clock.advance(timedelta(milliseconds=1))
        return made

    def preview(self, campaign: domain.Campaign, contact_id: str | None = None) -> Preview:
        return self.service.preview(self.org_id, campaign.id, contact_id)


@pytest.fixture
def world() -> World:
    return World()


def figures(preview: Preview, variant: int = 0) -> tuple[tuple[str, int, int], ...]:
    """(encoding, characters, segments) of a variant's repeat and first message."""
    shown = preview.variants[variant]
    return tuple(
        (m.length.encoding, m.length.characters, m.length.segments)
        for m in (shown.repeat, shown.first_message)
    )


# --- Repeat and first message ---------------------------------------------------------------


def test_the_first_message_carries_the_footer_that_makes_it_two_segments(world: World) -> None:
    # Given the message: 150 characters for a contact never texted
    campaign = world.draft(BODY_150)
    # When it is previewed
    preview = world.preview(campaign)
    shown = preview.variants[0]
    # Then the repeat figures are the body's, and the first message is what the sender
    # sends a new number: the footer on a line of its own, 172 characters in 2 segments
    assert shown.repeat.body == BODY_150.replace("{first_name|there}", "there")
    assert len(shown.repeat.body) == 150
    assert shown.first_message.body == f"{shown.repeat.body}\n{FOOTER}"
    assert figures(preview) == (("GSM-7", 150, 1), ("GSM-7", 172, 2))


def test_with_an_empty_footer_the_first_message_is_the_repeat(world: World) -> None:
    world.set_footer("")
    preview = world.preview(world.draft(BODY_150))
    shown = preview.variants[0]
    assert shown.first_message == shown.repeat
    assert figures(preview) == (("GSM-7", 150, 1), ("GSM-7", 150, 1))


def test_a_ucs2_body_is_measured_in_ucs2_with_its_footer(world: World) -> None:
    # 59 UTF-16 units fit one UCS-2 segment (70); with the 22 of the footer, 81 need two
    # (67 each)
    body = "Привет {first_name|друг}! " + "ж" * 46
    world.contact("+16175550101", first_name="Zoë")
    preview = world.preview(world.draft(body))
    assert preview.variants[0].repeat.body == "Привет друг! " + "ж" * 46
    assert figures(preview) == (("UCS-2", 59, 1), ("UCS-2", 81, 2))
    # The contact's own text ("Привет Zoë! ...", 58 units) is a first text: 80 units, 2
    assert (preview.audience.recipients, preview.audience.segments) == (1, 2)


def test_each_variant_is_shown_both_ways(world: World) -> None:
    preview = world.preview(world.draft("Hi {first_name|there}", "Hey {first_name|you}!"))
    assert [(v.name, v.repeat.body, v.first_message.body) for v in preview.variants] == [
        ("A", "Hi there", f"Hi there\n{FOOTER}"),
        ("B", "Hey you!", f"Hey you!\n{FOOTER}"),
    ]
    assert (preview.first_text, preview.assigned_variant) == (None, None)


# --- A contact: which text it would get now ----------------------------------------------------


def test_a_contact_never_texted_would_get_the_first_message(world: World) -> None:
    ana = world.contact("+16175550101", first_name="Ana")
    campaign = world.draft("Hi {first_name|there}", "Hey {first_name|you}!")
    preview = world.preview(campaign, ana)
    assert preview.first_text is True
    assert [v.first_message.body for v in preview.variants] == [
        f"Hi Ana\n{FOOTER}",
        f"Hey Ana!\n{FOOTER}",
    ]
    # The variant its start would assign it: the campaign's deterministic choice
    assert preview.assigned_variant == assign_variant(campaign.id, ana, [("A", 1), ("B", 1)])


def test_a_contact_texted_before_would_get_the_repeat_message(world: World) -> None:
    ana = world.contact("+16175550101", first_name="Ana")
    world.texted_before("+16175550101")
    preview = world.preview(world.draft(BODY_150), ana)
    # Its text goes without the footer: the repeat figures are the ones it gets
    assert preview.first_text is False
    assert preview.variants[0].repeat.body.startswith("Hi Ana, ")
    assert (preview.audience.recipients, preview.audience.segments) == (1, 1)


def test_a_contact_the_start_would_leave_out_says_why_and_gets_no_variant(
    world: World,
) -> None:
    kept = world.contact("+16175550101", first_name="Ana")
    premium = world.contact(UK_PREMIUM, first_name="Bo")
    opted = world.contact("+16175550102", first_name="Cy")
    world.opt_outs.add(world.org_id, "+16175550102", OptOutSource.MANUAL, NOW)
    untagged = world.contact("+16175550103", first_name="Di")
    tagged = world.draft("Hi {first_name|there}", audience=domain.Audience(tags=("vip",)))
    everyone = world.draft("Hi {first_name|there}")
    assert world.preview(everyone, kept).left_out is None
    assert world.preview(everyone, kept).assigned_variant == "A"
    for contact_id, reason in ((premium, "not_textable"), (opted, "opted_out")):
        preview = world.preview(everyone, contact_id)
        assert (preview.left_out, preview.assigned_variant) == (reason, None)
    preview = world.preview(tagged, untagged)
    assert (preview.left_out, preview.assigned_variant) == ("not_in_audience", None)
    # Without a contact there is nothing to say
    assert world.preview(everyone).left_out is None


def test_a_contact_of_a_started_campaign_gets_its_recorded_variant(world: World) -> None:
    ana = world.contact("+16175550101", first_name="Ana")
    campaign = world.draft("Hi {first_name|there}", "Hey {first_name|you}!")
    world.service.start(world.org_id, campaign.id)
    [recipient] = world.recipients.recipients[world.org_id, campaign.id].values()
    assert world.preview(campaign, ana).assigned_variant == recipient.variant
    # A contact added after the start is not a recipient: no variant
    later = world.contact("+16175550102", first_name="Bo")
    assert world.preview(campaign, later).assigned_variant is None


def test_an_unknown_contact_is_still_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        world.preview(world.draft("Hi"), "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert [e["loc"] for e in refused.value.errors] == [["body", "contact_id"]]


# --- The current audience ------------------------------------------------------------------


def test_the_audience_total_counts_each_recipients_own_text(world: World) -> None:
    # A: 148 characters for "Ana" (1 segment; 170 and 2 with the footer), 156 for
    # "Bartholomew" (1; 178 and 2 with it). B: short for anyone (1 either way).
    bodies = ("Hi {first_name|there}, " + "a" * 140, "Yo {first_name|there}.")
    ana = world.contact("+16175550101", first_name="Ana")  # never texted: footer
    bart = world.contact("+16175550102", first_name="Bartholomew")  # texted before: none
    world.texted_before("+16175550102")
    cy = world.contact("+16175550103", first_name="Cy")  # never texted
    world.contact("+16175550104", first_name="Opted")  # opted out: left out as at start
    world.opt_outs.add(world.org_id, "+16175550104", OptOutSource.MANUAL, NOW)
    world.contact(UK_PREMIUM, first_name="Premium")  # not textable: left out as at start
    campaign = world.draft(*bodies)
    weights = [("A", 1), ("B", 1)]
    # Segments of each kept recipient's own text, by the variant it is assigned
    own = {ana: {"A": 2, "B": 1}, bart: {"A": 1, "B": 1}, cy: {"A": 2, "B": 1}}
    variant = {c: assign_variant(campaign.id, c, weights) for c in own}

    preview = world.preview(campaign)

    assert (preview.audience.recipients, preview.audience.segments) == (
        3,
        sum(own[c][variant[c]] for c in own),
    )
    split = Counter(variant.values())
    for shown in preview.variants:
        assert shown.audience.recipients == split[shown.name]
        assert shown.audience.segments == sum(
            own[c][shown.name] for c in own if variant[c] == shown.name
        )
    # The same audience the start takes, assigned the same way
    started = world.service.start(world.org_id, campaign.id)
    assert started.recipients == preview.audience.recipients
    snapshot = world.recipients.recipients[world.org_id, campaign.id]
    assert {c: r.variant for c, r in snapshot.items()} == variant


def test_a_started_campaign_counts_the_recipients_still_to_be_texted(world: World) -> None:
    ids = [world.contact(f"+1617555{110 + i:04d}", first_name="Pat") for i in range(4)]
    campaign = world.draft("Hi {first_name|there}, " + "a" * 140)  # 148: 1, or 2 with footer
    world.service.start(world.org_id, campaign.id)
    # One was sent (its number now has a history), one was texted by another campaign,
    # one's contact was deleted since: the sender will skip it.
    world.recipients.engine_sets(
        world.org_id, campaign.id, ids[0], status=domain.RecipientStatus.SENT
    )
    world.texted_before("+16175550110")
    world.texted_before("+16175550111")
    world.contacts.delete(world.contacts.get(world.org_id, ids[3]), now=NOW)

    preview = world.preview(campaign)

    # Left: ids[1] (texted before: 1 segment) and ids[2] (first text: 2)
    assert (preview.audience.recipients, preview.audience.segments) == (2, 3)
    assert preview.variants[0].audience == preview.audience


def test_the_audience_is_read_in_batches(world: World) -> None:
    count = 2 * AUDIENCE_READ_BATCH + 5
    for index in range(count):
        world.contact(f"+1617555{1000 + index:04d}", first_name="Pat")
    campaign = world.draft("Hi {first_name|there}")
    world.contacts.single_reads = 0

    preview = world.preview(campaign)

    assert preview.audience.recipients == count
    assert preview.audience.segments == count  # "Hi Pat" + footer: one segment each
    assert world.contacts.batches == [AUDIENCE_READ_BATCH, AUDIENCE_READ_BATCH, 5]
    assert world.contacts.single_reads == 0
