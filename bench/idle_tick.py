"""Idle ticks: a ``/v1/dev/tick`` that sends nothing, on a fresh stack and after 1,000 sends.

One local stack (``outreach_local.server``: the embedded moto server, the
tables and the send queue, the whole API app) driven in-process over HTTP
(``fastapi.testclient.TestClient``), in one run:

1. Fresh: an owner registers and sets a sender number (100 messages per
   second). One idle tick (imports and first calls, not counted), then
   ``--runs`` idle ticks, timed: each ``POST /v1/dev/tick`` at a Sunday
   instant, when no campaign exists; each must dispatch and send nothing.
2. History: ``--contacts`` contacts imported (tagged in batches of
   ``--batch``), one campaign per batch (audience: its tag, daily limit 125, so
   no campaign meets its cap), all started, then ticked at Monday 10:00 New
   York until every campaign is completed: all recipients sent.
3. After: ``--runs`` idle ticks again, timed the same way, at the next Sunday
   (every campaign is completed: nothing to dispatch).

An idle tick still ends with the statistics drain of the recipients table's
stream (``StatsPump.drain``: in the tick, and in the app's middleware after
every write request). That is the cost measured: each timed tick must run at
least one drain; the drains are timed (``StatsPump.drain`` wrapped) and their
share printed. Goal: median idle tick after / median idle tick fresh <= 1.5.

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/idle_tick.py
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the project root: bench._setup

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"  # noqa: S105 - a bench account's password
SENDER = "+16175559000"  # outside the contacts' numbers (617-555-0000 to 617-555-0999)
MESSAGES_PER_SECOND = 100
DAILY_LIMIT = 125
FRESH_SUNDAY = datetime.fromisoformat("2026-11-22T15:00:00+00:00")  # 10:00 New York
MONDAY_10AM_EASTERN = datetime.fromisoformat("2026-11-23T15:00:00+00:00")
AFTER_SUNDAY = datetime.fromisoformat("2026-11-29T15:00:00+00:00")
MAX_SENDING_DAYS = 5
GOAL_RATIO = 1.5


@dataclass
class DrainMeter:
    """Counts and times ``StatsPump.drain`` calls (any pump, any thread)."""

    calls: int = 0
    seconds: float = 0.0
    records: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.calls, self.seconds, self.records = 0, 0.0, 0

    def install(self, pump_class: Any) -> None:
        original = pump_class.drain
        meter = self

        @wraps(original)
        def drain(pump: Any) -> int:
            begin = time.perf_counter()
            try:
                read = int(original(pump))
            finally:
                elapsed = time.perf_counter() - begin
                with meter.lock:
                    meter.calls += 1
                    meter.seconds += elapsed
            with meter.lock:
                meter.records += read
            return read

        pump_class.drain = drain


@dataclass(frozen=True)
class Tick:
    seconds: float
    drains: int
    drain_seconds: float
    records: int


@dataclass(frozen=True)
class Measured:
    warm: Tick
    fresh: list[Tick]
    after: list[Tick]
    setup_s: float
    import_s: float
    campaigns: int
    start_s: float
    sending_ticks: int
    sending_s: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000, help="recipients sent (1000)")
    parser.add_argument("--batch", type=int, default=100, help="recipients per campaign (100)")
    parser.add_argument("--runs", type=int, default=5, help="idle ticks per phase (median)")
    args = parser.parse_args()
    if not 1 <= args.batch <= DAILY_LIMIT:
        parser.error(f"--batch must be 1 to {DAILY_LIMIT} (the daily limit)")

    total_begin = time.perf_counter()
    from bench._setup import use_bench_environment

    # A table prefix of its own: the embedded server lives as long as the run.
    use_bench_environment(f"bench-idle-{uuid.uuid4().hex[:8]}-")
    source = "bench/_setup.py (outreach_local.environment)"

    from fastapi.testclient import TestClient

    from outreach_local.server import build_app, prepare_environment
    from outreach_local.streams import StatsPump

    meter = DrainMeter()
    meter.install(StatsPump)
    # The stack prints its metrics (CloudWatch EMF lines) on stdout: kept out of the report.
    captured = io.StringIO()
    environment = prepare_environment(None)
    try:
        with contextlib.redirect_stdout(captured):
            measured = measure(TestClient(build_app()), meter, args.contacts, args.batch, args.runs)
    except BaseException:
        sys.stderr.write(captured.getvalue())
        raise
    finally:
        environment.stop()
    total_s = time.perf_counter() - total_begin
    report(measured, args.contacts, args.runs, source, total_s)


def measure(
    client: TestClient, meter: DrainMeter, contacts: int, batch: int, runs: int
) -> Measured:
    """The three phases on one stack: fresh idle ticks, every recipient sent, idle ticks."""

    def tick(auth: dict[str, str], now: datetime) -> dict[str, Any]:
        response = client.post("/v1/dev/tick", headers=auth, json={"now": now.isoformat()})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def idle(auth: dict[str, str], now: datetime) -> Tick:
        meter.reset()
        begin = time.perf_counter()
        result = tick(auth, now)
        elapsed = time.perf_counter() - begin
        assert (result["campaigns"], result["sent"]) == (0, 0), result
        assert meter.calls >= 1, "an idle tick must drain the recipients stream"
        return Tick(elapsed, meter.calls, meter.seconds, meter.records)

    # 1. Fresh.
    begin = time.perf_counter()
    auth = sign_up(client)
    organization = {"sender_number": SENDER, "messages_per_second": MESSAGES_PER_SECOND}
    response = client.patch("/v1/organization", headers=auth, json=organization)
    assert response.status_code == 200, response.text
    setup_s = time.perf_counter() - begin
    warm = idle(auth, FRESH_SUNDAY)
    fresh = [idle(auth, FRESH_SUNDAY + timedelta(minutes=1 + n)) for n in range(runs)]

    # 2. History: every recipient sent.
    begin = time.perf_counter()
    imported = client.post(
        "/v1/contacts/import",
        headers={**auth, "content-type": "text/csv"},
        content=contacts_csv(contacts, batch),
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == contacts, imported.json()
    import_s = time.perf_counter() - begin
    begin = time.perf_counter()
    started = [start_campaign(client, auth, n) for n in range(math.ceil(contacts / batch))]
    assert sum(recipients for _, recipients in started) == contacts, started
    campaign_ids = [cid for cid, _ in started]
    start_s = time.perf_counter() - begin
    begin = time.perf_counter()
    sent, sending_ticks = 0, 0
    for day in range(MAX_SENDING_DAYS):  # weekdays from Monday: one tick a day
        sent += tick(auth, MONDAY_10AM_EASTERN + timedelta(days=day))["sent"]
        sending_ticks += 1
        campaigns = [
            client.get(f"/v1/campaigns/{cid}", headers=auth).json() for cid in campaign_ids
        ]
        if all(campaign["status"] == "completed" for campaign in campaigns):
            break
    else:
        raise AssertionError(f"campaigns not completed after {MAX_SENDING_DAYS} days")
    sending_s = time.perf_counter() - begin
    assert sent == contacts, f"sent {sent} of {contacts}"
    stats = [client.get(f"/v1/campaigns/{cid}/stats", headers=auth).json() for cid in campaign_ids]
    assert all(s["pending"] == 0 for s in stats), stats
    assert sum(s["sent"] for s in stats) == contacts, f"the statistics count: {stats}"

    # 3. After.
    after = [idle(auth, AFTER_SUNDAY + timedelta(minutes=n)) for n in range(runs)]
    return Measured(
        warm, fresh, after, setup_s, import_s, len(campaign_ids), start_s, sending_ticks, sending_s
    )


def report(measured: Measured, contacts: int, runs: int, source: str, total_s: float) -> None:
    fresh_ms = 1000 * statistics.median(t.seconds for t in measured.fresh)
    after_ms = 1000 * statistics.median(t.seconds for t in measured.after)
    ratio = after_ms / fresh_ms
    print("POST /v1/dev/tick that sends nothing (a Sunday, no active campaign), local stack")
    print(f"in-process (TestClient, embedded moto server); environment from {source}")
    print(f"median of {runs} idle ticks per phase; drains: StatsPump.drain calls in the tick")
    print(f"{'':<22}{'tick ms':>10}{'drain ms':>10}{'drains':>8}{'records':>9}")
    for label, ticks in (
        ("fresh stack", measured.fresh),
        (f"after {contacts:,} sent", measured.after),
    ):
        print(
            f"{label:<22}"
            f"{1000 * statistics.median(t.seconds for t in ticks):>10.0f}"
            f"{1000 * statistics.median(t.drain_seconds for t in ticks):>10.0f}"
            f"{statistics.median(t.drains for t in ticks):>8.0f}"
            f"{statistics.median(t.records for t in ticks):>9.0f}"
        )
    for label, ticks in (("fresh", measured.fresh), ("after", measured.after)):
        print(f"  {label} ticks ms: " + ", ".join(f"{1000 * t.seconds:.0f}" for t in ticks))
    print(
        f"setup: first idle tick {1000 * measured.warm.seconds:.0f} ms (imports, not counted); "
        f"sign-up {measured.setup_s:.1f} s; import {contacts:,} contacts {measured.import_s:.1f} s;"
        f" {measured.campaigns} campaigns started {measured.start_s:.1f} s; "
        f"{measured.sending_ticks} sending tick(s) {measured.sending_s:.1f} s"
    )
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"idle tick after / fresh: {after_ms:.0f} ms / {fresh_ms:.0f} ms = {ratio:.2f}", end="")
    print(f"  (goal <= {GOAL_RATIO}: {verdict})")
    print(f"total run {total_s:.0f} s")


def sign_up(client: TestClient) -> dict[str, str]:
    """Register an owner, log in: the bearer header."""
    body = {
        "email": "idle@bench.test",
        "password": PASSWORD,
        "full_name": "Bench",
        "organization_name": "Idle bench",
    }
    response = client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    login = client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"authorization": f"Bearer {login.json()['access_token']}"}


def contacts_csv(rows: int, batch: int) -> bytes:
    """``rows`` contacts in New York (617-555-0000 up), tagged ``batch0``, ``batch1``, ..."""
    lines = ["phone,first_name,tags"]
    lines += [f"617555{index:04d},Pat{index},batch{index // batch}" for index in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def start_campaign(client: TestClient, auth: dict[str, str], batch: int) -> tuple[str, int]:
    """Create and start the campaign of one tagged batch: its id and its recipients."""
    draft = {
        "name": f"Idle bench {batch}",
        "template_a": "Hi {first_name}!",
        "template_b": "Hey {first_name}.",
        "audience": {"tags": [f"batch{batch}"]},
        "daily_limit": DAILY_LIMIT,
    }
    created = client.post("/v1/campaigns", headers=auth, json=draft)
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["id"]
    started = client.post(f"/v1/campaigns/{campaign_id}/start", headers=auth)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "active", started.json()
    return campaign_id, int(started.json()["recipients"])


if __name__ == "__main__":
    main()
