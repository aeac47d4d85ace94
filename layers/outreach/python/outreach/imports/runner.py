"""Run an import job: stream the uploaded CSV from S3 into contacts, chunk by chunk.

Started by the upload's arrival (the imports function, on S3's "Object Created" event
through EventBridge; the local stack calls it the same way). Issue 17, point 6: "A
crash mid-import resumes or fails cleanly: no row imported twice, none lost, and the
organization's import lease released."

How a run keeps that promise, chunk by chunk (:data:`CHUNK_ROWS` data rows):

1. **Plan** the chunk from what is stored (:meth:`ContactService.plan_import`): each
   row created, updated or skipped.
2. **Record** the plan: the chunk's problems go to an error-report part in S3, then one
   conditional write adds its counts and sets ``rows_planned`` to its last row. From
   here the chunk is counted, exactly once.
3. **Write** its contacts (:meth:`ContactService.write_import`); the next checkpoint
   sets ``rows_written``.

A run that stops anywhere (an error, a timeout, the process killed) is resumed by the
next attempt, which reads the rows again from the start of the file: rows up to
``rows_written`` are passed over, rows up to ``rows_planned`` are written again whole
(``again=True``: idempotent, not counted again), the rest is imported as usual. One
contact per phone holds throughout: the run holds the organization's import lease
(renewed every chunk), and a phone guard written twice names one contact.

Only one run holds a job (:meth:`ImportRepository.claim`): a second delivery of the same
event finds the job held by a live run and leaves; a retry after a crash waits for the
dead run's lease to lapse (:data:`JOB_LEASE`), then takes the job over. A run that nears
its function's timeout stops at a checkpoint and fails on purpose
(:class:`RunContinues`), so that Lambda's next attempt goes on from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from outreach.clock import Clock, SystemClock
from outreach.contacts.csv_import import ImportRow, open_csv
from outreach.contacts.domain import RowError, RowWarning
from outreach.contacts.service import ContactService, build_contact_service
from outreach.data.binding import ensure_models_bound
from outreach.errors import BadRequest, Conflict, NotFound
from outreach.ids import new_id
from outreach.imports.domain import (
    MAX_JOB_ROWS,
    ImportJob,
    ImportStatus,
    parse_upload_key,
    report_key,
    report_part_prefix,
)
from outreach.imports.repository import ImportRepository, JobTaken, LostLease
from outreach.imports.storage import ImportStorage, MissingUpload
from outreach.observability import logger

CHUNK_ROWS = 1000
"""Data rows planned, recorded and written together (about 3 x 40 BatchWriteItem calls)."""

JOB_LEASE = timedelta(seconds=90)
"""How long a run holds its job past its last checkpoint (a chunk takes a few seconds)."""

STOP_MARGIN_MS = 60_000
"""A run stops at the first checkpoint with less than this left before its timeout."""

LEASE_WAIT = timedelta(seconds=120)
"""How long a run waits for the organization's import lease (a ``POST
/v1/contacts/import`` holds it for at most 29 s) or for a dead run's job lease to lapse."""


class RunContinues(Exception):
    """The run stopped at a checkpoint before its function's timeout; the next attempt
    resumes it. Raised so that Lambda makes that attempt."""


class LeaseUnavailable(Exception):
    """The organization's import lease stayed held by another import; the next attempt
    tries again."""


@dataclass(frozen=True)
class RunOutcome:
    """What one run did: the job's status after it, and the rows it passed over
    (``skipped_rows``: recorded by an earlier attempt) or wrote again (``rewritten_rows``)."""

    import_id: str
    status: ImportStatus
    rows: int
    skipped_rows: int = 0
    rewritten_rows: int = 0


@dataclass
class _Chunk:
    rows: list[ImportRow]
    errors: list[RowError]
    warnings: list[RowWarning]
    first: int = 0
    last: int = 0


class ImportRunner:
    """Runs import jobs; the collaborators are injected (the handler builds the real ones)."""

    def __init__(
        self,
        *,
        jobs: ImportRepository,
        contacts: ContactService,
        storage: ImportStorage,
        clock: Clock,
        chunk_rows: int = CHUNK_ROWS,
        max_rows: int = MAX_JOB_ROWS,
    ) -> None:
        self._jobs = jobs
        self._contacts = contacts
        self._storage = storage
        self._clock = clock
        self._chunk_rows = chunk_rows
        self._max_rows = max_rows

    def run(self, key: str, size: int, *, remaining_ms: Callable[[], int]) -> RunOutcome | None:
        """Import the upload at ``key`` (``size`` bytes) into its job's organization.

        ``None`` when there is nothing to do: a key that is no upload, an unknown job, a
        job already finished, or one a live run holds (a second delivery of the event).
        Raises :class:`RunContinues` when stopped for time, :class:`LeaseUnavailable`
        when another import kept the organization's lease, and whatever else went wrong
        after dropping its leases (the job stays resumable)."""
        place = parse_upload_key(key)
        if place is None:
            logger.warning("not an import upload", extra={"key": key})
            return None
        org_id, import_id = place
        token = new_id(self._clock.now())
        job = self._claim(org_id, import_id, token, size)
        if job is None:
            return None
        try:
            lease = self._hold_organization_lease(org_id)
        except LeaseUnavailable:
            self._jobs.let_go(job, token=token, now=self._clock.now())
            raise
        try:
            return self._import(job, token, lease, remaining_ms)
        except BaseException:
            self._jobs.let_go(job, token=token, now=self._clock.now())
            raise
        finally:
            self._contacts.release_import_lease(org_id, lease)

    def _claim(self, org_id: str, import_id: str, token: str, size: int) -> ImportJob | None:
        """Take the job, waiting for a dead run's lease to lapse; ``None`` if there is no
        job, it is finished, or a live run keeps renewing its lease."""
        deadline = self._clock.now() + LEASE_WAIT
        seen_lease: datetime | None = None
        while True:
            now = self._clock.now()
            try:
                return self._jobs.claim(
                    org_id, import_id, token=token, now=now, until=now + JOB_LEASE, size=size
                )
            except NotFound:
                logger.warning("upload without a job", extra={"import_id": import_id})
                return None
            except JobTaken:
                current = self._jobs.get(org_id, import_id)
            if current.status is not ImportStatus.RUNNING or current.lease_until is None:
                return None
            if seen_lease is not None and current.lease_until > seen_lease:
                logger.info("import held by a live run", extra={"import_id": import_id})
                return None
            if now >= deadline:
                return None
            seen_lease = current.lease_until
            wait = (current.lease_until - now).total_seconds() + 1
            self._clock.sleep(min(max(wait, 1.0), (deadline - now).total_seconds() + 1))

    def _hold_organization_lease(self, org_id: str) -> str:
        deadline = self._clock.now() + LEASE_WAIT
        while True:
            try:
                return self._contacts.hold_import_lease(org_id, self._clock.now())
            except Conflict as error:
                if self._clock.now() >= deadline:
                    raise LeaseUnavailable(
                        f"another import kept organization {org_id}'s import lease"
                    ) from error
                self._clock.sleep(2.0)

    def _import(
        self, job: ImportJob, token: str, lease: str, remaining_ms: Callable[[], int]
    ) -> RunOutcome:
        assert job.started_at is not None  # set by the claim
        stamp = job.started_at
        written, planned = job.rows_written, job.rows
        try:
            reader = open_csv(
                lambda: self._storage.open_upload(job.upload_key),
                extra_tags=job.tags,
                phone_column=job.phone_column,
                max_rows=self._max_rows,
            )
        except (BadRequest, MissingUpload) as error:
            reason = error.detail if isinstance(error, BadRequest) else "The uploaded file is gone."
            self._jobs.finish(
                job, token=token, now=self._clock.now(), status=ImportStatus.FAILED, failure=reason
            )
            return RunOutcome(job.id, ImportStatus.FAILED, job.rows)
        last_written = written
        redo: list[ImportRow] = []
        for chunk in self._chunks(reader, (written, planned)):
            if chunk.last <= written:
                continue
            if chunk.last <= planned:
                # Recorded by an earlier attempt, perhaps written in part: written again.
                redo.extend(chunk.rows)
                continue
            if last_written < planned:
                last_written = self._write_again(job, token, lease, redo, planned)
            plan = self._contacts.plan_import(job.org_id, chunk.rows, stamp)
            self._storage.write_part(
                report_part_prefix(job.org_id, job.id), chunk.first, chunk.errors, chunk.warnings
            )
            result = plan.result
            self._checkpoint(
                job,
                token,
                lease,
                planned=chunk.last,
                written=last_written,
                encoding=reader.encoding,
                counts={
                    "created": result.created,
                    "updated": result.updated,
                    "skipped": result.skipped,
                    "error_count": len(chunk.errors),
                    "warning_count": len(chunk.warnings),
                },
                errors=chunk.errors,
                warnings=chunk.warnings,
            )
            self._contacts.write_import(job.org_id, plan, stamp)
            last_written = chunk.last
            if remaining_ms() < STOP_MARGIN_MS:
                self._checkpoint(job, token, lease, written=last_written)
                raise RunContinues(f"import {job.id} stopped at row {last_written} for time")
        if last_written < planned:
            last_written = self._write_again(job, token, lease, redo, planned)
        self._checkpoint(job, token, lease, written=last_written, encoding=reader.encoding)
        key = report_key(job.org_id, job.id)
        has_report = self._storage.join_parts(report_part_prefix(job.org_id, job.id), key)
        self._jobs.finish(
            job,
            token=token,
            now=self._clock.now(),
            status=ImportStatus.DONE,
            report_key=key if has_report else None,
        )
        self._storage.delete_upload(job.upload_key)
        return RunOutcome(
            job.id,
            ImportStatus.DONE,
            job.rows,
            skipped_rows=written,
            rewritten_rows=len(redo),
        )

    def _write_again(
        self, job: ImportJob, token: str, lease: str, rows: list[ImportRow], planned: int
    ) -> int:
        """Write the rows an earlier attempt recorded but may not have written (whole,
        uncounted); answer the new ``rows_written``."""
        assert job.started_at is not None
        plan = self._contacts.plan_import(job.org_id, rows, job.started_at)
        self._contacts.write_import(job.org_id, plan, job.started_at, again=True)
        self._checkpoint(job, token, lease, written=planned)
        return planned

    def _checkpoint(
        self,
        job: ImportJob,
        token: str,
        lease: str,
        *,
        planned: int | None = None,
        written: int | None = None,
        encoding: str | None = None,
        counts: dict[str, int] | None = None,
        errors: Sequence[RowError] = (),
        warnings: Sequence[RowWarning] = (),
    ) -> None:
        """Record progress and renew both leases (the job's and the organization's)."""
        now = self._clock.now()
        self._jobs.checkpoint(
            job,
            token=token,
            now=now,
            until=now + JOB_LEASE,
            planned=planned,
            written=written,
            encoding=encoding,
            counts=counts,
            errors=errors,
            warnings=warnings,
        )
        if not self._contacts.renew_import_lease(job.org_id, lease, now):
            raise LostLease(f"import {job.id} lost the organization's import lease")

    def _chunks(
        self, reader: Iterable[ImportRow | RowError], breaks: tuple[int, ...]
    ) -> Iterator[_Chunk]:
        """The reader's rows in chunks of at most ``chunk_rows``, each also ending at a row
        number in ``breaks`` (an earlier attempt's checkpoints), so that a chunk lies wholly
        on one side of each."""
        chunk = _Chunk([], [], [])
        count = 0
        for item in reader:
            number = item.row if isinstance(item, RowError) else item.number
            if count and any(chunk.last < stop < number for stop in breaks):
                yield chunk
                chunk, count = _Chunk([], [], []), 0
            if not count:
                chunk.first = number
            chunk.last = number
            if isinstance(item, RowError):
                chunk.errors.append(item)
            else:
                chunk.rows.append(item)
                chunk.warnings.extend(RowWarning(item.number, w) for w in item.warnings)
            count += 1
            if count >= self._chunk_rows or number in breaks:
                yield chunk
                chunk, count = _Chunk([], [], []), 0
        if count:
            yield chunk


def build_import_runner(clock: Clock, *, chunk_rows: int = CHUNK_ROWS) -> ImportRunner:
    """The runner on DynamoDB and S3, with ``clock`` and chunks of ``chunk_rows`` rows."""
    ensure_models_bound()
    return ImportRunner(
        jobs=ImportRepository(),
        contacts=build_contact_service(clock),
        storage=ImportStorage(),
        clock=clock,
        chunk_rows=chunk_rows,
    )


@lru_cache(maxsize=1)
def get_import_runner() -> ImportRunner:
    """The imports function's runner on the real clock, built on first use."""
    return build_import_runner(SystemClock())
