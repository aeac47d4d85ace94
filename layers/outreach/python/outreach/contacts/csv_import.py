"""Parse a contacts CSV: encoding, delimiter, header aliases, one record per row.

Pure: bytes in, rows and row errors out. The service merges rows with what is
stored (an empty cell never erases a stored value). A bad cell in a field the
contact can do without (``state``) is reported but never drops its row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from outreach.contacts.domain import (
    MAX_ATTRIBUTE_KEY_LENGTH,
    MAX_ATTRIBUTE_VALUE_LENGTH,
    MAX_ATTRIBUTES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TEXT_FIELD_LENGTH,
    NOT_A_US_STATE,
    RowError,
    normalize_tag,
)
from outreach.contacts.opt_outs import marks_opted_out
from outreach.errors import BadRequest
from outreach.phones import InvalidPhoneNumber, to_e164
from outreach.state_rules import state_code
from outreach.timezones import is_timezone
from outreach.validation import check_email, echo

DELIMITERS = (",", ";", "\t")
MAX_ROWS = 50_000
MAX_REPORTED_ROW_ERRORS = 100
"""An import answers the first this many row errors and counts them all
(``api-contract.md``, Addendum 1: ``errors`` (first 100), ``error_count``)."""

# Header aliases, compared after lowercasing and folding "_", "-" and spaces.
ALIASES: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone",
        "phone number",
        "phonenumber",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "cellphone",
        "telephone",
        "tel",
        "number",
        "sms",
    ),
    "first_name": ("first name", "firstname", "first", "given name", "fname"),
    "last_name": ("last name", "lastname", "last", "surname", "family name", "lname"),
    "email": ("email", "e mail", "email address", "mail"),
    "company": ("company", "company name", "business", "organization", "organisation"),
    "tags": ("tags", "tag", "labels", "groups"),
    "timezone": ("timezone", "time zone", "tz"),
    # Three columns may give the contact's state (issue 15, point 1); see STATE_COLUMNS.
    # "State/Province" and "State/Region" are the headers CRM exports use.
    "state": ("state", "state/province", "state/region"),
    "province": ("province",),
    "region": ("region",),
    "opted_out": ("opted out", "optedout", "opt out", "optout", "unsubscribed", "do not text"),
}
_LOOKUP = {alias: name for name, aliases in ALIASES.items() for alias in aliases}

STATE_COLUMNS = ("state", "province", "region")
"""The columns a contact's ``state`` is read from, in order: the first non-empty cell
that names a US state (:func:`outreach.state_rules.state_code`: ``"TX"``, ``"texas"``)
wins (issue 15, point 1). A list may mix countries, so a row whose cells name no US
state (``"ON"``, ``"Bavaria"``) is imported without one, those cells kept as attributes
under their headers, and a ``state`` cell that names none is reported."""


def canonical_header(header: str) -> str | None:
    """The contact field a header names (``First Name`` -> ``first_name``), or ``None``."""
    folded = re.sub(r"[\s_\-]+", " ", header.strip().lower()).strip()
    return _LOOKUP.get(folded)


@dataclass
class ImportRow:
    """One data row: only the non-empty cells (``fields`` checked and named as in
    :data:`~outreach.contacts.domain.PROFILE_FIELDS`, a ``state`` as its USPS code).
    ``left_out`` says why a cell was not taken (the row is imported without it: issue
    15, point 1)."""

    number: int
    phone: str
    fields: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    opted_out: bool = False
    left_out: tuple[str, ...] = ()


@dataclass
class ParsedCsv:
    """The rows that parsed, in file order; why the others did not, and which cells of
    parsed rows were left out (:attr:`ImportRow.left_out`), in row order."""

    rows: list[ImportRow]
    errors: list[RowError]


def decode(body: bytes) -> str:
    """UTF-8, with or without a byte-order mark; anything else is a 400."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadRequest(f"The CSV is not UTF-8 (byte {error.start} is invalid).") from error


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the header line into the most columns (comma on a tie)."""
    header = next(iter(text.splitlines()), "")
    counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))


def _split_tags(cell: str) -> list[str]:
    return [tag for tag in (normalize_tag(t) for t in re.split(r"[,;|]", cell)) if tag]


def parse_csv(body: bytes, extra_tags: tuple[str, ...] = ()) -> ParsedCsv:
    """Parse the whole file; a bad row is reported and never aborts the rest."""
    text = decode(body)
    if not text.strip():
        raise BadRequest("The CSV is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text))
    try:
        headers = next(reader)
    except csv.Error as error:
        raise BadRequest(f"The CSV header cannot be read: {error}") from error
    columns = [canonical_header(h) for h in headers]
    if "phone" not in columns:
        raise BadRequest(
            "The CSV has no phone column (accepted headers: " + ", ".join(ALIASES["phone"]) + ")."
        )
    duplicates = {c for c in columns if c is not None and columns.count(c) > 1}
    if duplicates:
        raise BadRequest(f"The CSV names these columns twice: {', '.join(sorted(duplicates))}.")
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    for number, cells in _numbered(reader):
        if number > MAX_ROWS:
            errors.append(RowError(number, f"more than {MAX_ROWS} rows; the rest was not read"))
            break
        if cells is None:
            errors.append(RowError(number, "the row cannot be parsed"))
            continue
        if not any(cell.strip() for cell in cells):
            continue
        try:
            row = _row(number, headers, columns, cells, extra_tags)
        except ValueError as error:
            errors.append(RowError(number, str(error)))
            continue
        rows.append(row)
        errors.extend(RowError(number, reason) for reason in row.left_out)
    return ParsedCsv(rows=rows, errors=errors)


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str] | None]]:
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield number, None
            continue
        yield number, cells


def _row(
    number: int,
    headers: list[str],
    columns: list[str | None],
    cells: list[str],
    extra_tags: tuple[str, ...],
) -> ImportRow:
    if len(cells) > len(headers):
        raise ValueError(f"{len(cells)} cells but {len(headers)} columns")
    values: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for header, column, raw in zip(headers, columns, cells, strict=False):
        cell = raw.strip()
        if not cell:
            continue
        if column is None:
            key = header.strip()
            if not key:
                continue
            if len(key) > MAX_ATTRIBUTE_KEY_LENGTH or len(cell) > MAX_ATTRIBUTE_VALUE_LENGTH:
                raise ValueError(f"column {echo(key)} is too long")
            attributes[key] = cell
        else:
            values[column] = cell
    phone = _phone(values.pop("phone", ""))
    _check_fields(values)
    state, state_problem, not_states = _state(values)
    if state is not None:
        values["state"] = state
    # A province or region abroad is the contact's data all the same: kept under its header.
    for header, column in zip(headers, columns, strict=False):
        if column in not_states:
            attributes[header.strip()] = not_states[column]
    tags = tuple(dict.fromkeys([*_split_tags(values.pop("tags", "")), *extra_tags]))
    if len(tags) > MAX_TAGS or any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise ValueError(f"at most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters")
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValueError(f"more than {MAX_ATTRIBUTES} extra columns")
    opted_out = marks_opted_out(values.pop("opted_out", ""))
    return ImportRow(
        number=number,
        phone=phone,
        fields=values,
        tags=tags,
        attributes=attributes,
        opted_out=opted_out,
        left_out=(state_problem,) if state_problem else (),
    )


def _phone(raw: str) -> str:
    if not raw:
        raise ValueError("no phone number")
    try:
        return to_e164(raw)
    except InvalidPhoneNumber as error:
        raise ValueError(f"invalid phone number {echo(raw)}") from error


def _state(values: dict[str, str]) -> tuple[str | None, str | None, dict[str, str]]:
    """Take the :data:`STATE_COLUMNS` cells out of ``values``: the USPS code of the first
    that names a US state (or ``None``); why a ``state`` cell was not taken (a ``province``
    or ``region`` abroad is no mistake, so only the ``state`` column is reported); and the
    cells that name no US state, by column, for the row's attributes."""
    cells = {column: values.pop(column) for column in STATE_COLUMNS if column in values}
    codes = {column: state_code(cell) for column, cell in cells.items()}
    code = next((found for found in codes.values() if found is not None), None)
    not_states = {column: cell for column, cell in cells.items() if codes[column] is None}
    problem = None
    if code is None and "state" in not_states:
        problem = (
            f"state {echo(not_states['state'])} {NOT_A_US_STATE}; the row was imported "
            "without it (the cell is kept as an attribute)"
        )
    return code, problem, not_states


def _check_fields(values: dict[str, str]) -> None:
    if "email" in values:
        try:
            check_email(values["email"])
        except ValueError as error:
            raise ValueError(f"invalid email {echo(values['email'])}") from error
    if "timezone" in values and not is_timezone(values["timezone"]):
        raise ValueError(f"unknown time zone {echo(values['timezone'])}")
    for name in ("first_name", "last_name", "company", "email"):
        if len(values.get(name, "")) > MAX_TEXT_FIELD_LENGTH:
            raise ValueError(f"{name} is longer than {MAX_TEXT_FIELD_LENGTH} characters")
