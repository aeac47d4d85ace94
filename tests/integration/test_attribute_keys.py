"""Attribute keys that templates can use (issue 17, point 4), through the HTTP API on moto.

The problem replayed: an imported "Contact owner" column was stored under the raw
header, ``{attributes.Contact owner}`` was a 422 and ``{attributes.contact_owner}`` was
accepted and rendered the fallback for the whole list. Now keys are stored normalised
with the header kept as a label, every spelling of a name is one placeholder, contacts
stored before the change read through the same normalisation, and a campaign's create
and preview answers warn about an attribute no contact of the audience has.

The contact tests call the contacts function (``ApiClient``: each answer is checked
against the OpenAPI document); the campaign tests run the local stack's app, whose
``/v1/dev/tick`` and ``/v1/dev/outbox`` show the texts the real engine sends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from outreach.config import get_settings
from outreach.data.models import ContactModel
from outreach.data.pynamo import raw_map
from outreach.ids import new_id
from outreach_local.runtime import LocalLambdaContext
from outreach_local.server import build_app
from tests.integration.identity_support import Account
from tests.support.api import ApiClient
from tests.support.local_api import sign_up, tick

MONDAY_10AM_EASTERN = "2026-11-23T15:00:00Z"
FOOTER = "\nReply STOP to opt out"


@pytest.fixture
def api(aws: None, lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("contacts", lambda_context)


def _put_old_shape_contact(org_id: str, phone: str, attributes: dict[str, str]) -> str:
    """A contact item as written before keys were normalised: raw names, no labels (a
    plain ``PutItem``, as the table holds it)."""
    contact_id = new_id(datetime.now(UTC))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    boto3.client("dynamodb", region_name=get_settings().aws_region).put_item(
        TableName=ContactModel.Meta.table_name,
        Item={
            "org_id": {"S": org_id},
            "contact_id": {"S": contact_id},
            "phone": {"S": phone},
            "first_name": {"S": "Old"},
            "tags": {"L": []},
            "attributes": {"M": {name: {"S": value} for name, value in attributes.items()}},
            "timezone": {"S": "America/New_York"},
            "created_at": {"S": now},
            "updated_at": {"S": now},
        },
    )
    return contact_id


# --- Contacts: stored keys, labels, the read-through ---------------------------------


def test_create_and_patch_store_keys_and_keep_the_names_as_labels(
    api: ApiClient, owner: Account
) -> None:
    made = api.call(
        "POST",
        "/v1/contacts",
        headers=owner.auth,
        body={
            "phone": "+16175550123",
            "attributes": {"Contact owner": "Ann", "Favorite Color": "red", "plan": "pro"},
        },
    )
    assert made.status == 201, made.text
    contact = made.json()
    assert contact["attributes"] == {
        "contact_owner": "Ann",
        "favorite_color": "red",
        "plan": "pro",
    }
    assert contact["attribute_labels"] == {
        "contact_owner": "Contact owner",
        "favorite_color": "Favorite Color",
    }
    path = f"/v1/contacts/{contact['id']}"
    assert api.call("GET", path, headers=owner.auth).json() == contact

    # PATCH replaces the attributes; a key written back as read keeps its label
    patched = api.call(
        "PATCH",
        path,
        headers=owner.auth,
        body={"attributes": {"contact_owner": "Bob", "Código Postal": "02139"}},
    ).json()
    assert patched["attributes"] == {"contact_owner": "Bob", "codigo_postal": "02139"}
    assert patched["attribute_labels"] == {
        "contact_owner": "Contact owner",
        "codigo_postal": "Código Postal",
    }
    assert api.call("GET", path, headers=owner.auth).json() == patched
    cleared = api.call("PATCH", path, headers=owner.auth, body={"attributes": {}}).json()
    assert (cleared["attributes"], cleared["attribute_labels"]) == ({}, {})


@pytest.mark.parametrize(
    ("attributes", "name", "message"),
    [
        ({"plan": "pro", "--": "x"}, "--", "an attribute name needs a letter or a digit"),
        (
            {"Contact owner": "a", "CONTACT-OWNER": "b"},
            "CONTACT-OWNER",
            "names the same attribute as 'Contact owner' (both are stored as 'contact_owner')",
        ),
    ],
)
def test_a_name_without_a_key_of_its_own_is_422_at_that_name(
    api: ApiClient, owner: Account, attributes: dict[str, str], name: str, message: str
) -> None:
    made = api.call("POST", "/v1/contacts", headers=owner.auth, body={"phone": "+16175550124"})
    for method, path, body in [
        ("POST", "/v1/contacts", {"phone": "+16175550123", "attributes": attributes}),
        ("PATCH", f"/v1/contacts/{made.json()['id']}", {"attributes": attributes}),
    ]:
        problem = api.call(method, path, headers=owner.auth, body=body).assert_problem(422)
        assert {"loc": ["body", "attributes", name], "msg": message} in [
            {"loc": e["loc"], "msg": e["msg"]} for e in problem["errors"]
        ]


def test_an_import_stores_its_headers_as_keys_with_labels(api: ApiClient, owner: Account) -> None:
    response = api.call(
        "POST",
        "/v1/contacts/import",
        headers={**owner.auth, "content-type": "text/csv"},
        raw_body=b"phone,first_name,Contact owner,Favorite Color\n+16175550101,Ana,Ann Lee,red\n",
    )
    assert response.status == 200, response.text
    [contact] = api.call("GET", "/v1/contacts", headers=owner.auth).json()["items"]
    assert contact["attributes"] == {"contact_owner": "Ann Lee", "favorite_color": "red"}
    assert contact["attribute_labels"] == {
        "contact_owner": "Contact owner",
        "favorite_color": "Favorite Color",
    }


def test_a_contact_stored_before_keys_were_normalised_reads_through(
    api: ApiClient, owner: Account
) -> None:
    org_id = owner.organization["id"]
    contact_id = _put_old_shape_contact(
        org_id,
        "+16175550150",
        {"Favorite Color": "red", "favorite color": "blue", "Lead-Source": "fair", "plan": "pro"},
    )
    path = f"/v1/contacts/{contact_id}"
    read = api.call("GET", path, headers=owner.auth).json()
    # Keyed; of two names with one key the first in code-point order wins, its name the label
    assert read["attributes"] == {"favorite_color": "red", "lead_source": "fair", "plan": "pro"}
    assert read["attribute_labels"] == {
        "favorite_color": "Favorite Color",
        "lead_source": "Lead-Source",
    }
    listed = api.call("GET", "/v1/contacts", headers=owner.auth).json()["items"]
    assert listed == [read]
    # The next write stores the new shape: keys, and the labels beside them
    api.call("PATCH", path, headers=owner.auth, body={"first_name": "New"})
    item = ContactModel.get(org_id, contact_id)
    assert raw_map(item.attributes) == read["attributes"]
    assert raw_map(item.attribute_labels) == read["attribute_labels"]


# --- Campaigns: placeholders, warnings, the text sent -------------------------------


@pytest.fixture
def client(send_queue: str) -> TestClient:
    return TestClient(build_app())


def _post(client: TestClient, auth: dict[str, str], path: str, body: Any = None) -> Any:
    response = client.post(path, headers=auth, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _create(client: TestClient, auth: dict[str, str], body: str, audience: Any) -> Any:
    return _post(
        client,
        auth,
        "/v1/campaigns",
        {"name": "Spring", "variants": [{"name": "A", "body": body}], "audience": audience},
    )


def test_an_imported_column_is_usable_under_its_header_or_its_key_in_a_sent_message(
    client: TestClient,
) -> None:
    auth = sign_up(client, sender="+16175550100")
    imported = client.post(
        "/v1/contacts/import",
        headers={**auth, "content-type": "text/csv"},
        content="phone,first_name,Contact owner\n+16175550101,Ana,Ann Lee\n",
    ).json()
    assert imported["created"] == 1, imported
    body = (
        "Hi {first_name}, {attributes.Contact owner} here "
        "({attributes.contact_owner|?}, {attributes.Contact-Owner|?})."
    )
    made = _create(client, auth, body, {"all": True})
    assert made["warnings"] == []
    preview = _post(client, auth, f"/v1/campaigns/{made['id']}/preview", {})
    assert preview["warnings"] == []
    _post(client, auth, f"/v1/campaigns/{made['id']}/start")
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 1
    [sent] = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    assert sent["body"] == "Hi Ana, Ann Lee here (Ann Lee, Ann Lee)." + FOOTER


def test_a_contact_stored_before_keys_were_normalised_is_rendered_by_the_sender(
    client: TestClient,
) -> None:
    auth = sign_up(client, sender="+16175550100")
    org_id = client.get("/v1/organization", headers=auth).json()["id"]
    _put_old_shape_contact(org_id, "+16175550102", {"Favorite Color": "teal"})
    made = _create(client, auth, "Your {attributes.favorite_color|new} roof?", {"all": True})
    assert made["warnings"] == []
    _post(client, auth, f"/v1/campaigns/{made['id']}/start")
    assert tick(client, auth, MONDAY_10AM_EASTERN)["sent"] == 1
    [sent] = client.get("/v1/dev/outbox", headers=auth).json()["items"]
    assert sent["body"] == "Your teal roof?" + FOOTER


def test_create_and_preview_warn_about_an_attribute_no_contact_of_the_audience_has(
    client: TestClient,
) -> None:
    auth = sign_up(client, sender="+16175550100")
    imported = client.post(
        "/v1/contacts/import",
        headers={**auth, "content-type": "text/csv"},
        content=(
            "phone,tags,Plan,Region\n"
            "+16175550101,leads,pro,\n"
            "+16175550102,leads,,\n"
            "+16175550103,customers,,North\n"
        ),
    ).json()
    assert imported["created"] == 3, imported
    body = "{attributes.plan|basic} plan in {attributes.Region|your area}"
    made = _create(client, auth, body, {"tags": ["leads"]})
    message = (
        "No contact of the audience (2 checked) has a value for {attributes.Region|your area} "
        "(attribute 'region'): each recipient would get its fallback 'your area'."
    )
    expected = {
        "code": "attribute_not_in_audience",
        "placeholder": "{attributes.Region|your area}",
        "variant": "A",
        "message": message,
    }
    assert made["warnings"] == [expected]
    assert made["status"] == "draft"  # a warning never stops the create
    preview = _post(client, auth, f"/v1/campaigns/{made['id']}/preview", {})
    assert preview["warnings"] == [expected]
    # The campaign's other answers carry no warnings (only the create's does)
    assert "warnings" not in client.get(f"/v1/campaigns/{made['id']}", headers=auth).json()
    # Everyone: the North contact has a Region
    everyone = _create(client, auth, body, {"all": True})
    assert everyone["warnings"] == []


def test_a_placeholder_naming_no_attribute_is_422(client: TestClient) -> None:
    auth = sign_up(client)
    response = client.post(
        "/v1/campaigns",
        headers=auth,
        json={
            "name": "Spring",
            "variants": [{"name": "A", "body": "Hi {attributes.--|there}"}],
            "audience": {"all": True},
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "variants", 0, "body"]
