"""Import jobs as the API offers them: create one with its upload form, read its progress.

The run itself is :mod:`outreach.imports.runner`'s, in the imports function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from outreach.clock import Clock, SystemClock
from outreach.data.binding import ensure_models_bound
from outreach.data.pages import Page
from outreach.ids import new_id
from outreach.imports.domain import (
    MAX_UPLOAD_BYTES,
    REPORT_LINK_LIFETIME,
    REPORT_RETENTION,
    UPLOAD_WINDOW,
    ImportJob,
    ImportStatus,
    UploadForm,
    upload_key,
)
from outreach.imports.repository import ImportRepository
from outreach.imports.storage import ImportStorage


@dataclass(frozen=True)
class ImportView:
    """A job as answered at one instant: its status then (:meth:`ImportJob.status_at`),
    why it failed, and a link to its error report while S3 keeps it (or ``None``)."""

    job: ImportJob
    status: ImportStatus
    failure: str | None
    error_report_url: str | None


class ImportService:
    """Create and read import jobs, each scoped to the caller's organization."""

    def __init__(self, *, jobs: ImportRepository, storage: ImportStorage, clock: Clock) -> None:
        self._jobs = jobs
        self._storage = storage
        self._clock = clock

    def create(
        self, org_id: str, user_id: str, *, tags: tuple[str, ...], phone_column: str | None
    ) -> tuple[ImportJob, UploadForm]:
        """A job waiting for its upload, and the form to upload the CSV with (valid for
        :data:`UPLOAD_WINDOW`, at most :data:`MAX_UPLOAD_BYTES`, ``text/csv``). ``tags``
        (normalised) are added to every row; ``phone_column`` names the phone's header."""
        now = self._clock.now()
        import_id = new_id(now)
        key = upload_key(org_id, import_id)
        form = self._storage.upload_form(
            key, max_bytes=MAX_UPLOAD_BYTES, expires_in=UPLOAD_WINDOW, now=now
        )
        job = ImportJob(
            id=import_id,
            org_id=org_id,
            status=ImportStatus.WAITING_UPLOAD,
            user_id=user_id,
            upload_key=key,
            tags=tags,
            phone_column=phone_column,
            created_at=now,
            updated_at=now,
            upload_expires_at=form.expires_at,
        )
        self._jobs.create(job)
        return job, form

    def list_imports(self, org_id: str, *, limit: int, cursor: str | None) -> Page[ImportView]:
        """The organization's jobs, newest first, ``limit`` a page, from ``cursor``."""
        page = self._jobs.list_newest(org_id, limit=limit, cursor=cursor)
        now = self._clock.now()
        return Page([self._view(job, now) for job in page.items], page.next_cursor)

    def get(self, org_id: str, import_id: str) -> ImportView:
        """The job as it is now; :class:`~outreach.errors.NotFound` for an unknown id (or
        another organization's)."""
        return self._view(self._jobs.get(org_id, import_id), self._clock.now())

    def _view(self, job: ImportJob, now: datetime) -> ImportView:
        status, failure = job.status_at(now)
        link = None
        if (
            job.report_key is not None
            and job.finished_at is not None
            and now < job.finished_at + REPORT_RETENTION
        ):
            link = self._storage.report_link(job.report_key, expires_in=REPORT_LINK_LIFETIME)
        return ImportView(job=job, status=status, failure=failure, error_report_url=link)


def build_import_service(clock: Clock) -> ImportService:
    """The service on DynamoDB and S3, with ``clock``."""
    ensure_models_bound()
    return ImportService(jobs=ImportRepository(), storage=ImportStorage(), clock=clock)


@lru_cache(maxsize=1)
def get_import_service() -> ImportService:
    """The process-wide service on the real clock, built on first use."""
    return build_import_service(SystemClock())
