"""Import jobs API schemas: the optional body of ``POST /v1/imports`` and the answers."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import ConfigDict, Field

from outreach.api.fields import PublicModel, StrictModel, UtcInstant, model_schema
from outreach.api.pagination import PagePublic
from outreach.contacts.schemas import ImportRowErrorPublic, ImportRowWarningPublic, Tags
from outreach.imports.domain import MAX_UPLOAD_BYTES, ImportJob, UploadForm
from outreach.imports.service import ImportView


class ImportCreate(StrictModel):
    """How to read the file the job will receive (the body is optional)."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(
            examples=[{"tags": ["spring-leads"], "phone_column": "Mobile Phone"}],
            not_null=("tags",),
        )
    )

    tags: Tags = Field(
        default_factory=list,
        description="Tags added to every imported row (each at most 50 characters once "
        "stripped; stored lowercased).",
    )
    phone_column: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The header of the column holding the phone number, matched like any "
        "header (case, spaces and punctuation aside). Without it the first mobile-like "
        "column holding a valid number in each row is taken.",
    )


class UploadFormPublic(PublicModel):
    """Send the file to ``url`` as ``multipart/form-data``: every ``fields`` entry as a
    form field, then the file as the last part, named ``file`` (``curl -F`` in the
    README). S3 answers 204; a file over ``max_bytes``, another content type or a late
    upload is refused by S3 itself."""

    url: str
    fields: dict[str, str]
    method: Literal["POST"] = "POST"
    file_field: Literal["file"] = "file"
    max_bytes: int = Field(description=f"The largest file accepted: {MAX_UPLOAD_BYTES} bytes.")


class ImportCreatedPublic(PublicModel):
    """A new job waiting for its upload (``api-contract.md``, Addendum 1: ``{id, upload:
    {url, fields}, expires_at}``). Its import starts when the upload lands; follow it with
    ``GET /v1/imports/{id}``."""

    id: str
    status: Literal["waiting_upload"]
    upload: UploadFormPublic
    expires_at: UtcInstant = Field(description="The upload form's expiry.")

    @classmethod
    def of(cls, source: Any) -> Self:
        job, form = source
        assert isinstance(job, ImportJob) and isinstance(form, UploadForm)
        return cls.model_validate(
            {
                "id": job.id,
                "status": job.status.value,
                "upload": {"url": form.url, "fields": form.fields, "max_bytes": form.max_bytes},
                "expires_at": form.expires_at,
            }
        )


class ImportJobPublic(PublicModel):
    """An import job (``api-contract.md``, Addendum 1). ``rows`` data rows read so far:
    each is ``created``, ``updated``, ``skipped`` (it changed nothing) or an error.
    ``errors`` and ``warnings`` are the first 100 in row order; ``error_report_url`` (a
    link valid for an hour, while the report is kept: 7 days) gives them all as a CSV
    (``row,severity,message``), or is ``null`` when there were none. ``failure`` says why a
    ``failed`` job failed (a file with no phone column, an upload never made, ...)."""

    id: str
    status: Literal["waiting_upload", "running", "done", "failed"]
    rows: int
    created: int
    updated: int
    skipped: int
    errors: list[ImportRowErrorPublic]
    error_count: int
    warnings: list[ImportRowWarningPublic]
    warning_count: int
    error_report_url: str | None
    encoding: str | None = Field(description="The encoding the file was read in (`utf-8`, ...).")
    tags: list[str]
    phone_column: str | None
    failure: str | None
    created_at: UtcInstant
    expires_at: UtcInstant = Field(description="When the upload form expires (or expired).")
    started_at: UtcInstant | None
    finished_at: UtcInstant | None

    @classmethod
    def of(cls, source: Any) -> Self:
        assert isinstance(source, ImportView)
        job = source.job
        return cls.model_validate(
            {
                "id": job.id,
                "status": source.status.value,
                "rows": job.rows,
                "created": job.created,
                "updated": job.updated,
                "skipped": job.skipped,
                "errors": job.errors,
                "error_count": job.error_count,
                "warnings": job.warnings,
                "warning_count": job.warning_count,
                "error_report_url": source.error_report_url,
                "encoding": job.encoding,
                "tags": list(job.tags),
                "phone_column": job.phone_column,
                "failure": source.failure,
                "created_at": job.created_at,
                "expires_at": job.upload_expires_at,
                "started_at": job.started_at,
                "finished_at": job.finished_at,
            }
        )


class ImportJobsPublic(PagePublic[ImportJobPublic]):
    """A page of import jobs, newest first; ``next_cursor`` is ``null`` on the last page."""

    @classmethod
    def of(cls, source: Any) -> Self:
        return cls.model_validate(
            {
                "items": [ImportJobPublic.of(view) for view in source.items],
                "next_cursor": source.next_cursor,
            }
        )
