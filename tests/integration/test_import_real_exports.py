"""``POST /v1/contacts/import`` takes the files people really have (issue 17, points 1-3).

One test per "Why" bullet of the issue about headers, encodings, ``sep=`` lines and
forgiving rows, each importing a small fixture (``tests/fixtures/imports``, made-up
names and 555 numbers) through the contacts function's Lambda handler on the in-memory
service, and checking the answer (``encoding``, ``errors``, ``warnings``) and what was
stored. Each failed before: a 400 for the whole file, or the row dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from outreach.ids import new_id
from tests.support.api import ApiClient, ApiResponse
from tests.support.in_memory_api import contacts_api_for

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
ORG = new_id(datetime.now(UTC))


@pytest.fixture
def api() -> Iterator[ApiClient]:
    """The contacts handler on a new in-memory service, called by an owner of ``ORG``."""
    with contacts_api_for(ORG) as client:
        yield client


def upload(api: ApiClient, fixture: str, **query: str) -> ApiResponse:
    return api.call(
        "POST",
        "/v1/contacts/import",
        headers={"content-type": "text/csv"},
        raw_body=(FIXTURES / fixture).read_bytes(),
        query=query or None,
    )


def imported(api: ApiClient, fixture: str, **query: str) -> dict[str, Any]:
    response = upload(api, fixture, **query)
    assert response.status == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def contacts(api: ApiClient) -> dict[str, dict[str, Any]]:
    """The organization's contacts by phone."""
    items = api.call("GET", "/v1/contacts", query={"limit": "100"}).json()["items"]
    return {contact["phone"]: contact for contact in items}


def test_a_hubspot_export_with_phone_and_mobile_columns_is_imported(api: ApiClient) -> None:
    """Was: 400 "The CSV names these columns twice: phone." for the whole file."""
    answer = imported(api, "hubspot.csv")
    assert (answer["created"], answer["updated"], answer["skipped"]) == (3, 0, 0)
    assert answer["encoding"] == "utf-8"
    assert answer["errors"] == [{"row": 4, "error": "no phone number"}]
    assert answer["warnings"] == [
        {"row": 2, "warning": "invalid email 'eli@example'; the row was imported without it"}
    ]
    assert (answer["error_count"], answer["warning_count"]) == (1, 1)
    stored = contacts(api)
    assert set(stored) == {"+16175550101", "+16175550102", "+16175550103"}
    # The mobile number is the contact's phone; the other is kept under its header's key
    dana = stored["+16175550101"]
    assert (dana["first_name"], dana["last_name"], dana["email"]) == (
        "Dana",
        "Reed",
        "dana@example.com",
    )
    assert (dana["company"], dana["state"]) == ("Reed Roofing", "MA")
    assert dana["attributes"] == {
        "phone_number": "+1 617 555 0100",
        "record_id": "1001",
        "contact_owner": "Sam Lee",
        "lifecycle_stage": "lead",
        "favorite_color": "Teal",
    }
    # Without a mobile number the general one is taken; a bad email keeps its contact
    eli = stored["+16175550102"]
    assert (eli["first_name"], eli["email"], eli["state"]) == ("Eli", None, "NY")
    # A mobile cell that is no number falls back to the general one, and is kept
    fay = stored["+16175550103"]
    assert fay["attributes"]["mobile_phone_number"] == "n/a"


def test_an_outlook_export_takes_the_mobile_number_first(api: ApiClient) -> None:
    """Was: 400 for "Mobile Phone", "Business Phone" and "Home Phone" side by side."""
    answer = imported(api, "outlook.csv")
    assert (answer["created"], answer["errors"]) == (2, [])
    assert answer["warnings"] == [
        {"row": 1, "warning": "invalid email 'hana@oda'; the row was imported without it"}
    ]
    stored = contacts(api)
    hana = stored["+16175550111"]
    # The bad first email is left out and the second one taken
    assert (hana["email"], hana["company"], hana["state"]) == (
        "hana@example.com",
        "Oda Dental",
        "MA",
    )
    assert sorted(hana["tags"]) == ["patients", "vip"]
    assert hana["attributes"] == {
        "business_phone": "617-555-0110",
        "business_fax": "617-555-0119",
    }
    # Only a home number: it is the phone; of two good emails the first wins
    ivan = stored["+16175550112"]
    assert ivan["email"] == "ivan@example.com"
    assert ivan["attributes"] == {
        "middle_name": "J.",
        "e_mail_2_address": "ivan.kerr@example.com",
    }
    assert ivan["tags"] == ["leads"]


def test_a_google_contacts_export_is_recognised(api: ApiClient) -> None:
    """Was: 400, "Given Name", "Phone 1 - Value", "E-mail 1 - Value", "Labels" unknown."""
    answer = imported(api, "google_contacts.csv")
    assert answer["created"] == 2
    assert answer["errors"] == [{"row": 3, "error": "invalid phone number 'not a number'"}]
    stored = contacts(api)
    assert set(stored) == {"+16175550121", "+16175550122"}
    # "Phone 2 - Type" says Mobile: that number wins over the Work one before it
    jo = stored["+16175550121"]
    assert (jo["first_name"], jo["last_name"], jo["email"]) == ("Jo", "Park", "jo@example.com")
    assert (jo["company"], jo["state"]) == ("Park Bakery", "MA")
    assert jo["tags"] == ["leads"]  # "* myContacts" is on every Google contact: dropped
    assert jo["attributes"] == {
        "phone_1_value": "617-555-0120",
        "name": "Jo Park",
        "notes": "Met at the fair",
    }
    # Two numbers in one cell: the first is taken; a Work Fax is never the phone
    kim = stored["+16175550122"]
    assert sorted(kim["tags"]) == ["spring promo", "starred"]
    assert kim["attributes"]["phone_2_value"] == "617-555-0129"


def test_excel_s_windows_1252_csv_is_read_and_says_so(api: ApiClient) -> None:
    """Was: 400 "The CSV is not UTF-8" for one "José", nothing imported."""
    answer = imported(api, "excel_windows_1252.csv")
    assert (answer["created"], answer["errors"], answer["encoding"]) == (2, [], "windows-1252")
    stored = contacts(api)
    jose = stored["+16175550130"]
    assert (jose["first_name"], jose["last_name"], jose["company"]) == ("José", "Muñoz", "Café Olé")
    assert jose["attributes"] == {"notes": "\u201cPrefers texts\u201d \u2013 after 5"}
    assert stored["+16175550131"]["last_name"] == "Brontë"


def test_excel_s_unicode_text_utf_16_is_read(api: ApiClient) -> None:
    answer = imported(api, "excel_unicode_utf16.csv")
    assert (answer["created"], answer["errors"], answer["encoding"]) == (2, [], "utf-16")
    stored = contacts(api)
    assert (stored["+16175550140"]["first_name"], stored["+16175550140"]["company"]) == (
        "Zoë",
        "Łódź Łabędź",
    )
    assert stored["+16175550141"]["first_name"] == "李华"


def test_a_sep_line_names_the_delimiter_and_is_not_the_header(api: ApiClient) -> None:
    """Was: the ``sep=;`` line read as the header: 400, no phone column."""
    answer = imported(api, "excel_sep_semicolon.csv")
    assert (answer["created"], answer["errors"], answer["warnings"]) == (2, [], [])
    mia = contacts(api)["+16175550150"]
    assert (mia["first_name"], mia["company"]) == ("Mia", "Mia, Ltd.")
    assert sorted(mia["tags"]) == ["spring", "vip"]


def test_extra_empty_cells_beyond_the_header_are_fine(api: ApiClient) -> None:
    """Was: "6 cells but 3 columns" for a row with stray empty cells."""
    answer = imported(api, "extra_empty_cells.csv")
    assert answer["created"] == 2
    # A non-empty cell beyond the header still cannot be put anywhere
    assert answer["errors"] == [{"row": 2, "error": "5 cells but 3 columns"}]
    stored = contacts(api)
    assert set(stored) == {"+16175550160", "+16175550162"}
    assert stored["+16175550160"]["last_name"] == "Hale"


def test_a_good_phone_with_a_bad_email_is_imported_without_it(api: ApiClient) -> None:
    """Was: the row dropped whole for its email ("invalid email")."""
    answer = imported(api, "bad_email.csv")
    assert (answer["created"], answer["errors"], answer["error_count"]) == (2, [], 0)
    assert answer["warnings"] == [
        {"row": 1, "warning": "invalid email 'not-an-email'; the row was imported without it"},
        {"row": 1, "warning": "unknown time zone 'Mars/Olympus'; the row was imported without it"},
    ]
    assert answer["warning_count"] == 2
    stored = contacts(api)
    quin = stored["+16175550170"]
    assert (quin["first_name"], quin["email"]) == ("Quin", None)
    assert quin["timezone"] == "America/New_York"  # the number's, as for any row without one
    assert stored["+16175550171"]["timezone"] == "America/Chicago"


def test_phone_column_names_the_one_column_to_read_numbers_from(api: ApiClient) -> None:
    answer = imported(api, "hubspot.csv", phone_column="phone number")
    # Gil has no number in that column; the others take theirs from it
    assert answer["created"] == 3
    assert answer["errors"] == [{"row": 4, "error": "no phone number"}]
    stored = contacts(api)
    assert set(stored) == {"+16175550100", "+16175550102", "+16175550103"}
    assert stored["+16175550100"]["attributes"]["mobile_phone_number"] == "(617) 555-0101"


def test_a_phone_column_the_file_lacks_is_a_400_listing_its_headers(api: ApiClient) -> None:
    problem = upload(api, "outlook.csv", phone_column="Cell").assert_problem(400)
    assert "phone_column 'Cell' names no column" in problem["detail"]
    assert "'Mobile Phone'" in problem["detail"]
    assert "'Business Fax'" in problem["detail"]
    assert contacts(api) == {}


def test_a_file_without_a_phone_column_is_a_400_naming_its_headers(api: ApiClient) -> None:
    response = api.call(
        "POST",
        "/v1/contacts/import",
        headers={"content-type": "text/csv"},
        raw_body=b"Given Name,E-mail 1 - Value\nJo,jo@example.com\n",
    )
    detail = response.assert_problem(400)["detail"]
    assert "'Given Name', 'E-mail 1 - Value'" in detail
    assert "Mobile Phone" in detail
