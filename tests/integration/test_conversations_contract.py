"""The in-memory conversations and the DynamoDB repository answer the same calls the same way.

Every test runs once on ``tests/support/fakes/conversations.py`` and once on
:class:`~outreach.conversations.repository.ConversationRepository` over moto, so the
API's rules tested through the fake hold on DynamoDB. What the sender and the inbound
function would have written is arranged on each side: on the tables through their own
writers (the inbound repository, the sender's ``note_texts``), on the fake by its own
methods.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from outreach.conversations import repository as conversations_repository
from outreach.conversations.domain import SendKey, TextingState
from outreach.conversations.messages import Direction, Message, MessageKind, MessageStatus
from outreach.conversations.ports import ConversationStore
from outreach.conversations.repository import ConversationRepository
from outreach.errors import BadRequest
from outreach.ids import new_id
from outreach.sending.domain import Candidate, Claim
from outreach.sending.repository import SendingRepository
from tests.support.contract import IMPLEMENTATIONS, use_dynamodb
from tests.support.fakes.conversations import InMemoryConversations

NOW = datetime(2026, 11, 23, 15, 0, 0, 123000, tzinfo=UTC)
ORG, OTHER_ORG = new_id(NOW), new_id(NOW + timedelta(milliseconds=1))
CAMPAIGN, OTHER_CAMPAIGN = "CAMPAIGNA", "CAMPAIGNB"


def phone(index: int) -> str:
    return f"+1617555{index:04d}"


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def inbound(
    index: int,
    minutes: float,
    body: str = "Yes please",
    org_id: str = ORG,
    campaign_id: str | None = None,
) -> Message:
    """A text from number ``index`` at ``minutes``, answering ``campaign_id`` (if any)."""
    when = at(minutes)
    return Message(
        org_id=org_id,
        phone=phone(index),
        id=new_id(when),
        direction=Direction.INBOUND,
        kind=MessageKind.INBOUND,
        body=body,
        status=MessageStatus.RECEIVED,
        created_at=when,
        updated_at=when,
        keyword="reply",
        campaign_id=campaign_id,
        provider_message_id=f"carrier-{index}-{minutes}",
    )


def campaign_text(
    index: int, minutes: float, campaign_id: str = CAMPAIGN, org_id: str = ORG
) -> Message:
    when = at(minutes)
    return Message(
        org_id=org_id,
        phone=phone(index),
        id=new_id(when),
        direction=Direction.OUTBOUND,
        kind=MessageKind.CAMPAIGN,
        body="x" * 200,
        status=MessageStatus.SENT,
        created_at=when,
        updated_at=when,
        campaign_id=campaign_id,
        variant="A",
        contact_id=f"CONTACT{index}",
        provider_message_id=f"provider-{index}-{minutes}",
    )


class OnDynamoDB:
    """What the inbound function and the sender write, through their own code."""

    def __init__(self) -> None:
        self.repository = ConversationRepository()

    def add_inbound(self, message: Message) -> None:
        assert self.repository.record_inbound(
            message, carrier_id=message.provider_message_id or message.id
        )

    def add_campaign_text(self, message: Message) -> None:
        candidate = Candidate(
            message.org_id,
            message.campaign_id or "",
            message.contact_id or "",
            message.phone,
            "A",
            None,
        )
        sending = SendingRepository()
        earlier = sending.phone_histories(message.org_id, [message.phone]).get(message.phone)
        claim = Claim.of("sender", message.created_at + timedelta(minutes=5))
        assert sending.claim(candidate, earlier, claim, now=message.created_at) is not None
        sending.note_texts([message])


@dataclass(frozen=True)
class Side:
    store: ConversationStore
    arrange: OnDynamoDB | InMemoryConversations


@pytest.fixture(params=IMPLEMENTATIONS)
def side(request: pytest.FixtureRequest) -> Side:
    if use_dynamodb(request):
        arrange = OnDynamoDB()
        return Side(arrange.repository, arrange)
    fake = InMemoryConversations()
    return Side(fake, fake)


def listed(side: Side, org_id: str = ORG, **query: object) -> list[tuple[str, int]]:
    """Every page of the inbox (two at a time): (phone, unread count) in order."""
    found: list[tuple[str, int]] = []
    cursor = None
    arguments: dict[str, object] = {"unread_only": False, "campaign_id": None, **query}
    while True:
        page = side.store.inbox(org_id, limit=2, cursor=cursor, **arguments)  # type: ignore[arg-type]
        assert len(page.items) <= 2
        found += [(item.phone, item.unread_count) for item in page.items]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_the_inbox_lists_newest_activity_first_across_read_and_unread(side: Side) -> None:
    side.arrange.add_campaign_text(campaign_text(1, 0))
    side.arrange.add_campaign_text(campaign_text(2, 1))
    side.arrange.add_campaign_text(campaign_text(3, 2))
    assert listed(side) == []  # campaign texts alone are messages, not conversations
    side.arrange.add_inbound(inbound(1, 3, campaign_id=CAMPAIGN))  # 1 answers
    side.arrange.add_campaign_text(campaign_text(4, 4, OTHER_CAMPAIGN))
    side.arrange.add_inbound(inbound(5, 5))  # a number never texted
    side.arrange.add_inbound(inbound(3, 6, campaign_id=CAMPAIGN))
    assert side.store.mark_read(ORG, phone(3))
    side.arrange.add_campaign_text(campaign_text(3, 7, OTHER_CAMPAIGN))  # names, no move
    side.arrange.add_inbound(inbound(1, 8, campaign_id=CAMPAIGN))
    assert listed(side) == [(phone(1), 2), (phone(3), 0), (phone(5), 1)]
    assert listed(side, unread_only=True) == [(phone(1), 2), (phone(5), 1)]
    assert listed(side, campaign_id=CAMPAIGN) == [(phone(1), 2)]
    assert listed(side, campaign_id=OTHER_CAMPAIGN) == [(phone(3), 0)]
    assert listed(side, unread_only=True, campaign_id=OTHER_CAMPAIGN) == []
    # Another organization's inbox is its own.
    assert listed(side, OTHER_ORG) == []


def test_the_last_campaign_is_the_numbers_whoever_began_the_conversation(side: Side) -> None:
    # A campaign texted the number before anyone answered; a user's text began the
    # conversation: it names the campaign that last texted the number all the same.
    side.arrange.add_campaign_text(campaign_text(1, 0))
    manual = replace(campaign_text(1, 1), kind=MessageKind.MANUAL, campaign_id=None)
    side.store.record_outbound(manual, mark_read=True)
    (summary,) = side.store.inbox(
        ORG, unread_only=False, campaign_id=None, limit=50, cursor=None
    ).items
    assert (summary.phone, summary.last_campaign_id) == (phone(1), CAMPAIGN)
    assert listed(side, campaign_id=CAMPAIGN) == [(phone(1), 0)]
    # A number only the organization's users texted names none.
    other = replace(campaign_text(2, 2), kind=MessageKind.MANUAL, campaign_id=None)
    side.store.record_outbound(other, mark_read=True)
    assert [
        (s.phone, s.last_campaign_id)
        for s in side.store.inbox(
            ORG, unread_only=False, campaign_id=None, limit=50, cursor=None
        ).items
    ] == [(phone(2), None), (phone(1), CAMPAIGN)]


def test_a_campaign_filter_reads_on_through_sparse_matches_in_short_pages(
    side: Side, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One page reads on through at most 3 entries (1000 in production): a page may be
    # short or empty, with a cursor, and walking the cursors finds every match once.
    monkeypatch.setattr(conversations_repository, "INBOX_EXAMINED_AT_MOST", 3)
    for index in range(9):
        chosen = CAMPAIGN if index in (0, 7) else OTHER_CAMPAIGN
        side.arrange.add_campaign_text(campaign_text(index, index, chosen))
        side.arrange.add_inbound(inbound(index, 10 + index, campaign_id=chosen))
    assert listed(side, campaign_id=CAMPAIGN) == [(phone(7), 1), (phone(0), 1)]
    assert len(listed(side, campaign_id=OTHER_CAMPAIGN)) == 7
    assert len(listed(side)) == 9


def test_the_last_message_is_the_conversations_own_newest_shortened(side: Side) -> None:
    side.arrange.add_inbound(inbound(1, 0, body="y" * 200, campaign_id=CAMPAIGN))
    (summary,) = side.store.inbox(
        ORG, unread_only=False, campaign_id=None, limit=50, cursor=None
    ).items
    assert (summary.last_message.kind, summary.last_message.direction) == (
        MessageKind.INBOUND,
        Direction.INBOUND,
    )
    assert summary.last_message.preview == "y" * 160
    assert (summary.last_message.at, summary.last_campaign_id) == (at(0), CAMPAIGN)
    # A campaign's text names its campaign, and neither moves the conversation nor
    # becomes its last message (a broadcast does not bury the replies).
    side.arrange.add_campaign_text(campaign_text(1, 1, OTHER_CAMPAIGN))
    (summary,) = side.store.inbox(
        ORG, unread_only=False, campaign_id=None, limit=50, cursor=None
    ).items
    assert (summary.last_message.preview, summary.last_message.at) == ("y" * 160, at(0))
    assert summary.last_campaign_id == OTHER_CAMPAIGN
    # It is a message of the conversation all the same.
    newest = side.store.messages(ORG, phone(1), limit=1, cursor=None).items
    assert [(m.kind, m.campaign_id) for m in newest] == [(MessageKind.CAMPAIGN, OTHER_CAMPAIGN)]


def test_a_read_mark_needs_a_conversation_and_clears_its_unread(side: Side) -> None:
    assert not side.store.mark_read(ORG, phone(1))
    side.arrange.add_campaign_text(campaign_text(1, 0))
    assert not side.store.mark_read(ORG, phone(1))  # campaign texts only: nothing to read
    side.arrange.add_inbound(inbound(1, 0))
    side.arrange.add_inbound(inbound(1, 1))
    assert not side.store.mark_read(OTHER_ORG, phone(1))
    assert side.store.mark_read(ORG, phone(1))
    assert listed(side) == [(phone(1), 0)]
    assert listed(side, unread_only=True) == []
    side.arrange.add_inbound(inbound(1, 2))
    assert listed(side, unread_only=True) == [(phone(1), 1)]


def test_messages_list_newest_first_in_pages(side: Side) -> None:
    texts = [campaign_text(1, 0), inbound(1, 1), inbound(1, 2), campaign_text(1, 3, OTHER_CAMPAIGN)]
    for message in texts:
        if message.direction is Direction.INBOUND:
            side.arrange.add_inbound(message)
        else:
            side.arrange.add_campaign_text(message)
    found: list[Message] = []
    cursor = None
    while True:
        page = side.store.messages(ORG, phone(1), limit=3, cursor=cursor)
        found += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert found == list(reversed(texts))
    assert side.store.messages(OTHER_ORG, phone(1), limit=3, cursor=None).items == []
    with pytest.raises(BadRequest):
        side.store.messages(ORG, phone(2), limit=3, cursor=page.next_cursor or cursor)


def test_an_outbound_text_is_the_last_message_and_may_mark_read(side: Side) -> None:
    side.arrange.add_inbound(inbound(1, 0))
    manual = Message(
        org_id=ORG,
        phone=phone(1),
        id=new_id(at(1)),
        direction=Direction.OUTBOUND,
        kind=MessageKind.MANUAL,
        body="See you Tuesday",
        status=MessageStatus.SENT,
        created_at=at(1),
        updated_at=at(1),
        user_id="USER1",
        provider_message_id="p-1",
    )
    side.store.record_outbound(manual)
    (summary,) = side.store.inbox(
        ORG, unread_only=False, campaign_id=None, limit=50, cursor=None
    ).items
    assert (summary.last_message.kind, summary.unread_count) == (MessageKind.MANUAL, 1)
    later = Message(**{**manual.__dict__, "id": new_id(at(2)), "created_at": at(2)})
    side.store.record_outbound(later, mark_read=True)
    assert listed(side) == [(phone(1), 0)]
    newest = side.store.messages(ORG, phone(1), limit=1, cursor=None).items
    assert newest == [later]


def test_the_texting_state_says_when_first_texted_and_last_texted_back(side: Side) -> None:
    assert side.store.texting_state(ORG, phone(1)) == TextingState(None, None)
    side.arrange.add_inbound(inbound(1, 0))
    assert side.store.texting_state(ORG, phone(1)) == TextingState(None, at(0))
    side.arrange.add_campaign_text(campaign_text(1, 1))
    side.arrange.add_campaign_text(campaign_text(1, 2, OTHER_CAMPAIGN))
    assert side.store.texting_state(ORG, phone(1)) == TextingState(at(1), at(0))
    assert side.store.texting_state(OTHER_ORG, phone(1)) == TextingState(None, None)
    # A first manual text counts as texted: the footer went on it.
    manual = replace(campaign_text(2, 3), kind=MessageKind.MANUAL, campaign_id=None)
    side.store.record_outbound(manual, mark_read=True, first_text=True)
    assert side.store.texting_state(ORG, phone(2)) == TextingState(at(3), None)
    assert side.store.message(ORG, phone(2), manual.id) == manual
    assert side.store.message(OTHER_ORG, phone(2), manual.id) is None


def test_a_send_key_is_tied_once_and_freed_only_by_its_message(side: Side) -> None:
    first = SendKey("MESSAGE1", "digest-1", NOW)
    assert side.store.claim_send_key(ORG, "key-1", first) == first
    second = SendKey("MESSAGE2", "digest-2", at(1))
    assert side.store.claim_send_key(ORG, "key-1", second) == first
    assert side.store.claim_send_key(OTHER_ORG, "key-1", second) == second
    side.store.release_send_key(ORG, "key-1", "MESSAGE2")  # not its message: stays
    assert side.store.claim_send_key(ORG, "key-1", second) == first
    side.store.finish_send_key(ORG, "key-1")
    assert side.store.claim_send_key(ORG, "key-1", second) == replace(first, finished=True)
    side.store.release_send_key(ORG, "key-1", "MESSAGE1")
    assert side.store.claim_send_key(ORG, "key-1", second) == second
