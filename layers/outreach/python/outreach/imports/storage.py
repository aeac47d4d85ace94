"""The imports bucket (S3): upload forms, the uploaded file as a stream, error reports.

Keys are made in :mod:`outreach.imports.domain` (``uploads/<org>/<id>.csv``,
``reports/<org>/<id>/...``); the bucket is ``IMPORTS_BUCKET`` (template.yaml's
``ImportsBucket``: encrypted, public access blocked, everything deleted after 7 days).
A presigned form or link acts with the signing function's role when S3 receives it:
template.yaml gives the contacts function ``s3:PutObject`` on ``uploads/*`` and
``s3:GetObject`` on ``reports/*`` for that alone.

The client is made on first use, from the process's shared botocore session
(:mod:`outreach.aws`), with Signature Version 4 (presigned POSTs need it) and the
endpoint ``AWS_ENDPOINT_URL_S3`` names when set (the local stack's embedded S3).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, BinaryIO

from botocore.config import Config

from outreach.aws import client
from outreach.config import get_settings
from outreach.contacts.domain import RowError, RowWarning
from outreach.imports.domain import UploadForm

CSV_CONTENT_TYPE = "text/csv"
REPORT_HEADER = ("row", "severity", "message")
_READ_BUFFER = 1024 * 1024


class MissingUpload(Exception):
    """The uploaded file is not in the bucket (deleted, or never there)."""


class ImportStorage:
    """The imports bucket of this deployment."""

    def __init__(self, bucket: str | None = None) -> None:
        self._bucket_name = bucket

    @cached_property
    def bucket(self) -> str:
        """The bucket's name; :class:`RuntimeError` when ``IMPORTS_BUCKET`` is unset."""
        name = self._bucket_name or get_settings().imports_bucket
        if not name:
            raise RuntimeError("IMPORTS_BUCKET is not set: the imports bucket is unknown")
        return name

    @cached_property
    def _s3(self) -> Any:
        # A custom endpoint (the embedded S3 on loopback) is addressed by path; AWS's
        # own by virtual host, as S3 prefers.
        custom_endpoint = bool(os.environ.get("AWS_ENDPOINT_URL_S3"))
        return client(
            "s3",
            region_name=get_settings().aws_region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"}
                if custom_endpoint
                else {"addressing_style": "virtual"},
            ),
        )

    def upload_form(
        self, key: str, *, max_bytes: int, expires_in: timedelta, now: datetime
    ) -> UploadForm:
        """A presigned POST for ``key``: only a ``text/csv`` file of 1 to ``max_bytes`` bytes,
        before ``now + expires_in`` (S3 refuses anything else with a 400 or 403)."""
        seconds = int(expires_in.total_seconds())
        post = self._s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": CSV_CONTENT_TYPE},
            Conditions=[
                {"Content-Type": CSV_CONTENT_TYPE},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=seconds,
        )
        return UploadForm(
            url=post["url"],
            fields={str(k): str(v) for k, v in post["fields"].items()},
            expires_at=now + timedelta(seconds=seconds),
            max_bytes=max_bytes,
        )

    def open_upload(self, key: str) -> BinaryIO:
        """The uploaded file from its first byte, streamed (never read whole);
        :class:`MissingUpload` if it is gone."""
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self._s3.exceptions.NoSuchKey as error:
            raise MissingUpload(key) from error
        return io.BufferedReader(body, buffer_size=_READ_BUFFER)

    def delete_upload(self, key: str) -> None:
        """Remove the uploaded file (its contacts are stored; the file is not kept)."""
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def write_part(
        self,
        prefix: str,
        first_row: int,
        errors: Iterable[RowError],
        warnings: Iterable[RowWarning],
    ) -> None:
        """One chunk's problems as report rows, at ``<prefix><first_row>.csv`` (written again,
        identically, when a resumed run redoes the chunk)."""
        lines = sorted(
            [(e.row, "error", e.error) for e in errors]
            + [(w.row, "warning", w.warning) for w in warnings]
        )
        if not lines:
            return
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(lines)
        self._s3.put_object(
            Bucket=self.bucket,
            Key=f"{prefix}{first_row:010d}.csv",
            Body=text.getvalue().encode("utf-8"),
            ContentType=CSV_CONTENT_TYPE,
        )

    def join_parts(self, prefix: str, key: str) -> bool:
        """Write the report at ``key`` (``row,severity,message``, UTF-8 with a byte-order mark
        so spreadsheets read it right) from the parts under ``prefix`` in row order, then
        remove the parts. ``False`` (and nothing written) when there are none."""
        part_keys = sorted(self._keys(prefix))
        if not part_keys:
            return False
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as report:
            header = io.StringIO()
            csv.writer(header, lineterminator="\r\n").writerow(REPORT_HEADER)
            report.write(b"\xef\xbb\xbf" + header.getvalue().encode("utf-8"))
            for part in part_keys:
                body = self._s3.get_object(Bucket=self.bucket, Key=part)["Body"]
                while block := body.read(_READ_BUFFER):
                    report.write(block)
            report.seek(0)
            # boto3's managed transfer (multipart above 8 MB) on our botocore client.
            from boto3.s3.inject import upload_fileobj  # noqa: PLC0415 - the report's upload only

            upload_fileobj(
                self._s3,
                report,
                self.bucket,
                key,
                ExtraArgs={
                    "ContentType": "text/csv; charset=utf-8",
                    "ContentDisposition": 'attachment; filename="import-errors.csv"',
                },
            )
        for start in range(0, len(part_keys), 1000):
            self._s3.delete_objects(
                Bucket=self.bucket,
                Delete={
                    "Objects": [{"Key": k} for k in part_keys[start : start + 1000]],
                    "Quiet": True,
                },
            )
        return True

    def report_link(self, key: str, *, expires_in: timedelta) -> str:
        """A presigned GET of the report at ``key``, valid for ``expires_in``."""
        url: str = self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=int(expires_in.total_seconds()),
        )
        return url

    def _keys(self, prefix: str) -> Iterable[str]:
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            for item in page.get("Contents", ()):
                yield str(item["Key"])
