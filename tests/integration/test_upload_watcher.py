"""The local stack's upload watcher: an upload to the embedded S3 runs the imports function
once, as EventBridge would; an upload real S3 would have refused (the form's conditions,
which the embedded S3 does not check) is removed and runs nothing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from outreach.imports.domain import MAX_UPLOAD_BYTES
from outreach_local import uploads
from outreach_local.uploads import UploadWatcher


@pytest.fixture
def watched(
    imports_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[dict[str, Any]]]:
    invoked: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        invoked.append(event)
        return {"imported": False}

    monkeypatch.setattr(uploads, "invoke_imports", invoke)
    s3 = boto3.client("s3", region_name="us-east-1")
    return UploadWatcher(s3, imports_bucket, "us-east-1"), invoked


def test_each_upload_runs_the_imports_function_once(
    watched: tuple[UploadWatcher, list[dict[str, Any]]], imports_bucket: str
) -> None:
    watcher, invoked = watched
    s3 = boto3.client("s3", region_name="us-east-1")
    key = "uploads/ORG/IMPORT.csv"
    s3.put_object(
        Bucket=imports_bucket, Key=key, Body=b"phone\n6175550100\n", ContentType="text/csv"
    )
    s3.put_object(Bucket=imports_bucket, Key="reports/ORG/IMPORT/errors.csv", Body=b"x")
    assert watcher.poll_once() == 1
    assert watcher.poll_once() == 0  # handled: the same key and ETag run once
    (event,) = invoked
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["detail"]["bucket"]["name"] == imports_bucket
    assert event["detail"]["object"]["key"] == key
    assert event["detail"]["object"]["size"] == len(b"phone\n6175550100\n")


@pytest.mark.parametrize(
    ("content_type", "size"), [("application/octet-stream", 20), ("text/csv", MAX_UPLOAD_BYTES + 1)]
)
def test_an_upload_s3_would_refuse_is_removed_and_runs_nothing(
    watched: tuple[UploadWatcher, list[dict[str, Any]]],
    imports_bucket: str,
    content_type: str,
    size: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    watcher, invoked = watched
    s3 = boto3.client("s3", region_name="us-east-1")
    key = "uploads/ORG/IMPORT.csv"
    s3.put_object(
        Bucket=imports_bucket, Key=key, Body=b"phone\n6175550100\n", ContentType=content_type
    )
    if size > MAX_UPLOAD_BYTES:  # listing says the object is larger than the form allows
        monkeypatch.setattr("outreach.imports.domain.MAX_UPLOAD_BYTES", 10)
    assert watcher.poll_once() == 0
    assert invoked == []
    assert "Contents" not in s3.list_objects_v2(Bucket=imports_bucket, Prefix="uploads/")
