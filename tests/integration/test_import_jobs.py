"""Import jobs (issue 17, point 6): ``POST /v1/imports`` answers an S3 upload form, the
upload's arrival runs the imports function, ``GET /v1/imports/{id}`` follows it.

On moto: the contacts function's handler (with real logins), the upload posted to the
presigned form as a client would (``requests``, which moto intercepts), and the imports
function's handler called with the EventBridge event S3 sends. Faults are injected
into the run (an error after a chunk's contacts are written in part, a run stopped for
time, a second delivery of the event) to show that a crash resumes with no row imported
twice, none lost, and the organization's import lease released.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

from outreach.clock import SimulatedClock, SystemClock
from outreach.contacts.service import ContactService
from outreach.data.models import ContactModel, ContactPhoneModel, ImportModel
from outreach.imports.domain import MAX_REPORTED, MAX_UPLOAD_BYTES, ImportStatus
from outreach.imports.repository import ImportRepository
from outreach.imports.runner import RunContinues, build_import_runner
from outreach_local.runtime import LocalLambdaContext
from outreach_local.uploads import object_created_event
from tests.integration.identity_support import Account
from tests.support.api import ApiClient
from tests.support.iam_replay import function_handler


@pytest.fixture
def api(aws: None, imports_bucket: str, lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("contacts", lambda_context)


def rows_csv(count: int, *, start: int = 0, bad_every: int = 0) -> bytes:
    """``count`` data rows with distinct 555 numbers; every ``bad_every``-th has no phone."""
    lines = ["Phone Number,First Name,Email,Favorite Color"]
    for n in range(start, start + count):
        phone = "" if bad_every and n % bad_every == bad_every - 1 else f"+1617555{n:04d}"
        lines.append(f"{phone},Person {n},person{n}@example.com,blue")
    return ("\r\n".join(lines) + "\r\n").encode()


def create_job(
    api: ApiClient, owner: Account, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"headers": owner.auth}
    if body is not None:
        kwargs["body"] = body
    created = api.call("POST", "/v1/imports", **kwargs)
    assert created.status == 201, created.text
    answer: dict[str, Any] = created.json()
    return answer


def upload(
    job: dict[str, Any], content: bytes, filename: str = "contacts.csv"
) -> requests.Response:
    """Post ``content`` to the job's form as a browser or ``curl -F`` would."""
    form = job["upload"]
    return requests.post(
        form["url"],
        data=form["fields"],
        files={form["file_field"]: (filename, content, "text/csv")},
        timeout=10,
    )


def arrival(bucket: str, job: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge event S3 sends once the job's upload landed."""
    key = job["upload"]["fields"]["key"]
    head = boto3.client("s3", region_name="us-east-1").head_object(Bucket=bucket, Key=key)
    return object_created_event(
        bucket, key, head["ContentLength"], head["ETag"].strip('"'), region="us-east-1"
    )


def run_imports(event: dict[str, Any]) -> Any:
    return function_handler("imports")(event, LocalLambdaContext(function_name="imports"))


def get_job(api: ApiClient, owner: Account, import_id: str) -> dict[str, Any]:
    answer = api.call("GET", f"/v1/imports/{import_id}", headers=owner.auth)
    assert answer.status == 200, answer.text
    job: dict[str, Any] = answer.json()
    return job


def stored_phones(org_id: str) -> list[str]:
    return [item.phone for item in ContactModel.query(org_id)]


def test_an_upload_is_imported_when_it_lands(
    api: ApiClient, owner: Account, imports_bucket: str
) -> None:
    job = create_job(api, owner, {"tags": ["Spring Leads"]})
    assert job["status"] == "waiting_upload"
    assert set(job["upload"]["fields"]) >= {"key", "policy", "Content-Type", "x-amz-signature"}
    waiting = get_job(api, owner, job["id"])
    assert waiting["status"] == "waiting_upload" and waiting["rows"] == 0

    content = rows_csv(30, bad_every=10)
    assert upload(job, content).status_code == 204
    outcome = run_imports(arrival(imports_bucket, job))
    assert outcome["imported"] is True and outcome["status"] == "done"

    done = get_job(api, owner, job["id"])
    assert done["status"] == "done"
    assert (done["rows"], done["created"], done["updated"], done["skipped"]) == (30, 27, 0, 0)
    assert done["error_count"] == 3 and [e["row"] for e in done["errors"]] == [10, 20, 30]
    assert done["encoding"] == "utf-8"
    assert done["tags"] == ["spring leads"]
    org_id = owner.organization["id"]
    assert len(stored_phones(org_id)) == 27
    listed = api.call(
        "GET", "/v1/contacts", headers=owner.auth, query={"tag": "spring leads", "limit": "200"}
    )
    assert len(listed.json()["items"]) == 27
    # The whole report, fetched through the presigned link as a user's browser would.
    report = requests.get(done["error_report_url"], timeout=10)
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0] == ["row", "severity", "message"]
    assert [line[0] for line in lines[1:]] == ["10", "20", "30"]
    assert {line[1] for line in lines[1:]} == {"error"}
    # The uploaded file is not kept once imported.
    s3 = boto3.client("s3", region_name="us-east-1")
    assert "Contents" not in s3.list_objects_v2(Bucket=imports_bucket, Prefix="uploads/")
    # A second delivery of the same event changes nothing.
    assert run_imports(arrival_after_import(imports_bucket, job)) == {"imported": False}
    assert get_job(api, owner, job["id"])["created"] == 27


def arrival_after_import(bucket: str, job: dict[str, Any]) -> dict[str, Any]:
    key = job["upload"]["fields"]["key"]
    return object_created_event(bucket, key, 100, "0" * 32, region="us-east-1")


def test_the_upload_form_allows_only_a_csv_of_the_size_limit(
    api: ApiClient, owner: Account
) -> None:
    job = create_job(api, owner)
    fields = job["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, MAX_UPLOAD_BYTES] in conditions
    assert {"Content-Type": "text/csv"} in conditions
    assert {"key": fields["key"]} in conditions
    assert fields["key"] == f"uploads/{owner.organization['id']}/{job['id']}.csv"
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    assert job["upload"]["max_bytes"] == MAX_UPLOAD_BYTES


def test_a_file_without_a_phone_column_fails_the_job_cleanly(
    api: ApiClient, owner: Account, imports_bucket: str
) -> None:
    job = create_job(api, owner)
    upload(job, b"Name,Email\r\nDana,dana@example.com\r\n")
    assert run_imports(arrival(imports_bucket, job))["status"] == "failed"
    failed = get_job(api, owner, job["id"])
    assert failed["status"] == "failed" and "phone" in failed["failure"].lower()
    # The lease is free: a contact can be created at once.
    created = api.call("POST", "/v1/contacts", headers=owner.auth, body={"phone": "+16175550199"})
    assert created.status == 201


def test_an_unused_form_expires_into_a_failed_job(api: ApiClient, owner: Account) -> None:
    job = create_job(api, owner)
    item = ImportModel.get(owner.organization["id"], job["id"])
    item.update(
        actions=[ImportModel.upload_expires_at.set(datetime.now(UTC) - timedelta(seconds=1))]
    )
    expired = get_job(api, owner, job["id"])
    assert expired["status"] == "failed" and "expired" in expired["failure"]


def test_another_organizations_import_is_not_found(
    api: ApiClient, owner: Account, identity: ApiClient
) -> None:
    from tests.integration.identity_support import register

    job = create_job(api, owner)
    stranger = register(identity, "other@elsewhere.test", organization="Elsewhere")
    answer = api.call("GET", f"/v1/imports/{job['id']}", headers=stranger.auth)
    assert answer.assert_problem(404)
    listed = api.call("GET", "/v1/imports", headers=stranger.auth)
    assert listed.json()["items"] == []
    mine = api.call("GET", "/v1/imports", headers=owner.auth)
    assert [j["id"] for j in mine.json()["items"]] == [job["id"]]


# --- Faults: a run that stops anywhere is resumed, with exact counts ------------------------


class _Crash(Exception):
    pass


def uploaded(
    api: ApiClient, owner: Account, bucket: str, content: bytes
) -> tuple[dict[str, Any], str, int]:
    """A new job with ``content`` uploaded: the job, its upload's key and size."""
    job = create_job(api, owner)
    upload(job, content)
    landed = arrival(bucket, job)["detail"]["object"]
    return job, landed["key"], landed["size"]


@pytest.mark.parametrize("crash_in", ["new_contacts", "updates"])
def test_a_run_that_crashes_mid_chunk_resumes_with_exact_counts(
    api: ApiClient,
    owner: Account,
    imports_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    crash_in: str,
) -> None:
    org_id = owner.organization["id"]
    # 10 of the 45 phones already exist (they will be updated: new email).
    for n in range(0, 10):
        api.call("POST", "/v1/contacts", headers=owner.auth, body={"phone": f"+1617555{n:04d}"})
    job, key, size = uploaded(api, owner, imports_bucket, rows_csv(45, bad_every=15))
    runner = build_import_runner(SystemClock(), chunk_rows=10)
    calls = {"n": 0}
    original = ContactService.write_import

    def crashing(self: ContactService, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the second chunk: contacts written in part, then the crash
            plan = args[1]
            if crash_in == "new_contacts":
                self._contacts.write_new_many(plan.new[: len(plan.new) // 2])
            else:
                self._contacts.put_many(plan.changed[:1])
            raise _Crash("the process died")
        original(self, *args, **kwargs)

    monkeypatch.setattr(ContactService, "write_import", crashing)
    with pytest.raises(_Crash):
        runner.run(key, size, remaining_ms=lambda: 900_000)
    stopped = ImportModel.get(org_id, job["id"])
    assert stopped.status == "running" and int(stopped.rows_planned) > int(stopped.rows_written)
    # The organization's import lease was released: a single create is not refused.
    assert (
        api.call("POST", "/v1/contacts", headers=owner.auth, body={"phone": "+16175559999"}).status
        == 201
    )
    api.call("DELETE", f"/v1/contacts/{_id_of(org_id, '+16175559999')}", headers=owner.auth)

    monkeypatch.setattr(ContactService, "write_import", original)
    outcome = runner.run(key, size, remaining_ms=lambda: 900_000)
    assert outcome is not None and outcome.status is ImportStatus.DONE
    assert outcome.rewritten_rows > 0

    done = get_job(api, owner, job["id"])
    # 45 rows: 3 without a phone, 10 updates of existing contacts, 32 creates. Once each.
    assert (done["rows"], done["created"], done["updated"], done["skipped"]) == (45, 32, 10, 0)
    assert done["error_count"] == 3
    phones = stored_phones(org_id)
    assert len(phones) == len(set(phones)) == 42
    guards = [g for g in ContactPhoneModel.query(org_id) if g.phone.startswith("+")]
    ids = {c.contact_id for c in ContactModel.query(org_id)}
    assert len(guards) == 42 and {g.contact_id for g in guards} == ids
    for item in ContactModel.query(org_id):
        assert item.email is not None  # every row's cells landed, the crashed chunk's too


def _id_of(org_id: str, phone: str) -> str:
    return ContactPhoneModel.get(org_id, phone, consistent_read=True).contact_id


def test_a_run_near_its_timeout_stops_at_a_checkpoint_and_the_retry_finishes(
    api: ApiClient, owner: Account, imports_bucket: str
) -> None:
    job, key, size = uploaded(api, owner, imports_bucket, rows_csv(25))
    runner = build_import_runner(SystemClock(), chunk_rows=10)
    with pytest.raises(RunContinues):
        runner.run(key, size, remaining_ms=lambda: 30_000)
    item = ImportModel.get(owner.organization["id"], job["id"])
    assert (int(item.rows_planned), int(item.rows_written)) == (10, 10)
    outcome = runner.run(key, size, remaining_ms=lambda: 900_000)
    assert outcome is not None and outcome.skipped_rows == 10
    done = get_job(api, owner, job["id"])
    assert (done["status"], done["rows"], done["created"]) == ("done", 25, 25)


def test_a_job_keeps_its_first_errors_and_warnings_across_chunks_and_counts_them_all(
    api: ApiClient, owner: Account, imports_bucket: str
) -> None:
    """250 rows, every second one without a phone and every third a bad email, read 40
    rows a checkpoint: the job keeps the first MAX_REPORTED of each, in row order."""
    lines = ["Phone Number,Email"]
    for n in range(250):
        phone = "" if n % 2 else f"+1617555{n:04d}"
        email = "not-an-email" if n % 3 == 0 else f"person{n}@example.com"
        lines.append(f"{phone},{email}")
    content = ("\r\n".join(lines) + "\r\n").encode()
    job, key, size = uploaded(api, owner, imports_bucket, content)
    outcome = build_import_runner(SystemClock(), chunk_rows=40).run(
        key, size, remaining_ms=lambda: 900_000
    )
    assert outcome is not None and outcome.status is ImportStatus.DONE
    done = get_job(api, owner, job["id"])
    bad_phones = [n + 1 for n in range(250) if n % 2]
    bad_emails = [n + 1 for n in range(250) if n % 2 == 0 and n % 3 == 0]
    assert (done["error_count"], done["warning_count"]) == (len(bad_phones), len(bad_emails))
    assert len(bad_phones) > MAX_REPORTED and len(bad_emails) < MAX_REPORTED
    assert [error["row"] for error in done["errors"]] == bad_phones[:MAX_REPORTED]
    assert [warning["row"] for warning in done["warnings"]] == bad_emails


def test_a_second_delivery_leaves_a_live_run_alone(
    api: ApiClient, owner: Account, imports_bucket: str
) -> None:
    org_id = owner.organization["id"]
    job, key, size = uploaded(api, owner, imports_bucket, rows_csv(5))
    now = datetime.now(UTC)
    ImportRepository().claim(
        org_id, job["id"], token="LIVE", now=now, until=now + timedelta(seconds=90), size=size
    )

    class RenewingClock(SimulatedClock):
        """Sleeps instantly; meanwhile the live run checkpoints (its lease moves on)."""

        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            ImportModel(org_id, job["id"]).update(
                actions=[ImportModel.lease_until.set(self.now() + timedelta(seconds=90))]
            )

    clock = RenewingClock(now)
    runner = build_import_runner(clock)
    assert runner.run(key, size, remaining_ms=lambda: 900_000) is None
    assert stored_phones(org_id) == []


def test_a_retry_takes_over_from_a_dead_run_once_its_lease_lapses(
    api: ApiClient, owner: Account, imports_bucket: str
) -> None:
    org_id = owner.organization["id"]
    job, key, size = uploaded(api, owner, imports_bucket, rows_csv(5))
    now = datetime.now(UTC)
    ImportRepository().claim(
        org_id, job["id"], token="DEAD", now=now, until=now + timedelta(seconds=90), size=size
    )
    clock = SimulatedClock(now)  # sleeping moves it past the dead run's lease
    outcome = build_import_runner(clock).run(key, size, remaining_ms=lambda: 900_000)
    assert outcome is not None and outcome.status is ImportStatus.DONE
    assert len(stored_phones(org_id)) == 5


def test_a_file_over_the_synchronous_limit_goes_through_a_job(
    api: ApiClient, owner: Account, imports_bucket: str
) -> None:
    """The "Why" of issue 17: a file over what a Lambda request can carry (6 MB; the
    synchronous route takes 4 MiB) is refused there, and imported whole as a job."""
    from outreach.contacts.schemas import MAX_IMPORT_BYTES

    # Cells padded with spaces, as fixed-width exports are: the file is large, the stored
    # contacts small (moto takes seconds per wide item; DynamoDB does not).
    padding = " " * 4000
    lines = ["Phone,First Name,Company"]
    for n in range(600):
        lines.append(f"+1617555{n:04d},Person {n}{padding},Acme{padding}")
    content = ("\r\n".join(lines) + "\r\n").encode()
    assert MAX_IMPORT_BYTES < len(content) < MAX_UPLOAD_BYTES

    refused = api.call(
        "POST",
        "/v1/contacts/import",
        headers={**owner.auth, "content-type": "text/csv"},
        raw_body=content,
    )
    assert "/v1/imports" in refused.assert_problem(413)["detail"]

    job = create_job(api, owner)
    assert upload(job, content).status_code == 204
    assert run_imports(arrival(imports_bucket, job))["status"] == "done"
    done = get_job(api, owner, job["id"])
    assert (done["rows"], done["created"], done["error_count"]) == (600, 600, 0)
    assert len(stored_phones(owner.organization["id"])) == 600


def test_the_optional_body_is_an_object_or_nothing(api: ApiClient, owner: Account) -> None:
    refused = api.call("POST", "/v1/imports", headers=owner.auth, raw_body="null")
    assert refused.assert_problem(422)["errors"][0]["loc"] == ["body"]
    unknown = api.call("POST", "/v1/imports", headers=owner.auth, body={"tag": ["x"]})
    unknown.assert_problem(422)
    assert create_job(api, owner, {"phone_column": "Mobile Phone"})["status"] == "waiting_upload"
