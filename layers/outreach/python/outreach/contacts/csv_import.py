"""Read a contacts CSV as people really have it: any common encoding, Excel's ``sep=``
line, the headers of the tools they export from, one record per row. Streamed.

Pure: bytes in (from a callable that opens the file anew each time), rows and row
errors out, one row at a time; the whole decoded file is never held in memory, so a
100,000-row, 50 MB file is read in a few megabytes (issue 17, points 1-3 and 6). The
service merges rows with what is stored (an empty cell never erases a stored value).

- **Encodings** (:func:`detect_encoding`): UTF-8 with or without a byte-order mark,
  UTF-16 or UTF-32 with one, else what ``charset-normalizer`` finds in a sample of the
  file (Excel's "CSV (Comma delimited)" is Windows-1252); the whole file is checked to
  decode before a row is read. The answer says which was read (:attr:`CsvReader.encoding`).
- **Delimiter**: Excel's ``sep=;`` first line when there is one, else the one of
  ``,``/``;``/tab that splits the header into the most cells (:func:`detect_delimiter`).
- **Headers** (:data:`ALIASES`, :data:`PHONE_ALIASES`): the names HubSpot, Salesforce,
  Outlook, Google Contacts, Mailchimp and Constant Contact export under, compared after
  folding case, accents, spaces, punctuation and numbering (:func:`header_key`). A
  field named twice is no error: the first cell that holds a good value wins and the
  others are kept as attributes.
- **Phone**: per row, the first mobile-like column holding a valid number, then a
  general one, then work, home, other (:data:`PHONE_ALIASES`; Google's
  ``Phone N - Type`` cell says which its ``Phone N - Value`` is); the other numbers are
  kept as attributes. ``phone_column`` names the one column to use instead.
- **Rows**: a row is refused (:class:`~outreach.contacts.domain.RowError`) only when it
  has no valid number, or holds more non-empty cells than there are columns; a bad
  optional cell (an email, a time zone, a state, a value too long) is left out and the
  row imported, saying so in :attr:`ImportRow.warnings`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from itertools import chain
from typing import BinaryIO, Final

from outreach.contacts.domain import (
    MAX_ATTRIBUTE_VALUE_LENGTH,
    MAX_ATTRIBUTES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TEXT_FIELD_LENGTH,
    NOT_A_US_STATE,
    RowError,
    RowWarning,
    attribute_key,
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
"""An import answers the first this many row errors (and as many row warnings) and
counts them all (``api-contract.md``, Addendum 1: ``errors`` (first 100), ``error_count``)."""

# --- Headers ---------------------------------------------------------------------------------
#
# The names below are compared by :func:`header_key` (accents, case, spaces, punctuation and
# numbers removed: "E-mail 2 Address" and "email_address" are both "emailaddress"). Where
# they come from (the headers of each tool's contacts export, as of 2026):
# - HubSpot ("Export contacts"): Record ID, First Name, Last Name, Email, Phone Number,
#   Mobile Phone Number, Contact owner, Company Name, Lifecycle Stage, City, State/Region,
#   Country/Region, Time Zone.
# - Salesforce (report export, field labels; Data Loader, API names): First Name, Last
#   Name, Email, Phone / Business Phone, Mobile, Home Phone, Other Phone, Account Name,
#   Mailing State/Province; FirstName, LastName, MobilePhone, HomePhone, OtherPhone,
#   MailingState.
# - Outlook ("Export contacts", CSV): First Name, Middle Name, Last Name, Company,
#   E-mail Address, E-mail 2 Address, Primary Phone, Home Phone, Home Phone 2, Mobile
#   Phone, Business Phone, Business Phone 2, Company Main Phone, Other Phone, Car Phone,
#   Radio Phone, Pager, Business Fax, Home State, Business State, Other State, Categories.
# - Google Contacts ("Google CSV"): since 2023 First Name, Middle Name, Last Name,
#   Organization Name, Labels, E-mail 1 - Label, E-mail 1 - Value, Phone 1 - Label,
#   Phone 1 - Value, ..., Address 1 - Region; before, Name, Given Name, Family Name,
#   Group Membership, E-mail 1 - Type, E-mail 1 - Value, Phone 1 - Type, Phone 1 - Value,
#   Organization 1 - Name. Labels are joined by " ::: ", "* myContacts" on every contact.
# - Mailchimp (audience export): Email Address, First Name, Last Name, Address, Phone
#   Number, TIMEZONE, REGION, TAGS; the merge tags FNAME, LNAME, PHONE in hand-made files.
# - Constant Contact (standard contact headings): Email Address, First Name, Last Name,
#   Company, Job Title, Phone Number - Home, Phone Number - Work, Phone Number - Mobile
#   (exports: "Phone - mobile"), State / Province, Tags.
# - Plain spreadsheets: phone, mobile, cell, first_name, FirstName, email, tags, ...

ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": (
        "first name",
        "first",
        "given name",  # Google (before 2023)
        "fname",  # Mailchimp merge tag
        "forename",
    ),
    "last_name": (
        "last name",
        "last",
        "surname",
        "family name",  # Google (before 2023)
        "lname",  # Mailchimp merge tag
    ),
    "email": (
        "email",
        "e mail",
        "mail",
        "email address",  # Mailchimp, Constant Contact; Outlook "E-mail Address"
        "e mail value",  # Google "E-mail 1 - Value"
        "primary email",
        "work email",
        "personal email",
    ),
    "company": (
        "company",
        "company name",  # HubSpot
        "business",
        "organization",
        "organisation",
        "organization name",  # Google "Organization Name", "Organization 1 - Name"
        "account name",  # Salesforce contact report
        "employer",
    ),
    "tags": (
        "tags",  # Mailchimp TAGS, Constant Contact
        "tag",
        "labels",  # Google (since 2023)
        "label",
        "groups",
        "group",
        "group membership",  # Google (before 2023)
        "categories",  # Outlook
    ),
    "timezone": ("timezone", "time zone", "tz"),  # HubSpot "Time Zone", Mailchimp TIMEZONE
    # Three kinds of column may give the contact's state (issue 15, point 1); see STATE_COLUMNS.
    "state": (
        "state",
        "state province",  # Salesforce, Constant Contact "State / Province"
        "state region",  # HubSpot "State/Region"
        "mailing state",  # Salesforce
        "mailing state province",
        "home state",  # Outlook
        "business state",
        "other state",
    ),
    "province": ("province",),
    "region": ("region", "address region"),  # Mailchimp REGION; Google "Address 1 - Region"
    "opted_out": (
        "opted out",
        "opt out",
        "unsubscribed",
        "do not text",
        "sms opt out",
        "text opt out",
    ),
}

MOBILE, GENERAL, WORK, HOME, OTHER = range(5)
"""Phone column kinds, in the order a row's number is taken from them."""

PHONE_ALIASES: dict[int, tuple[str, ...]] = {
    MOBILE: (
        "mobile",  # Salesforce label
        "mobile phone",  # Outlook, HubSpot (older)
        "mobile number",
        "mobile phone number",  # HubSpot
        "cell",
        "cell phone",
        "cell number",
        "cellular",
        "cellular phone",
        "sms",
        "sms number",
        "sms phone",
        "text number",
        "phone mobile",  # Constant Contact "Phone - mobile"
        "phone number mobile",  # Constant Contact "Phone Number - Mobile"
    ),
    GENERAL: (
        "phone",  # Salesforce, Mailchimp merge tag PHONE, plain
        "phone number",  # HubSpot, Mailchimp
        "telephone",
        "telephone number",
        "tel",
        "number",
        "primary phone",  # Outlook
        "main phone",
        "phone value",  # Google "Phone 1 - Value" (its Type/Label cell may say more)
    ),
    WORK: (
        "business phone",  # Outlook, Salesforce
        "work phone",
        "office phone",
        "company main phone",  # Outlook
        "direct phone",
        "phone work",  # Constant Contact
        "phone number work",
    ),
    HOME: ("home phone", "phone home", "phone number home"),  # Outlook, Salesforce; CC
    OTHER: (
        "other phone",  # Outlook, Salesforce
        "phone other",
        "phone number other",
        "car phone",  # Outlook
        "radio phone",
        "alternate phone",
        "alternative phone",
        "additional phone",
        "secondary phone",
    ),
}
"""The phone headers by kind. Fax, pager and assistant numbers are no phone columns:
they are kept as attributes."""

PHONE_HEADERS_SHOWN = (
    "Phone",
    "Phone Number",
    "Mobile",
    "Mobile Phone",
    "Mobile Phone Number",
    "Cell",
    "Business Phone",
    "Home Phone",
    "Other Phone",
    "Phone 1 - Value",
)
"""The phone headers a 400 names when a file has none (the full list is longer)."""

STATE_COLUMNS = ("state", "province", "region")
"""The kinds of column a contact's ``state`` is read from, in order (file order within a
kind): the first non-empty cell that names a US state
(:func:`outreach.state_rules.state_code`: ``"TX"``, ``"texas"``) wins (issue 15,
point 1). A list may mix countries, so a row whose cells name no US state (``"ON"``,
``"Bavaria"``) is imported without one; the cells not taken are kept as attributes,
and a ``state`` cell that names none is reported (:attr:`ImportRow.warnings`)."""

_SINGLE_FIELDS = ("first_name", "last_name", "email", "company", "timezone")
_TYPED = re.compile(r"([a-z][a-z \-]*?)\s*(\d+)\s*-\s*(value|type|label)")
_SEP_LINE = re.compile(r'"?sep=(,|;|\t|\||\\t)"?[,;\t|]*\s*', re.IGNORECASE)
_TAG_SEPARATORS = re.compile(r"\s*:::\s*|[,;|]")
_GOOGLE_ALL_CONTACTS = "* mycontacts"
_LEFT_OUT = "the row was imported without it"


def _fold(text: str) -> str:
    """``text`` lowercased, accents removed (``"Código"`` -> ``"codigo"``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def header_key(header: str) -> str:
    """What a header is matched by: its letters, folded (:func:`_fold`), without spaces,
    punctuation or numbers (``"E-mail 2 Address"`` -> ``"emailaddress"``, ``"Phone 1 -
    Value"`` -> ``"phonevalue"``, ``"FirstName"`` and ``"first_name"`` -> ``"firstname"``)."""
    return "".join(re.findall(r"[a-z]+", _fold(header)))


def _loose(header: str) -> str:
    """A header as ``phone_column`` names it: folded, letters and digits only (the
    number kept: ``"phone 2 - value"`` names ``"Phone 2 - Value"`` only)."""
    return "".join(re.findall(r"[a-z0-9]+", _fold(header)))


_LOOKUP: Final = {header_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}
_PHONE_LOOKUP: Final = {
    header_key(alias): kind for kind, aliases in PHONE_ALIASES.items() for alias in aliases
}


def canonical_header(header: str) -> str | None:
    """The contact field a header names (``First Name`` -> ``first_name``, ``Mobile Phone``
    -> ``phone``), or ``None`` (the column is kept as an attribute)."""
    key = header_key(header)
    if key in _PHONE_LOOKUP:
        return "phone"
    return _LOOKUP.get(key)


def _typed_phone_kind(label: str) -> int | None:
    """The kind of number a Google ``Phone N - Type``/``Label`` cell names (``"Mobile"``,
    ``"* Work"``), or ``None`` for a fax or a pager (not a number to text)."""
    text = _fold(label)
    if "fax" in text or "pager" in text:
        return None
    if "mobile" in text or "cell" in text:
        return MOBILE
    if "work" in text or "business" in text:
        return WORK
    if "home" in text:
        return HOME
    if not text.strip(" *") or "main" in text:
        return GENERAL
    return OTHER


# --- Rows --------------------------------------------------------------------------------


@dataclass
class ImportRow:
    """One data row: only the non-empty cells, ``fields`` checked and named as in
    :data:`~outreach.contacts.domain.PROFILE_FIELDS` (a ``state`` as its USPS code),
    ``phone`` in E.164, ``tags`` normalised (the import's ``extra_tags`` included).

    ``attributes`` are keyed by :func:`~outreach.contacts.domain.attribute_key` of their
    header (``"Contact owner"`` -> ``"contact_owner"``); ``attribute_labels`` maps a key
    to its header where they differ. ``warnings`` say why a cell was left out of the
    imported row (a bad email, a too-long value: issue 17, point 3)."""

    number: int
    phone: str
    fields: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    opted_out: bool = False
    warnings: tuple[str, ...] = ()
    attribute_labels: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedCsv:
    """A whole file read (:func:`parse_csv`): the rows that parsed, in file order; why
    the others did not (``errors``) and which cells of parsed rows were left out
    (``warnings``), in row order; and the encoding read (:attr:`CsvReader.encoding`)."""

    rows: list[ImportRow]
    errors: list[RowError]
    warnings: list[RowWarning]
    encoding: str


@dataclass(frozen=True)
class _Column:
    """How a header is read: as a contact ``field`` (``"phone"``, ``"email"``, ...; a
    phone column with its ``kind``, and for Google's ``Phone N - Value`` the index of its
    ``Phone N - Type`` column), or as an attribute under ``key`` (``field`` ``None``).
    A ``companion`` (``Phone N - Type``, ``E-mail N - Label``) is read with its value
    column and not stored."""

    index: int
    header: str
    field: str | None
    key: str
    kind: int = GENERAL
    type_index: int | None = None
    companion: bool = False


def _companions(headers: list[str]) -> tuple[dict[int, int], set[int]]:
    """Google's numbered columns: the ``Phone N - Type``/``Label`` column of each
    ``Phone N - Value`` (by index), and every such type column of a phone or an email."""
    typed: dict[tuple[str, str], dict[str, int]] = {}
    for index, header in enumerate(headers):
        match = _TYPED.fullmatch(_fold(header).strip())
        if match:
            prefix, number, part = match.groups()
            slot = typed.setdefault((header_key(prefix), number), {})
            slot.setdefault(part, index)
    type_of: dict[int, int] = {}
    companions: set[int] = set()
    for (prefix, _number), parts in typed.items():
        if prefix not in ("phone", "email") or "value" not in parts:
            continue
        for part in ("type", "label"):
            if part in parts:
                companions.add(parts[part])
                if prefix == "phone":
                    type_of.setdefault(parts["value"], parts[part])
    return type_of, companions


def _named_column(headers: list[str], phone_column: str) -> int:
    """The index of the header ``phone_column`` names (:func:`_loose`), or a 400."""
    wanted = _loose(phone_column)
    chosen = next((i for i, h in enumerate(headers) if wanted and _loose(h) == wanted), None)
    if chosen is None:
        raise BadRequest(
            f"phone_column {echo(phone_column)} names no column of the CSV (its headers: "
            + ", ".join(echo(h) for h in headers[:50])
            + ")."
        )
    return chosen


def _plan(headers: list[str], phone_column: str | None) -> list[_Column]:
    """How each header is read; a 400 when no column is the phone (or ``phone_column``
    names none of ``headers``)."""
    type_of, companions = _companions(headers)
    chosen = None if phone_column is None else _named_column(headers, phone_column)
    columns: list[_Column] = []
    for index, header in enumerate(headers):
        name = canonical_header(header)
        kind = _PHONE_LOOKUP.get(header_key(header)) if name == "phone" else None
        if chosen is not None:
            kind = GENERAL if index == chosen else None
            name = "phone" if index == chosen else (None if name == "phone" else name)
        columns.append(
            _Column(
                index=index,
                header=header.strip(),
                field=name,
                key=attribute_key(header),
                kind=GENERAL if kind is None else kind,
                type_index=type_of.get(index) if chosen is None else None,
                companion=index in companions and name is None,
            )
        )
    if not any(column.field == "phone" for column in columns):
        raise BadRequest(
            "The CSV has no phone column (its headers: "
            + ", ".join(echo(h) for h in headers[:50])
            + "; accepted phone headers include "
            + ", ".join(PHONE_HEADERS_SHOWN)
            + "; or name yours with ?phone_column=)."
        )
    return columns


class _Row:
    """What one data row gives, built cell by cell (:meth:`_Reading.row`)."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.attributes: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.warnings: list[str] = []

    def keep(self, column: _Column, cell: str) -> None:
        """Keep ``cell`` as an attribute under its column's key, or say why not."""
        key = column.key
        if not key:
            self.warnings.append(
                f"column {echo(column.header)} has no letter or digit to name it; "
                "its cell was left out"
            )
        elif key in self.attributes:
            if self.attributes[key] != cell:
                self.warnings.append(
                    f"column {echo(column.header)} is stored as {key!r} like an earlier "
                    "column; its cell was left out"
                )
        elif len(cell) > MAX_ATTRIBUTE_VALUE_LENGTH:
            self.warnings.append(
                f"the {echo(column.header)} cell is longer than {MAX_ATTRIBUTE_VALUE_LENGTH} "
                f"characters; {_LEFT_OUT}"
            )
        elif len(self.attributes) >= MAX_ATTRIBUTES:
            self.warnings.append(
                f"more than {MAX_ATTRIBUTES} extra columns; {echo(column.header)} was left out"
            )
        else:
            self.attributes[key] = cell
            if column.header != key:
                self.labels[key] = column.header


def split_tags(cell: str) -> list[str]:
    """The tags of a ``Tags``/``Labels`` cell: split on ``,``, ``;``, ``|`` and Google's
    `` ::: ``, quotes (Mailchimp's ``"a","b"``) and Google's ``* `` system-label mark
    removed, normalised (:func:`~outreach.contacts.domain.normalize_tag`); Google's
    ``* myContacts`` (on every contact) is dropped."""
    tags: list[str] = []
    for part in _TAG_SEPARATORS.split(cell):
        text = part.strip().strip("\"'").strip()
        if text.lower() == _GOOGLE_ALL_CONTACTS:
            continue
        tag = normalize_tag(text.removeprefix("* "))
        if tag:
            tags.append(tag)
    return tags


class _Reading:
    """Turns data rows into :class:`ImportRow` or :class:`RowError` by a column plan."""

    def __init__(self, columns: list[_Column], extra_tags: tuple[str, ...]) -> None:
        self.columns = columns
        self.extra_tags = tuple(dict.fromkeys(normalize_tag(t) for t in extra_tags if t))
        self.width = len(columns)

    def row(self, number: int, cells: list[str]) -> ImportRow | RowError:
        """Data row ``number`` (from 1) of ``cells`` (as :mod:`csv` read them): the
        :class:`ImportRow` it gives, or the :class:`RowError` saying why it gives none (no
        valid number, a non-empty cell beyond the header's columns)."""
        if len(cells) > self.width:
            if any(cell.strip() for cell in cells[self.width :]):
                return RowError(number, f"{len(cells)} cells but {self.width} columns")
            cells = cells[: self.width]
        row = _Row()
        values = [cell.strip() for cell in cells] + [""] * (self.width - len(cells))
        try:
            phone = self._phone(values, row)
        except ValueError as error:
            return RowError(number, str(error))
        tags: list[str] = []
        states: list[tuple[int, _Column, str]] = []
        opted_out: str | None = None
        for column in self.columns:
            cell = values[column.index]
            if not cell or column.field == "phone" or column.companion:
                continue
            name = column.field
            if name is None:
                row.keep(column, cell)
            elif name == "tags":
                tags.extend(split_tags(cell))
            elif name in STATE_COLUMNS:
                states.append((STATE_COLUMNS.index(name), column, cell))
            elif name == "opted_out":
                opted_out = cell if opted_out is None else opted_out
            else:
                self._single(name, column, cell, row)
        self._state(sorted(states, key=lambda s: (s[0], s[1].index)), row)
        return ImportRow(
            number=number,
            phone=phone,
            fields=row.fields,
            tags=self._tags(tags, row),
            attributes=row.attributes,
            opted_out=marks_opted_out(opted_out or ""),
            warnings=tuple(row.warnings),
            attribute_labels=row.labels,
        )

    def _phone(self, values: list[str], row: _Row) -> str:
        """The row's number (E.164), the other numbers kept as attributes;
        :class:`ValueError` saying why when no cell holds a valid one."""
        candidates: list[tuple[int, int, _Column, str]] = []
        for column in self.columns:
            cell = values[column.index]
            if column.field != "phone" or not cell:
                continue
            kind: int | None = column.kind
            if column.type_index is not None:
                kind = _typed_phone_kind(values[column.type_index])
            if kind is None:  # a fax or a pager
                row.keep(column, cell)
                continue
            candidates.append((kind, column.index, column, cell))
        candidates.sort(key=lambda c: (c[0], c[1]))
        chosen: str | None = None
        for _kind, _index, column, cell in candidates:
            if chosen is None:
                chosen = _first_number(cell)
                if chosen is not None:
                    continue
            row.keep(column, cell)
        if chosen is not None:
            return chosen
        if not candidates:
            raise ValueError("no phone number")
        if len(candidates) == 1:
            raise ValueError(f"invalid phone number {echo(candidates[0][3])}")
        tried = ", ".join(f"{echo(c[3])} ({echo(c[2].header)})" for c in candidates[:3])
        raise ValueError(f"no valid phone number: {tried}")

    def _single(self, name: str, column: _Column, cell: str, row: _Row) -> None:
        """A field named once per contact: the first good cell wins, a later good one is
        kept as an attribute, a bad one is left out (with a warning)."""
        problem = _field_problem(name, cell)
        if problem is not None:
            row.warnings.append(f"{problem}; {_LEFT_OUT}")
        elif name in row.fields:
            row.keep(column, cell)
        else:
            row.fields[name] = cell

    def _state(self, states: list[tuple[int, _Column, str]], row: _Row) -> None:
        """``state`` from the first cell naming a US state (:data:`STATE_COLUMNS`); the
        others kept as attributes; a ``state`` cell naming none reported if none does."""
        code: str | None = None
        for _order, column, cell in states:
            found = state_code(cell) if code is None else None
            if found is not None:
                code = found
            else:
                row.keep(column, cell)
        if code is not None:
            row.fields["state"] = code
            return
        bad = next((cell for _o, column, cell in states if column.field == "state"), None)
        if bad is not None:
            row.warnings.append(
                f"state {echo(bad)} {NOT_A_US_STATE}; {_LEFT_OUT} (the cell is kept as an "
                "attribute)"
            )

    def _tags(self, tags: list[str], row: _Row) -> tuple[str, ...]:
        """The file's tags (too long ones left out) then the import's, at most MAX_TAGS."""
        kept: list[str] = []
        for tag in dict.fromkeys(tags):
            if len(tag) > MAX_TAG_LENGTH:
                row.warnings.append(
                    f"tag {echo(tag)} is longer than {MAX_TAG_LENGTH} characters; {_LEFT_OUT}"
                )
            elif tag not in self.extra_tags:
                kept.append(tag)
        room = max(MAX_TAGS - len(self.extra_tags), 0)
        for tag in kept[room:]:
            row.warnings.append(f"more than {MAX_TAGS} tags; tag {echo(tag)} was left out")
        return (*kept[:room], *self.extra_tags)


def _first_number(cell: str) -> str | None:
    """The first valid number of a cell (Google joins several with `` ::: ``), in E.164."""
    for part in cell.split(":::"):
        try:
            return to_e164(part)
        except InvalidPhoneNumber:
            continue
    return None


def _field_problem(name: str, cell: str) -> str | None:
    """Why ``cell`` cannot be the contact's ``name``, or ``None``."""
    if name == "email":
        try:
            check_email(cell)
        except ValueError:
            return f"invalid email {echo(cell)}"
    if name == "timezone" and not is_timezone(cell):
        return f"unknown time zone {echo(cell)}"
    if name != "timezone" and len(cell) > MAX_TEXT_FIELD_LENGTH:
        return f"{name} is longer than {MAX_TEXT_FIELD_LENGTH} characters"
    return None


# --- Encodings ---------------------------------------------------------------------------

_CHUNK = 256 * 1024
_HEAD = 64 * 1024
_WINDOW = 32 * 1024
_MAX_CANDIDATES = 3

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)

DETECTED_ENCODINGS = (
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
    "latin_1",
    "iso8859_2",
    "iso8859_15",
    "mac_roman",
    "koi8_r",
    "cp932",
    "shift_jis",
    "euc_jp",
    "gb18030",
    "big5",
    "cp949",
    "euc_kr",
    "utf_16",
    "utf_32",
)
"""The encodings ``charset-normalizer`` chooses among for a file that is not UTF-8: what
spreadsheets save a "CSV" in (Windows and Mac code pages, ISO-8859, the East Asian
multi-byte ones), not the DOS and EBCDIC pages a short sample may resemble as well."""

PREFERRED_ENCODING = "cp1252"
"""Chosen when ``charset-normalizer`` ranks it as likely as its first choice (a short
sample of Western text reads the same in several code pages): Excel's "CSV (Comma
delimited)" on Windows in the Americas and Western Europe."""


@dataclass(frozen=True)
class Encoding:
    """A file's encoding: the Python ``codec`` it is read with, and its ``label``, the
    stable lowercase name answered to the user (``"utf-8"``, ``"utf-16"``,
    ``"windows-1252"``, ``"iso-8859-1"``, ``"macintosh"``, ...)."""

    codec: str
    label: str


def encoding_label(codec: str) -> str:
    """The stable name of a Python codec, as the WHATWG Encoding Standard spells its
    labels (``"cp1252"`` -> ``"windows-1252"``, ``"latin_1"`` -> ``"iso-8859-1"``,
    ``"mac_roman"`` -> ``"macintosh"``, ``"utf_16_le"`` -> ``"utf-16le"``)."""
    name = codecs.lookup(codec).name
    if re.fullmatch(r"cp125\d", name):
        return "windows-" + name[2:]
    if name.startswith("iso8859-"):
        return "iso-8859-" + name.removeprefix("iso8859-")
    special = {
        "mac-roman": "macintosh",
        "koi8-r": "koi8-r",
        "cp932": "shift_jis",
        "cp949": "euc-kr",
        "utf-16-le": "utf-16le",
        "utf-16-be": "utf-16be",
        "utf-32-le": "utf-32le",
        "utf-32-be": "utf-32be",
    }
    return special.get(name, name.replace("_", "-"))


def _scan(open_source: Callable[[], BinaryIO], codec: str) -> tuple[int | None, bytes]:
    """Decode the whole file strictly with ``codec``, a chunk at a time: ``(None, head)``
    if it decodes, else ``(offset, sample)``: the offset of the first byte that does not,
    and the file's first 64 kB plus the 64 kB around that byte (from a line start)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    head = bytearray()
    offset = 0
    previous = b""
    with closing(open_source()) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if len(head) < _HEAD:
                head += chunk[: _HEAD - len(head)]
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, not chunk)
            except UnicodeDecodeError as error:
                bad = offset - pending + error.start
                after = stream.read(_WINDOW)
                base = offset - len(previous)
                buffer = previous + chunk + after
                start = max(bad - _WINDOW, len(head), base)
                window = buffer[start - base : max(bad - base + _WINDOW, start - base)]
                if start > len(head) and b"\n" in window[: _WINDOW // 2]:
                    window = window[window.index(b"\n") + 1 :]
                return bad, bytes(head) + window
            if not chunk:
                return None, bytes(head)
            offset += len(chunk)
            previous = chunk


def _candidates(sample: bytes) -> list[str]:
    """The codecs ``charset-normalizer`` finds ``sample`` may be in, most likely first
    (:data:`PREFERRED_ENCODING` first among those it ranks alike, and in place of any
    that decodes the sample to the same text).

    The detector is imported here, on the first file that is not UTF-8: the imports
    and contacts functions' cold starts (issue 16) need it for no UTF-8 file."""
    from charset_normalizer import from_bytes  # noqa: PLC0415 - see the docstring

    matches = list(from_bytes(sample, cp_isolation=list(DETECTED_ENCODINGS)))
    if not matches:
        return []
    best = (matches[0].chaos, matches[0].coherence)
    tied = [m for m in matches if (m.chaos, m.coherence) == best]
    if any(PREFERRED_ENCODING in m.could_be_from_charset for m in tied):
        matches.sort(key=lambda m: PREFERRED_ENCODING not in m.could_be_from_charset)
    found: list[str] = []
    for match in matches:
        codec = (
            PREFERRED_ENCODING
            if PREFERRED_ENCODING in match.could_be_from_charset
            else match.encoding
        )
        if codec not in found:
            found.append(codec)
    return found


def detect_encoding(open_source: Callable[[], BinaryIO]) -> Encoding:
    """The encoding of the file ``open_source()`` opens (issue 17, point 2).

    UTF-8 (a byte-order mark or none) when the whole file decodes as UTF-8; else UTF-32
    or UTF-16 when the file starts with their byte-order mark and decodes; else the first
    of :func:`_candidates` (``charset-normalizer`` on a sample: the file's start and the
    bytes around its first non-UTF-8 one) that decodes the whole file. Each check streams
    the file once, a chunk at a time. :class:`BadRequest` when none decodes it.
    """
    bad, sample = _scan(open_source, "utf-8")
    if bad is None:
        return Encoding("utf-8-sig", "utf-8")
    tried: list[str] = []
    for bom, codec, label in _BOMS:
        if sample.startswith(bom):
            if _scan(open_source, codec)[0] is None:
                return Encoding(codec, label)
            tried.append(codec)
            break
    for codec in [c for c in _candidates(sample) if c not in tried][:_MAX_CANDIDATES]:
        if _scan(open_source, codec)[0] is None:
            return Encoding(codec, encoding_label(codec))
    raise BadRequest(
        f"The CSV's text encoding cannot be recognised: byte {bad} is not UTF-8, and no "
        'common encoding reads the whole file. Save it as "CSV UTF-8" and upload it again.'
    )


# --- Reading -----------------------------------------------------------------------------


def _text(stream: BinaryIO, codec: str) -> io.TextIOWrapper:
    """``stream`` (any :class:`io.IOBase` binary stream: an :class:`io.BytesIO`, a
    botocore ``StreamingBody``) decoded as ``codec`` (strict) a chunk at a time, line
    endings kept for :mod:`csv`; closing it closes ``stream``."""
    return io.TextIOWrapper(stream, encoding=codec, errors="strict", newline="")


def detect_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into the most columns (comma on a tie)."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))


def _sep_line(line: str) -> str | None:
    """The delimiter an Excel ``sep=;`` first line names, or ``None`` for another line."""
    match = _SEP_LINE.fullmatch(line)
    if match is None:
        return None
    return "\t" if match.group(1) == "\\t" else match.group(1)


def _open_table(
    open_source: Callable[[], BinaryIO], codec: str
) -> tuple[list[str], Iterator[list[str] | None], io.TextIOWrapper]:
    """The header cells and the data records (``None`` for one that cannot be parsed) of
    the file, read as ``codec``: a ``sep=`` first line honoured and skipped, blank lines
    before the header skipped; and the open text stream (the records close it when
    read to the end). :class:`BadRequest` for a file with no header."""
    text = _text(open_source(), codec)
    try:
        lines: Iterator[str] = iter(text)
        first = next(lines, "")
        delimiter = _sep_line(first)
        if delimiter is None:
            lines = chain([first], lines)
        header_line = next((line for line in lines if line.strip()), None)
        if header_line is None:
            raise BadRequest("The CSV is empty.")
        reader = csv.reader(
            chain([header_line], lines), delimiter=delimiter or detect_delimiter(header_line)
        )
        try:
            headers = next(reader)
        except csv.Error as error:
            raise BadRequest(f"The CSV header cannot be read: {error}") from error
    except UnicodeDecodeError as error:
        text.close()
        raise BadRequest(f"The CSV is not {encoding_label(codec)} after all: {error}") from error
    except BaseException:
        text.close()
        raise
    return headers, _records(reader, text, codec), text


def _records(
    reader: Iterator[list[str]], text: io.TextIOWrapper, codec: str
) -> Iterator[list[str] | None]:
    with text:
        while True:
            try:
                yield next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield None
            except UnicodeDecodeError as error:
                raise BadRequest(
                    f"The CSV is not {encoding_label(codec)} after all: {error}"
                ) from error


class CsvReader:
    """A contacts CSV opened by :func:`open_csv`: its ``encoding`` (a stable lowercase
    name: ``"utf-8"``, ``"utf-16"``, ``"windows-1252"``, ...), its ``headers`` (the header
    cells as in the file), and, iterated, its data rows in file order.

    Each iteration reads the file anew, streamed: an :class:`ImportRow` per data row
    that has a valid number, a :class:`~outreach.contacts.domain.RowError` per row that
    cannot be imported, numbered from 1 at the first data row (blank rows are skipped
    but counted). After ``max_rows`` rows, one ``RowError`` says the rest was not read.
    """

    encoding: str
    headers: list[str]

    def __init__(
        self,
        open_source: Callable[[], BinaryIO],
        encoding: Encoding,
        *,
        extra_tags: tuple[str, ...],
        phone_column: str | None,
        max_rows: int,
    ) -> None:
        self._open_source = open_source
        self._codec = encoding.codec
        self._max_rows = max_rows
        self.encoding = encoding.label
        self.headers, records, text = _open_table(open_source, encoding.codec)
        try:
            self._reading = _Reading(_plan(self.headers, phone_column), extra_tags)
        except BaseException:
            text.close()
            raise
        self._pending: Iterator[list[str] | None] | None = records

    def __iter__(self) -> Iterator[ImportRow | RowError]:
        records = self._pending
        self._pending = None
        if records is None:
            records = _open_table(self._open_source, self._codec)[1]
        return self._rows(records)

    def _rows(self, records: Iterable[list[str] | None]) -> Iterator[ImportRow | RowError]:
        for number, cells in enumerate(records, start=1):
            if number > self._max_rows:
                yield RowError(number, f"more than {self._max_rows} rows; the rest was not read")
                return
            if cells is None:
                yield RowError(number, "the row cannot be parsed")
            elif any(cell.strip() for cell in cells):
                yield self._reading.row(number, cells)


def open_csv(
    open_source: Callable[[], BinaryIO],
    *,
    extra_tags: tuple[str, ...] = (),
    phone_column: str | None = None,
    max_rows: int = MAX_ROWS,
) -> CsvReader:
    """Open the contacts CSV that ``open_source()`` opens (a new binary stream at byte 0
    on each call: an S3 ``GetObject`` body, an :class:`io.BytesIO`), streamed.

    The encoding is found first (:func:`detect_encoding`: one or more passes over the
    file), then the header is read; the rows are read when the reader is iterated.
    ``extra_tags`` are added to every row (normalised); ``phone_column`` names the one
    column numbers are read from (matched ignoring case, spaces and punctuation);
    ``max_rows`` bounds the rows read.

    :class:`BadRequest` for a file that cannot be used, its message naming the file's
    headers where that helps: empty, in no encoding recognised, no phone column (the
    accepted phone headers listed), or a ``phone_column`` that names none of them.
    """
    return CsvReader(
        open_source,
        detect_encoding(open_source),
        extra_tags=extra_tags,
        phone_column=phone_column,
        max_rows=max_rows,
    )


def parse_csv(
    body: bytes, extra_tags: tuple[str, ...] = (), phone_column: str | None = None
) -> ParsedCsv:
    """Read a whole CSV held in memory (:func:`open_csv` over ``body``), collecting its
    rows, row errors and row warnings; a bad row never aborts the rest."""
    reader = open_csv(lambda: io.BytesIO(body), extra_tags=extra_tags, phone_column=phone_column)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    warnings: list[RowWarning] = []
    for item in reader:
        if isinstance(item, RowError):
            errors.append(item)
        else:
            rows.append(item)
            warnings.extend(RowWarning(item.number, warning) for warning in item.warnings)
    return ParsedCsv(rows=rows, errors=errors, warnings=warnings, encoding=reader.encoding)
