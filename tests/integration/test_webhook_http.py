"""One webhook delivery attempt over real HTTP, against a loopback server this test starts
(issue 20, point 4): the signed POST arrives as sent, a redirect is not followed, a slow
endpoint times out, only the first 1 kB of an answer is kept, Retry-After is read."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from outreach.webhooks.addresses import destination
from outreach.webhooks.domain import (
    RESPONSE_KEPT_BYTES,
    AttemptResult,
    Event,
    new_secret,
    signature_headers,
)
from outreach.webhooks.http import post

pytestmark = [pytest.mark.loopback, pytest.mark.enable_socket]


class Endpoint(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Endpoint.received.append((self.path, dict(self.headers), body))
        if self.path == "/slow":
            time.sleep(1.0)
        answers = {
            "/ok": (204, {}, b""),
            "/redirect": (302, {"Location": "http://127.0.0.1:1/elsewhere"}, b""),
            "/big": (500, {}, b"x" * 5000),
            "/busy": (429, {"Retry-After": "7"}, b"slow down"),
            "/slow": (200, {}, b""),
        }
        status, headers, payload = answers.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base_url() -> Iterator[str]:
    Endpoint.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def attempt(url: str, body: str = "{}", timeout: float = 5.0) -> AttemptResult:
    return post(destination(url, allow_loopback=True), body, {"webhook-id": "evt"}, timeout=timeout)


def test_a_signed_delivery_arrives_as_sent_and_verifies(base_url: str) -> None:
    secret = new_secret()
    event = Event("evt_01", "contact.opted_out", "ORG", datetime.now(UTC), {"phone": "+1"})
    body = event.body()
    headers = signature_headers(event.id, body, (secret,), datetime.now(UTC))
    result = post(destination(f"{base_url}/ok", allow_loopback=True), body, headers)
    assert result.succeeded and result.status_code == 204 and result.error is None
    ((path, received_headers, received_body),) = Endpoint.received
    assert path == "/ok"
    assert received_headers["Content-Type"] == "application/json"
    assert received_headers["Host"].startswith("127.0.0.1:")
    assert Webhook(secret).verify(received_body, received_headers)["type"] == "contact.opted_out"


def test_a_redirect_is_an_answer_not_followed(base_url: str) -> None:
    result = attempt(f"{base_url}/redirect")
    assert result.status_code == 302 and not result.succeeded and not result.retryable
    assert [path for path, _, _ in Endpoint.received] == ["/redirect"]


def test_only_the_first_kilobyte_of_an_answer_is_kept(base_url: str) -> None:
    result = attempt(f"{base_url}/big")
    assert result.status_code == 500 and result.retryable
    assert len(result.response_excerpt) == RESPONSE_KEPT_BYTES


def test_a_slow_endpoint_times_out_and_is_retried(base_url: str) -> None:
    started = time.monotonic()
    result = attempt(f"{base_url}/slow", timeout=0.3)
    assert time.monotonic() - started < 0.9
    assert result.status_code is None and result.error == "timed out" and result.retryable


def test_retry_after_and_a_closed_port_are_reported(base_url: str) -> None:
    busy = attempt(f"{base_url}/busy")
    assert (busy.status_code, busy.retry_after, busy.response_excerpt) == (429, "7", "slow down")
    closed = attempt("http://127.0.0.1:1/nothing-listens")
    assert closed.status_code is None and closed.error is not None
    assert closed.error.startswith("connection failed")
