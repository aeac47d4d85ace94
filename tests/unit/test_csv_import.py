"""The contacts CSV reader (``outreach.contacts.csv_import``; issue 17, points 1-3).

Encoding detection (a byte-order mark, strict UTF-8 over the whole stream, then
``charset-normalizer``), Excel's ``sep=`` line, header matching, the phone each row
takes, fields named twice, attribute keys, tags, forgiving rows, and that a large file
is streamed rather than read whole.
"""

from __future__ import annotations

import codecs
import io
import tracemalloc
from collections.abc import Buffer
from typing import BinaryIO

import pytest
from botocore.response import StreamingBody

from outreach.contacts.csv_import import (
    MAX_ROWS,
    CsvReader,
    ImportRow,
    canonical_header,
    detect_encoding,
    encoding_label,
    header_key,
    open_csv,
    parse_csv,
    split_tags,
)
from outreach.contacts.domain import MAX_ATTRIBUTE_VALUE_LENGTH, RowError, RowWarning
from outreach.errors import BadRequest
from outreach.validation import echo


class Source:
    """An ``open_source`` over ``body`` that counts how often the file is opened."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.opened = 0

    def __call__(self) -> BinaryIO:
        self.opened += 1
        return io.BytesIO(self.body)


def read_all(reader: CsvReader) -> tuple[list[ImportRow], list[RowError]]:
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    for item in reader:
        if isinstance(item, RowError):
            errors.append(item)
        else:
            rows.append(item)
    return rows, errors


def only_row(text: str, **options: str) -> ImportRow:
    parsed = parse_csv(text.encode(), phone_column=options.get("phone_column"))
    assert parsed.errors == []
    (row,) = parsed.rows
    return row


# --- Encodings -----------------------------------------------------------------------------


def test_utf_8_with_and_without_a_byte_order_mark_is_utf_8() -> None:
    plain = "phone,name\n6175550100,Zoë\n".encode()
    for body in (plain, codecs.BOM_UTF8 + plain):
        source = Source(body)
        reader = open_csv(source)
        assert (reader.encoding, reader.headers) == ("utf-8", ["phone", "name"])
        rows, _ = read_all(reader)
        assert rows[0].attributes == {"name": "Zoë"}
        assert source.opened == 2  # the UTF-8 check, then the rows


def test_a_utf_8_file_whose_only_non_ascii_character_is_far_past_the_start() -> None:
    body = b"phone,name,notes\n" + (b"6175550100,Ann," + b"n" * 400 + b"\n") * 700
    body += "6175550101,Zoë,\n".encode()
    assert body.index("ë".encode()) > 250_000
    parsed = parse_csv(body)
    assert parsed.encoding == "utf-8"
    assert parsed.rows[-1].attributes == {"name": "Zoë"}


def test_a_windows_1252_byte_after_100_kb_of_ascii_is_found() -> None:
    body = b"phone,name,notes\n" + (b"6175550100,Ann," + b"n" * 400 + b"\n") * 300
    body += "6175550101,José,\n".encode("cp1252")
    assert body.index(b"\xe9") > 100 * 1024
    source = Source(body)
    reader = open_csv(source)
    assert reader.encoding == "windows-1252"
    rows, errors = read_all(reader)
    assert errors == []
    assert rows[-1].attributes == {"name": "José"}
    assert source.opened == 3  # the UTF-8 check, the Windows-1252 check, the rows


@pytest.mark.parametrize(
    "name",
    ["José", "Peña", "Zoë Müller", "\u201cBo\u201d \u2013 Ça va", "Ørsted Æbelø"],
)
def test_excel_s_western_csv_is_windows_1252(name: str) -> None:
    """A short file of Western text reads the same in several code pages: the one
    Excel writes in the Americas and Western Europe is taken."""
    parsed = parse_csv(f"Phone,First Name\n6175550100,{name}\n".encode("cp1252"))
    assert parsed.encoding == "windows-1252"
    assert parsed.rows[0].fields == {"first_name": name}


def test_a_longer_polish_file_is_read_as_windows_1250() -> None:
    people = [
        ("Łukasz Wójcik", "Łódź"),
        ("Małgorzata Kowalczyk", "Wrocław"),
        ("Grzegorz Brzęczyszczykiewicz", "Gdańsk"),
        ("Józef Żółć", "Kraków"),
        ("Bożena Śliwińska", "Poznań"),
        ("Paweł Lewandowski", "Białystok"),
    ]
    text = "phone,name,city\n" + "".join(
        f"61755501{i:02d},{name},{city}\n" for i, (name, city) in enumerate(people * 5)
    )
    parsed = parse_csv(text.encode("cp1250"))
    assert parsed.encoding == "windows-1250"
    assert parsed.rows[0].attributes == {"name": "Łukasz Wójcik", "city": "Łódź"}


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf_16_with_a_byte_order_mark(codec: str) -> None:
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    body = bom + "Phone\tFirst Name\r\n6175550100\tZoë\r\n".encode(codec)
    parsed = parse_csv(body)
    assert parsed.encoding == "utf-16"
    assert parsed.rows[0].fields == {"first_name": "Zoë"}


def test_a_file_no_encoding_reads_is_a_400() -> None:
    with pytest.raises(BadRequest, match="encoding cannot be recognised: byte 3 is not UTF-8"):
        detect_encoding(Source(b"\x00\x01\x02\xff\xfe\x80\x81" * 50))


def test_encoding_labels_are_stable_lowercase_names() -> None:
    assert encoding_label("cp1252") == "windows-1252"
    assert encoding_label("latin_1") == "iso-8859-1"
    assert encoding_label("mac_roman") == "macintosh"
    assert encoding_label("utf_16_le") == "utf-16le"


def test_an_s3_body_is_streamed_and_closed() -> None:
    body = "phone,name\n6175550100,José\n".encode("cp1252")
    streams: list[io.BytesIO] = []

    def open_source() -> BinaryIO:
        streams.append(io.BytesIO(body))
        return StreamingBody(streams[-1], len(body))  # type: ignore[return-value]

    rows, errors = read_all(open_csv(open_source))
    assert (errors, rows[0].attributes) == ([], {"name": "José"})
    assert len(streams) == 3  # the UTF-8 check, the Windows-1252 check, the rows
    assert all(stream.closed for stream in streams)


def test_a_large_file_is_streamed_not_read_whole() -> None:
    """A 20 MB file, generated as it is read, is read with a peak of a few megabytes."""
    columns = [f"c{index}" for index in range(40)]
    header = ",".join(["phone", "first_name", *columns]).encode() + b"\n"
    line = ",".join(["+1 617 555 0100", "Ann", *["x" * 500] * len(columns)]).encode() + b"\n"
    rows = 20 * 1024 * 1024 // len(line)

    def open_source() -> BinaryIO:
        return _Generated(header, line, rows)  # type: ignore[return-value]

    tracemalloc.start()
    try:
        reader = open_csv(open_source, max_rows=MAX_ROWS)
        count = sum(1 for item in reader if isinstance(item, ImportRow))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = len(header) + rows * len(line)
    assert size > 20 * 1024 * 1024 - len(line)
    assert count == rows
    assert peak < size / 4, f"peak {peak / 2**20:.1f} MB reading {size / 2**20:.1f} MB"


class _Generated(io.RawIOBase):
    """A file of ``header`` then ``count`` times ``line``, made as it is read."""

    def __init__(self, header: bytes, line: bytes, count: int) -> None:
        self._pending = header
        self._line = line
        self._left = count

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer, /) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._pending) < len(view) and self._left:
            batch = min(self._left, max(len(view) // len(self._line), 1))
            self._pending += self._line * batch
            self._left -= batch
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


# --- Delimiters and sep= ----------------------------------------------------------------------


@pytest.mark.parametrize(("line", "delimiter"), [("sep=;", ";"), ("sep=,", ","), ("sep=\t", "\t")])
def test_an_excel_sep_line_names_the_delimiter(line: str, delimiter: str) -> None:
    text = f"{line}\r\n" + delimiter.join(["Phone", "First Name", "Company"]) + "\r\n"
    text += delimiter.join(["6175550100", "Ann", '"A, B; C"']) + "\r\n"
    parsed = parse_csv(text.encode())
    assert parsed.errors == []
    assert parsed.rows[0].fields == {"first_name": "Ann", "company": "A, B; C"}


def test_a_sep_line_alone_is_an_empty_file() -> None:
    with pytest.raises(BadRequest, match="The CSV is empty"):
        parse_csv(b"sep=,\r\n")


# --- Headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Phone 1 - Value", "phone"),
        ("Mobile Phone Number", "phone"),
        ("MobilePhone", "phone"),
        ("Business Phone 2", "phone"),
        ("Phone - mobile", "phone"),
        ("E-mail 1 - Value", "email"),
        ("E-mail 2 Address", "email"),
        ("Email Address", "email"),
        ("Given Name", "first_name"),
        ("FNAME", "first_name"),
        ("Family Name", "last_name"),
        ("Company Name", "company"),
        ("Organization 1 - Name", "company"),
        ("Labels", "tags"),
        ("Group Membership", "tags"),
        ("Categories", "tags"),
        ("State/Region", "state"),
        ("Mailing State/Province", "state"),
        ("Address 1 - Region", "region"),
        ("Time Zone", "timezone"),
        ("Business Fax", None),
        ("Pager", None),
        ("Contact owner", None),
    ],
)
def test_the_headers_of_real_exports_are_recognised(header: str, field: str | None) -> None:
    assert canonical_header(header) == field


def test_header_keys_fold_case_accents_spacing_punctuation_and_numbers() -> None:
    assert header_key("E-mail 2 Address") == header_key("email_address") == "emailaddress"
    assert header_key("Código Postal") == "codigopostal"


def test_extra_columns_are_attributes_under_normalised_keys_with_their_headers() -> None:
    row = only_row("Phone,Contact owner,Favorite Color,lead_source\n6175550100,Sam,Teal,Web\n")
    assert row.attributes == {
        "contact_owner": "Sam",
        "favorite_color": "Teal",
        "lead_source": "Web",
    }
    assert row.attribute_labels == {
        "contact_owner": "Contact owner",
        "favorite_color": "Favorite Color",
    }


def test_a_header_with_no_key_or_a_key_already_taken_is_left_out_with_a_warning() -> None:
    row = only_row("phone,***,Lead Source,lead-source\n6175550100,x,Web,Fair\n")
    assert row.attributes == {"lead_source": "Web"}
    assert row.warnings == (
        "column '***' has no letter or digit to name it; its cell was left out",
        "column 'lead-source' is stored as 'lead_source' like an earlier column; "
        "its cell was left out",
    )


def test_a_too_long_attribute_is_left_out_and_the_row_kept() -> None:
    long = "v" * (MAX_ATTRIBUTE_VALUE_LENGTH + 1)
    row = only_row(f"phone,Notes,Owner\n6175550100,{long},Sam\n")
    assert row.attributes == {"owner": "Sam"}
    assert row.warnings == (
        f"the 'Notes' cell is longer than {MAX_ATTRIBUTE_VALUE_LENGTH} characters; "
        "the row was imported without it",
    )


# --- The phone of each row ---------------------------------------------------------------------


def test_each_row_takes_its_first_mobile_number_then_general_work_home_other() -> None:
    text = (
        "Other Phone,Home Phone,Business Phone,Phone,Mobile Phone,Cell\n"
        "6175550101,6175550102,6175550103,6175550104,6175550105,6175550106\n"
        "6175550101,6175550102,6175550103,6175550104,,\n"
        "6175550101,6175550102,6175550103,,,\n"
        "6175550101,6175550102,,,,\n"
        "6175550101,,,,not a number,\n"
    )
    parsed = parse_csv(text.encode())
    assert [row.phone for row in parsed.rows] == [
        "+16175550105",
        "+16175550104",
        "+16175550103",
        "+16175550102",
        "+16175550101",
    ]
    first = parsed.rows[0]
    assert first.attributes == {
        "cell": "6175550106",
        "phone": "6175550104",
        "business_phone": "6175550103",
        "home_phone": "6175550102",
        "other_phone": "6175550101",
    }
    assert parsed.rows[-1].attributes == {"mobile_phone": "not a number"}


def test_google_s_type_column_says_which_number_is_the_mobile() -> None:
    text = (
        "First Name,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value\n"
        "Ann,Work,6175550101,* Mobile,6175550102\n"
        "Bo,Mobile,6175550103,Home,6175550104\n"
        "Cy,Work Fax,6175550105,,\n"
    )
    parsed = parse_csv(text.encode())
    assert [row.phone for row in parsed.rows] == ["+16175550102", "+16175550103"]
    assert parsed.rows[0].attributes == {"phone_1_value": "6175550101"}  # labels not kept
    assert parsed.errors == [RowError(3, "no phone number")]


def test_several_bad_numbers_are_named_in_the_row_error() -> None:
    parsed = parse_csv(b"Mobile,Phone\nnope,12\n")
    message = "no valid phone number: 'nope' ('Mobile'), '12' ('Phone')"
    assert parsed.errors == [RowError(1, message)]


def test_phone_column_overrides_the_choice_and_is_matched_loosely() -> None:
    text = "Phone Number,Mobile Phone\n6175550101,6175550102\n"
    row = only_row(text, phone_column="phone_number")
    assert row.phone == "+16175550101"
    assert row.attributes == {"mobile_phone": "6175550102"}
    # Any column can be named, numbering included
    text = "ID,Phone 1 - Value,Phone 2 - Value,Direct Line\n1,6175550101,6175550102,6175550103\n"
    assert only_row(text, phone_column="phone 2 - value").phone == "+16175550102"
    assert only_row(text, phone_column="DIRECT LINE").phone == "+16175550103"


def test_an_unknown_phone_column_is_a_400_listing_the_headers() -> None:
    with pytest.raises(BadRequest) as raised:
        parse_csv(b"Phone,Mobile\n6175550101,6175550102\n", phone_column="Fax")
    assert str(raised.value) == (
        "phone_column 'Fax' names no column of the CSV (its headers: 'Phone', 'Mobile')."
    )


def test_no_phone_column_is_a_400_naming_the_headers_and_the_accepted_ones() -> None:
    with pytest.raises(BadRequest) as raised:
        parse_csv(b"Name,Email\nAnn,ann@example.com\n")
    message = str(raised.value)
    assert message.startswith("The CSV has no phone column (its headers: 'Name', 'Email'; ")
    assert "Mobile Phone" in message and "Phone 1 - Value" in message


# --- Fields named twice, bad optional cells ----------------------------------------------------


def test_a_field_named_twice_takes_the_first_good_cell() -> None:
    text = (
        "phone,Email,E-mail 2 Address,E-mail 3 Address\n"
        "6175550100,bad,a@example.com,b@example.com\n"
    )
    row = only_row(text)
    assert row.fields == {"email": "a@example.com"}
    assert row.attributes == {"e_mail_3_address": "b@example.com"}
    assert row.warnings == ("invalid email 'bad'; the row was imported without it",)


def test_a_bad_optional_cell_is_left_out_and_the_row_kept() -> None:
    text = "phone,first_name,email,timezone,company\n6175550100,Ann,x@,Nowhere/Land," + "c" * 201
    parsed = parse_csv(text.encode())
    assert parsed.errors == []
    (row,) = parsed.rows
    assert row.fields == {"first_name": "Ann"}
    assert parsed.warnings == [
        RowWarning(1, "invalid email 'x@'; the row was imported without it"),
        RowWarning(1, "unknown time zone 'Nowhere/Land'; the row was imported without it"),
        RowWarning(1, "company is longer than 200 characters; the row was imported without it"),
    ]


def test_state_columns_of_an_outlook_export() -> None:
    row = only_row("phone,Home State,Business State,Other State\n6175550100,Ontario,ny,Texas\n")
    assert row.fields == {"state": "NY"}
    assert row.attributes == {"home_state": "Ontario", "other_state": "Texas"}
    assert row.warnings == ()


# --- Tags -----------------------------------------------------------------------------------


def test_tags_are_split_on_every_separator_and_google_s_all_contacts_label_dropped() -> None:
    assert split_tags("* myContacts ::: Leads ::: * starred") == ["leads", "starred"]
    assert split_tags('"Customer","VIP"') == ["customer", "vip"]
    assert split_tags("a; b | c, A") == ["a", "b", "c", "a"]


def test_every_tag_column_adds_tags_and_the_import_s_come_last() -> None:
    parsed = parse_csv(
        b"phone,Labels,Categories\n6175550100,* myContacts ::: Leads,VIP;leads\n",
        extra_tags=("Imported",),
    )
    assert parsed.rows[0].tags == ("leads", "vip", "imported")


# --- Rows -----------------------------------------------------------------------------------


def test_empty_cells_beyond_the_header_are_fine_others_are_a_row_error() -> None:
    parsed = parse_csv(b"phone,name\n6175550100,Ann,,\n6175550101,Bo,, x\n6175550102\n")
    assert [row.number for row in parsed.rows] == [1, 3]
    assert parsed.errors == [RowError(2, "4 cells but 2 columns")]


def test_more_rows_than_max_rows_stop_with_one_error() -> None:
    body = b"phone\n" + b"6175550100\n" * 5
    rows, errors = read_all(open_csv(Source(body), max_rows=3))
    assert [row.number for row in rows] == [1, 2, 3]
    assert errors == [RowError(4, "more than 3 rows; the rest was not read")]


def test_the_reader_can_be_read_twice() -> None:
    source = Source(b"phone,name\n6175550100,Ann\n,\n6175550101,Bo\n")
    reader = open_csv(source, extra_tags=("x",))
    first, second = read_all(reader), read_all(reader)
    assert first == second
    assert [row.number for row in first[0]] == [1, 3]  # a blank row is skipped, counted


def test_a_row_error_quotes_at_most_100_characters_of_a_cell() -> None:
    cell = "1" * 5000
    assert parse_csv(f"Mobile,Phone\n{cell},{cell}\n".encode()).errors[0].error.count("1") == 200
    assert echo(cell).count("1") == 100
