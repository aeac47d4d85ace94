"""Campaign start, through the campaigns Lambda handler against moto, beside a raw BatchWriteItem.

For each size N (default 1,000 and 10,000): an organization with N imported
contacts, a sender number and a draft campaign (variants A 70 / B 30, audience
all). ``POST /v1/campaigns/{id}/start`` is timed through the handler while every
AWS call it makes is recorded; then exactly the recipient items it stored (read
back from the table) are written into a fresh table set with raw boto3
``BatchWriteItem`` calls of 25, timed, in the same run.

DynamoDB write units are computed from the recorded requests, the way DynamoDB
bills on-demand writes (``bench/_units.py`` says how); the recorder's own reads
(the images before and after each write) are outside the start's time: that time
is subtracted and printed.

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/campaign_start.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the project root: bench._setup

if TYPE_CHECKING:
    from bench._units import Recorder, WriteUnits

PREFIX = "bench-"


def generate_csv(rows: int) -> bytes:
    """``rows`` contacts with distinct valid NANP numbers: 617, exchange 555, 556, ..."""
    lines = ["First Name,Last Name,Mobile,Email,Tags"]
    for index in range(rows):
        phone = f"617{555 + index // 10000}{index % 10000:04d}"
        lines.append(f"Ann,Stone{index},{phone},ann{index}@example.com,leads")
    return ("\n".join(lines) + "\n").encode()


# --- The bench -------------------------------------------------------------------------------


@dataclass
class Run:
    """One start of an N-recipient campaign and its raw baseline."""

    start_s: float  # the recorder's own reads subtracted
    raw_s: float
    raw_calls: int
    recorder: Recorder
    raw_written: WriteUnits
    item_bytes: float


def main() -> None:  # noqa: PLR0915 - one linear measurement script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1_000, 10_000],
        help="comma-separated recipient counts (default 1000,10000)",
    )
    parser.add_argument("--runs", type=int, default=3, help="starts per size (median)")
    args = parser.parse_args()

    from bench._setup import use_bench_environment

    use_bench_environment(PREFIX)  # before any project module is imported
    import warnings

    import boto3
    from bench._steps import PASSWORD, register, write_raw
    from bench._units import Recorder, WriteUnits, describe, item_size
    from botocore.client import BaseClient
    from moto import mock_aws
    from tests.support.api import http_event

    from outreach.config import get_settings
    from outreach.observability import logger
    from outreach_local.runtime import LocalLambdaContext, load_function
    from outreach_local.template import create_tables

    get_settings.cache_clear()
    logger.setLevel("ERROR")
    warnings.simplefilter("ignore")

    prefix = PREFIX
    results: list[tuple[int, float, list[Run]]] = []
    total_begin = time.perf_counter()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, prefix)
        shapes = {name: describe(dynamodb, name) for name in dynamodb.list_tables()["TableNames"]}
        identity = load_function("identity").handler
        contacts = load_function("contacts").handler
        campaigns = load_function("campaigns").handler
        context = LocalLambdaContext(function_name="bench")

        def call(handler: Any, method: str, path: str, expect: int, **kw: Any) -> Any:
            response = handler(http_event(method, path, **kw), context)
            assert response["statusCode"] == expect, response
            return json.loads(response["body"]) if response.get("body") else None

        def organization(number: int, size: int) -> dict[str, str]:
            """An owner's headers, in an organization with ``size`` contacts and a sender."""
            email = f"start{number}@bench.test"
            register(identity, context, email, f"Bench {size}")
            login = {"email": email, "password": PASSWORD}
            token = call(identity, "POST", "/v1/auth/login", 200, body=login)["access_token"]
            auth = {"authorization": f"Bearer {token}"}
            sender = {"sender_number": f"+1617555{100 + number:04d}"}
            call(identity, "PATCH", "/v1/organization", 200, body=sender, headers=auth)
            imported = call(
                contacts,
                "POST",
                "/v1/contacts/import",
                200,
                raw_body=generate_csv(size),
                headers={**auth, "content-type": "text/csv"},
            )
            assert imported["created"] == size, imported
            return auth

        def start_once(auth: dict[str, str], size: int, tag: str) -> Run:
            draft = {
                "name": f"Start {size} {tag}",
                "variants": [
                    {"name": "A", "body": "Hi {first_name|there}, spring check?", "weight": 70},
                    {"name": "B", "body": "Hey {first_name|there}! Free check?", "weight": 30},
                ],
                "audience": {"all": True},
            }
            campaign = call(campaigns, "POST", "/v1/campaigns", 201, body=draft, headers=auth)
            start_event = http_event("POST", f"/v1/campaigns/{campaign['id']}/start", headers=auth)

            # The start, through the handler, every call recorded.
            original = BaseClient._make_api_call  # type: ignore[attr-defined]
            recorder = Recorder(original, shapes, (prefix,))

            def recording(self: Any, operation: str, params: Any) -> Any:
                return recorder(self, operation, params)

            BaseClient._make_api_call = recording  # type: ignore[attr-defined]
            try:
                begin = time.perf_counter()
                response = campaigns(start_event, context)
                elapsed = time.perf_counter() - begin
            finally:
                BaseClient._make_api_call = original  # type: ignore[attr-defined]
            assert response["statusCode"] == 200, response
            started = json.loads(response["body"])
            assert started["status"] == "active" and started["recipients"] == size, started
            assert not recorder.failed, recorder.failed

            # Exactly the recipient items it stored, written raw into a fresh table set.
            stored: list[dict[str, Any]] = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=f"{prefix}recipients"):
                stored.extend(
                    item
                    for item in page["Items"]
                    if item["campaign_key"]["S"].endswith(f"#{campaign['id']}")
                )
            keys = {(item["campaign_key"]["S"], item["contact_id"]["S"]) for item in stored}
            put = {
                (k["campaign_key"]["S"], k["contact_id"]["S"])
                for k in recorder.put_keys["recipients"]
            }
            assert keys == put, "the table holds what the start wrote"
            assert len(stored) == size
            raw_prefix = f"raw{tag}-"
            create_tables(dynamodb, raw_prefix)
            begin = time.perf_counter()
            raw_calls = write_raw(dynamodb, f"{raw_prefix}recipients", stored)
            raw_s = time.perf_counter() - begin
            raw_written = WriteUnits()
            raw_shape = describe(dynamodb, f"{raw_prefix}recipients")
            for item in stored:  # new items into an empty table: nothing before
                raw_written.charge(f"{prefix}recipients", raw_shape, None, item)
            return Run(
                start_s=elapsed - recorder.overhead_s,
                raw_s=raw_s,
                raw_calls=raw_calls,
                recorder=recorder,
                raw_written=raw_written,
                item_bytes=sum(item_size(item) for item in stored) / len(stored),
            )

        for number, size in enumerate(args.sizes):
            begin = time.perf_counter()
            auth = organization(number, size)
            setup_s = time.perf_counter() - begin
            runs = [start_once(auth, size, f"{number}x{run}") for run in range(args.runs)]
            assert all(r.recorder.calls == runs[0].recorder.calls for r in runs)
            assert all(r.recorder.written == runs[0].recorder.written for r in runs)
            results.append((size, setup_s, runs))

    total_s = time.perf_counter() - total_begin
    print("POST /v1/campaigns/{id}/start through the campaigns handler (moto in-process),")
    print("variants A 70 / B 30, audience all; raw = the same recipient items, BatchWriteItem x25;")
    print(f"median of {args.runs} starts per size (each a new campaign in the same organization)")
    print(
        f"{'N':>8}{'start s':>10}{'raw s':>9}{'ratio':>8}"
        f"{'WCU/rcpt':>10}{'raw WCU/rcpt':>14}{'calls':>7}{'raw calls':>11}"
    )
    for size, _setup_s, runs in results:
        start_s = statistics.median(r.start_s for r in runs)
        raw_s = statistics.median(r.raw_s for r in runs)
        first = runs[0]
        print(
            f"{size:>8,}{start_s:>10.2f}{raw_s:>9.2f}{start_s / raw_s:>8.2f}"
            f"{first.recorder.written.total / size:>10.3f}"
            f"{first.raw_written.total / size:>14.3f}"
            f"{first.recorder.total_calls:>7,}{first.raw_calls:>11,}"
        )
    for size, setup_s, runs in results:
        run = sorted(runs, key=lambda r: r.start_s)[len(runs) // 2]  # the median run
        recorder = run.recorder
        print(f"N={size:,} (the median run; setup {setup_s:.1f} s)")
        by_operation = Counter[str]()
        for label, calls in recorder.calls.items():
            by_operation[label.split(" ", 1)[0]] += calls  # "Operation table" or "sqs:Operation"
        print("  calls:   " + ", ".join(f"{op} {n:,}" for op, n in by_operation.most_common()))
        wcu = ", ".join(
            f"{target.removeprefix(prefix)} {n:,}"
            for target, n in recorder.written.by_target.items()
        )
        print(f"  WCU:     {recorder.written.total:,} = {wcu}")
        items = ", ".join(
            f"{table.removeprefix(prefix)} {n:,}" for table, n in recorder.written.items.items()
        )
        print(f"  items:   {items}; a recipient item is {run.item_bytes:.0f} B on average")
        in_calls = recorder.in_calls_s
        print(f"  time:    {run.start_s:.2f} s = {in_calls:.2f} s in AWS calls:")
        for label, seconds in sorted(recorder.seconds.items(), key=lambda kv: -kv[1]):
            print(f"             {seconds:6.2f} s  {label} ({recorder.calls[label]:,} calls)")
        print(f"           + {run.start_s - in_calls:.2f} s in the handler between calls")
        print(f"  (the recorder's own reads took {recorder.overhead_s:.2f} s, subtracted)")
    print(f"total run {total_s:.0f} s")


if __name__ == "__main__":
    main()
