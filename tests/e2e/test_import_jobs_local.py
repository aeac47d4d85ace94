"""Import jobs through the local stack, as the README's "Large imports" section does them.

The session's `make dev` (:func:`tests.support.readme_stack.shared_readme_stack`, started
exactly as the README's first command starts it) over HTTP only: a new owner creates a
job (`POST /v1/imports`), posts a small CSV with a bad email and two bad rows to the
presigned form (the embedded S3 on loopback) as a client does, and follows
`GET /v1/imports/{id}` until the local stack, which imports uploads as they land, has run
it. Then the counts, the error report fetched through its presigned link, the contacts
listed by the job's tag, and the job in `GET /v1/imports`.

Re-run: ``.venv/bin/pytest -q -p no:randomly tests/e2e/test_import_jobs_local.py -n 0``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time as timer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests

from tests.support.readme_stack import shared_readme_stack

__all__ = ["shared_readme_stack"]  # the session's stack, a fixture of this module too

README = Path(__file__).resolve().parents[2] / "README.md"
PASSWORD = "correct horse battery"
DONE_WITHIN_SECONDS = 60.0
TAG = "e2e spring leads"

# Five data rows: row 2 has a bad email (kept without it, a warning), row 3 no phone and
# row 4 a phone that is none (errors); three contacts are created.
CONTACTS_CSV = (
    b"Phone Number,First Name,Email,Favorite Color\r\n"
    b"(617) 555-0101,Ana,ana@example.com,blue\r\n"
    b"617.555.0102,Bo,not-an-email,green\r\n"
    b",Cy,cy@example.com,red\r\n"
    b"not a phone,Di,,\r\n"
    b"+1 206 555 0103,Ed,ed@example.com,\r\n"
)


def readme_bulk_tag_example() -> tuple[dict[str, Any], dict[str, Any]]:
    """The body the README's bulk-tag example posts and the answer its comment shows."""
    text = README.read_text()
    section = text[text.index("## Exports from CRM tools") :]
    example = re.search(
        r"curl -s -X POST \"\$API/v1/contacts/tags\".*?-d '(\{.*?\})'\n# (\{.*?\})\n", section, re.S
    )
    assert example, "the README shows a bulk-tag call and its answer"
    return json.loads(example.group(1)), json.loads(example.group(2))


def check_readme_bulk_tag(base: str, headers: dict[str, str], phones: set[str]) -> None:
    """The README's bulk-tag example on the job's contacts (``phones``), answered as the
    README shows, then the contacts listed by the added tag, two to a page."""
    body, shown = readme_bulk_tag_example()
    body["tag"] = TAG
    tagged = httpx.post(f"{base}/v1/contacts/tags", headers=headers, json=body, timeout=30)
    assert tagged.status_code == 200, tagged.text
    answer = tagged.json()
    assert set(answer) == set(shown), (answer, shown)
    assert answer == {"matched": 3, "changed": 3, "skipped": [], "skipped_count": 0}
    again = httpx.post(f"{base}/v1/contacts/tags", headers=headers, json=body, timeout=30)
    assert again.json() == {"matched": 3, "changed": 0, "skipped": [], "skipped_count": 0}
    added = body["add"][0]
    listed = httpx.get(
        f"{base}/v1/contacts", headers=headers, params={"tag": added, "limit": "2"}, timeout=30
    )
    assert listed.status_code == 200, listed.text
    first = listed.json()
    rest = httpx.get(
        f"{base}/v1/contacts",
        headers=headers,
        params={"tag": added, "limit": "2", "cursor": first["next_cursor"]},
        timeout=30,
    ).json()
    assert rest["next_cursor"] is None
    listed_phones = {item["phone"] for item in first["items"] + rest["items"]}
    assert listed_phones == phones


def owner_headers(base: str) -> dict[str, str]:
    """A new organization's owner, registered and logged in: the bearer header."""
    email = f"importer-{timer.time_ns()}@example.com"
    registered = httpx.post(
        f"{base}/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "full_name": "Importer",
            "organization_name": "Acme Imports",
        },
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    login = httpx.post(
        f"{base}/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert login.status_code == 200, login.text
    return {"authorization": f"Bearer {login.json()['access_token']}"}


def wait_until_finished(base: str, headers: dict[str, str], import_id: str) -> dict[str, Any]:
    """``GET /v1/imports/{id}`` until the job is done or failed (at most
    :data:`DONE_WITHIN_SECONDS`); the last answer."""
    deadline = timer.monotonic() + DONE_WITHIN_SECONDS
    while True:
        answer = httpx.get(f"{base}/v1/imports/{import_id}", headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["status"] in ("done", "failed"):
            return job
        assert job["status"] in ("waiting_upload", "running"), job
        assert timer.monotonic() < deadline, (
            f"the job is still {job['status']} after {DONE_WITHIN_SECONDS:g} s: {job}"
        )
        timer.sleep(0.5)


@pytest.mark.slow
@pytest.mark.loopback
@pytest.mark.enable_socket
def test_an_upload_to_the_local_stack_is_imported_as_it_lands(shared_readme_stack: str) -> None:
    base = shared_readme_stack
    headers = owner_headers(base)

    created = httpx.post(f"{base}/v1/imports", headers=headers, json={"tags": [TAG]}, timeout=30)
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["status"] == "waiting_upload"
    form = job["upload"]
    assert (form["method"], form["file_field"]) == ("POST", "file")
    assert urlsplit(form["url"]).hostname == "127.0.0.1", "the embedded S3, on loopback"

    # As a browser or `curl -F` does: the form's fields, then the file as the last part.
    posted = requests.post(
        form["url"],
        data=form["fields"],
        files={form["file_field"]: ("contacts.csv", CONTACTS_CSV, "text/csv")},
        timeout=30,
    )
    assert posted.status_code in (200, 201, 204), posted.text

    done = wait_until_finished(base, headers, job["id"])
    assert done["status"] == "done", done
    assert done["failure"] is None and done["encoding"] == "utf-8"
    counts = ("rows", "created", "updated", "skipped", "error_count", "warning_count")
    assert {name: done[name] for name in counts} == {
        "rows": 5,
        "created": 3,
        "updated": 0,
        "skipped": 0,
        "error_count": 2,
        "warning_count": 1,
    }, done
    assert [error["row"] for error in done["errors"]] == [3, 4]
    assert [warning["row"] for warning in done["warnings"]] == [2]
    assert "email" in done["warnings"][0]["warning"]

    # The whole report, through its presigned link (no bearer token), as a user opens it.
    assert done["error_report_url"], done
    report = requests.get(done["error_report_url"], timeout=30)
    assert report.status_code == 200, report.text
    assert report.content.startswith(b"\xef\xbb\xbf"), "a byte-order mark, for spreadsheets"
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0] == ["row", "severity", "message"]
    assert [(line[0], line[1]) for line in lines[1:]] == [
        ("2", "warning"),
        ("3", "error"),
        ("4", "error"),
    ]
    assert "phone" in lines[2][2] and "not a phone" in lines[3][2]

    # The contacts, listed by the job's tag; the bad email left out, the extra column kept.
    listed = httpx.get(
        f"{base}/v1/contacts", headers=headers, params={"tag": TAG, "limit": "50"}, timeout=30
    )
    assert listed.status_code == 200, listed.text
    contacts = {item["phone"]: item for item in listed.json()["items"]}
    assert set(contacts) == {"+16175550101", "+16175550102", "+12065550103"}
    assert contacts["+16175550101"]["email"] == "ana@example.com"
    assert contacts["+16175550102"]["email"] is None
    assert contacts["+16175550102"]["attributes"] == {"favorite_color": "green"}
    assert all(item["tags"] == [TAG] for item in contacts.values())

    jobs = httpx.get(f"{base}/v1/imports", headers=headers, timeout=30)
    assert jobs.status_code == 200, jobs.text
    assert [(item["id"], item["status"]) for item in jobs.json()["items"]] == [(job["id"], "done")]

    check_readme_bulk_tag(base, headers, set(contacts))
