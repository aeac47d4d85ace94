"""Parse a contacts CSV: encoding, delimiter, header aliases, one record per row.

Pure: bytes in, rows and row errors out. The service merges rows with what is
stored (an empty cell never erases a stored value).
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
    RowError,
    normalize_tag,
)
from outreach.contacts.opt_outs import marks_opted_out
from outreach.errors import BadRequest
from outreach.phones import InvalidPhoneNumber, to_e164
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
    "opted_out": ("opted out", "optedout", "opt out", "optout", "unsubscribed", "do not text"),
}
_LOOKUP = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


def canonical_header(header: str) -> str | None:
    """The contact field a header names (``First Name`` -> ``first_name``), or ``None``."""
    folded = re.sub(r"[\s_\-]+", " ", header.strip().lower()).strip()
    return _LOOKUP.get(folded)


@dataclass
class ImportRow:
    """One data row: only the non-empty cells."""

    number: int
    phone: str
    fields: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    opted_out: bool = False


@dataclass
class ParsedCsv:
    """The rows that parsed, in file order, and why the others did not."""

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
            rows.append(_row(number, headers, columns, cells, extra_tags))
        except ValueError as error:
            errors.append(RowError(number, str(error)))
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
    )


def _phone(raw: str) -> str:
    if not raw:
        raise ValueError("no phone number")
    try:
        return to_e164(raw)
    except InvalidPhoneNumber as error:
        raise ValueError(f"invalid phone number {echo(raw)}") from error


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
