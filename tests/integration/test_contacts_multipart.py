"""``POST /v1/contacts/import`` takes the CSV as a form's ``file`` part too (issue 18).

What ``curl -F file=@contacts.csv`` sends (``multipart/form-data``) imports exactly as
the same CSV sent as ``text/csv``; a form without its ``file`` part is a 422 naming
it, one that cannot be parsed a 400, one too large a 413; the document declares both
media types. Through the contacts function's Lambda handler, on the in-memory service.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pytest

from outreach.api.openapi import deployed_document
from outreach.contacts.schemas import MAX_IMPORT_BYTES
from outreach.ids import new_id
from tests.support.api import ApiClient, ApiResponse
from tests.support.in_memory_api import contacts_api_for

ORG = new_id(datetime.now(UTC))
BOUNDARY = "------------------------d74496d66958873e"
CSV = (
    "Phone Number;First Name;Email;Tags;State;Unsubscribed\r\n"
    "(617) 555-0100;Dana;dana@example.com;vip;MA;\r\n"
    "617.555.0101;Eli;;leads, spring;Ontario;\r\n"
    "not a phone;Bad;;;;\r\n"
    "+1 617 555 0102;Fay;;;;yes\r\n"
)


def contacts_api() -> AbstractContextManager[ApiClient]:
    """The contacts handler on a new in-memory service, called by an owner of ``ORG``."""
    return contacts_api_for(ORG)


@pytest.fixture
def api() -> Iterator[ApiClient]:
    with contacts_api() as client:
        yield client


def form(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A ``multipart/form-data`` body of ``(name, filename or None, content)`` parts, as
    curl builds it (a file part is ``application/octet-stream``)."""
    chunks: list[bytes] = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        headers = f"Content-Disposition: {disposition}"
        if filename is not None:
            headers += f'; filename="{filename}"\r\nContent-Type: application/octet-stream'
        chunks.append(f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()


def post_form(api: ApiClient, body: bytes, **query: str) -> ApiResponse:
    return api.call(
        "POST",
        "/v1/contacts/import",
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        raw_body=body,
        query=query or None,
    )


def post_csv(api: ApiClient, text: str, **query: str) -> ApiResponse:
    return api.call(
        "POST",
        "/v1/contacts/import",
        headers={"content-type": "text/csv"},
        raw_body=text.encode(),
        query=query or None,
    )


def stored(api: ApiClient) -> list[dict[str, Any]]:
    """The organization's contacts and opt-outs, without what differs between two
    imports of one file (ids, instants)."""
    volatile = {"id", "created_at", "updated_at"}
    contacts = api.call("GET", "/v1/contacts").json()["items"]
    opt_outs = api.call("GET", "/v1/opt-outs").json()["items"]
    return sorted(
        [{k: v for k, v in c.items() if k not in volatile} for c in contacts],
        key=lambda c: c["phone"],
    ) + [{"opted_out": o["phone"], "source": o["source"]} for o in opt_outs]


def test_a_form_s_file_imports_as_the_same_csv_sent_as_text_csv() -> None:
    answers: list[dict[str, Any]] = []
    results: list[list[dict[str, Any]]] = []
    for send in ("text/csv", "form"):
        with contacts_api() as client:
            if send == "text/csv":
                response = post_csv(client, CSV, tags="Imported")
            else:
                response = post_form(client, form(("file", "contacts.csv", CSV.encode())))
                response_tags = post_form(
                    client,
                    form(("file", "contacts.csv", CSV.encode()), ("tags", None, b"Imported")),
                )
                assert response_tags.status == 200, response_tags.text
                assert response_tags.json()["created"] == 0
            assert response.status == 200, response.text
            answers.append(response.json())
            results.append(stored(client))
    by_text, by_form = answers
    assert by_text["created"] == by_form["created"] == 3
    assert by_text["errors"] == by_form["errors"]
    assert by_text["error_count"] == by_form["error_count"] == 1  # the bad phone
    assert by_text["warnings"] == by_form["warnings"]
    assert by_text["warning_count"] == by_form["warning_count"] == 1  # Ontario
    assert results[0] == results[1]
    assert {c["phone"] for c in results[0] if "phone" in c} == {
        "+16175550100",
        "+16175550101",
        "+16175550102",
    }
    assert all("imported" in c["tags"] for c in results[1] if "tags" in c)


def test_a_file_sent_as_a_plain_form_field_is_read_too(api: ApiClient) -> None:
    """``curl -F 'file=<contacts.csv'`` sends the text as a field without a filename."""
    response = post_form(api, form(("file", None, b"phone\n6175550111\n")))
    assert response.status == 200, response.text
    assert response.json()["created"] == 1


@pytest.mark.parametrize(
    ("parts", "loc"),
    [
        ((), ["body", "file"]),
        ((("tags", None, b"vip"),), ["body", "file"]),
        ((("csv", "contacts.csv", b"phone\n6175550111\n"),), ["body", "csv"]),
    ],
)
def test_a_form_without_its_file_part_is_a_422_naming_it(
    api: ApiClient, parts: tuple[tuple[str, str | None, bytes], ...], loc: list[str]
) -> None:
    problem = post_form(api, form(*parts)).assert_problem(422)
    assert loc in [error["loc"] for error in problem["errors"]]
    assert problem["error_count"] == len(problem["errors"])
    assert api.call("GET", "/v1/contacts").json()["items"] == []


def test_two_files_are_a_422(api: ApiClient) -> None:
    twice = form(("file", "a.csv", b"phone\n6175550111\n"), ("file", "b.csv", b"phone\n"))
    problem = post_form(api, twice).assert_problem(422)
    assert problem["errors"] == [{"loc": ["body", "file"], "msg": "give one file"}]


@pytest.mark.parametrize(
    "body",
    [b"not a form at all", f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx".encode()],
)
def test_a_form_that_cannot_be_parsed_is_a_400(api: ApiClient, body: bytes) -> None:
    problem = post_form(api, body).assert_problem(400)
    assert problem["detail"].startswith("The multipart/form-data body cannot be read")


def test_a_form_without_a_boundary_is_a_400(api: ApiClient) -> None:
    response = api.call(
        "POST",
        "/v1/contacts/import",
        headers={"content-type": "multipart/form-data"},
        raw_body=form(("file", "c.csv", b"phone\n6175550111\n")),
    )
    response.assert_problem(400)


def test_a_file_over_10_mb_is_a_413(api: ApiClient) -> None:
    big = b"phone,note\n6175550111," + b"x" * MAX_IMPORT_BYTES + b"\n"
    post_form(api, form(("file", "big.csv", big))).assert_problem(413)
    # A CSV just under the limit, in a form whose envelope takes it over 10 MB, is read
    # (its one row is reported: a cell that long is no attribute).
    fits = b"phone,note\n6175550111," + b"x" * (MAX_IMPORT_BYTES - 100) + b"\n"
    assert len(fits) <= MAX_IMPORT_BYTES < len(form(("file", "fits.csv", fits)))
    response = post_form(api, form(("file", "fits.csv", fits)))
    assert response.status == 200, response.text
    assert response.json()["error_count"] == 1
    assert response.json()["errors"][0]["row"] == 1


def test_other_media_types_are_still_415(api: ApiClient) -> None:
    for media_type in ("text/plain", "application/json", "application/x-www-form-urlencoded"):
        api.call(
            "POST",
            "/v1/contacts/import",
            headers={"content-type": media_type},
            raw_body=b"phone\n6175550111\n",
        ).assert_problem(415)


def test_the_document_declares_both_media_types() -> None:
    body = deployed_document()["paths"]["/v1/contacts/import"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["text/csv"]["schema"]["type"] == "string"
    form_schema = body["content"]["multipart/form-data"]["schema"]
    assert form_schema["type"] == "object"
    assert form_schema["required"] == ["file"]
    assert form_schema["properties"]["file"]["format"] == "binary"
