"""Issue 14 on the identity side, through the identity Lambda handler and the service on
in-memory stores with a simulated clock: the organization's spend settings
(`api-contract.md` Addendum 1), the quiet-hours floor (point 5), the exact login
lockout (point 7), the sender-number hold (point 8) and ``Cache-Control: no-store``
on token answers (point 10). The DynamoDB side is in
``tests/integration/test_identity_abuse.py`` and ``test_identity_contract.py``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
import pytest

from outreach.clock import SimulatedClock
from outreach.errors import Forbidden, TooManyRequests, Unauthorized
from outreach.identity.domain import (
    DEFAULT_FALLBACK_TIME_ZONES,
    LEGAL_QUIET_END,
    LEGAL_QUIET_START,
    MAX_FALLBACK_TIME_ZONES,
    SENDER_NUMBER_HOLD,
    NewUser,
    OrganizationChanges,
    Role,
)
from outreach.identity.schemas import MAX_ALLOWED_COUNTRIES
from outreach.identity.service import IdentityService, get_identity_service
from outreach.spend import (
    DEFAULT_AUTO_REPLY_HOURLY_LIMIT,
    DEFAULT_CONTACT_DAILY_LIMIT,
    DEFAULT_DAILY_MESSAGE_LIMIT,
    MAX_AUTO_REPLY_HOURLY_LIMIT,
    MAX_CONTACT_DAILY_LIMIT,
    MAX_DAILY_MESSAGE_LIMIT,
)
from tests.integration.identity_support import PASSWORD, Account, add_user, login, register
from tests.support.api import ApiClient
from tests.support.fakes.identity import (
    CountingPasswords,
    InMemoryLoginFailureStore,
    in_memory_identity_service,
)
from tests.support.in_memory_api import api_with

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
WRONG = "wrong password!"


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def service(clock: SimulatedClock) -> IdentityService:
    return in_memory_identity_service(clock)


@pytest.fixture
def api(service: IdentityService) -> Iterator[ApiClient]:
    with api_with("identity", {get_identity_service: lambda: service}) as client:
        yield client


@pytest.fixture
def owner(api: ApiClient) -> Account:
    return register(api, "owner@acme.test")


def _patch(api: ApiClient, account: Account, body: dict[str, Any]) -> Any:
    return api.call("PATCH", "/v1/organization", headers=account.auth, body=body)


def _errors_text(problem: dict[str, Any]) -> str:
    return " ".join(f"{error['loc']} {error['msg']}" for error in problem["errors"])


# --- Spend settings (Addendum 1) ---------------------------------------------------------


def test_a_new_organization_answers_the_default_spend_settings(owner: Account) -> None:
    organization = owner.organization
    # No country set and no sender number: the default region.
    assert organization["allowed_countries"] == ["US"]
    assert organization["daily_message_limit"] == DEFAULT_DAILY_MESSAGE_LIMIT
    assert organization["contact_daily_limit"] == DEFAULT_CONTACT_DAILY_LIMIT
    assert organization["auto_reply_hourly_limit"] == DEFAULT_AUTO_REPLY_HOURLY_LIMIT


def test_the_default_countries_follow_the_sender_number(api: ApiClient, owner: Account) -> None:
    answer = _patch(api, owner, {"sender_number": "+447400123456"})
    assert answer.status == 200, answer.text
    assert answer.json()["allowed_countries"] == ["GB"]


def test_owner_sets_the_spend_settings(api: ApiClient, owner: Account) -> None:
    answer = _patch(
        api,
        owner,
        {
            "allowed_countries": ["us", "CA", "pr"],
            "daily_message_limit": MAX_DAILY_MESSAGE_LIMIT,
            "contact_daily_limit": MAX_CONTACT_DAILY_LIMIT,
            "auto_reply_hourly_limit": 0,
        },
    )
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["allowed_countries"] == ["CA", "PR", "US"]
    assert body["daily_message_limit"] == MAX_DAILY_MESSAGE_LIMIT
    assert body["contact_daily_limit"] == MAX_CONTACT_DAILY_LIMIT
    assert body["auto_reply_hourly_limit"] == 0
    assert api.call("GET", "/v1/organization", headers=owner.auth).json() == body
    # A sender number in another country no longer changes where texts may go.
    assert _patch(api, owner, {"sender_number": "+447400123456"}).json()["allowed_countries"] == [
        "CA",
        "PR",
        "US",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"allowed_countries": []}, "allowed_countries"),
        ({"allowed_countries": ["XX"]}, "allowed_countries"),
        ({"allowed_countries": ["USA"]}, "allowed_countries"),
        ({"allowed_countries": ["US", "us"]}, "allowed_countries"),
        ({"allowed_countries": ["US"] * 51}, "allowed_countries"),
        ({"allowed_countries": None}, "allowed_countries"),
        ({"allowed_countries": "US"}, "allowed_countries"),
        ({"daily_message_limit": 0}, "daily_message_limit"),
        ({"daily_message_limit": MAX_DAILY_MESSAGE_LIMIT + 1}, "daily_message_limit"),
        ({"contact_daily_limit": 0}, "contact_daily_limit"),
        ({"contact_daily_limit": MAX_CONTACT_DAILY_LIMIT + 1}, "contact_daily_limit"),
        ({"auto_reply_hourly_limit": -1}, "auto_reply_hourly_limit"),
        ({"auto_reply_hourly_limit": MAX_AUTO_REPLY_HOURLY_LIMIT + 1}, "auto_reply_hourly_limit"),
    ],
)
def test_spend_settings_validate(
    api: ApiClient, owner: Account, body: dict[str, Any], field: str
) -> None:
    problem = _patch(api, owner, body).assert_problem(422)
    assert field in _errors_text(problem)


def test_fifty_distinct_countries_are_accepted(api: ApiClient, owner: Account) -> None:
    countries = sorted(phonenumbers.SUPPORTED_REGIONS)[:MAX_ALLOWED_COUNTRIES]
    assert len(countries) == 50
    answer = _patch(api, owner, {"allowed_countries": countries})
    assert answer.status == 200, answer.text
    assert answer.json()["allowed_countries"] == countries


def test_only_the_owner_raises_the_daily_message_limit(api: ApiClient, owner: Account) -> None:
    admin = add_user(api, owner, "admin@acme.test", role="admin")
    refused = _patch(api, admin, {"daily_message_limit": DEFAULT_DAILY_MESSAGE_LIMIT + 1})
    problem = refused.assert_problem(403)
    assert problem["field"] == "daily_message_limit"
    assert "owner" in problem["detail"]
    current = api.call("GET", "/v1/organization", headers=owner.auth).json()
    assert current["daily_message_limit"] == DEFAULT_DAILY_MESSAGE_LIMIT
    # An admin may lower it, and set it back to what it was (not a raise above it)...
    assert _patch(api, admin, {"daily_message_limit": 10}).json()["daily_message_limit"] == 10
    _patch(api, admin, {"daily_message_limit": 11}).assert_problem(403)
    assert _patch(api, admin, {"daily_message_limit": 10}).status == 200
    # ...and the owner may raise it.
    assert _patch(api, owner, {"daily_message_limit": 5_000}).json()["daily_message_limit"] == 5000
    member = add_user(api, owner, "member@acme.test")
    _patch(api, member, {"daily_message_limit": 1}).assert_problem(403)


def test_the_service_refuses_an_admins_raise_whatever_else_changes(
    service: IdentityService,
) -> None:
    service.register(
        email="owner@acme.test", password=PASSWORD, full_name="Pat", organization_name="Acme"
    )
    owner = service.authenticate(
        f"Bearer {service.login(email='owner@acme.test', password=PASSWORD).access_token}"
    )
    service.create_user(
        owner, NewUser(email="admin@acme.test", password=PASSWORD, full_name="A", role=Role.ADMIN)
    )
    admin = service.authenticate(
        f"Bearer {service.login(email='admin@acme.test', password=PASSWORD).access_token}"
    )
    with pytest.raises(Forbidden) as refused:
        service.update_organization(
            admin, OrganizationChanges(name="Renamed", daily_message_limit=1_001)
        )
    assert refused.value.extra == {"field": "daily_message_limit"}
    assert service.get_organization(owner).name == "Acme"  # nothing was written
    assert service.update_organization(admin, OrganizationChanges(contact_daily_limit=3)) == (
        service.get_organization(owner)
    )
    assert service.get_organization(owner).contact_daily_limit == 3


# --- Point 5: the legal quiet-hours floor --------------------------------------------------


@pytest.mark.parametrize(
    "window",
    [
        {"start": "00:00", "end": "23:59"},  # the attack of the issue
        {"start": "07:59", "end": "21:00"},
        {"start": "08:00", "end": "21:01"},
        {"start": "07:00", "end": "09:00"},
        {"start": "20:00", "end": "22:00"},
    ],
)
def test_quiet_hours_cannot_widen_the_legal_window(
    api: ApiClient, owner: Account, window: dict[str, str]
) -> None:
    problem = _patch(api, owner, {"quiet_hours": window}).assert_problem(422)
    text = _errors_text(problem)
    assert "quiet_hours" in text
    assert f"{LEGAL_QUIET_START}-{LEGAL_QUIET_END}" in text
    assert "federal" in text
    current = api.call("GET", "/v1/organization", headers=owner.auth).json()
    assert current["quiet_hours"] == {"start": "08:00", "end": "21:00"}


@pytest.mark.parametrize(
    "window",
    [
        {"start": "08:00", "end": "21:00"},
        {"start": "09:30", "end": "17:00"},
        {"start": "08:00", "end": "08:01"},
    ],
)
def test_quiet_hours_may_be_narrowed(
    api: ApiClient, owner: Account, window: dict[str, str]
) -> None:
    answer = _patch(api, owner, {"quiet_hours": window})
    assert answer.status == 200, answer.text
    assert answer.json()["quiet_hours"] == window


# --- Point 7: the exact login lockout --------------------------------------------------------


class _OverlappingGuesses(CountingPasswords):
    """Each verification starts the next guess before it finishes, as parallel requests
    would: every guess arrives while the earlier ones are still being verified."""

    def __init__(self, guesses: int) -> None:
        super().__init__()
        self.service: IdentityService | None = None
        self.guesses_left = guesses - 1
        self.outcomes: list[str] = []

    def verify(self, stored_hash: str | None, password: str) -> bool:
        if self.guesses_left and self.service is not None:
            self.guesses_left -= 1
            self.outcomes.append(_guess(self.service))
        return super().verify(stored_hash, password)


def _guess(service: IdentityService) -> str:
    try:
        service.login(email="owner@acme.test", password=WRONG)
    except TooManyRequests:
        return "429"
    except Unauthorized:
        return "401"
    return "200"


def test_overlapping_wrong_passwords_get_exactly_five_verifications(
    clock: SimulatedClock,
) -> None:
    # The old code checked the lockout before verifying and counted after: every one of
    # these 30 overlapping guesses saw no failure yet and was verified.
    passwords = _OverlappingGuesses(guesses=30)
    failures = InMemoryLoginFailureStore()
    service = in_memory_identity_service(clock, passwords=passwords, login_failures=failures)
    service.register(
        email="owner@acme.test", password=PASSWORD, full_name="Pat", organization_name="Acme"
    )
    passwords.verifications = 0
    passwords.service = service
    passwords.outcomes.append(_guess(service))
    while passwords.guesses_left:  # those a refusal did not start (it verifies nothing)
        passwords.guesses_left -= 1
        passwords.outcomes.append(_guess(service))
    assert passwords.verifications == 5
    assert sorted(passwords.outcomes) == ["401"] * 5 + ["429"] * 25
    # Even the right password now waits for the window to end.
    with pytest.raises(TooManyRequests):
        service.login(email="owner@acme.test", password=PASSWORD)
    assert passwords.verifications == 5
    clock.advance(timedelta(minutes=15))
    service.login(email="owner@acme.test", password=PASSWORD)
    assert "owner@acme.test" not in failures.windows


def test_unknown_emails_are_counted_before_verifying_too(clock: SimulatedClock) -> None:
    passwords = CountingPasswords()
    service = in_memory_identity_service(clock, passwords=passwords)
    outcomes = []
    for _ in range(8):
        try:
            service.login(email="ghost@acme.test", password=WRONG)
        except TooManyRequests as error:
            outcomes.append(error.headers["Retry-After"])
        except Unauthorized:
            outcomes.append("401")
    assert passwords.verifications == 5
    assert outcomes == ["401"] * 5 + [str(15 * 60 + 1)] * 3


# --- Point 8: the sender-number hold through the API ---------------------------------------


def test_a_released_number_waits_30_days_for_another_organization(
    api: ApiClient, owner: Account, clock: SimulatedClock
) -> None:
    other = register(api, "boss@other.test", "Other Co")
    _patch(api, owner, {"sender_number": "+16175550123"})
    assert _patch(api, owner, {"sender_number": None}).json()["sender_number"] is None
    # The attack: the other organization claims it right after the release.
    problem = _patch(api, other, {"sender_number": "+16175550123"}).assert_problem(409)
    assert problem["field"] == "sender_number"
    assert problem["available_at"] == "2026-04-01T15:00:00.000Z"
    assert "2026-04-01T15:00:00.000Z" in problem["detail"]
    clock.advance(SENDER_NUMBER_HOLD - timedelta(seconds=1))
    other = _relogin(api, other)
    _patch(api, other, {"sender_number": "+16175550123"}).assert_problem(409)
    clock.advance(timedelta(seconds=2))  # 30 days and 1 second after the release
    other = _relogin(api, other)
    claimed = _patch(api, other, {"sender_number": "+16175550123"})
    assert claimed.status == 200, claimed.text
    assert claimed.json()["sender_number"] == "+16175550123"


def test_the_releasing_organization_takes_its_number_back_at_once(
    api: ApiClient, owner: Account
) -> None:
    _patch(api, owner, {"sender_number": "+16175550123"})
    _patch(api, owner, {"sender_number": "+16175550124"})
    back = _patch(api, owner, {"sender_number": "+16175550123"})
    assert back.status == 200, back.text
    assert back.json()["sender_number"] == "+16175550123"


def _relogin(api: ApiClient, account: Account) -> Account:
    """A fresh login for ``account`` (its access token expired while the clock ran)."""
    tokens = login(api, account.email).json()
    account.access_token = tokens["access_token"]
    account.refresh_token = tokens["refresh_token"]
    return account


# --- Point 10: no token answer may be cached ----------------------------------------------


def test_token_answers_are_never_cached(api: ApiClient, owner: Account) -> None:
    logged_in = login(api, owner.email)
    assert logged_in.status == 200
    refreshed = api.call(
        "POST", "/v1/auth/refresh", body={"refresh_token": logged_in.json()["refresh_token"]}
    )
    assert refreshed.status == 200
    for answer in (logged_in, refreshed):
        assert "access_token" in answer.json()
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["pragma"] == "no-cache"


def test_no_other_identity_answer_carries_a_token(api: ApiClient, owner: Account) -> None:
    # Registering answers the owner and the organization, never a token; so do the
    # other identity routes: only login and refresh need no-store.
    answers = [
        api.call(
            "POST",
            "/v1/auth/register",
            body={
                "email": "new@acme.test",
                "password": PASSWORD,
                "full_name": "New",
                "organization_name": "New Co",
            },
        ),
        api.call("GET", "/v1/auth/me", headers=owner.auth),
        api.call("GET", "/v1/organization", headers=owner.auth),
        api.call("GET", "/v1/users", headers=owner.auth),
    ]
    for answer in answers:
        assert answer.status in (200, 201), answer.text
        assert owner.access_token not in answer.text
        assert "access_token" not in answer.text and "refresh_token" not in answer.text


# --- Issue 15: fallback zones (point 4), support line (point 8), texts per language (2) ---

SUPPORT = "call 555-0100 or visit acme.test/help"
# The opt-out keyword each language's default HELP answer tells people to send.
OPT_OUT_WORDS = {"en": "STOP", "es": "PARAR", "fr": "ARRET"}


def _organization(api: ApiClient, account: Account) -> dict[str, Any]:
    answer = api.call("GET", "/v1/organization", headers=account.auth)
    assert answer.status == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_new_organization_answers_the_default_zones_and_help_answers(owner: Account) -> None:
    organization = owner.organization
    assert organization["fallback_time_zones"] == [
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
    ]
    assert organization["support_contact"] is None
    assert (
        set(organization["help_texts"])
        == set(organization["opt_out_confirmations"])
        == {
            "en",
            "es",
            "fr",
        }
    )
    assert organization["help_text"] == organization["help_texts"]["en"]
    for language, text in organization["help_texts"].items():
        # It names the organization and says how to opt out; with no support line set,
        # it offers none.
        assert "Acme Foundations" in text
        assert OPT_OUT_WORDS[language] in text
        assert "help," not in text and "ayuda," not in text and "aide," not in text
    for text in organization["opt_out_confirmations"].values():
        assert "Acme Foundations" in text


def test_the_support_line_reaches_every_default_help_answer(api: ApiClient, owner: Account) -> None:
    # "The default help_text gives no help" (issue 15): the old code had no support line
    # (this PATCH was a 422) and answered "<name>: reply STOP to opt out." whatever.
    answer = _patch(api, owner, {"support_contact": f"  {SUPPORT} "})
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["support_contact"] == SUPPORT
    for language, text in body["help_texts"].items():
        assert SUPPORT in text
        assert "Acme Foundations" in text
        assert OPT_OUT_WORDS[language] in text
    assert body["help_text"] == body["help_texts"]["en"]
    # The confirmations do not carry it.
    assert all(SUPPORT not in text for text in body["opt_out_confirmations"].values())
    assert _organization(api, owner) == body
    # null removes it, and the defaults drop it.
    cleared = _patch(api, owner, {"support_contact": None}).json()
    assert cleared["support_contact"] is None
    assert cleared["help_texts"] == owner.organization["help_texts"]


def test_an_organizations_own_help_text_is_kept_beside_the_defaults(
    api: ApiClient, owner: Account
) -> None:
    _patch(api, owner, {"help_text": "Acme: call us on 617-555-0100."})
    body = _patch(api, owner, {"support_contact": SUPPORT}).json()
    assert body["help_text"] == body["help_texts"]["en"] == "Acme: call us on 617-555-0100."
    # The languages it did not write get the default, with the support line.
    assert SUPPORT in body["help_texts"]["es"] and SUPPORT in body["help_texts"]["fr"]
    # help_texts.en sets the same text; help_text and help_texts.en may come together
    # when they agree.
    both = _patch(api, owner, {"help_text": "Acme: hi.", "help_texts": {"en": "Acme: hi."}})
    assert both.status == 200, both.text
    assert both.json()["help_text"] == "Acme: hi."


def test_texts_per_language_merge_and_null_restores_the_default(
    api: ApiClient, owner: Account
) -> None:
    defaults = owner.organization
    first = _patch(
        api,
        owner,
        {
            "help_texts": {"es": "Acme: llame al 555-0100.", "fr": " Acme : appelez-nous. "},
            "opt_out_confirmations": {"en": "Acme: you are out."},
        },
    ).json()
    assert first["help_texts"] == {
        "en": defaults["help_texts"]["en"],
        "es": "Acme: llame al 555-0100.",
        "fr": "Acme : appelez-nous.",  # stripped
    }
    assert first["opt_out_confirmations"] == {
        **defaults["opt_out_confirmations"],
        "en": "Acme: you are out.",
    }
    # Naming one language leaves the others as they are.
    second = _patch(api, owner, {"help_texts": {"en": "Acme: call us."}}).json()
    assert second["help_texts"] == {**first["help_texts"], "en": "Acme: call us."}
    assert second["help_text"] == "Acme: call us."
    assert second["opt_out_confirmations"] == first["opt_out_confirmations"]
    # null puts a language back on the default.
    third = _patch(
        api, owner, {"help_texts": {"es": None, "en": None}, "opt_out_confirmations": {"en": None}}
    ).json()
    assert third["help_texts"] == {**defaults["help_texts"], "fr": "Acme : appelez-nous."}
    assert third["help_text"] == defaults["help_text"]
    assert third["opt_out_confirmations"] == defaults["opt_out_confirmations"]
    assert _organization(api, owner) == third


def test_fallback_zones_are_set_once_each_in_order(api: ApiClient, owner: Account) -> None:
    zones = ["America/Phoenix", "Pacific/Honolulu", "America/Phoenix", "America/Anchorage"]
    answer = _patch(api, owner, {"fallback_time_zones": zones})
    assert answer.status == 200, answer.text
    assert answer.json()["fallback_time_zones"] == [
        "America/Phoenix",
        "Pacific/Honolulu",
        "America/Anchorage",
    ]
    assert _organization(api, owner) == answer.json()
    ten = [f"Etc/GMT+{hours}" for hours in range(1, MAX_FALLBACK_TIME_ZONES + 1)]
    assert _patch(api, owner, {"fallback_time_zones": ten}).json()["fallback_time_zones"] == ten
    # null goes back to the default, the four contiguous US zones
    reset = _patch(api, owner, {"fallback_time_zones": None}).json()
    assert reset["fallback_time_zones"] == list(DEFAULT_FALLBACK_TIME_ZONES)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fallback_time_zones": []}, "fallback_time_zones"),
        ({"fallback_time_zones": ["Mars/Olympus"]}, "fallback_time_zones"),
        ({"fallback_time_zones": ["America/Chicago", "EST5EDT/../x"]}, "fallback_time_zones"),
        ({"fallback_time_zones": ["UTC"] * (MAX_FALLBACK_TIME_ZONES + 1)}, "fallback_time_zones"),
        ({"fallback_time_zones": "America/Chicago"}, "fallback_time_zones"),
        ({"support_contact": ""}, "support_contact"),
        ({"support_contact": "   "}, "support_contact"),
        ({"support_contact": "x" * 101}, "support_contact"),
        ({"support_contact": "call us\nnow"}, "support_contact"),
        ({"support_contact": 5550100}, "support_contact"),
        ({"help_texts": {"de": "Hilfe."}}, "help_texts"),
        ({"help_texts": {"EN": "Help."}}, "help_texts"),
        ({"help_texts": {"es": ""}}, "help_texts"),
        ({"help_texts": {"fr": "   "}}, "help_texts"),
        ({"help_texts": {"en": "x" * 321}}, "help_texts"),
        ({"help_texts": None}, "help_texts"),
        ({"help_texts": ["en"]}, "help_texts"),
        ({"opt_out_confirmations": {"pt": "Feito."}}, "opt_out_confirmations"),
        ({"opt_out_confirmations": {"es": "x" * 321}}, "opt_out_confirmations"),
        ({"opt_out_confirmations": None}, "opt_out_confirmations"),
        ({"help_text": None}, "help_text"),
        ({"help_text": "   "}, "help_text"),
        ({"help_text": "Call us.", "help_texts": {"en": "Phone us."}}, "help_texts.en"),
        ({"help_text": "Call us.", "help_texts": {"en": None}}, "help_texts.en"),
    ],
)
def test_the_issue_15_settings_validate(
    api: ApiClient, owner: Account, body: dict[str, Any], field: str
) -> None:
    problem = _patch(api, owner, body).assert_problem(422)
    assert field in _errors_text(problem)
    assert _organization(api, owner) == owner.organization  # nothing was written


def test_admins_set_the_issue_15_settings_and_members_may_not(
    api: ApiClient, owner: Account
) -> None:
    admin = add_user(api, owner, "admin@acme.test", role="admin")
    member = add_user(api, owner, "member@acme.test")
    bodies: list[dict[str, Any]] = [
        {"fallback_time_zones": ["America/Chicago"]},
        {"support_contact": SUPPORT},
        {"support_contact": None},
        {"help_texts": {"es": "Ayuda."}},
        {"opt_out_confirmations": {"fr": "Noté."}},
    ]
    for body in bodies:
        problem = _patch(api, member, body).assert_problem(403)
        assert "owners and admins" in problem["detail"]
    assert _organization(api, owner) == owner.organization
    for body in bodies:
        answer = _patch(api, admin, body)
        assert answer.status == 200, answer.text
    after = _organization(api, owner)
    assert after["fallback_time_zones"] == ["America/Chicago"]
    assert after["support_contact"] is None
    assert after["help_texts"]["es"] == "Ayuda."
    assert after["opt_out_confirmations"]["fr"] == "Noté."


def test_empty_text_objects_are_accepted_and_change_nothing(api: ApiClient, owner: Account) -> None:
    answer = _patch(api, owner, {"help_texts": {}, "opt_out_confirmations": {}})
    assert answer.status == 200, answer.text
    assert answer.json() == owner.organization
