"""Webhooks on the local stack: the time from an inbound text to its signed delivery.

The local stack as ``make dev`` runs it (the embedded AWS on loopback, every API route,
the webhook runner's thread polling the tables' streams every 0.2 s and running due
attempts), started with ``WEBHOOK_ALLOW_LOOPBACK=true``, and a receiver on loopback that
verifies each delivery's signature with the ``standardwebhooks`` library. Each sample
posts one text to ``/v1/dev/inbound`` and waits for its ``message.received`` delivery;
the latency is from the request's start to the receiver holding the verified event.
After ``--warmup`` discarded samples, ``--runs`` are measured; the median, the 90th
percentile and the extremes are printed (no goal: issue 20 asks for the figure).

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/webhooks.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the project root: bench._setup

SENDER = "+16175550100"


def start_receiver(
    secret: list[str], arrived: dict[str, float], changed: threading.Condition
) -> ThreadingHTTPServer:
    """A loopback endpoint that verifies each delivery (``secret[0]``) and notes when the
    text it carries arrived."""
    from standardwebhooks import Webhook

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            payload = Webhook(secret[0]).verify(body, dict(self.headers))
            with changed:
                arrived.setdefault(str(payload["data"].get("body")), time.perf_counter())
                changed.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    from bench._setup import use_bench_environment

    use_bench_environment("benchwh-")  # before any project module is imported
    os.environ["WEBHOOK_ALLOW_LOOPBACK"] = "true"
    import warnings

    from fastapi.testclient import TestClient
    from tests.support.local_api import sign_up

    from outreach.config import get_settings
    from outreach.observability import logger
    from outreach_local.server import build_app, prepare_environment
    from outreach_local.webhooks import get_webhook_runner

    get_settings.cache_clear()
    logger.setLevel("ERROR")
    warnings.simplefilter("ignore")
    environment = prepare_environment()
    arrived: dict[str, float] = {}
    secret: list[str] = []
    changed = threading.Condition()
    server = start_receiver(secret, arrived, changed)
    runner = get_webhook_runner()
    runner.start()
    try:
        client = TestClient(build_app())
        auth = sign_up(client, sender=SENDER)
        made = client.post(
            "/v1/webhooks",
            headers=auth,
            json={
                "url": f"http://127.0.0.1:{server.server_address[1]}/hooks",
                "events": ["message.received"],
            },
        ).json()
        secret.append(made["secret"])
        latencies = []
        for index in range(args.warmup + args.runs):
            text = f"Reply number {index}"
            started = time.perf_counter()
            answer = client.post(
                "/v1/dev/inbound",
                headers=auth,
                json={"from": "+16175550123", "to": SENDER, "body": text},
            )
            if answer.status_code != 200:
                raise SystemExit(f"inbound text refused: {answer.status_code} {answer.text}")
            with changed:
                if not changed.wait_for(partial(arrived.__contains__, text), timeout=30):
                    raise SystemExit(f"no delivery of {text!r} within 30 s")
            if index >= args.warmup:
                latencies.append((arrived[text] - started) * 1000)
    finally:
        runner.stop()
        server.shutdown()
        environment.stop()
    ordered = sorted(latencies)
    p90 = ordered[max(0, round(0.9 * len(ordered)) - 1)]
    print(
        f"inbound text -> its signed webhook, local stack (runner polls every "
        f"{runner.interval:g} s), {len(latencies)} texts after {args.warmup} discarded:"
    )
    print(
        f"  median {statistics.median(latencies):.0f} ms, p90 {p90:.0f} ms, "
        f"min {ordered[0]:.0f} ms, max {ordered[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
