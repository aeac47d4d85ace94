"""Import jobs on DynamoDB (the ``imports`` table), keyed by the organization.

Every transition is a conditional write, so two deliveries of one upload event, or a
retry racing a run that is still alive, never both run the job: a run holds it by its
``run_token`` until ``lease_until``, and every checkpoint is conditional on that token.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pynamodb.attributes import ListAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from outreach.contacts.domain import RowError, RowWarning
from outreach.data.models import ImportModel
from outreach.data.pages import Page, decode_cursor, sealed_page
from outreach.data.pynamo import condition_failed, raw_map
from outreach.errors import NotFound
from outreach.ids import is_id
from outreach.imports.domain import MAX_REPORTED, ImportJob, ImportStatus

IMPORTS_LISTING = "imports"
"""The listing name sealed into cursors of ``GET /v1/imports``."""


class JobTaken(Exception):
    """The job is finished, or another run holds it (its lease is live)."""


class LostLease(Exception):
    """The run's token no longer holds the job: another run took it over; stop writing."""


def _job(item: ImportModel) -> ImportJob:
    return ImportJob(
        id=item.import_id,
        org_id=item.org_id,
        status=ImportStatus(item.status),
        user_id=item.user_id,
        upload_key=item.upload_key,
        tags=tuple(item.tags or ()),
        phone_column=item.phone_column,
        created_at=item.created_at,
        updated_at=item.updated_at,
        upload_expires_at=item.upload_expires_at,
        started_at=item.started_at,
        finished_at=item.finished_at,
        encoding=item.encoding,
        size=int(item.size) if item.size is not None else None,
        rows=int(item.rows_planned or 0),
        rows_written=int(item.rows_written or 0),
        created=int(item.created or 0),
        updated=int(item.updated or 0),
        skipped=int(item.skipped or 0),
        error_count=int(item.error_count or 0),
        warning_count=int(item.warning_count or 0),
        errors=[RowError(int(e["row"]), str(e["error"])) for e in map(raw_map, item.errors or [])],
        warnings=[
            RowWarning(int(w["row"]), str(w["warning"])) for w in map(raw_map, item.warnings or [])
        ],
        report_key=item.report_key,
        failure=item.failure,
        lease_until=item.lease_until,
    )


class ImportRepository:
    """The jobs of every organization; each call takes the caller's organization id."""

    def create(self, job: ImportJob) -> None:
        """Store a new job (its id is new: a clash is a bug, raised as is)."""
        ImportModel(
            job.org_id,
            job.id,
            status=job.status.value,
            user_id=job.user_id,
            upload_key=job.upload_key,
            tags=list(job.tags),
            phone_column=job.phone_column,
            created_at=job.created_at,
            updated_at=job.updated_at,
            upload_expires_at=job.upload_expires_at,
        ).save(condition=ImportModel.import_id.does_not_exist())

    def get(self, org_id: str, import_id: str) -> ImportJob:
        """The job (a consistent read); :class:`NotFound` for an unknown or malformed id."""
        if not is_id(import_id):
            raise NotFound("Import not found.")
        try:
            return _job(ImportModel.get(org_id, import_id, consistent_read=True))
        except DoesNotExist as error:
            raise NotFound("Import not found.") from error

    def list_newest(self, org_id: str, *, limit: int, cursor: str | None) -> Page[ImportJob]:
        """The organization's jobs, newest first (ids sort by creation), from ``cursor``."""
        result = ImportModel.query(
            org_id,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor, org_id=org_id, listing=IMPORTS_LISTING),
        )
        return sealed_page(result, _job, org_id=org_id, listing=IMPORTS_LISTING)

    def claim(
        self, org_id: str, import_id: str, *, token: str, now: datetime, until: datetime, size: int
    ) -> ImportJob:
        """Hold the job for the run ``token`` until ``until``: a job waiting for its upload
        starts (``started_at`` = ``now``), a running one whose lease lapsed is taken over
        with its checkpoint. :class:`JobTaken` if it is finished or held by a live run;
        :class:`NotFound` if there is no such job."""
        item = ImportModel(org_id, import_id)
        waiting = ImportModel.status == ImportStatus.WAITING_UPLOAD.value
        lapsed = (ImportModel.status == ImportStatus.RUNNING.value) & (
            ImportModel.lease_until < now
        )
        try:
            item.update(
                actions=[
                    ImportModel.status.set(ImportStatus.RUNNING.value),
                    ImportModel.run_token.set(token),
                    ImportModel.lease_until.set(until),
                    ImportModel.updated_at.set(now),
                    ImportModel.started_at.set(ImportModel.started_at | now),
                    ImportModel.size.set(size),
                ],
                condition=ImportModel.import_id.exists() & (waiting | lapsed),
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise
            current = self.get(org_id, import_id)  # NotFound when there is none
            raise JobTaken(f"import {import_id} is {current.status.value}") from error
        return _job(item)

    def checkpoint(
        self,
        job: ImportJob,
        *,
        token: str,
        now: datetime,
        until: datetime,
        planned: int | None = None,
        written: int | None = None,
        encoding: str | None = None,
        counts: dict[str, int] | None = None,
        errors: Sequence[RowError] = (),
        warnings: Sequence[RowWarning] = (),
    ) -> None:
        """Record a run's progress and renew its lease, if ``token`` still holds the job
        (:class:`LostLease` otherwise). ``counts`` (``created``, ``updated``, ``skipped``,
        ``error_count``, ``warning_count``) are added; the first :data:`MAX_REPORTED`
        errors and warnings are kept (``job`` is the run's copy, updated in step)."""
        actions: list[Any] = [
            ImportModel.lease_until.set(until),
            ImportModel.updated_at.set(now),
        ]
        if planned is not None:
            actions.append(ImportModel.rows_planned.set(planned))
            job.rows = planned
        if written is not None:
            actions.append(ImportModel.rows_written.set(written))
            job.rows_written = written
        if encoding is not None:
            actions.append(ImportModel.encoding.set(encoding))
            job.encoding = encoding
        for name, value in (counts or {}).items():
            if value:
                actions.append(getattr(ImportModel, name).add(value))
                setattr(job, name, getattr(job, name) + value)
        actions += _report_first(ImportModel.errors, job.errors, errors)
        actions += _report_first(ImportModel.warnings, job.warnings, warnings)
        self._update_held(job, token, actions)

    def finish(
        self,
        job: ImportJob,
        *,
        token: str,
        now: datetime,
        status: ImportStatus,
        failure: str | None = None,
        report_key: str | None = None,
    ) -> None:
        """End the run: ``done`` or ``failed`` (with ``failure``), lease dropped."""
        actions: list[Any] = [
            ImportModel.status.set(status.value),
            ImportModel.finished_at.set(now),
            ImportModel.updated_at.set(now),
            ImportModel.run_token.remove(),
            ImportModel.lease_until.remove(),
        ]
        if failure is not None:
            actions.append(ImportModel.failure.set(failure))
        if report_key is not None:
            actions.append(ImportModel.report_key.set(report_key))
        self._update_held(job, token, actions)
        job.status, job.failure, job.finished_at = status, failure, now
        job.report_key = report_key

    def let_go(self, job: ImportJob, *, token: str, now: datetime) -> None:
        """Drop the run's lease at once (the job stays ``running`` from its checkpoint), so
        the next attempt resumes it without waiting for the lease to lapse."""
        with contextlib.suppress(LostLease):
            self._update_held(job, token, [ImportModel.lease_until.set(now)])

    @staticmethod
    def _update_held(job: ImportJob, token: str, actions: list[Any]) -> None:
        try:
            ImportModel(job.org_id, job.id).update(
                actions=actions, condition=ImportModel.run_token == token
            )
        except UpdateError as error:
            if condition_failed(error):
                raise LostLease(f"import {job.id}: another run holds it now") from error
            raise


def _report_first[P: (RowError, RowWarning)](
    attribute: ListAttribute[Any], reported: list[P], problems: Sequence[P]
) -> list[Any]:
    """The action appending ``problems`` (``{row, error}`` or ``{row, warning}``) to the
    job's ``attribute`` while it holds fewer than :data:`MAX_REPORTED`; ``reported`` is the
    run's copy of that list, extended in step."""
    kept = list(problems[: max(0, MAX_REPORTED - len(reported))])
    if not kept:
        return []
    reported.extend(kept)
    return [attribute.set(attribute.append([asdict(problem) for problem in kept]))]
