"""Auto-replies are bounded: issue 14, point 2 (``sending-rules.md``, rule 9 and the last
paragraph of "Keywords in other languages"), on in-memory fakes and a simulated clock.

A HELP answer or a STOP/START confirmation goes only to a number the organization may
text (its allowed countries, a normal-cost line type), at most once per number per 24
hours for HELP, within the organization's ``auto_reply_hourly_limit`` per clock hour,
and takes one unit of its ``daily_message_limit``. What is not answered is recorded on
the text (``auto_reply``: ``suppressed:<reason>``), logged and counted in the
``AutoRepliesSuppressed`` metric; the opt-out or opt-in itself always happens. The
attacks of the issue's "Why" are replayed here; their concurrent forms run on moto in
``tests/integration/test_inbound_auto_replies.py``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outreach.clock import SimulatedClock
from outreach.data.keys import auto_reply_counter_key, org_daily_counter_key
from outreach.ids import new_id
from outreach.inbound.domain import InboundText, Outcome
from outreach.inbound.service import AUTO_REPLIES_SUPPRESSED, InboundService
from outreach.sms.providers import PermanentSendError, UnknownOutcomeError
from outreach.spend import DAY_COUNTER_TTL, HOUR_COUNTER_TTL
from tests.support import builders
from tests.support.builders import boston
from tests.support.fakes.contacts import InMemoryOptOutList
from tests.support.fakes.counters import InMemoryCounters
from tests.support.fakes.identity import InMemoryIdentityStore
from tests.support.fakes.inbound import InMemoryInboundStore, StoredText
from tests.support.fakes.sending import ScriptedProvider

# Monday 23 November 2026, 10:00 in New York (15:00 UTC).
MONDAY_10AM_EASTERN = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ORG_ID = new_id(MONDAY_10AM_EASTERN)
SENDER = "+16175550100"  # a US number: the organization texts the US only
UK_NEVER_TEXTED = "+447781234567"  # the attacker (libphonenumber: Guernsey)
UK_MOBILE = "+447400123456"
CHINA = "+8613800138000"
US_PREMIUM = "+19005550123"  # 1-900: premium rate
STOP_TEXT = (
    "Acme: you are unsubscribed and will receive no more messages. Reply START to resubscribe."
)
START_TEXT = "Acme: you are resubscribed. Reply STOP to opt out."


@dataclass
class Org:
    """A US organization (New York) on fakes; nothing sent yet."""

    clock: SimulatedClock
    identity: InMemoryIdentityStore
    store: InMemoryInboundStore
    opt_outs: InMemoryOptOutList
    provider: ScriptedProvider
    counters: InMemoryCounters
    service: InboundService

    def text(self, body: str, *, sender: str) -> tuple[Outcome, StoredText]:
        """What the service made of one text, and the text as recorded."""
        message_id = str(uuid.uuid4())
        outcome = self.service.handle_text(
            InboundText(from_number=sender, to_number=SENDER, body=body, message_id=message_id)
        )
        stored = self.store.carrier_text(ORG_ID, message_id)
        assert stored is not None
        return outcome, stored

    def answers_to(self, phone: str) -> list[str]:
        return [message.body for message, _ in self.provider.sent if message.to_number == phone]

    def configure(self, **settings: Any) -> None:
        self.identity.organizations[ORG_ID] = replace(
            self.identity.organizations[ORG_ID], **settings
        )

    def hour_counter(self) -> int:
        key = auto_reply_counter_key(ORG_ID, self.clock.now().strftime("%Y-%m-%dT%H"))
        return self.counters.value(key)

    def day_counter(self, day: str = "2026-11-23") -> int:
        return self.counters.value(org_daily_counter_key(ORG_ID, day))


@pytest.fixture
def org() -> Org:
    clock = SimulatedClock(MONDAY_10AM_EASTERN)
    identity = InMemoryIdentityStore()
    identity.organizations[ORG_ID] = builders.organization(
        "Acme",
        at=clock.now(),
        id=ORG_ID,
        sender_number=SENDER,
        help_texts={"en": "Acme: call us."},
    )
    store = InMemoryInboundStore()
    store.own_number(ORG_ID, SENDER)
    opt_outs, provider, counters = InMemoryOptOutList(), ScriptedProvider(), InMemoryCounters()
    service = InboundService(
        store=store,
        opt_outs=opt_outs,
        organizations=identity,
        provider=provider,
        counters=counters,
        clock=clock,
    )
    return Org(clock, identity, store, opt_outs, provider, counters, service)


def suppressed_metrics(output: str) -> list[dict[str, Any]]:
    """The ``AutoRepliesSuppressed`` EMF documents printed to stdout."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    return [
        document
        for document in documents
        if any(
            metric["Name"] == AUTO_REPLIES_SUPPRESSED
            for directive in document["_aws"]["CloudWatchMetrics"]
            for metric in directive["Metrics"]
        )
    ]


# --- The attacks ---------------------------------------------------------------


def test_15_helps_from_a_foreign_number_never_texted_send_nothing(
    org: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(15):
        outcome, stored = org.text("HELP", sender=UK_NEVER_TEXTED)
        assert outcome is Outcome.HELP_NOT_ANSWERED  # handled: recorded, not answered
        assert stored.auto_reply == "suppressed:country_not_allowed"
    assert org.provider.sent == []
    assert len(org.store.texts(ORG_ID)) == 15
    # Nothing was taken from the organization's limits for texts never sent.
    assert (org.hour_counter(), org.day_counter()) == (0, 0)
    metrics = suppressed_metrics(capsys.readouterr().out)
    assert len(metrics) == 15
    assert {document["reason"] for document in metrics} == {"country_not_allowed"}


def test_15_helps_from_an_allowed_number_get_one_answer_a_day(org: Org) -> None:
    results = [org.text("HELP", sender=boston(1)) for _ in range(15)]
    assert org.answers_to(boston(1)) == ["Acme: call us."]
    assert [stored.auto_reply for _, stored in results] == ["sent"] + [
        "suppressed:help_interval"
    ] * 14
    (answer,) = org.store.auto_replies(ORG_ID)
    assert (answer.provider_message_id, answer.body) == ("fake-1", "Acme: call us.")
    # A minute short of 24 hours: still not; at 24 hours: answered again.
    org.clock.advance(timedelta(hours=24) - timedelta(minutes=1))
    assert org.text("info", sender=boston(1))[1].auto_reply == "suppressed:help_interval"
    org.clock.advance(timedelta(minutes=1))
    assert org.text("Help?", sender=boston(1))[1].auto_reply == "sent"
    assert org.answers_to(boston(1)) == ["Acme: call us."] * 2
    # Another number has its own day.
    assert org.text("HELP", sender=boston(2))[1].auto_reply == "sent"


def test_5_stop_start_cycles_confirm_only_up_to_the_hourly_limit(org: Org) -> None:
    org.configure(auto_reply_hourly_limit=4)
    recorded = []
    for _ in range(5):
        outcome, stop = org.text("STOP", sender=boston(3))
        assert outcome is Outcome.OPTED_OUT
        assert org.opt_outs.get(ORG_ID, boston(3)) is not None  # the opt-out always happens
        outcome, start = org.text("START", sender=boston(3))
        assert outcome is Outcome.OPTED_IN
        assert org.opt_outs.get(ORG_ID, boston(3)) is None
        recorded += [stop.auto_reply, start.auto_reply]
    assert org.answers_to(boston(3)) == [STOP_TEXT, START_TEXT] * 2
    assert recorded == ["sent"] * 4 + ["suppressed:hourly_limit"] * 6
    assert org.hour_counter() == 4
    # The next clock hour has its own allowance.
    org.clock.advance(timedelta(hours=1))
    assert org.text("STOP", sender=boston(3))[1].auto_reply == "sent"
    assert org.answers_to(boston(3))[-1] == STOP_TEXT


def test_info_from_a_chinese_number_is_not_answered(org: Org) -> None:
    outcome, stored = org.text("INFO", sender=CHINA)
    assert outcome is Outcome.HELP_NOT_ANSWERED
    assert stored.auto_reply == "suppressed:country_not_allowed"
    assert org.provider.sent == []


def test_an_organization_at_its_daily_limit_sends_no_auto_reply(org: Org) -> None:
    org.configure(daily_message_limit=3)
    # The sender's campaign texts took the day (the same counter, in New York's day).
    key = org_daily_counter_key(ORG_ID, "2026-11-23")
    org.counters.reserve(key, limit=3, wanted=3, expires_at=org.clock.now() + DAY_COUNTER_TTL)
    for body, sender in (("HELP", boston(1)), ("STOP", boston(2))):
        assert org.text(body, sender=sender)[1].auto_reply == "suppressed:daily_limit"
    assert org.opt_outs.get(ORG_ID, boston(2)) is not None
    assert org.provider.sent == []
    # The hourly units were given back, and so was the HELP mark: with room tomorrow
    # (Tuesday in New York), the same number is answered at once.
    assert (org.hour_counter(), org.day_counter()) == (0, 3)
    org.clock.advance(timedelta(hours=14))  # Tuesday 00:00 in New York
    assert org.text("HELP", sender=boston(1))[1].auto_reply == "sent"
    assert org.day_counter("2026-11-24") == 1


# --- Each bound on its own ---------------------------------------------------------------


def test_each_auto_reply_takes_one_unit_of_the_hour_and_of_the_organizations_day(
    org: Org,
) -> None:
    # Monday 21:30 in New York is Tuesday 02:30 UTC: the day is New York's.
    org.clock.advance(timedelta(hours=11, minutes=30))
    assert org.text("HELP", sender=boston(1))[1].auto_reply == "sent"
    assert org.text("STOP", sender=boston(2))[1].auto_reply == "sent"
    assert org.day_counter("2026-11-23") == 2
    assert org.day_counter("2026-11-24") == 0
    assert org.counters.value(auto_reply_counter_key(ORG_ID, "2026-11-24T02")) == 2
    now = org.clock.now()
    assert org.counters.expires[org_daily_counter_key(ORG_ID, "2026-11-23")] == (
        now + DAY_COUNTER_TTL
    )
    assert org.counters.expires[auto_reply_counter_key(ORG_ID, "2026-11-24T02")] == (
        now + HOUR_COUNTER_TTL
    )


@pytest.mark.parametrize(
    ("phone", "allowed_countries", "reason"),
    [
        (UK_MOBILE, (), "suppressed:country_not_allowed"),
        (US_PREMIUM, (), "suppressed:line_type"),
        (US_PREMIUM, ("US", "GB"), "suppressed:line_type"),
        (UK_MOBILE, ("US", "GB"), "sent"),
        (boston(1), ("GB",), "suppressed:country_not_allowed"),
    ],
)
def test_answers_go_only_where_the_organization_may_text(
    org: Org, phone: str, allowed_countries: tuple[str, ...], reason: str
) -> None:
    org.configure(allowed_countries=allowed_countries)
    assert org.text("STOP", sender=phone)[1].auto_reply == reason
    assert org.opt_outs.get(ORG_ID, phone) is not None
    assert len(org.answers_to(phone)) == (1 if reason == "sent" else 0)


def test_without_a_sender_number_the_suppression_is_recorded(org: Org) -> None:
    org.configure(sender_number=None)
    outcome, stored = org.text("HELP", sender=boston(1))
    assert (outcome, stored.auto_reply) == (
        Outcome.HELP_NOT_ANSWERED,
        "suppressed:no_sender_number",
    )
    assert org.provider.sent == []


def test_a_refused_auto_reply_gives_its_units_and_help_mark_back(org: Org) -> None:
    org.provider.outcomes.append(PermanentSendError("InvalidNumber"))
    outcome, stored = org.text("HELP", sender=boston(1))
    assert (outcome, stored.auto_reply) == (Outcome.HELP_NOT_ANSWERED, "failed:InvalidNumber")
    assert (org.hour_counter(), org.day_counter()) == (0, 0)
    # Not answered, so the number may still have its answer today.
    assert org.text("HELP", sender=boston(1))[1].auto_reply == "sent"
    assert (org.hour_counter(), org.day_counter()) == (1, 1)


def test_an_auto_reply_that_may_have_gone_keeps_its_units(org: Org) -> None:
    org.provider.outcomes.append(UnknownOutcomeError("RequestTimeout"))
    assert org.text("HELP", sender=boston(1))[1].auto_reply == "unknown:RequestTimeout"
    assert (org.hour_counter(), org.day_counter()) == (1, 1)
    assert org.text("HELP", sender=boston(1))[1].auto_reply == "suppressed:help_interval"


def test_texts_that_call_for_no_auto_reply_record_none(org: Org) -> None:
    assert org.text("Tuesday works", sender=boston(1))[1].auto_reply is None
    assert org.text("START", sender=boston(1))[1].auto_reply is None  # was not opted out
    assert org.text("STOP", sender=boston(1))[1].auto_reply == "sent"
    assert org.text("STOP", sender=boston(1))[1].auto_reply is None  # already opted out
    assert (org.hour_counter(), org.day_counter()) == (1, 1)


def test_the_metric_counts_each_suppression_by_reason_in_two_dimension_sets(
    org: Org, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "inbound")
    org.configure(auto_reply_hourly_limit=1)
    org.text("HELP", sender=boston(1))  # sent: no data point
    org.text("HELP", sender=boston(1))  # help_interval
    org.text("HELP", sender=boston(2))  # hourly_limit
    org.text("HELP", sender=CHINA)  # country_not_allowed
    metrics = suppressed_metrics(capsys.readouterr().out)
    assert [document["reason"] for document in metrics] == [
        "help_interval",
        "hourly_limit",
        "country_not_allowed",
    ]
    for document in metrics:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Outreach"
        assert directive["Dimensions"] == [["service"], ["service", "reason"]]
        assert directive["Metrics"] == [{"Name": AUTO_REPLIES_SUPPRESSED, "Unit": "Count"}]
        assert (document["service"], document[AUTO_REPLIES_SUPPRESSED]) == ("inbound", [1.0])


def test_answers_in_spanish_and_french_take_from_the_same_bounds(org: Org) -> None:
    # Issue 15 changed the language of the answers, not their bounds.
    org.configure(auto_reply_hourly_limit=2)
    assert org.text("ALTO", sender=boston(1))[1].auto_reply == "sent"
    assert org.text("AYUDA", sender=boston(2))[1].auto_reply == "sent"
    outcome, stored = org.text("ARRÊT", sender=boston(3))
    assert (outcome, stored.auto_reply) == (Outcome.OPTED_OUT, "suppressed:hourly_limit")
    assert org.opt_outs.get(ORG_ID, boston(3)) is not None
    assert (org.hour_counter(), org.day_counter()) == (2, 2)
    # A HELP in another language is the same number's one answer a day.
    org.clock.advance(timedelta(hours=1))
    assert org.text("Aide", sender=boston(2))[1].auto_reply == "suppressed:help_interval"
    # From a number never opted out, SI and OUI are replies: nothing answered or taken.
    assert org.text("SI", sender=boston(4))[1].auto_reply is None
    assert org.text("oui", sender=boston(4))[1].auto_reply is None
    assert org.hour_counter() == 0
