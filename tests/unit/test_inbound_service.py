"""The inbound rules through :class:`InboundService` on in-memory fakes and a simulated clock:
``sending-rules.md`` "Replies and keywords" (STOP and its synonyms, plain-words
revocations, START/UNSTOP/YES, HELP, replies attributed to the last send, duplicates,
unknown numbers), "Keywords in other languages" (Spanish and French keywords and
revocations, answers in the sender's language, opt-in words acting only for a number on
the list: issue 15, points 2, 3 and 8) and "Late carrier receipts" (once, never
backwards, late, unknown);
then the inbound queue's batch (``inbound/sqs.py``: only the stack's own topics, one
failed record fails alone) on the same fakes.

Every test starts from the same world: an organization ("Acme", help text "Acme: call
us.") whose campaign texted three Boston numbers five minutes ago through the fake
provider, so each number's outbox holds the campaign's text. The fakes are held to
DynamoDB by ``tests/integration/test_inbound_contract.py``; the paths through the real
function on moto are in ``tests/integration/test_inbound.py``.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from outreach.campaigns.statuses import RecipientStatus
from outreach.clock import SimulatedClock
from outreach.config import get_settings
from outreach.contacts.domain import OptOutSource
from outreach.conversations.messages import Direction, MessageKind
from outreach.identity.domain import Organization
from outreach.ids import new_id
from outreach.inbound.domain import DeliveryReceipt, InboundText, LastSend, Outcome, SendRef
from outreach.inbound.events import parse_sns_message
from outreach.inbound.service import InboundService
from outreach.inbound.sqs import InboundTopics, handle_inbound_batch
from outreach.replies import Language, default_help_text, opt_in_confirmation, opt_out_confirmation
from outreach.sms.providers import OutboundMessage, SendError
from outreach_local.runtime import LocalLambdaContext
from tests.support import builders
from tests.support.builders import boston
from tests.support.fakes.contacts import InMemoryOptOutList
from tests.support.fakes.counters import InMemoryCounters
from tests.support.fakes.identity import InMemoryIdentityStore
from tests.support.fakes.inbound import InMemoryInboundStore
from tests.support.fakes.sending import ScriptedProvider
from tests.support.inbound_events import (
    EVENTS_TOPIC,
    RECEIPT_EVENT,
    SENDER,
    TEXT_EVENT,
    TEXTS_TOPIC,
    all_processed,
    batch,
    failed_ids,
    message_of,
    published,
    received_again,
    text_event,
    use_sample_topics,
    with_envelope,
)

# Monday 23 November 2026, 10:00 in New York: the campaign's texts went out then.
MONDAY_10AM_EASTERN = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ORG_ID = new_id(MONDAY_10AM_EASTERN)
CAMPAIGN_ID = new_id(MONDAY_10AM_EASTERN + timedelta(milliseconds=1))


class CountingOrganizations:
    """An :class:`~outreach.identity.ports.OrganizationReader` that counts its reads."""

    def __init__(self, store: InMemoryIdentityStore) -> None:
        self._store = store
        self.reads = 0

    def get_organization(self, org_id: str) -> Organization:
        self.reads += 1
        return self._store.get_organization(org_id)


@dataclass
class World:
    """The organization, its campaign's three recipients, and the service on fakes."""

    clock: SimulatedClock
    store: InMemoryInboundStore
    opt_outs: InMemoryOptOutList
    identity: InMemoryIdentityStore
    organizations: CountingOrganizations
    provider: ScriptedProvider
    service: InboundService
    contact_ids: dict[str, str]  # phone -> contact id
    counters: InMemoryCounters

    def text(self, body: str, *, sender: str, to: str = SENDER, message_id: str = "") -> Outcome:
        """What the service made of one text (a fresh carrier message id unless given)."""
        return self.service.handle_text(
            InboundText(
                from_number=sender,
                to_number=to,
                body=body,
                message_id=message_id or str(uuid.uuid4()),
            )
        )

    def outbox_to(self, phone: str) -> list[str]:
        """Bodies sent to ``phone``: the campaign's text, then any answers."""
        return [message.body for message, _ in self.provider.sent if message.to_number == phone]

    def stats(self) -> Counter[str]:
        """The campaign's counters: recipients by status, replies, repliers, opt-outs."""
        return self.store.statuses(ORG_ID, CAMPAIGN_ID) + self.store.counters(ORG_ID, CAMPAIGN_ID)

    def status_of(self, phone: str) -> str:
        recipient = self.store.recipient(ORG_ID, CAMPAIGN_ID, self.contact_ids[phone])
        assert recipient is not None
        return recipient.status.value

    def receipt_message(self, phone: str, event_type: str) -> str:
        """The carrier's event for the campaign's text to ``phone``, with the context the
        sender gave the provider."""
        message, _ = next(
            sent
            for sent in self.provider.sent
            if sent[0].to_number == phone and "campaign_id" in sent[0].context
        )
        recipient = self.store.recipient(ORG_ID, CAMPAIGN_ID, self.contact_ids[phone])
        assert recipient is not None and recipient.provider_message_id
        return published(
            RECEIPT_EVENT,
            eventType=event_type,
            messageId=recipient.provider_message_id,
            context=dict(message.context),
        )

    def receipt(self, phone: str, event_type: str) -> DeliveryReceipt:
        parsed = parse_sns_message(self.receipt_message(phone, event_type))
        assert isinstance(parsed, DeliveryReceipt)
        return parsed


@pytest.fixture
def world() -> World:
    """Given an organization whose campaign texted boston(0..2) five minutes ago."""
    clock = SimulatedClock(MONDAY_10AM_EASTERN)
    now = clock.now()
    identity = InMemoryIdentityStore()
    identity.organizations[ORG_ID] = builders.organization(
        "Acme",
        at=now,
        id=ORG_ID,
        sender_number=SENDER,
        messages_per_second=100,
        help_texts={"en": "Acme: call us."},
    )
    store = InMemoryInboundStore()
    store.own_number(ORG_ID, SENDER)
    provider = ScriptedProvider()
    counters = InMemoryCounters()
    organizations = CountingOrganizations(identity)
    opt_outs = InMemoryOptOutList()
    contact_ids: dict[str, str] = {}
    for index in range(3):
        phone, variant = boston(index), "AB"[index % 2]
        contact_id = contact_ids[phone] = new_id(now + timedelta(milliseconds=index))
        sent = provider.send(
            OutboundMessage(
                org_id=ORG_ID,
                from_number=SENDER,
                to_number=phone,
                body=f"Hi there, {variant}",
                context={"org_id": ORG_ID, "campaign_id": CAMPAIGN_ID, "contact_id": contact_id},
            ),
            sent_at=now,
        )
        ref = SendRef(ORG_ID, CAMPAIGN_ID, contact_id, variant, RecipientStatus.SENT)
        store.add_sent(ref, sent.message_id)
        store.remember_send(ORG_ID, phone, LastSend(CAMPAIGN_ID, variant, contact_id))
    clock.advance(timedelta(minutes=5))  # answers come later than the campaign's texts
    service = InboundService(
        store=store,
        opt_outs=opt_outs,
        organizations=organizations,
        provider=provider,
        counters=counters,
        clock=clock,
    )
    return World(
        clock, store, opt_outs, identity, organizations, provider, service, contact_ids, counters
    )


@pytest.fixture
def sample_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's own topics (template.yaml passes them) are the sample events' ones."""
    use_sample_topics(monkeypatch)


@pytest.fixture
def handle(world: World, sample_topics: None) -> Any:
    """The partial-batch response and the outcomes of one batch, on the world's service,
    with the topics read from the settings as the function reads them."""

    def call(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
        topics = InboundTopics.from_settings(get_settings())
        context = cast(LambdaContext, LocalLambdaContext(function_name="test-function"))
        response, outcomes = handle_inbound_batch(SQSEvent(event), context, world.service, topics)
        return response, dict(outcomes)

    return call


@pytest.fixture
def inbound(handle: Any) -> Any:
    """The outcomes of one batch, which must have no failed record."""
    return partial(all_processed, handle)


# --- One read of each thing per text ------------------------------------------------------


@pytest.mark.parametrize("body", ["STOP", "START", "HELP", "Tuesday works", "STOP again"])
def test_each_text_reads_the_last_send_and_the_organization_once(world: World, body: str) -> None:
    # Given boston(0) on the list (so START confirms), and no read yet
    if body == "START":
        world.opt_outs.add(ORG_ID, boston(0), OptOutSource.MANUAL, world.clock.now())
    if body == "STOP again":
        world.text("STOP", sender=boston(0))
        body = "STOP"
    world.store.reads.clear()
    world.organizations.reads = 0
    # When a text comes
    world.text(body, sender=boston(0))
    # Then the send that last texted the number and the organization were each read once
    assert world.store.reads["last_send"] == 1
    assert world.organizations.reads == 1
    assert world.store.reads["organization_for"] == 1


def test_a_duplicate_text_reads_no_organization_settings(world: World) -> None:
    world.text("STOP", sender=boston(0), message_id="dup-read")
    world.organizations.reads = 0
    assert world.text("STOP", sender=boston(0), message_id="dup-read") is Outcome.DUPLICATE
    assert world.organizations.reads == 0


# --- Keywords -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "Stop.",
        "  sToP!! ",
        "STOPALL",
        "Unsubscribe",
        "cancel",
        "END",
        "quit",
        "REVOKE",
        "opt out",
        "Opt-Out",
        "OPTOUT",
    ],
)
def test_stop_keywords_opt_out_once_with_one_confirmation(world: World, body: str) -> None:
    # When boston(0) sends an opt-out keyword
    assert world.text(body, sender=boston(0)) is Outcome.OPTED_OUT
    # Then it is on the list, counted against the campaign, and confirmed once
    entry = world.opt_outs.get(ORG_ID, boston(0))
    assert entry is not None
    assert entry.source.value == "keyword"
    assert world.stats()["opt_outs"] == 1
    replies = world.outbox_to(boston(0))
    assert len(replies) == 2
    assert sum("unsubscribed" in body for body in replies) == 1
    # Already opted out: nothing changes, nothing is sent.
    assert world.text("STOP", sender=boston(0)) is Outcome.ALREADY_OPTED_OUT
    assert len(world.outbox_to(boston(0))) == 2
    assert world.stats()["opt_outs"] == 1


def test_the_confirmation_names_the_organization_and_is_an_auto_reply(world: World) -> None:
    world.text("STOP", sender=boston(0), message_id="in-stop")
    message, sent_at = world.provider.sent[-1]
    recorded = world.store.auto_replies(ORG_ID)[-1]
    assert message == OutboundMessage(
        org_id=ORG_ID,
        from_number=SENDER,
        to_number=boston(0),
        body="Acme: you are unsubscribed and will receive no more messages. "
        "Reply START to resubscribe.",
        context={
            "org_id": ORG_ID,
            "phone": boston(0),
            "message_id": recorded.id,
            "kind": "auto_reply",
        },
    )
    assert sent_at == world.clock.now()
    assert recorded.provider_message_id == f"fake-{world.provider.calls}"
    assert (recorded.kind, recorded.direction, recorded.body) == (
        MessageKind.AUTO_REPLY,
        Direction.OUTBOUND,
        message.body,
    )


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "remove me from your list",
        "don't text me again",
        "unsubscribe me",
        "stop messaging me",
        "take me off your list",
        "I don't want these texts anymore",
        "no more texts please",
        "do not contact me",
        "stop sending me messages",
        "STOP STOP STOP",
        "please stop",
    ],
)
def test_plain_words_revocations_are_opt_outs(world: World, body: str) -> None:
    assert world.text(body, sender=boston(1)) is Outcome.OPTED_OUT
    assert world.opt_outs.get(ORG_ID, boston(1)) is not None


@pytest.mark.parametrize(
    "body",
    [
        "can you stop by Tuesday?",
        "don't stop the work",
        "when will the crew stop by?",
        "the water won't stop leaking",
        "I want to cancel my appointment and reschedule",
        "yes, Tuesday works",
        "help me understand the quote",
        "info on pricing?",
        "start the work monday",
        "bus stop near my house",
        "Is this the end of the promotion?",
    ],
)
def test_look_alikes_are_replies(world: World, body: str) -> None:
    assert world.text(body, sender=boston(2)) is Outcome.REPLY
    assert world.opt_outs.get(ORG_ID, boston(2)) is None


def test_replies_count_for_the_campaign_and_variant_that_last_texted(world: World) -> None:
    world.text("Sounds good, call me", sender=boston(0))
    world.text("Also Thursday works", sender=boston(0))
    world.text("Who is this?", sender=boston(1))
    counts = world.stats()
    assert (counts["replies"], counts["repliers"]) == (3, 2)
    stored = [m for m in world.store.texts(ORG_ID) if m.kind == "reply"]
    assert {m.campaign_id for m in stored} == {CAMPAIGN_ID}
    variants = {phone: "AB"[index % 2] for index, phone in enumerate(map(boston, range(3)))}
    assert {m.variant for m in stored} <= set(variants.values())
    # Each reply is attributed to its own number's variant.
    assert [(m.from_number, m.variant) for m in stored] == [
        (boston(0), variants[boston(0)]),
        (boston(0), variants[boston(0)]),
        (boston(1), variants[boston(1)]),
    ]


def test_a_reply_is_stored_as_sent_and_answered_with_nothing(world: World) -> None:
    world.text("Tuesday works", sender=boston(1), message_id="in-reply")
    stored = world.store.carrier_text(ORG_ID, "in-reply")
    assert stored is not None
    assert (stored.body, stored.received_at) == ("Tuesday works", world.clock.now())
    assert world.store.auto_replies(ORG_ID) == []
    assert world.outbox_to(boston(1)) == ["Hi there, B"]


def test_start_opts_back_in_and_confirms(world: World) -> None:
    world.text("STOP", sender=boston(0))
    assert world.text("start", sender=boston(0)) is Outcome.OPTED_IN
    assert world.opt_outs.get(ORG_ID, boston(0)) is None
    assert sum("resubscribed" in body for body in world.outbox_to(boston(0))) == 1
    for keyword in ("UNSTOP", "Yes!"):
        world.text("STOP", sender=boston(0))
        world.text(keyword, sender=boston(0))
        assert world.opt_outs.get(ORG_ID, boston(0)) is None


def test_start_when_not_opted_out_sends_nothing(world: World) -> None:
    world.text("START", sender=boston(1))
    assert len(world.outbox_to(boston(1))) == 1


def test_help_answers_with_the_help_text_once_a_day_outside_the_campaign(world: World) -> None:
    # Issue 14 changed this on purpose: one HELP answer per number per 24 hours (the
    # other bounds on auto-replies: tests/unit/test_inbound_auto_replies.py).
    outcomes = [world.text(body, sender=boston(2)) for body in ("HELP", "info", "Help?")]
    assert outcomes == [Outcome.HELP_SENT, Outcome.HELP_NOT_ANSWERED, Outcome.HELP_NOT_ANSWERED]
    assert Counter(world.outbox_to(boston(2)))["Acme: call us."] == 1
    # The answers count nowhere: no opt-out, reply or replier (the cap: test_inbound.py).
    assert world.store.counters(ORG_ID, CAMPAIGN_ID) == Counter()


def test_without_a_sender_number_nothing_is_answered_but_the_rule_applies(world: World) -> None:
    world.identity.organizations[ORG_ID] = replace(
        world.identity.organizations[ORG_ID], sender_number=None
    )
    assert world.text("HELP", sender=boston(2)) is Outcome.HELP_NOT_ANSWERED
    assert world.text("STOP", sender=boston(2)) is Outcome.OPTED_OUT
    assert world.opt_outs.get(ORG_ID, boston(2)) is not None
    assert world.outbox_to(boston(2)) == ["Hi there, A"]


def test_a_confirmation_the_provider_refuses_leaves_the_opt_out_in_place(world: World) -> None:
    world.provider.outcomes.append(SendError("ThrottlingException"))
    assert world.text("STOP", sender=boston(0), message_id="in-refused") is Outcome.OPTED_OUT
    assert world.opt_outs.get(ORG_ID, boston(0)) is not None
    assert world.stats()["opt_outs"] == 1
    stored = world.store.carrier_text(ORG_ID, "in-refused")
    assert stored is not None and stored.auto_reply == "failed:ThrottlingException"
    assert world.store.auto_replies(ORG_ID) == []  # refused: no text went


def test_a_text_to_an_unknown_number_is_dropped(world: World) -> None:
    assert world.text("STOP", sender=boston(0), to="+16175559999") is Outcome.UNKNOWN_NUMBER
    assert world.opt_outs.get(ORG_ID, boston(0)) is None


def test_a_text_with_an_unusable_number_is_dropped(world: World) -> None:
    assert world.text("STOP", sender="not a number") is Outcome.UNKNOWN_NUMBER
    assert world.text("STOP", sender=boston(0), to="12") is Outcome.UNKNOWN_NUMBER
    assert world.opt_outs.all_phones(ORG_ID) == set()
    assert world.store.texts(ORG_ID) == []


def test_numbers_are_read_as_e164(world: World) -> None:
    assert world.text("STOP", sender="(617) 555-0000", to="617-555-0100") is Outcome.OPTED_OUT
    assert world.opt_outs.get(ORG_ID, boston(0)) is not None
    assert world.stats()["opt_outs"] == 1


def test_the_same_inbound_message_delivered_twice_is_handled_once(
    world: World, inbound: Any
) -> None:
    event = text_event("STOP", sender=boston(0), message_id="dup-1")
    assert inbound(event) == {"opted_out": 1}
    world.opt_outs.remove(ORG_ID, boston(0))
    # SNS delivered the carrier's message twice: two SQS messages, one carrier message id.
    assert inbound(with_envelope(event)) == {"duplicate": 1}
    assert world.opt_outs.get(ORG_ID, boston(0)) is None
    assert world.stats()["opt_outs"] == 1


def test_a_text_without_a_carrier_id_gets_its_own(world: World) -> None:
    text = InboundText(from_number=boston(1), to_number=SENDER, body="hi", message_id=None)
    assert world.service.handle_text(text) is Outcome.REPLY
    assert world.service.handle_text(text) is Outcome.REPLY
    assert len(world.store.texts(ORG_ID)) == 2


def test_a_text_from_a_number_never_texted_is_stored_unattributed(world: World) -> None:
    assert world.text("hello?", sender="+13105550123") is Outcome.REPLY
    assert world.stats()["replies"] == 0
    (stored,) = world.store.texts(ORG_ID)
    assert (stored.campaign_id, stored.variant) == (None, None)


def test_an_opt_out_from_a_number_never_texted_counts_for_no_campaign(world: World) -> None:
    assert world.text("STOP", sender="+13105550123") is Outcome.OPTED_OUT
    assert world.opt_outs.get(ORG_ID, "+13105550123") is not None
    assert world.stats()["opt_outs"] == 0
    assert world.outbox_to("+13105550123") == [
        "Acme: you are unsubscribed and will receive no more messages. Reply START to resubscribe."
    ]


# --- Other languages and opt-in words (issue 15, points 2, 3 and 8) -----------------------


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("ARRET", Language.FR),
        ("Arrêt", Language.FR),
        ("ALTO", Language.ES),
        ("PARAR", Language.ES),
        ("No más mensajes por favor", Language.ES),
        ("Dejen de escribirme", Language.ES),
        ("quítenme de la lista", Language.ES),
        ("arrêtez de m'écrire", Language.FR),
    ],
)
def test_spanish_and_french_opt_outs_are_honoured_and_confirmed_in_their_language(
    world: World, body: str, language: Language
) -> None:
    # Issue 15, "Why": these were stored as replies and the number kept getting texts.
    assert world.text(body, sender=boston(0), message_id="in-foreign-stop") is Outcome.OPTED_OUT
    entry = world.opt_outs.get(ORG_ID, boston(0))
    assert entry is not None and entry.source is OptOutSource.KEYWORD
    assert world.stats()["opt_outs"] == 1
    stored = world.store.carrier_text(ORG_ID, "in-foreign-stop")
    assert stored is not None and stored.kind == "opt_out"
    organization = world.identity.organizations[ORG_ID]
    assert world.outbox_to(boston(0)) == [
        "Hi there, A",
        opt_out_confirmation(organization, language),
    ]
    # Once on the list, another STOP in any language changes and sends nothing.
    assert world.text("Alto", sender=boston(0)) is Outcome.ALREADY_OPTED_OUT
    assert len(world.outbox_to(boston(0))) == 2


def test_a_spanish_stop_gets_the_spanish_confirmation(world: World) -> None:
    world.text("PARAR", sender=boston(1))
    assert world.outbox_to(boston(1))[-1] == (
        "Acme: se ha dado de baja y ya no le enviaremos mensajes. "
        "Responda START para volver a suscribirse."
    )


def test_ayuda_gets_the_spanish_help_answer_and_aide_the_french_one(world: World) -> None:
    # The organization wrote only its English answer: the others are the defaults.
    assert world.text("AYUDA", sender=boston(1)) is Outcome.HELP_SENT
    assert world.text("Aide", sender=boston(2)) is Outcome.HELP_SENT
    organization = world.identity.organizations[ORG_ID]
    assert world.outbox_to(boston(1))[-1] == default_help_text(organization, Language.ES)
    assert world.outbox_to(boston(2))[-1] == default_help_text(organization, Language.FR)
    assert world.outbox_to(boston(1))[-1].startswith("Acme: ")
    assert "ALTO" in world.outbox_to(boston(1))[-1]
    assert "ARRET" in world.outbox_to(boston(2))[-1]
    # The 24-hour bound is per number, whatever the language: HELP after AYUDA is not answered.
    assert world.text("HELP", sender=boston(1)) is Outcome.HELP_NOT_ANSWERED


def test_the_organizations_own_texts_for_a_language_win(world: World) -> None:
    world.identity.organizations[ORG_ID] = replace(
        world.identity.organizations[ORG_ID],
        help_texts={"en": "Acme: call us.", "es": "Acme: llámenos al 617-555-0100."},
        opt_out_confirmations={"fr": "Acme : c'est noté, plus de messages."},
        support_contact="call 617-555-0100",
    )
    world.text("ayuda", sender=boston(0))
    world.text("ARRÊT", sender=boston(1))
    world.text("baja", sender=boston(2))
    assert world.outbox_to(boston(0))[-1] == "Acme: llámenos al 617-555-0100."
    assert world.outbox_to(boston(1))[-1] == "Acme : c'est noté, plus de messages."
    # Spanish confirmation not written: the default.
    assert world.outbox_to(boston(2))[-1].startswith("Acme: se ha dado de baja")


@pytest.mark.parametrize("body", ["YES", "Yes!", "SI", "Sí", "OUI", "START", "unstop"])
def test_an_opt_in_word_from_a_number_never_opted_out_is_a_counted_reply(
    world: World, body: str
) -> None:
    # Issue 15, "Why": a bare "Yes" was filed as an opt-in and not counted as a reply,
    # biasing reply rates and the A/B winner against a variant asking a yes/no question.
    assert world.text(body, sender=boston(1), message_id="in-yes") is Outcome.REPLY
    stored = world.store.carrier_text(ORG_ID, "in-yes")
    assert stored is not None
    assert (stored.kind, stored.campaign_id, stored.variant) == ("reply", CAMPAIGN_ID, "B")
    assert world.store.variant_counters(ORG_ID, CAMPAIGN_ID, "B")["replies"] == 1
    assert (world.stats()["replies"], world.stats()["repliers"]) == (1, 1)
    assert world.store.variant_counters(ORG_ID, CAMPAIGN_ID, "A")["replies"] == 0
    # No confirmation, no auto-reply recorded, and the number is not on the list.
    assert world.outbox_to(boston(1)) == ["Hi there, B"]
    assert stored.auto_reply is None
    assert world.opt_outs.get(ORG_ID, boston(1)) is None


def test_yes_and_no_count_alike(world: World) -> None:
    world.text("No", sender=boston(0))
    world.text("Yes", sender=boston(2))
    assert world.store.variant_counters(ORG_ID, CAMPAIGN_ID, "A")["replies"] == 2
    assert world.store.variant_counters(ORG_ID, CAMPAIGN_ID, "A")["repliers"] == 2


@pytest.mark.parametrize(
    ("body", "language"), [("Sí", Language.ES), ("oui", Language.FR), ("YES", Language.EN)]
)
def test_an_opt_in_word_from_a_number_on_the_list_opts_in_and_confirms_in_its_language(
    world: World, body: str, language: Language
) -> None:
    world.text("STOP", sender=boston(0))
    assert world.text(body, sender=boston(0), message_id="in-opt-in") is Outcome.OPTED_IN
    assert world.opt_outs.get(ORG_ID, boston(0)) is None
    stored = world.store.carrier_text(ORG_ID, "in-opt-in")
    assert stored is not None and stored.kind == "opt_in"
    organization = world.identity.organizations[ORG_ID]
    assert world.outbox_to(boston(0))[-1] == opt_in_confirmation(organization, language)
    # An opt-in is no reply.
    assert world.stats()["replies"] == 0


def test_a_redelivered_opt_in_acts_once(world: World, inbound: Any) -> None:
    world.opt_outs.add(ORG_ID, boston(2), OptOutSource.MANUAL, world.clock.now())
    event = text_event("SI", sender=boston(2), message_id="dup-si")
    assert inbound(event) == {"opted_in": 1}
    # Off the list now, so the same text would read as a reply: it is a duplicate still.
    assert inbound(received_again(event)) == {"duplicate": 1}
    assert inbound(with_envelope(event)) == {"duplicate": 1}
    assert world.stats()["replies"] == 0
    assert [m.kind for m in world.store.texts(ORG_ID)] == ["opt_in"]
    assert sum("suscribir" in body for body in world.outbox_to(boston(2))) == 1


def test_a_redelivered_yes_from_a_number_not_listed_counts_once(world: World, inbound: Any) -> None:
    event = text_event("YES", sender=boston(0), message_id="dup-yes")
    assert inbound(event) == {"reply": 1}
    world.opt_outs.add(ORG_ID, boston(0), OptOutSource.MANUAL, world.clock.now())
    assert inbound(received_again(event)) == {"duplicate": 1}
    assert world.stats()["replies"] == 1
    assert world.opt_outs.get(ORG_ID, boston(0)) is not None


# --- Delivery receipts --------------------------------------------------------------------


def test_a_delivery_receipt_moves_sent_to_delivered_once(world: World) -> None:
    receipt = world.receipt(boston(0), "TEXT_DELIVERED")
    assert world.service.handle_receipt(receipt) is Outcome.RECEIPT_APPLIED
    assert world.service.handle_receipt(receipt) is Outcome.RECEIPT_IGNORED
    assert world.status_of(boston(0)) == "delivered"
    counts = world.stats()
    assert (counts["sent"], counts["delivered"]) == (2, 1)


def test_a_failure_receipt_records_the_code(world: World) -> None:
    receipt = world.receipt(boston(1), "TEXT_CARRIER_UNREACHABLE")
    assert world.service.handle_receipt(receipt) is Outcome.RECEIPT_APPLIED
    item = world.store.recipient(ORG_ID, CAMPAIGN_ID, world.contact_ids[boston(1)])
    assert item is not None
    assert (item.status, item.error) == ("failed", "TEXT_CARRIER_UNREACHABLE")
    assert world.stats()["failed"] == 1


def test_an_older_status_never_overwrites_a_newer_one(world: World, inbound: Any) -> None:
    def receipt(event_type: str) -> dict[str, Any]:
        return with_envelope(RECEIPT_EVENT, Message=world.receipt_message(boston(0), event_type))

    inbound(receipt("TEXT_DELIVERED"))
    assert inbound(receipt("TEXT_SUCCESSFUL")) == {"ignored": 1}
    assert inbound(receipt("TEXT_PENDING")) == {"ignored": 1}
    assert inbound(receipt("TEXT_TTL_EXPIRED")) == {"receipt_ignored": 1}
    assert world.status_of(boston(0)) == "delivered"
    assert world.stats()["delivered"] == 1
    assert world.stats()["failed"] == 0


def test_a_receipt_for_an_unknown_or_unknown_status_recipient_applies(world: World) -> None:
    # A recipient whose send ended `unknown` (the worker died after claiming) still takes
    # the carrier's word.
    contact_id = world.contact_ids[boston(2)]
    recipient = world.store.recipient(ORG_ID, CAMPAIGN_ID, contact_id)
    assert recipient is not None
    unknown = SendRef(ORG_ID, CAMPAIGN_ID, contact_id, recipient.variant, RecipientStatus.UNKNOWN)
    world.store.add_sent(unknown, recipient.provider_message_id)
    receipt = world.receipt(boston(2), "TEXT_DELIVERED")
    assert world.service.handle_receipt(receipt) is Outcome.RECEIPT_APPLIED
    assert world.status_of(boston(2)) == "delivered"


def test_a_receipt_for_an_unknown_message_id_is_dropped(world: World) -> None:
    receipt = parse_sns_message(published(RECEIPT_EVENT, messageId="no-such-message"))
    assert isinstance(receipt, DeliveryReceipt)
    assert world.service.handle_receipt(receipt) is Outcome.UNKNOWN_MESSAGE


def test_a_receipt_whose_context_names_another_message_is_dropped(world: World) -> None:
    # The context names boston(0)'s recipient, but the message id is boston(1)'s.
    named = world.receipt(boston(0), "TEXT_DELIVERED")
    wrong = replace(named, message_id=world.receipt(boston(1), "TEXT_DELIVERED").message_id)
    assert world.service.handle_receipt(wrong) is Outcome.UNKNOWN_MESSAGE
    assert world.status_of(boston(0)) == "sent"
    assert world.status_of(boston(1)) == "sent"


def test_a_receipt_without_the_sender_context_is_dropped(world: World) -> None:
    receipt = replace(world.receipt(boston(0), "TEXT_DELIVERED"), context={})
    assert world.service.handle_receipt(receipt) is Outcome.UNKNOWN_MESSAGE
    assert world.status_of(boston(0)) == "sent"


def test_a_receipt_72_hours_late_still_applies(world: World) -> None:
    world.clock.advance(timedelta(hours=72))
    receipt = world.receipt(boston(2), "TEXT_DELIVERED")
    assert world.service.handle_receipt(receipt) is Outcome.RECEIPT_APPLIED
    item = world.store.recipient(ORG_ID, CAMPAIGN_ID, world.contact_ids[boston(2)])
    assert item is not None and item.updated_at == world.clock.now()


def test_receipts_out_of_order_end_on_the_first_final_status(world: World) -> None:
    # A failure reported after the delivery (out of order, or for another attempt) is late.
    delivered = world.receipt(boston(1), "TEXT_DELIVERED")
    failed = world.receipt(boston(1), "TEXT_UNREACHABLE")
    assert world.service.handle_receipt(failed) is Outcome.RECEIPT_APPLIED
    assert world.service.handle_receipt(delivered) is Outcome.RECEIPT_IGNORED
    assert world.status_of(boston(1)) == "failed"


# --- The parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["", "not json", "[]", '{"eventType": "TEXT_DELIVERED"}', '{"unrelated": true}'],
)
def test_unusable_sns_messages_are_ignored(message: str) -> None:
    assert parse_sns_message(message) is None


def test_parse_reads_both_shapes() -> None:
    text = parse_sns_message(message_of(TEXT_EVENT))
    assert isinstance(text, InboundText)
    assert text.body == "STOP"
    assert text.message_id
    delivered = parse_sns_message(message_of(RECEIPT_EVENT))
    assert isinstance(delivered, DeliveryReceipt)
    assert delivered.status is RecipientStatus.DELIVERED


# --- The queue's batch: only the stack's own topics; a failed record fails alone ---------


def test_the_sample_text_is_handled_through_the_batch(world: World, inbound: Any) -> None:
    assert inbound(TEXT_EVENT) == {"opted_out": 1}
    assert world.opt_outs.get(ORG_ID, boston(0)) is not None


def test_a_notification_from_another_topic_fails_only_its_own_record(
    world: World, handle: Any
) -> None:
    foreign = with_envelope(
        text_event("STOP", sender=boston(0)),
        TopicArn="arn:aws:sns:us-east-1:999999999999:someone-elses-topic",
    )
    ours = text_event("STOP", sender=boston(1))
    response, outcomes = handle(batch(foreign, ours))
    assert failed_ids(response) == [foreign["Records"][0]["messageId"]]
    assert outcomes == {"failed": 1, "opted_out": 1}
    assert world.opt_outs.get(ORG_ID, boston(0)) is None
    assert world.opt_outs.get(ORG_ID, boston(1)) is not None


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        # Raw message delivery: the published message without its envelope (no TopicArn).
        json.dumps({"originationNumber": "+16175550000", "messageBody": "STOP"}),
        json.dumps({"Type": "SubscriptionConfirmation", "TopicArn": TEXTS_TOPIC, "Message": "x"}),
        json.dumps({"Type": "Notification", "TopicArn": TEXTS_TOPIC}),
    ],
    ids=["not-json", "not-an-object", "raw-delivery", "confirmation", "no-message"],
)
def test_a_record_that_is_not_a_notification_of_ours_fails(handle: Any, body: str) -> None:
    bad = copy.deepcopy(TEXT_EVENT)
    bad["Records"][0]["body"] = body
    ours = text_event("hello", sender=boston(2))
    response, outcomes = handle(batch(bad, ours))
    assert failed_ids(response) == [bad["Records"][0]["messageId"]]
    assert outcomes == {"failed": 1, "reply": 1}


def test_without_its_topics_configured_the_function_accepts_nothing(
    world: World, handle: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INBOUND_TEXTS_TOPIC_ARN")
    monkeypatch.delenv("DELIVERY_EVENTS_TOPIC_ARN")
    get_settings.cache_clear()
    # Every record failed: the invocation fails and SQS delivers the batch again.
    with pytest.raises(BatchProcessingError):
        handle(text_event("STOP", sender=boston(0)))
    assert world.opt_outs.get(ORG_ID, boston(0)) is None


def test_each_topic_carries_its_own_kind(world: World, inbound: Any) -> None:
    receipt_on_texts_topic = with_envelope(
        RECEIPT_EVENT,
        Message=world.receipt_message(boston(0), "TEXT_DELIVERED"),
        TopicArn=TEXTS_TOPIC,
    )
    text_on_events_topic = with_envelope(
        text_event("STOP", sender=boston(1)), TopicArn=EVENTS_TOPIC
    )
    assert inbound(batch(receipt_on_texts_topic, text_on_events_topic)) == {"ignored": 2}
    assert world.status_of(boston(0)) == "sent"
    assert world.opt_outs.get(ORG_ID, boston(1)) is None


def test_a_record_that_fails_is_reported_and_handled_when_delivered_again(
    world: World, handle: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = text_event("STOP", sender=boston(0))
    reply = text_event("Tuesday works", sender=boston(1))
    real = InboundService.handle_text

    def throttled(self: InboundService, text: InboundText) -> Any:
        if text.from_number == boston(0):
            raise RuntimeError("ProvisionedThroughputExceededException")
        return real(self, text)

    monkeypatch.setattr(InboundService, "handle_text", throttled)
    response, outcomes = handle(batch(stop, reply))
    assert failed_ids(response) == [stop["Records"][0]["messageId"]]
    assert outcomes == {"failed": 1, "reply": 1}
    assert world.opt_outs.get(ORG_ID, boston(0)) is None
    # SQS delivers the failed record again (or it is redriven from the dead-letter queue).
    monkeypatch.setattr(InboundService, "handle_text", real)
    again = copy.deepcopy(stop)
    again["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"
    assert handle(again) == ({"batchItemFailures": []}, {"opted_out": 1})
    assert world.opt_outs.get(ORG_ID, boston(0)) is not None


def test_a_redelivered_record_changes_nothing_twice(world: World, inbound: Any) -> None:
    event = text_event("STOP", sender=boston(1), message_id="redelivered-1")
    assert inbound(event) == {"opted_out": 1}
    assert inbound(received_again(event)) == {"duplicate": 1}
    assert sum("unsubscribed" in body for body in world.outbox_to(boston(1))) == 1
    assert world.stats()["opt_outs"] == 1
