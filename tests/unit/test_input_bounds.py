"""Bounded errors and bounded inputs (issue 14, points 6 and 9), rule by rule.

No error repeats more than 100 characters of one input value (``echo``/``clip``);
an import answers its first 100 row errors and counts them all; a problem lists its
first 100 validation errors and counts them all; request instants are 2000..2099
once in UTC, so that no offset overflows ``datetime``; ids in a body are at most an
id long. The same through the handlers, on moto: ``tests/integration/test_input_bounds.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from outreach.api.app import create_app
from outreach.api.fields import (
    EARLIEST_INSTANT,
    ID_LENGTH,
    LATEST_INSTANT,
    IdText,
    RequestInstant,
    StrictModel,
    check_instant,
)
from outreach.api.problems import MAX_MESSAGE_LENGTH, MAX_REPORTED_ERRORS
from outreach.contacts.csv_import import MAX_REPORTED_ROW_ERRORS, parse_csv
from outreach.contacts.domain import ImportResult, RowError
from outreach.contacts.schemas import ImportPublic
from outreach.ids import new_id
from outreach.validation import ELLIPSIS, MAX_ECHO_LENGTH, check_phone, clip, echo

MEGABYTE = 1024 * 1024


def attack_csv(header_bytes: int = 131_000, rows: int = 400) -> bytes:
    """The issue's upload: a phone column and one column named by a 131 kB header, then
    ``rows`` rows of ``v,1`` (a bad phone, and a value under the huge column)."""
    return ("phone," + "h" * header_bytes + "\n" + "v,1\n" * rows).encode()


# --- echo and clip ------------------------------------------------------------------------


def test_echo_quotes_a_short_value_whole() -> None:
    assert echo("+1 555") == "'+1 555'"
    assert echo("x" * MAX_ECHO_LENGTH) == repr("x" * MAX_ECHO_LENGTH)


def test_echo_keeps_the_first_100_characters_and_marks_the_cut() -> None:
    quoted = echo("a" * 99 + "bc" + "z" * MEGABYTE)
    assert quoted == repr("a" * 99 + "b") + ELLIPSIS
    assert "c" not in quoted and "z" not in quoted


def test_clip_shows_input_as_it_is_up_to_100_characters() -> None:
    assert clip("first_name") == "first_name"
    assert clip("k" * (MAX_ECHO_LENGTH + 1)) == "k" * MAX_ECHO_LENGTH + ELLIPSIS


def test_a_check_that_quotes_the_value_quotes_at_most_100_characters() -> None:
    with pytest.raises(ValueError, match="not a phone number") as raised:
        check_phone("9" * MEGABYTE)
    assert str(raised.value).count("9") == MAX_ECHO_LENGTH
    assert len(str(raised.value)) < 2 * MAX_ECHO_LENGTH


# --- The import's row errors ----------------------------------------------------------------


def test_the_issues_upload_gives_small_row_errors() -> None:
    parsed = parse_csv(attack_csv())
    assert parsed.rows == []
    assert len(parsed.errors) == 400
    # Each error is short (the old message repeated all 131 kB of the header); the huge
    # column is no error itself: it would be kept under a 64-character key (issue 17).
    assert all(len(error.error) <= 2 * MAX_ECHO_LENGTH for error in parsed.errors)
    assert parsed.errors[0].error == "invalid phone number 'v'"
    assert parsed.warnings == []


@pytest.mark.parametrize(
    ("header", "cell", "expected"),
    [
        ("phone", "1" * 5000, "invalid phone number"),
        ("email", "@" * 5000, "invalid email"),
        ("timezone", "Z" * 5000, "unknown time zone"),
    ],
)
def test_a_row_error_quotes_at_most_100_characters_of_the_cell(
    header: str, cell: str, expected: str
) -> None:
    phone = "" if header == "phone" else "+16175550123,"
    body = ("phone" if header == "phone" else f"phone,{header}") + "\n" + phone + cell + "\n"
    parsed = parse_csv(body.encode())
    # A bad phone is a row error; a bad email or zone a warning, its row imported (issue 17)
    (message,) = [*(e.error for e in parsed.errors), *(w.warning for w in parsed.warnings)]
    assert message.startswith(f"{expected} {echo(cell)}")
    assert len(message) < 3 * MAX_ECHO_LENGTH


def test_an_import_answers_the_first_100_row_errors_and_counts_them_all() -> None:
    errors = [RowError(row, "no phone number") for row in range(1, 251)]
    answer = ImportPublic.of(ImportResult(created=3, updated=2, skipped=1, errors=errors))
    assert answer.error_count == 250
    assert [error.row for error in answer.errors] == list(range(1, MAX_REPORTED_ROW_ERRORS + 1))
    assert (answer.created, answer.updated, answer.skipped) == (3, 2, 1)

    few = ImportPublic.of(ImportResult(errors=errors[:2]))
    assert (len(few.errors), few.error_count) == (2, 2)


# --- Validation problems ------------------------------------------------------------------

router = APIRouter(prefix="/v1/things")


class NumbersCreate(StrictModel):
    numbers: list[int]
    labels: dict[str, int] = {}


@router.post("")
def create_numbers(body: NumbersCreate) -> dict[str, Any]:
    return {"count": len(body.numbers)}


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app([router]), raise_server_exceptions=False)


def test_a_problem_lists_the_first_100_errors_and_counts_them_all(client: TestClient) -> None:
    response = client.post("/v1/things", json={"numbers": ["x"] * 5000})
    assert response.status_code == 422
    problem = response.json()
    assert problem["error_count"] == 5000
    assert len(problem["errors"]) == MAX_REPORTED_ERRORS
    assert problem["errors"][0]["loc"] == ["body", "numbers", 0]
    assert len(response.content) < 16 * 1024


def test_a_problem_clips_input_that_names_a_place(client: TestClient) -> None:
    key = "k" * MEGABYTE
    response = client.post("/v1/things", json={"numbers": [], key: 1, "labels": {key: "x"}})
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["errors"]]
    clipped = clip(key)
    assert ["body", clipped] in locs  # an unknown field's name
    assert ["body", "labels", clipped] in locs  # a dict key
    assert len(response.content) < 4 * 1024


def test_a_problem_cuts_a_message_that_quotes_input() -> None:
    # A validator whose message quoted the whole value (as check_phone's once did).
    huge = "v" * MEGABYTE
    loud = APIRouter()

    @loud.get("/loud")
    def fail() -> None:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", "value"), "msg": huge, "input": huge}]
        )

    response = TestClient(create_app([loud]), raise_server_exceptions=False).get("/loud")
    assert response.status_code == 422
    (reported,) = response.json()["errors"]
    assert reported == {"loc": ["body", "value"], "msg": "v" * MAX_MESSAGE_LENGTH}
    assert len(response.content) < 4 * 1024


def test_an_unknown_path_is_clipped_in_the_problem(client: TestClient) -> None:
    response = client.get("/" + "p" * 20_000)
    assert response.status_code == 404
    assert len(response.json()["detail"]) < 2 * MAX_ECHO_LENGTH


# --- Instants -----------------------------------------------------------------------------

MINUS_14 = timezone(-timedelta(hours=14))
PLUS_14 = timezone(timedelta(hours=14))


@pytest.mark.parametrize(
    "value",
    [
        datetime(9999, 12, 31, 23, 0, tzinfo=MINUS_14),  # the issue's: past year 9999 in UTC
        datetime(1, 1, 1, 0, 0, tzinfo=PLUS_14),  # before year 1 in UTC
        datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        LATEST_INSTANT,
        datetime(2100, 1, 1, 13, 0, tzinfo=PLUS_14) + timedelta(hours=1),
    ],
    ids=str,
)
def test_an_instant_outside_2000_to_2099_is_refused(value: datetime) -> None:
    with pytest.raises(ValueError, match="between 2000 and 2099"):
        check_instant(value)


def test_the_issues_instant_is_a_validation_error_not_an_overflow() -> None:
    adapter: TypeAdapter[datetime] = TypeAdapter(RequestInstant)
    for text in ("9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00+14:00"):
        with pytest.raises(ValidationError, match="between 2000 and 2099"):
            adapter.validate_python(text)


def test_an_instant_inside_the_bounds_is_given_in_utc() -> None:
    assert check_instant(EARLIEST_INSTANT) == EARLIEST_INSTANT
    edge = LATEST_INSTANT - timedelta(microseconds=1)
    assert check_instant(edge.astimezone(MINUS_14)) == edge
    local = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(-timedelta(hours=5)))
    converted = check_instant(local)
    assert converted == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert converted.utcoffset() == timedelta(0)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="give a timezone"):
        check_instant(datetime(2026, 12, 1, 9, 0))


# --- Ids ----------------------------------------------------------------------------------


def test_an_id_in_a_body_is_at_most_an_id_long() -> None:
    assert len(new_id(datetime.now(UTC))) == ID_LENGTH
    adapter: TypeAdapter[str] = TypeAdapter(IdText)
    made = new_id(datetime.now(UTC))
    assert adapter.validate_python(made) == made
    assert adapter.validate_python("nope") == "nope"  # well-shaped, names nothing: kept
    for bad in ("x" * (ID_LENGTH + 1), "", "é" * 10, "01HZ-ZZZ"):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


def test_a_template_error_quotes_at_most_100_characters_of_a_long_placeholder() -> None:
    from outreach.campaigns.templates import TemplateError, parse_template

    long_field = "{" + "x" * 1500 + "}"
    with pytest.raises(TemplateError) as caught:
        parse_template(f"Hi {long_field}")
    assert len(str(caught.value)) < 300
    spaced = "{ " + "first_name" + "|" + "y" * 1500 + "}"
    with pytest.raises(TemplateError) as caught:
        parse_template(spaced)
    assert len(str(caught.value)) < 400
