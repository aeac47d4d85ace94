"""No input is a 5xx (issue 14, point 9): a property test over every API route.

Schemathesis reads each API function's own OpenAPI document and draws requests for
every operation: bodies, path and query parameters, both valid for the schema
(``positive``) and breaking it (``negative``: wrong types, missing and unknown
fields, values out of bounds, bodies that are not JSON). Each is sent through the
function's real Lambda handler (Mangum, FastAPI, the routes, problem details) as an
owner of an organization, with half of the path parameters naming the owner's own
resources so that the service runs, not only the 404. Any answer of 500 or more
fails the test, and so does any answer the deployed API's OpenAPI document does not
describe (issue 18): a status the operation does not document, another content type,
a body breaking the documented schema (:mod:`tests.support.openapi_conformance`).

Two passes: the handlers on the in-memory fakes, many examples each (fast), and a
smaller one on moto, where DynamoDB's own limits (the 400 kB item) apply. Seeds are
fixed (``derandomize``) so that CI sees the same requests every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok

from outreach.api.deps import get_caller
from outreach.campaigns.service import get_campaign_service
from outreach.clock import SystemClock
from outreach.contacts.service import ContactService, get_contact_service
from outreach.conversations.service import ConversationService, get_conversation_service
from outreach.identity.service import get_identity_service
from outreach.webhooks import addresses
from outreach_local.runtime import LocalLambdaContext, load_function
from tests.integration.campaigns.support import SENDER, FakeCampaigns, campaign_body
from tests.integration.identity_support import add_user, register
from tests.support.api import ApiClient, ApiResponse
from tests.support.fakes.conversations import InMemoryConversations
from tests.support.fakes.counters import InMemoryCounters
from tests.support.fakes.identity import in_memory_identity_service
from tests.support.fakes.sending import ScriptedProvider
from tests.support.in_memory_api import api_with
from tests.support.openapi_conformance import deployed_conformance

FUNCTIONS = ("identity", "contacts", "campaigns", "conversations")
# Examples per operation: about 500 requests on the fakes, about 100 on moto.
FAKE_EXAMPLES = 15
MOTO_EXAMPLES = 3

# Instants anywhere in datetime's range, with any offset up to 14 hours either way, and
# often at its very ends, where converting to UTC overflows (the 500). The
# default date-time strings stay in ordinary years and would not find that.
_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
INSTANTS = st.one_of(
    st.sampled_from(["9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00+14:00"]),
    st.builds(
        lambda moment, offset: moment.replace(tzinfo=offset).isoformat(),
        st.datetimes(),  # naive, years 1 to 9999: the offset comes next
        _OFFSETS,
    ),
)
schemathesis.openapi.format("date-time", INSTANTS)
PHONES = ("+16175550123", "+16175550124", "+447781234567")


# Schemathesis' operation and case types are generic over its schema classes.
Operation = APIOperation[Any, Any, Any, Any]
DrawnCase = Case[Any]


def _operations(function: str) -> list[Operation]:
    """Every operation of ``function``'s OpenAPI document (an unreadable one fails here)."""
    schema = schemathesis.openapi.from_dict(load_function(function).app.openapi())
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    return operations


ROUTES = [(function, operation) for function in FUNCTIONS for operation in _operations(function)]
OPERATIONS = [
    pytest.param(function, operation, id=f"{function}: {operation.label}")
    for function, operation in ROUTES
]


@dataclass
class World:
    """Per API function, its handler and an owner's credentials; and ids of the owners'
    own resources by path-parameter name (``campaign_id``, ``contact_id``, ...)."""

    clients: Mapping[str, ApiClient]
    auth: Mapping[str, dict[str, str]]
    known: dict[str, list[str]]


def requests_for(operation: Operation, known: Mapping[str, list[str]]) -> Any:
    """Cases of ``operation``, valid and invalid alike; in half of them each path
    parameter names one of ``known`` (the owner's own resources)."""
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    names = [p.name for p in operation.iter_parameters() if p.location == "path"]
    own = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
    return st.tuples(cases, st.one_of(st.none(), own) if names else st.none())


def send(
    client: ApiClient, case: DrawnCase, auth: dict[str, str], own: dict[str, str] | None
) -> ApiResponse:
    """``case`` through the handler as the owner (whatever credentials it drew); the
    answer is not checked against the document here, :func:`check_answer` does."""
    if own is not None:
        case.path_parameters = {**(case.path_parameters or {}), **own}
    headers = {**auth}
    kwargs: dict[str, Any] = {}
    if isinstance(case.body, bytes | str):
        headers["content-type"] = case.media_type or "application/json"
        kwargs["raw_body"] = case.body
    elif not _not_set(case.body):
        headers["content-type"] = case.media_type or "application/json"
        kwargs["raw_body"] = json.dumps(case.body)
    query = {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in (case.query or {}).items()
        if value is not None
    }
    return client.call(
        case.method,
        case.formatted_path,
        headers=headers,
        query=query or None,
        conform=False,  # checked by check_answer, which names the request
        **kwargs,
    )


def check_answer(method: str, path: str, request: str, response: ApiResponse) -> None:
    """``response`` is no 5xx and one the deployed API's document describes for
    ``method path`` (status, content type, body); ``request`` describes what was sent,
    for the failure's message."""
    assert response.status < 500, f"{request} -> {response.status} {response.text[:500]}"
    difference = deployed_conformance().nonconformance(
        method, path, response.status, response.content_type, response.text
    )
    assert difference is None, f"{difference}; request: {request}"


def _not_set(value: Any) -> bool:
    # Schemathesis marks "no body" with its own sentinel, not None (null is a body).
    return type(value).__name__ == "NotSet"


def check_no_server_error(
    world: World, function: str, operation: Operation, examples: int
) -> list[int]:
    """Draw ``examples`` requests of ``operation`` and send each; none may be a 5xx,
    each must be an answer the document describes (:func:`check_answer`)."""
    answers: list[int] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests_for(operation, world.known))
    def no_server_error(drawn: tuple[DrawnCase, dict[str, str] | None]) -> None:
        case, own = drawn
        response: ApiResponse = send(world.clients[function], case, world.auth[function], own)
        answers.append(response.status)
        request = (
            f"{case.method} {case.formatted_path} query={case.query!r} "
            f"body={str(case.body)[:2000]!r}"
        )
        check_answer(case.method, case.formatted_path, request, response)

    no_server_error()
    assert answers, "no request was sent"
    return answers


# --- On the in-memory fakes ---------------------------------------------------------------


def _created(client: ApiClient, path: str, auth: dict[str, str], body: Any) -> dict[str, Any]:
    response = client.call("POST", path, headers=auth, body=body)
    assert response.status == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _dns(host: str, port: int) -> list[str]:
    """A stand-in for DNS (no network here): every name resolves to one public address,
    but names of ``internal`` hosts, which resolve to a private one."""
    return ["10.0.0.9"] if "internal" in host else ["93.184.215.14"]


@pytest.fixture(autouse=True)
def _no_real_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(addresses, "system_resolver", _dns)


def _webhook_ids(client: ApiClient, auth: dict[str, str]) -> dict[str, list[str]]:
    """Two endpoints of the organization, and a delivery id (one no delivery has)."""
    body = {"url": "https://hooks.example.com/in", "events": ["message.received"]}
    return {
        "webhook_id": [_created(client, "/v1/webhooks", auth, body)["id"] for _ in range(2)],
        "delivery_id": ["01M8R6TNQJ87YX76Q4S9KCHC7B"],
    }


@pytest.fixture
def fake_world(imports_bucket: str) -> Iterator[World]:
    """The three API handlers on in-memory services. Campaigns and contacts share one
    organization (a sender number, contacts, an opt-out, two drafts); identity has its
    own owner (registered through the handler) and a member. New for each operation:
    the overrides are on the functions' apps, which the moto pass uses as they are.
    Import jobs are on moto (their table and bucket), for the same organization."""
    fake = FakeCampaigns()
    owner = fake.account("owner@acme.test", "Acme", sender_number=SENDER)
    contacts = [fake.add_contact(owner, phone, tags=["leads"]) for phone in PHONES]
    fake.opt_out(owner, PHONES[0])
    contact_service = ContactService(
        contacts=fake.contacts,
        opt_outs=fake.opt_outs,
        organizations=fake.organizations,
        clock=fake.clock,
    )
    campaign_service = fake.service
    conversation_service = ConversationService(
        conversations=InMemoryConversations(),
        contacts=fake.contacts,
        opt_outs=fake.opt_outs,
        organizations=fake.organizations,
        counters=InMemoryCounters(),
        provider=ScriptedProvider(),
        clock=fake.clock,
    )
    identity_service = in_memory_identity_service(SystemClock())
    with (
        api_with("identity", {get_identity_service: lambda: identity_service}) as identity,
        api_with(
            "contacts",
            {get_contact_service: lambda: contact_service, get_caller: fake.caller_for},
        ) as contacts_api,
        api_with(
            "campaigns",
            {get_campaign_service: lambda: campaign_service, get_caller: fake.caller_for},
        ) as campaigns_api,
        api_with(
            "conversations",
            {
                get_conversation_service: lambda: conversation_service,
                get_caller: fake.caller_for,
            },
        ) as conversations_api,
    ):
        boss = register(identity, "boss@acme.test")
        member = add_user(identity, boss, "member@acme.test")
        yield World(
            clients={
                "identity": identity,
                "contacts": contacts_api,
                "campaigns": campaigns_api,
                "conversations": conversations_api,
            },
            auth={
                "identity": boss.auth,
                "contacts": owner.auth,
                "campaigns": owner.auth,
                "conversations": owner.auth,
            },
            known={
                "campaign_id": [
                    _created(campaigns_api, "/v1/campaigns", owner.auth, body)["id"]
                    for body in (campaign_body(), campaign_body(audience={"tags": ["leads"]}))
                ],
                "contact_id": [contact["id"] for contact in contacts],
                "import_id": [_created(contacts_api, "/v1/imports", owner.auth, None)["id"]],
                "phone": list(PHONES),
                "user_id": [member.user["id"], boss.user["id"]],
                "key_id": [
                    _created(identity, "/v1/api-keys", boss.auth, {"name": n, "role": "member"})[
                        "id"
                    ]
                    for n in ("CRM", "Sync")
                ],
                **_webhook_ids(identity, boss.auth),
            },
        )


@pytest.mark.parametrize(("function", "operation"), OPERATIONS)
def test_no_request_is_a_server_error_on_the_fakes(
    fake_world: World, function: str, operation: Operation
) -> None:
    check_no_server_error(fake_world, function, operation, FAKE_EXAMPLES)


# --- On moto ------------------------------------------------------------------------------


@pytest.fixture
def moto_world(aws: None, imports_bucket: str, lambda_context: LocalLambdaContext) -> World:
    """The three handlers on moto, as an owner registered and logged in through them,
    with a sender number, contacts, an opt-out and two drafts."""
    clients = {function: ApiClient(function, lambda_context) for function in FUNCTIONS}
    owner = register(clients["identity"], "owner@acme.test")
    member = add_user(clients["identity"], owner, "member@acme.test")
    patched = clients["identity"].call(
        "PATCH", "/v1/organization", headers=owner.auth, body={"sender_number": SENDER}
    )
    assert patched.status == 200, patched.text
    contacts = [
        _created(clients["contacts"], "/v1/contacts", owner.auth, {"phone": p, "tags": ["leads"]})
        for p in PHONES
    ]
    _created(clients["contacts"], "/v1/opt-outs", owner.auth, {"phone": PHONES[0]})
    drafts = [
        _created(clients["campaigns"], "/v1/campaigns", owner.auth, body)
        for body in (campaign_body(), campaign_body(audience={"tags": ["leads"]}))
    ]
    return World(
        clients=clients,
        auth=dict.fromkeys(FUNCTIONS, owner.auth),
        known={
            "campaign_id": [draft["id"] for draft in drafts],
            "contact_id": [contact["id"] for contact in contacts],
            "import_id": [_created(clients["contacts"], "/v1/imports", owner.auth, None)["id"]],
            "phone": list(PHONES),
            "user_id": [member.user["id"], owner.user["id"]],
            "key_id": [
                _created(
                    clients["identity"], "/v1/api-keys", owner.auth, {"name": n, "role": "admin"}
                )["id"]
                for n in ("CRM", "Sync")
            ],
            **_webhook_ids(clients["identity"], owner.auth),
        },
    )


def test_no_request_is_a_server_error_on_moto(moto_world: World) -> None:
    for function, operation in ROUTES:
        check_no_server_error(moto_world, function, operation, MOTO_EXAMPLES)


# --- The CSV import: text bodies, drawn here rather than by schemathesis -----------------

_CELLS = st.text(alphabet=st.sampled_from('+1617555 0123abc,;\t"\n\r\\é\x00'), max_size=40)
CSV_BODIES = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        lambda header, rows: (header + "\n" + "\n".join(rows)).encode(),
        st.sampled_from(["phone", "phone,email,tags,timezone,x", "Mobile;First Name;tz", ""])
        | _CELLS,
        st.lists(_CELLS, max_size=30),
    ),
)


def test_no_csv_upload_is_a_server_error_on_the_fakes(fake_world: World) -> None:
    contacts = fake_world.clients["contacts"]
    auth = fake_world.auth["contacts"]

    @settings(max_examples=60, derandomize=True, database=None, deadline=None)
    @given(CSV_BODIES, st.sampled_from(["text/csv", "application/csv; charset=utf-8"]))
    def no_server_error(body: bytes, media_type: str) -> None:
        response = contacts.call(
            "POST",
            "/v1/contacts/import",
            headers={**auth, "content-type": media_type},
            raw_body=body,
            conform=False,  # checked by check_answer, which names the request
        )
        request = f"POST /v1/contacts/import ({media_type}) body={body[:2000]!r}"
        check_answer("POST", "/v1/contacts/import", request, response)

    no_server_error()
