"""Run the imports function when an upload lands in the embedded S3, as EventBridge would.

In the cloud, S3 sends an "Object Created" event to EventBridge for every upload to the
imports bucket, and a rule invokes the imports function with it (template.yaml,
``ImportsFunction``); Lambda retries a failed invocation twice. The embedded S3 (moto)
sends no such events, so the local stack polls the bucket's ``uploads/`` prefix and
calls the same handler with an event of the same shape, retrying the same way.
"""

from __future__ import annotations

import sys
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from outreach_local.runtime import LocalLambdaContext, load_function, service_name, service_scope

UPLOADS_PREFIX = "uploads/"
ATTEMPTS = 3
"""One invocation and Lambda's two retries (``EventInvokeConfig.MaximumRetryAttempts``)."""
IMPORTS_TIMEOUT_MILLIS = 900_000
"""template.yaml's ``ImportsFunction`` ``Timeout``."""


def object_created_event(
    bucket: str, key: str, size: int, etag: str, *, region: str, account: str = "000000000000"
) -> dict[str, Any]:
    """The EventBridge event S3 sends for an object uploaded with a form (``POST Object``)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": now,
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": etag, "sequencer": uuid.uuid4().hex},
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account,
            "source-ip-address": "127.0.0.1",
            "reason": "POST Object",
        },
    }


class UploadWatcher(threading.Thread):
    """Polls the imports bucket every ``interval`` seconds; each new upload (by key and
    ETag) is handed to the imports function, at most :data:`ATTEMPTS` times."""

    def __init__(self, s3: Any, bucket: str, region: str, interval: float = 1.0) -> None:
        super().__init__(name="outreach-uploads", daemon=True)
        self._s3 = s3
        self._bucket = bucket
        self._region = region
        self._interval = interval
        self._handled: set[tuple[str, str]] = set()
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self.poll_once()
            except Exception as exc:  # a failed poll must not end the local stack
                print(f"upload watcher: {exc!r}", file=sys.stderr)

    def stop(self) -> None:
        self._stopped.set()

    def poll_once(self) -> int:
        """Run every upload not handled yet; answer how many were run."""
        ran = 0
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=UPLOADS_PREFIX
        )
        for page in pages:
            for item in page.get("Contents", ()):
                seen = (item["Key"], item["ETag"])
                if seen in self._handled:
                    continue
                self._handled.add(seen)
                if not self._as_s3_takes_it(item):
                    continue
                event = object_created_event(
                    self._bucket,
                    item["Key"],
                    int(item["Size"]),
                    item["ETag"].strip('"'),
                    region=self._region,
                )
                invoke_imports(event)
                ran += 1
        return ran

    def _as_s3_takes_it(self, item: dict[str, Any]) -> bool:
        """Whether real S3 would have taken this upload from the form: the embedded S3
        does not check the presigned POST's conditions (``text/csv``, at most
        :data:`~outreach.imports.domain.MAX_UPLOAD_BYTES`), so an upload that breaks
        them is removed here, as S3 would have refused it, and no import runs."""
        from outreach.imports.domain import MAX_UPLOAD_BYTES
        from outreach.imports.storage import CSV_CONTENT_TYPE

        head = self._s3.head_object(Bucket=self._bucket, Key=item["Key"])
        if head.get("ContentType") == CSV_CONTENT_TYPE and 0 < item["Size"] <= MAX_UPLOAD_BYTES:
            return True
        print(
            f"upload {item['Key']} refused as S3 would refuse it: content type "
            f"{head.get('ContentType')!r}, {item['Size']} bytes",
            file=sys.stderr,
        )
        self._s3.delete_object(Bucket=self._bucket, Key=item["Key"])
        return False


def invoke_imports(event: dict[str, Any]) -> dict[str, Any] | None:
    """Call the imports function's handler with ``event`` as Lambda would, retrying a
    failed invocation (a run stopped for time resumes on the retry); ``None`` when every
    attempt failed (the cloud would put the event in the dead-letter queue)."""
    handler = load_function("imports").handler
    for attempt in range(1, ATTEMPTS + 1):
        context = LocalLambdaContext(function_name="imports", timeout_millis=IMPORTS_TIMEOUT_MILLIS)
        try:
            with service_scope(service_name("imports")):
                result: dict[str, Any] = handler(event, context)
            return result
        except Exception as exc:
            print(f"imports function, attempt {attempt}: {exc!r}", file=sys.stderr)
    return None
