"""The README's first command runs the product's main job, proven from outside.

Black box: this module imports no project module. It starts the local stack
exactly as the README's first command does (`make dev` in the repository root,
with an environment of `PATH`, `HOME`, `PORT` and `TICK_SECONDS=0` only), then
speaks HTTP as a new user would and checks what it sees against
`../shared/product/api-contract.md` and `../shared/product/sending-rules.md`,
computing zones and local times itself with `zoneinfo`.

The walk records every (method, path template) it calls; a second test checks
that the README's quick-start curl lines are, in order, a subsequence of them.
The walk runs once per test session (shared between xdist workers through a
file), and every expectation it misses is reported, not just the first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time as timer
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.readme_stack import REPO_ROOT, StackError, readme_stack

README = REPO_ROOT / "README.md"
QUICK_START_HEADING = "## Quick start: the main job"

PASSWORD = "correct horse battery"

NEW_YORK = ZoneInfo("America/New_York")
# The zone of each area code this walk uses (one zone each), for the quiet-hours check.
AREA_CODE_ZONES = {
    "617": ZoneInfo("America/New_York"),  # Boston
    "206": ZoneInfo("America/Los_Angeles"),  # Seattle
    "212": ZoneInfo("America/New_York"),  # New York
}

SENDER_AS_TYPED = "(617) 555-0100"
SENDER = "+16175550100"
OTHER_SENDER_AS_TYPED = "(212) 555-0199"
OTHER_SENDER = "+12125550199"
OTHER_CORRESPONDENT = "+12125550150"
SEATTLE_HOLDOUT = "+12065550143"  # another organization tries to opt it out
HELP_TEXT = "Acme Heating: call (617) 555-0100 for help."
OPT_OUT_FOOTER = "Reply STOP to opt out"  # the organization's default footer

DAILY_LIMIT = 3
MESSAGES_PER_SECOND = 1  # the organization's default
TEMPLATES = {
    "A": "Hi {first_name|there}, time for your spring furnace check?",
    "B": "Hey {first_name|friend}! Book your spring furnace check?",
}
# Contract defaults: send window Mon-Fri 09:00-18:00 in the campaign's zone;
# quiet hours 08:00-21:00 in the recipient's.
WINDOW_START, WINDOW_END = time(9), time(18)
QUIET_START, QUIET_END = time(8), time(21)

TICK_KEYS = {
    "now",
    "campaigns",
    "sent",
    "skipped",
    "failed",
    "unknown",
    "retried",
    "quiet_hours_deferred",
    "state_rule_deferred",
    "completed",
    "cap_reached",
}

# (phone as typed in the CSV, E.164, first name or "")
CONTACTS = [
    ("(617) 555-0123", "+16175550123", "Ana"),
    ("617.555.0124", "+16175550124", ""),
    ("+1 617 555 0125", "+16175550125", "Bo"),
    ("6175550126", "+16175550126", ""),
    ("617-555-0127", "+16175550127", "Dee"),
    ("(617) 555-0128", "+16175550128", ""),
    ("206.555.0140", "+12065550140", "Eve"),
    ("+1 206 555 0141", "+12065550141", ""),
    ("2065550142", "+12065550142", "Flo"),
    ("(206) 555-0143", "+12065550143", ""),
]
BAD_ROW_NUMBER = 6  # data rows are numbered from 1; the bad row goes in this place
FIRST_NAMES = {e164: name for _typed, e164, name in CONTACTS}
PHONES = set(FIRST_NAMES)

# The README's main job, in order: its quick start must show at least these calls.
MAIN_JOB = [
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("PATCH", "/v1/organization"),
    ("POST", "/v1/contacts/import"),
    ("POST", "/v1/campaigns"),
    ("POST", "/v1/campaigns/{id}/preview"),
    ("POST", "/v1/campaigns/{id}/start"),
    ("POST", "/v1/dev/tick"),
    ("POST", "/v1/dev/inbound"),
    ("GET", "/v1/campaigns/{id}/stats"),
]

Json = Any


# --- rules and times, computed here with zoneinfo -------------------------------------


def zone_of(phone: str) -> ZoneInfo:
    assert phone.startswith("+1"), phone
    return AREA_CODE_ZONES[phone[2:5]]


def in_send_window(instant: datetime) -> bool:
    local = instant.astimezone(NEW_YORK)
    return local.weekday() < 5 and WINDOW_START <= local.time() < WINDOW_END


def in_quiet_hours_allowance(instant: datetime, phone: str) -> bool:
    return QUIET_START <= instant.astimezone(zone_of(phone)).time() < QUIET_END


def may_send(instant: datetime, phone: str) -> bool:
    return in_send_window(instant) and in_quiet_hours_allowance(instant, phone)


def eastern(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def eastern_day(instant: datetime) -> date:
    return instant.astimezone(NEW_YORK).date()


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: Any) -> datetime:
    assert isinstance(text, str), text
    return datetime.fromisoformat(text)


def first_friday() -> date:
    """A Friday a few days ahead of the real clock, so every simulated instant is later."""
    start = datetime.now(NEW_YORK).date() + timedelta(days=3)
    return start + timedelta(days=(4 - start.weekday()) % 7)


def render(template: str, first_name: str) -> str:
    return re.sub(r"\{first_name\|([^}]*)\}", lambda m: first_name or m.group(1), template)


def is_campaign_text(body: str) -> bool:
    return body.startswith(("Hi ", "Hey "))


def csv_body() -> str:
    rows = [f"{typed},{name}" for typed, _e164, name in CONTACTS]
    rows.insert(BAD_ROW_NUMBER - 1, "not a phone,Bad")
    return "Phone,First Name\n" + "\n".join(rows) + "\n"


# --- the walk ---------------------------------------------------------------------------


class WalkAborted(Exception):
    """A step every later step needs failed."""


@dataclass
class WalkResult:
    calls: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    startup_seconds: float = 0.0
    walk_seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WalkResult:
        raw = json.loads(text)
        raw["calls"] = [tuple(call) for call in raw["calls"]]
        return cls(**raw)


def body_of(response: httpx.Response) -> Json:
    try:
        return response.json()
    except ValueError:
        return None


def short(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:300]}"


@dataclass
class Sent:
    """A campaign text seen in the outbox."""

    message_id: str
    phone: str
    body: str
    sent_at: datetime


class Walk:
    """A new user's main job over HTTP, checked against the contract and the sending rules."""

    def __init__(self, base: str, result: WalkResult) -> None:
        # One connection per call, as each curl line of the README: a server that drops a
        # connection after an error cannot spoil the next call.
        self.http = httpx.Client(
            base_url=base, timeout=60.0, limits=httpx.Limits(max_keepalive_connections=0)
        )
        self.result = result
        self.calls = result.calls
        self.failures = result.failures
        self._phase = ""
        # What the walk knows of organization A's campaign, as the rules predict it.
        self.pending = set(PHONES)  # recipients neither texted nor opted out
        self.texted: dict[str, Sent] = {}  # phone -> its campaign text
        self.sent_per_day: Counter[date] = Counter()  # the rules' prediction, per Eastern day
        self.org_clock: datetime | None = None  # organization A's latest tick
        # The simulated days: a Friday ahead of the real clock, its weekend, the cap Monday.
        self.friday = first_friday()
        self.monday = self.friday + timedelta(days=3)
        self.monday_afternoon = eastern(self.monday, 13)
        # Set by the steps; the fallbacks keep later steps going when an earlier one failed.
        self.token = ""
        self.other_token = ""
        self.campaign_id = ""
        self.contact_ids: dict[str, str] = {}
        self.stopper, self.replier, self.helper = CONTACTS[0][1], CONTACTS[1][1], CONTACTS[2][1]
        self.manual = CONTACTS[5][1]  # opted out by hand before its turn
        self.final_counts: dict[str, int] = {}

    # -- plumbing

    def call(
        self,
        method: str,
        template: str,
        *,
        token: str | None = None,
        id: str = "",
        payload: Json = None,
        csv: str | None = None,
        params: dict[str, str | int] | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One HTTP call, recorded as (method, path template)."""
        self.calls.append((method, template))
        headers = {"authorization": f"Bearer {token}"} if token else {}
        headers.update(extra_headers or {})
        content: bytes | None = None
        if csv is not None:
            headers["content-type"] = "text/csv"
            content = csv.encode()
        return self.http.request(
            method,
            template.replace("{id}", id),
            headers=headers,
            json=payload,
            content=content,
            params=params,
        )

    def on_campaign(self, method: str, template: str, **request: Any) -> httpx.Response:
        """A call on the walk's campaign (its id in the path), as its owner."""
        return self.call(method, template, token=self.token, id=self.campaign_id, **request)

    def inbound(self, token: str, sender: str, to: str, body: str) -> httpx.Response:
        """A text from ``sender`` to ``to``, as the carrier would deliver it."""
        payload = {"from": sender, "to": to, "body": body}
        return self.call("POST", "/v1/dev/inbound", token=token, payload=payload)

    def delivery(
        self, token: str, message_id: str, *, status: str, error_code: str | None
    ) -> httpx.Response:
        """A delivery receipt for ``message_id``, as the carrier would send it."""
        payload = {"message_id": message_id, "status": status, "error_code": error_code}
        return self.call("POST", "/v1/dev/delivery", token=token, payload=payload)

    def expect(self, condition: bool, message: str) -> bool:
        """A soft check: recorded, and the walk goes on."""
        if not condition:
            self.failures.append(f"[{self._phase}] {message}")
        return condition

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """A step of the walk; an unexpected error ends the step, not the walk."""
        self._phase = name
        try:
            yield
        except WalkAborted:
            raise
        except Exception as error:
            self.failures.append(f"[{name}] {type(error).__name__}: {error}")

    # -- steps

    def sign_up(self, email: str, organization: str) -> str:
        """Register and log in (the README's first two calls); the access token."""
        registered = self.call(
            "POST",
            "/v1/auth/register",
            payload={
                "email": email,
                "password": PASSWORD,
                "full_name": "Pat Owner",
                "organization_name": organization,
            },
        )
        if registered.status_code != 201:
            raise WalkAborted(f"register {email}: {short(registered)}")
        answer = body_of(registered)
        self.expect(answer["user"]["role"] == "owner", f"register: {answer}")
        self.expect("password" not in json.dumps(answer).lower(), "register answers a password")
        login = self.call("POST", "/v1/auth/login", payload={"email": email, "password": PASSWORD})
        if login.status_code != 200:
            raise WalkAborted(f"login {email}: {short(login)}")
        tokens = body_of(login)
        self.expect(tokens.get("token_type") == "bearer", f"login: {tokens}")
        token: str = tokens["access_token"]
        return token

    def tick(self, token: str, instant: datetime) -> dict[str, Any]:
        """`POST /v1/dev/tick` at ``instant``: 200 and the documented answer, or {}."""
        response = self.call("POST", "/v1/dev/tick", token=token, payload={"now": iso(instant)})
        if not self.expect(
            response.status_code == 200, f"tick at {iso(instant)} answered {short(response)}"
        ):
            return {}
        answer: dict[str, Any] = body_of(response)
        self.expect(set(answer) == TICK_KEYS, f"tick answer keys {sorted(answer)}")
        self.expect(
            "now" in answer and parse_time(answer["now"]) == instant,
            f"tick at {iso(instant)} answered now={answer.get('now')}",
        )
        self.expect(
            answer.get("sent", 0) <= 60 * MESSAGES_PER_SECOND,
            f"one tick sent {answer.get('sent')} > 60 x messages_per_second",
        )
        return answer

    def outbox(self, token: str) -> list[dict[str, Any]]:
        response = self.call("GET", "/v1/dev/outbox", token=token)
        if not self.expect(response.status_code == 200, f"outbox: {short(response)}"):
            return []
        items: list[dict[str, Any]] = body_of(response)["items"]
        return items

    def campaign_texts(self, outbox: list[dict[str, Any]]) -> list[Sent]:
        return [
            Sent(item["message_id"], item["to"], item["body"], parse_time(item["sent_at"]))
            for item in outbox
            if is_campaign_text(item["body"])
        ]

    def tick_campaign(self, token: str, instant: datetime) -> dict[str, Any]:
        """Organization A's tick, against what the sending rules say it must send."""
        eligible = {phone for phone in self.pending if may_send(instant, phone)}
        day = eastern_day(instant)
        allowed_today = DAILY_LIMIT - self.sent_per_day[day]
        expected = min(len(eligible), allowed_today, 60 * MESSAGES_PER_SECOND)
        local = instant.astimezone(NEW_YORK).strftime("%a %H:%M ET")
        answer = self.tick(token, instant)
        self.org_clock = instant
        new = [sent for sent in self.campaign_texts(self.outbox(token)) if sent.phone in PHONES]
        new = [
            sent
            for sent in new
            if sent.message_id not in {s.message_id for s in self.texted.values()}
        ]
        self.expect(
            answer.get("sent", len(new)) == len(new),
            f"{local}: tick says sent={answer.get('sent')}, the outbox has {len(new)} new texts",
        )
        self.expect(
            len(new) == expected,
            f"{local}: {len(new)} campaign texts, the rules allow exactly {expected} "
            f"(eligible {len(eligible)}, left today {allowed_today})",
        )
        for sent in new:
            self.expect(
                sent.phone in eligible,
                f"{local}: texted {sent.phone} at {iso(sent.sent_at)}, which the rules forbid "
                f"(pending={sent.phone in self.pending}, "
                f"local time {sent.sent_at.astimezone(zone_of(sent.phone)):%a %H:%M})",
            )
            self.expect(sent.phone not in self.texted, f"{local}: {sent.phone} texted twice")
            self.texted[sent.phone] = sent
            self.pending.discard(sent.phone)
        self.sent_per_day[day] += len(new)
        return answer

    # -- the story, in order

    def run(self) -> None:
        """The README's walk (and more), step by step; each step sees what the last left."""
        self._phase = "sign up"
        self.token = self.sign_up("owner@acme-heating.test", "Acme Heating")
        for name, step in (
            ("organization", self.set_up_organization),
            ("import", self.import_contacts),
            ("campaign", self.create_campaign),
            ("preview", self.preview),
            ("start", self.start),
            ("second organization", self.set_up_second_organization),
            ("evening and weekend", self.tick_evening_and_weekend),
            ("cap day", self.tick_the_cap_day),
            ("other organization's tick, outbox, receipts and inbound", self.act_as_another),
            ("inbound texts and receipts", self.answer),
            ("the reply's conversation", self.converse),
            ("later days", self.tick_until_completed),
            ("final stats", self.check_final_stats),
            ("final sends", self.check_final_sends),
            ("final outbox", self.check_final_outbox),
            ("auto-replies", self.check_auto_replies),
        ):
            with self.phase(name):
                step()

    def set_up_organization(self) -> None:
        response = self.call(
            "PATCH",
            "/v1/organization",
            token=self.token,
            payload={"sender_number": SENDER_AS_TYPED, "help_text": HELP_TEXT},
        )
        assert response.status_code == 200, short(response)
        org = body_of(response)
        self.expect(org["sender_number"] == SENDER, f"sender number {org['sender_number']}")
        self.expect(org["timezone"] == "America/New_York", f"timezone {org['timezone']}")
        self.expect(org["messages_per_second"] == MESSAGES_PER_SECOND, f"{org}")
        self.expect(org["quiet_hours"] == {"start": "08:00", "end": "21:00"}, f"{org}")
        self.expect(org["opt_out_footer"] == OPT_OUT_FOOTER, f"{org}")

    def import_contacts(self) -> None:
        response = self.call("POST", "/v1/contacts/import", token=self.token, csv=csv_body())
        assert response.status_code == 200, short(response)
        imported = body_of(response)
        self.expect(
            (imported["created"], imported["updated"]) == (len(CONTACTS), 0),
            f"import: {imported}",
        )
        errors = imported["errors"]
        self.expect(
            [error["row"] for error in errors] == [BAD_ROW_NUMBER] and bool(errors[0]["error"]),
            f"import errors {errors}: the bad row is row {BAD_ROW_NUMBER}",
        )
        response = self.call("GET", "/v1/contacts", token=self.token, params={"limit": 200})
        assert response.status_code == 200, short(response)
        contacts = body_of(response)["items"]
        self.contact_ids = {contact["phone"]: contact["id"] for contact in contacts}
        self.expect(set(self.contact_ids) == PHONES, f"contacts: {sorted(self.contact_ids)}")
        for contact in contacts:
            self.expect(
                (contact["first_name"] or "") == FIRST_NAMES.get(contact["phone"]),
                f"contact {contact['phone']} first_name {contact['first_name']!r}",
            )

    def create_campaign(self) -> None:
        response = self.call(
            "POST",
            "/v1/campaigns",
            token=self.token,
            payload={
                "name": "Spring check",
                "template_a": TEMPLATES["A"],
                "template_b": TEMPLATES["B"],
                "audience": {"all": True},
                "daily_limit": DAILY_LIMIT,
                "timezone": "America/New_York",
            },
        )
        if response.status_code != 201:
            raise WalkAborted(f"create campaign: {short(response)}")
        campaign = body_of(response)
        self.campaign_id = campaign["id"]
        self.expect(campaign["status"] == "draft", f"created {campaign['status']}")
        default_window = {
            "start": "09:00",
            "end": "18:00",
            "days": ["mon", "tue", "wed", "thu", "fri"],
        }
        self.expect(
            campaign["send_window"] == default_window,
            f"default send window {campaign['send_window']}",
        )
        self.expect(
            (campaign["daily_limit"], campaign["timezone"]) == (DAILY_LIMIT, "America/New_York"),
            f"{campaign}",
        )

    def preview(self) -> None:
        """Without a contact, with a named one and with a nameless one: names or fallbacks."""
        for request, name in (
            ({}, ""),
            ({"contact_id": self.contact_ids.get("+16175550123", "")}, "Ana"),
            ({"contact_id": self.contact_ids.get("+16175550124", "")}, ""),
        ):
            response = self.on_campaign("POST", "/v1/campaigns/{id}/preview", payload=request)
            if not self.expect(
                response.status_code == 200, f"preview {request}: {short(response)}"
            ):
                continue
            variants = {v["name"]: v for v in body_of(response)["variants"]}
            self.expect(set(variants) == {"A", "B"}, f"preview variants {sorted(variants)}")
            for variant, template in TEMPLATES.items():
                shown = variants.get(variant, {})
                self.expect(
                    shown.get("body") == render(template, name)
                    and shown.get("encoding") == "GSM-7",
                    f"preview {request} variant {variant}: {shown}",
                )

    def start(self) -> None:
        response = self.on_campaign("POST", "/v1/campaigns/{id}/start")
        if response.status_code != 200:
            raise WalkAborted(f"start: {short(response)}")
        started = body_of(response)
        self.expect(
            (started["status"], started["recipients"]) == ("active", len(CONTACTS)),
            f"started: {started['status']}, {started['recipients']} recipients",
        )

    def set_up_second_organization(self) -> None:
        """A second organization, to check that /v1/dev acts for the caller's only."""
        self.other_token = self.sign_up("owner@other-co.test", "Other Co")
        response = self.call(
            "PATCH",
            "/v1/organization",
            token=self.other_token,
            payload={"sender_number": OTHER_SENDER_AS_TYPED},
        )
        self.expect(
            response.status_code == 200 and body_of(response)["sender_number"] == OTHER_SENDER,
            f"second sender number: {short(response)}",
        )

    def tick_evening_and_weekend(self) -> None:
        """Outside the window: a weekday evening (the window ends at 18:00), a weekend."""
        friday = self.friday
        for instant in (
            eastern(friday, 18),
            eastern(friday + timedelta(days=1), 12),
            eastern(friday + timedelta(days=2), 12),
        ):
            self.tick_campaign(self.token, instant)

    def tick_the_cap_day(self) -> None:
        """Monday 10:00 in New York (07:00 in Seattle), then 13:00 the same day."""
        morning = self.tick_campaign(self.token, eastern(self.monday, 10))
        self.expect(
            all(zone_of(phone) == NEW_YORK for phone in self.texted),
            f"texted a Seattle number at 10:00 New York: {sorted(self.texted)}",
        )
        self.expect(
            len(self.texted) == DAILY_LIMIT,
            f"{len(self.texted)} texts on the cap day, daily_limit {DAILY_LIMIT}",
        )
        afternoon = self.tick_campaign(self.token, self.monday_afternoon)
        self.expect(
            morning.get("cap_reached", 0) + afternoon.get("cap_reached", 0) >= 1,
            f"cap_reached never reported: {morning} {afternoon}",
        )
        stats = self.stats()
        self.expect(
            (stats["sends_today"], stats["daily_limit"]) == (DAILY_LIMIT, DAILY_LIMIT),
            f"after the cap day: sends_today={stats['sends_today']} "
            f"daily_limit={stats['daily_limit']}",
        )
        # Who answers what: three numbers texted on Monday, one not texted yet.
        texted = sorted(self.texted) or ["+16175550123", "+16175550124", "+16175550125"]
        self.stopper, self.replier, self.helper = (texted * 3)[:3]
        untexted = sorted(
            p for p in self.pending if zone_of(p) == NEW_YORK and p not in texted
        ) or ["+16175550128"]
        self.manual = untexted[0]

    def act_as_another(self) -> None:
        """Another organization's tick, outbox, receipt and inbound text leave this one alone."""
        other = self.other_token
        # Its tick at a time when this organization's campaign could send.
        other_tick = self.tick(other, eastern(self.monday + timedelta(days=1), 10))
        self.expect(
            (other_tick.get("campaigns"), other_tick.get("sent")) == (0, 0),
            f"another organization's tick acted on this one's campaign: {other_tick}",
        )
        self.expect(
            len(self.campaign_texts(self.outbox(self.token))) == len(self.texted),
            "another organization's tick sent this organization's texts",
        )
        self.expect(self.outbox(other) == [], "another organization's outbox is not empty")
        receipt = {"status": "failed", "error_code": "30003"}
        foreign = self.delivery(other, self.message_id(self.stopper), **receipt)
        unknown = self.delivery(other, "no-such-message", **receipt)
        self.expect(
            (foreign.status_code, body_of(foreign)) == (200, {"outcome": "unknown_message"}),
            f"a receipt for another organization's message: {short(foreign)}",
        )
        self.expect(
            (foreign.status_code, foreign.content) == (unknown.status_code, unknown.content),
            f"foreign message {short(foreign)} vs unknown message {short(unknown)}",
        )
        response = self.inbound(other, SEATTLE_HOLDOUT, SENDER, "STOP")
        problem = body_of(response) or {}
        self.expect(
            response.status_code == 404
            and response.headers.get("content-type", "").startswith("application/problem+json")
            and {"type", "title", "status", "detail"} <= set(problem),
            f"inbound to another organization's number: {short(response)}",
        )
        response = self.inbound(other, OTHER_CORRESPONDENT, OTHER_SENDER, "HELP")
        self.expect(response.status_code == 200, f"HELP to its own number: {short(response)}")
        other_outbox = self.outbox(other)
        self.expect(
            [(m["from"], m["to"]) for m in other_outbox] == [(OTHER_SENDER, OTHER_CORRESPONDENT)],
            f"the other organization's outbox: {other_outbox}",
        )

    def answer(self) -> None:
        """The README's next step: a recipient answers STOP. Then HELP, a reply, a receipt."""
        outcomes = {}
        for phone, text in (
            (self.stopper, "STOP"),
            (self.helper, "HELP"),
            (self.replier, "Yes I'm interested, call me"),
        ):
            response = self.inbound(self.token, phone, SENDER, text)
            self.expect(response.status_code == 200, f"inbound {text!r}: {short(response)}")
            outcomes[text] = (body_of(response) or {}).get("outcome")
        self.expect(
            list(outcomes.values()) == ["opted_out", "help_sent", "reply"],
            f"inbound outcomes {outcomes}",
        )
        response = self.delivery(
            self.token, self.message_id(self.replier), status="delivered", error_code=None
        )
        self.expect(
            response.status_code == 200
            and (body_of(response) or {}).get("outcome") == "receipt_applied",
            f"delivery receipt: {short(response)}",
        )
        typed = next(t for t, e164, _n in CONTACTS if e164 == self.manual)
        response = self.call("POST", "/v1/opt-outs", token=self.token, payload={"phone": typed})
        self.expect(response.status_code == 201, f"manual opt-out: {short(response)}")
        self.pending.discard(self.manual)

        stats = self.stats()
        self.expect(
            (stats["replies"], stats["opt_outs"], stats["delivered"], stats["sends_today"])
            == (1, 1, 1, DAILY_LIMIT),
            f"stats after STOP, HELP, reply, receipt on Monday: replies={stats['replies']} "
            f"opt_outs={stats['opt_outs']} delivered={stats['delivered']} "
            f"sends_today={stats['sends_today']}",
        )
        opt_outs = self.opt_outs()
        self.expect(
            {phone: item["source"] for phone, item in opt_outs.items()}
            == {self.stopper: "keyword", self.manual: "manual"},
            f"opt-outs {opt_outs} (the other organization's STOP must not be one)",
        )
        clock = self.monday_afternoon
        for item in opt_outs.values():
            created = parse_time(item["created_at"])
            self.expect(
                clock <= created <= clock + timedelta(minutes=5),
                f"opt-out of {item['phone']} at {item['created_at']}: not the organization's "
                f"clock (its last tick was {iso(clock)})",
            )

    def converse(self) -> None:
        """The README's last step: the reply is read in its conversation, and answered once
        for its Idempotency-Key."""
        unread = self.call("GET", "/v1/conversations", token=self.token, params={"unread": "true"})
        if not self.expect(unread.status_code == 200, f"unread inbox: {short(unread)}"):
            return
        entries = {item["phone"]: item for item in body_of(unread)["items"]}
        entry = entries.get(self.replier, {})
        self.expect(
            entry.get("unread_count") == 1
            and entry.get("last_message", {}).get("body") == "Yes I'm interested, call me"
            and ((entry.get("contact") or {}).get("first_name") or "") == FIRST_NAMES[self.replier],
            f"the replier's conversation in the unread inbox: {entry}",
        )
        found = self.call(
            "GET", "/v1/conversations/{id}/messages", token=self.token, id=self.replier
        )
        if not self.expect(found.status_code == 200, f"messages: {short(found)}"):
            return
        texts = [(m["kind"], m["body"]) for m in body_of(found)["items"]]
        campaign_text = self.texted.get(self.replier)
        self.expect(
            texts[:2]
            == [
                ("inbound", "Yes I'm interested, call me"),
                ("campaign", campaign_text.body if campaign_text else None),
            ],
            f"the replier's conversation: {texts}",
        )
        answer = "Thanks! We will call you this afternoon."
        ids = []
        for _ in range(2):  # a client's retry: sent once
            sent = self.call(
                "POST",
                "/v1/conversations/{id}/messages",
                token=self.token,
                id=self.replier,
                payload={"body": answer},
                extra_headers={"idempotency-key": "walk-answer-1"},
            )
            self.expect(sent.status_code == 201, f"answer: {short(sent)}")
            ids.append((body_of(sent) or {}).get("id"))
        self.expect(ids[0] is not None and ids[0] == ids[1], f"answer ids {ids}")
        answers = [m for m in self.outbox(self.token) if m["body"] == answer]
        self.expect(
            [m["to"] for m in answers] == [self.replier], f"the answer in the outbox: {answers}"
        )
        after = self.call("GET", "/v1/conversations", token=self.token, params={"unread": "true"})
        self.expect(
            self.replier not in {item["phone"] for item in body_of(after)["items"]},
            "the answered conversation is still unread",
        )

    def tick_until_completed(self) -> None:
        """Tuesday and Wednesday at 10:00 (Eastern numbers only) and 13:00, then until done."""
        day = self.monday
        for day in (self.monday + timedelta(days=1), self.monday + timedelta(days=2)):
            self.tick_campaign(self.token, eastern(day, 10))
            self.tick_campaign(self.token, eastern(day, 13))
        status = ""
        for _ in range(4):
            response = self.on_campaign("GET", "/v1/campaigns/{id}")
            status = (body_of(response) or {}).get("status", "")
            if status == "completed":
                break
            day += timedelta(days=1)
            while day.weekday() >= 5:
                day += timedelta(days=1)
            self.tick_campaign(self.token, eastern(day, 13))
        self.expect(status == "completed", f"campaign not completed by {day}: {status!r}")

    # -- the end: stats, sends and outbox against the rules

    def check_final_stats(self) -> None:
        stats = self.stats()
        statuses = ("pending", "sent", "delivered", "failed", "skipped")
        self.final_counts = {name: stats[name] for name in statuses}
        counts = self.final_counts
        self.expect(
            sum(counts.values()) == stats["recipients"] == len(CONTACTS),
            f"status counts {counts} do not add up to recipients {stats['recipients']}",
        )
        texted = len(CONTACTS) - 1  # all but the one opted out by hand before its turn
        self.expect(
            counts == {"pending": 0, "sent": texted - 1, "delivered": 1, "failed": 0, "skipped": 1},
            f"final counts {counts}",
        )
        self.expect(
            (stats["status"], stats["replies"], stats["opt_outs"]) == ("completed", 1, 1),
            f"final stats status={stats['status']} replies={stats['replies']} "
            f"opt_outs={stats['opt_outs']}",
        )
        if self.org_clock is not None:
            day = eastern_day(self.org_clock)
            self.expect(
                stats["sends_today"] == self.sent_per_day[day],
                f"sends_today {stats['sends_today']} on {day}, sent {self.sent_per_day[day]}",
            )
        variants = stats["variants"]
        self.expect(
            {v["name"] for v in variants} == {"A", "B"}
            and sum(v["recipients"] for v in variants) == len(CONTACTS)
            and sum(v["delivered"] for v in variants) == 1
            and sum(v["replies"] for v in variants) == 1
            and sum(v["opt_outs"] for v in variants) == 1,
            f"variant stats {variants}",
        )

    def check_final_sends(self) -> None:
        """`GET /v1/campaigns/{id}/sends` agrees with the stats and with the outbox."""
        sends = self.sends()
        by_phone = {send["phone"]: send for send in sends}
        self.expect(
            len(sends) == len(by_phone) and set(by_phone) == PHONES,
            f"sends: {len(sends)} for {sorted(by_phone)}",
        )
        statuses = Counter(send["status"] for send in sends)
        self.expect(
            dict(statuses) == {k: v for k, v in self.final_counts.items() if v},
            f"sends' statuses {dict(statuses)} vs stats {self.final_counts}",
        )
        manual = by_phone.get(self.manual, {})
        self.expect(
            manual.get("status") == "skipped" and not manual.get("provider_message_id"),
            f"opted out before its turn: {manual}",
        )
        replier = by_phone.get(self.replier, {})
        self.expect(replier.get("status") == "delivered", f"receipt applied to {replier}")
        messages = {item["message_id"]: item for item in self.outbox(self.token)}
        for phone, send in by_phone.items():
            if send["status"] == "skipped":
                continue
            message = messages.get(send["provider_message_id"])
            if message is None:
                self.expect(False, f"send {send} is not in the outbox")
                continue
            self.expect(message["to"] == phone, f"send {send} vs outbox {message}")
            expected = render(TEMPLATES.get(send["variant"], ""), FIRST_NAMES[phone])
            self.expect(
                send["variant"] in TEMPLATES and message["body"].startswith(expected),
                f"variant {send['variant']} to {phone} ({FIRST_NAMES[phone] or 'no name'}): "
                f"{message['body']!r}",
            )
            self.expect(
                send["sent_at"] is not None
                and abs(parse_time(send["sent_at"]) - parse_time(message["sent_at"]))
                <= timedelta(seconds=2),
                f"send sent_at {send['sent_at']} vs outbox {message['sent_at']}",
            )

    def check_final_outbox(self) -> None:
        """One sender, oldest first, each number texted once, within the rules."""
        outbox = self.outbox(self.token)
        self.expect(
            {item["from"] for item in outbox} == {SENDER},
            f"senders in this organization's outbox: {sorted({m['from'] for m in outbox})}",
        )
        stamps = [parse_time(item["sent_at"]) for item in outbox]
        self.expect(
            stamps == sorted(stamps),
            "outbox not in sent_at order: "
            + ", ".join(f"{m['to']} {m['sent_at']} {m['body'][:12]!r}" for m in outbox),
        )
        campaign = self.campaign_texts(outbox)
        phones = [sent.phone for sent in campaign]
        self.expect(
            len(phones) == len(set(phones)) == len(CONTACTS) - 1,
            f"campaign texts to {sorted(phones)}",
        )
        self.expect(self.manual not in phones, f"{self.manual} texted after it opted out")
        self.expect(SEATTLE_HOLDOUT in phones, f"{SEATTLE_HOLDOUT} was never texted")
        for sent in campaign:
            self.expect("{" not in sent.body and "}" not in sent.body, f"a brace: {sent.body!r}")
            self.expect(sent.body.endswith(OPT_OUT_FOOTER), f"no footer: {sent.body!r}")
            self.expect(
                in_send_window(sent.sent_at),
                f"{sent.phone} texted at {sent.sent_at.astimezone(NEW_YORK):%a %H:%M} "
                "New York, outside the send window",
            )
            self.expect(
                in_quiet_hours_allowance(sent.sent_at, sent.phone),
                f"{sent.phone} texted at {sent.sent_at.astimezone(zone_of(sent.phone)):%a %H:%M} "
                "its local time, inside the quiet hours",
            )
        per_day = Counter(eastern_day(sent.sent_at) for sent in campaign)
        self.expect(
            dict(per_day) == {day: n for day, n in self.sent_per_day.items() if n},
            f"texts per day {dict(per_day)} vs the rules' {dict(self.sent_per_day)}",
        )
        self.expect(
            not [item for item in outbox if item["to"] == OTHER_CORRESPONDENT],
            "another organization's message is in this organization's outbox",
        )
        self.expect(
            set(self.opt_outs()) == {self.stopper, self.manual},
            f"opt-outs at the end: {sorted(self.opt_outs())}",
        )

    def check_auto_replies(self) -> None:
        """One STOP confirmation after the text it answers, one HELP answer, on its clock."""
        outbox = self.outbox(self.token)
        campaign = {sent.phone: sent for sent in self.campaign_texts(outbox)}
        position = {item["message_id"]: index for index, item in enumerate(outbox)}
        for phone, what in ((self.stopper, "STOP confirmation"), (self.helper, "HELP answer")):
            replies = [
                (index, item)
                for index, item in enumerate(outbox)
                if item["to"] == phone and not is_campaign_text(item["body"])
            ]
            text = campaign.get(phone)
            if text is None or len(replies) != 1:
                self.expect(False, f"{what} to {phone}: {[item for _i, item in replies]}")
                continue
            index, reply = replies[0]
            answered = position[text.message_id]
            sent_at = parse_time(reply["sent_at"])
            self.expect(
                index > answered and sent_at >= text.sent_at,
                f"{what} at {reply['sent_at']} (#{index}) before the text it answers "
                f"({iso(text.sent_at)}, #{answered})",
            )
            clock = self.monday_afternoon
            self.expect(
                clock <= sent_at <= clock + timedelta(minutes=5),
                f"{what} sent at {reply['sent_at']}: not the organization's clock "
                f"(its last tick was {iso(clock)})",
            )
            if what == "HELP answer":
                self.expect(HELP_TEXT in reply["body"], f"HELP answer {reply['body']!r}")
            after = [item for item in outbox[index + 1 :] if item["to"] == phone]
            self.expect(not after, f"texted {phone} after its {what}: {after}")

    # -- reads

    def stats(self) -> dict[str, Any]:
        response = self.on_campaign("GET", "/v1/campaigns/{id}/stats")
        assert response.status_code == 200, short(response)
        stats: dict[str, Any] = body_of(response)
        return stats

    def sends(self) -> list[dict[str, Any]]:
        sends: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"limit": 200}
        while True:
            response = self.on_campaign("GET", "/v1/campaigns/{id}/sends", params=params)
            assert response.status_code == 200, short(response)
            page = body_of(response)
            sends.extend(page["items"])
            if not page["next_cursor"]:
                return sends
            params = {"limit": 200, "cursor": page["next_cursor"]}

    def opt_outs(self) -> dict[str, dict[str, Any]]:
        response = self.call("GET", "/v1/opt-outs", token=self.token, params={"limit": 200})
        assert response.status_code == 200, short(response)
        return {item["phone"]: item for item in body_of(response)["items"]}

    def message_id(self, phone: str) -> str:
        sent = self.texted.get(phone)
        return sent.message_id if sent else "not-texted"


def check_server_log(log: str) -> list[str]:
    """The local stack's own output: no tracebacks, every JSON line names its function."""
    failures = []
    if "Traceback" in log:
        first = log.index("Traceback")
        failures.append("[server log] a Traceback:\n" + log[first : first + 3000])
    if "service_undefined" in log:
        failures.append("[server log] JSON log lines with service_undefined")
    services = set()
    for line in log.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                services.add(json.loads(line).get("service"))
    if not services & {"dispatcher", "sender"}:
        failures.append(
            f'[server log] no line with "service": "dispatcher" or "sender" '
            f"after ticks (services seen: {sorted(map(str, services))})"
        )
    return failures


def run_walk(directory: Path) -> WalkResult:
    """Start the stack as the README says, walk, stop it, read its log."""
    result = WalkResult()
    log_path = directory / "make-dev.log"
    try:
        with readme_stack(log_path) as (base, startup):
            result.startup_seconds = startup
            started = timer.monotonic()
            try:
                Walk(base, result).run()
            except WalkAborted as aborted:
                result.failures.append(f"[walk aborted] {aborted}")
            finally:
                result.walk_seconds = timer.monotonic() - started
    except StackError as error:
        result.failures.append(f"[make dev] {error}")
        return result
    result.failures.extend(check_server_log(log_path.read_text(errors="replace")))
    print(
        f"\ne2e: make dev healthy after {result.startup_seconds:.1f} s; "
        f"walk took {result.walk_seconds:.1f} s ({len(result.calls)} calls); log at {log_path}"
    )
    return result


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> WalkResult:
    """The walk, run once per session: xdist workers share it through a locked file."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return run_walk(tmp_path_factory.mktemp("e2e"))
    shared = tmp_path_factory.getbasetemp().parent  # this session's, common to its workers
    with (shared / "e2e-walk.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "e2e-walk.json"
        if done.exists():
            return WalkResult.from_json(done.read_text())
        result = run_walk(tmp_path_factory.mktemp("e2e"))
        done.write_text(result.to_json())
        return result


# --- the README -------------------------------------------------------------------------


def readme_section() -> str:
    text = README.read_text()
    start = text.index(QUICK_START_HEADING)
    end = text.find("\n## ", start + len(QUICK_START_HEADING))
    return text[start : end if end != -1 else len(text)]


def readme_quick_start_calls() -> list[tuple[str, str]]:
    """(METHOD, path template) of every curl line of the README's quick start, in order."""
    calls: list[tuple[str, str]] = []
    for block in re.findall(r"```bash\n(.*?)```", readme_section(), re.S):
        for command in re.split(r"(?=\bcurl\s)", block)[1:]:
            url = re.search(r"\$\{?API\}?(/[^\s\"'?]*)", command)
            assert url, f"a curl line without $API: {command!r}"
            method = re.search(r"(?:-X|--request)\s+([A-Z]+)", command[: url.start()])
            path = re.sub(r"\$\{?[A-Za-z_]\w*\}?", "{id}", url.group(1))
            calls.append((method.group(1) if method else "GET", path))
    return calls


def first_missing(wanted: list[tuple[str, str]], made: list[tuple[str, str]]) -> Any:
    """The first of ``wanted`` not found, in order, in ``made``; None when all are."""
    remaining = iter(made)
    for index, call in enumerate(wanted):
        if call not in remaining:
            return index, call
    return None


# --- the tests --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.loopback
@pytest.mark.enable_socket
def test_readme_first_command_runs_the_main_job(walk: WalkResult) -> None:
    print(
        f"\ne2e: startup {walk.startup_seconds:.1f} s, walk {walk.walk_seconds:.1f} s; calls:\n"
        + "\n".join(f"  {method} {path}" for method, path in walk.calls)
    )
    assert not walk.failures, f"{len(walk.failures)} expectations missed:\n" + "\n".join(
        walk.failures
    )


@pytest.mark.loopback
@pytest.mark.enable_socket
def test_readme_quick_start_is_what_the_walk_does(walk: WalkResult) -> None:
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), re.S)
    assert first_block and first_block.group(1).startswith("make dev"), (
        "the README's first command is `make dev`"
    )
    readme = readme_quick_start_calls()
    assert first_missing(MAIN_JOB, readme) is None, (
        f"the README's quick start does not show the main job: {readme}"
    )
    missing = first_missing(readme, walk.calls)
    assert missing is None, (
        f"README quick-start call #{missing[0]} {missing[1]} is not (in order) among the "
        f"walk's calls {walk.calls}; walk failures: {walk.failures[:3]}"
    )
