"""Import jobs: a CSV uploaded to S3, then imported by a function of its own.

Source: issue 17, point 6, and ``api-contract.md`` Addendum 1 ("Imports: ``POST
/v1/imports`` → 201 ``{id, upload: {url, fields}, expires_at}``; ``GET
/v1/imports/{id}`` → ``{id, status (waiting_upload, running, done, failed), rows,
created, updated, skipped, errors (first 100), error_count, error_report_url,
encoding}``"). ``POST /v1/contacts/import`` stays for files up to
:data:`outreach.contacts.schemas.MAX_IMPORT_BYTES`, which a Lambda request can carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from outreach.contacts.domain import RowError, RowWarning

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
"""The largest file an upload form accepts (S3 refuses a larger one): 100 MiB."""

MAX_JOB_ROWS = 250_000
"""Data rows a job reads; a row beyond is reported once and the rest is not read."""

UPLOAD_WINDOW = timedelta(minutes=15)
"""How long an upload form stays valid after ``POST /v1/imports``."""

REPORT_RETENTION = timedelta(days=7)
"""How long S3 keeps uploads and error reports (the bucket's lifecycle rule)."""

REPORT_LINK_LIFETIME = timedelta(hours=1)
"""How long an ``error_report_url`` answered by ``GET /v1/imports/{id}`` works."""

STALLED_AFTER = timedelta(minutes=30)
"""A running job whose run has not checkpointed for this long has stopped for good (its
retries are spent, the event is in the dead-letter queue): it is answered ``failed``."""

MAX_REPORTED = 100
"""Errors and warnings a job answers (all are in the error report)."""


class ImportStatus(StrEnum):
    """Where a job is: waiting for its upload, being imported, or finished."""

    WAITING_UPLOAD = "waiting_upload"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class UploadForm:
    """An S3 presigned POST: send ``fields`` then the file (as the form's last part, named
    ``file``) to ``url`` as ``multipart/form-data`` before ``expires_at``."""

    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


@dataclass
class ImportJob:
    """One import job, as stored (:class:`outreach.data.models.ImportModel`) and answered.

    ``rows`` counts the data rows read so far (each is ``created``, ``updated``,
    ``skipped`` or an error), ``rows_written`` those whose contacts are written too
    (:mod:`outreach.imports.runner`); ``errors`` and ``warnings`` are the first
    :data:`MAX_REPORTED` of ``error_count`` and ``warning_count``, in row order.
    """

    id: str
    org_id: str
    status: ImportStatus
    user_id: str
    upload_key: str
    tags: tuple[str, ...]
    phone_column: str | None
    created_at: datetime
    updated_at: datetime
    upload_expires_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    encoding: str | None = None
    size: int | None = None
    rows: int = 0
    rows_written: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    error_count: int = 0
    warning_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    report_key: str | None = None
    failure: str | None = None
    lease_until: datetime | None = None

    def status_at(self, now: datetime) -> tuple[ImportStatus, str | None]:
        """The status answered at ``now`` and why it failed: a form never used before it
        expired, and a run stopped for good (:data:`STALLED_AFTER`), are failures even
        though nothing wrote them."""
        if self.status is ImportStatus.WAITING_UPLOAD and now > self.upload_expires_at:
            return ImportStatus.FAILED, "No file was uploaded before the upload form expired."
        if (
            self.status is ImportStatus.RUNNING
            and self.lease_until is not None
            and now > self.lease_until + STALLED_AFTER
        ):
            return ImportStatus.FAILED, "The import stopped and could not be resumed."
        return self.status, self.failure


def upload_key(org_id: str, import_id: str) -> str:
    """Where a job's file is uploaded: ``uploads/<org_id>/<import_id>.csv``."""
    return f"uploads/{org_id}/{import_id}.csv"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """``(org_id, import_id)`` of an upload key, or ``None`` for any other key."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "uploads" or not parts[2].endswith(".csv"):
        return None
    return parts[1], parts[2].removesuffix(".csv")


def report_key(org_id: str, import_id: str) -> str:
    """Where a job's error report is written: ``reports/<org_id>/<import_id>/errors.csv``."""
    return f"reports/{org_id}/{import_id}/errors.csv"


def report_part_prefix(org_id: str, import_id: str) -> str:
    """Where a run writes each chunk's problems before they are joined into the report."""
    return f"reports/{org_id}/{import_id}/parts/"
