"""Webhook delivery rules (issue 20, points 3 and 4): the SSRF check per address class,
the Standard Webhooks signature as the library's own verifier reads it, the retry
schedule, Retry-After, and disabling an endpoint that has failed for three days."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from outreach.webhooks.addresses import RefusedDestination, check_url, destination, refusal
from outreach.webhooks.domain import (
    DISABLE_AFTER,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    AttemptResult,
    EndpointSecrets,
    Event,
    new_secret,
    next_attempt_at,
    retry_after_delay,
    should_disable,
    signature_headers,
)

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def resolving_to(*addresses: str) -> Callable[[str, int], list[str]]:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address refused, not bound
        ("100.64.0.1", "not public"),  # shared address space (RFC 6598)
        ("240.0.0.1", "reserved"),
        ("::ffff:10.0.0.1", "private"),  # an IPv4-mapped IPv6 address
        ("::ffff:169.254.169.254", "metadata"),
    ],
)
def test_every_non_public_address_class_is_refused(address: str, reason: str) -> None:
    with pytest.raises(RefusedDestination, match=reason):
        destination("https://hooks.example.com/in", resolver=resolving_to(address))
    with pytest.raises(RefusedDestination, match=reason):  # and as a literal host
        host = f"[{address}]" if ":" in address else address
        destination(f"https://{host}/in")


def test_a_public_address_is_the_one_connected_to() -> None:
    found = destination(
        "https://hooks.example.com:8443/in?x=1", resolver=resolving_to("93.184.215.14")
    )
    assert (found.scheme, found.host, found.port, found.target, found.address) == (
        "https",
        "hooks.example.com",
        8443,
        "/in?x=1",
        "93.184.215.14",
    )


def test_a_name_mixing_a_public_and_a_private_address_is_refused() -> None:
    with pytest.raises(RefusedDestination, match="private"):
        destination(
            "https://hooks.example.com/", resolver=resolving_to("93.184.215.14", "10.0.0.1")
        )


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def fails(host: str, port: int) -> list[str]:
        raise OSError("no such name")

    with pytest.raises(RefusedDestination, match="does not resolve"):
        destination("https://nowhere.example/", resolver=fails)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/", "must be https"),
        ("ftp://hooks.example.com/", "must be https"),
        ("https://user:pw@hooks.example.com/", "user name"),
        ("https:///nohost", "no host"),
        ("https://hooks.example.com:99999/", "not valid"),
        ("https://hooks.example.com/" + "a" * 2100, "longer"),
        ("http://127.0.0.1:8080/", "must be https"),  # loopback http needs the local flag
    ],
)
def test_urls_outreach_will_not_call_are_refused(url: str, reason: str) -> None:
    with pytest.raises(RefusedDestination, match=reason):
        check_url(url)


def test_the_local_stack_may_deliver_to_loopback_only_when_allowed() -> None:
    local = destination("http://127.0.0.1:9000/hook", allow_loopback=True)
    assert (local.scheme, local.address, local.port) == ("http", "127.0.0.1", 9000)
    localhost = destination(
        "http://localhost:9000/hook", allow_loopback=True, resolver=resolving_to("127.0.0.1", "::1")
    )
    assert localhost.address == "127.0.0.1"
    for url in ("http://[::1]:9000/hook", "http://127.0.0.2:9000/hook"):  # any loopback
        assert destination(url, allow_loopback=True).scheme == "http"
    with pytest.raises(RefusedDestination, match="WEBHOOK_ALLOW_LOOPBACK=true"):
        check_url("http://127.0.0.1:9000/hook")  # the refusal says how to allow it
    # Loopback only: a private address stays refused with the flag.
    assert refusal(ipaddress.ip_address("10.0.0.1"), allow_loopback=True)
    with pytest.raises(RefusedDestination, match="must be https"):
        check_url("http://192.168.0.10/hook", allow_loopback=True)


def test_a_delivery_verifies_with_the_standard_webhooks_library() -> None:
    event = Event("evt_01", "message.received", "ORG", NOW, {"phone": "+16175550123"})
    secret = new_secret()
    assert secret.startswith("whsec_")
    now = datetime.now(UTC)
    body = event.body()
    headers = signature_headers(event.id, body, (secret,), now)
    assert headers["webhook-id"] == "evt_01"
    assert Webhook(secret).verify(body, headers) == {
        "type": "message.received",
        "timestamp": "2026-12-01T15:00:00.000Z",
        "data": {"phone": "+16175550123"},
    }
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body.replace("0123", "0124"), headers)


def test_after_a_rotation_both_secrets_sign_for_a_day() -> None:
    old, new = new_secret(), new_secret()
    secrets = EndpointSecrets(new, previous=old, previous_until=NOW + timedelta(hours=24))
    now = datetime.now(UTC)
    headers = signature_headers("evt_02", "{}", secrets.signing(NOW), now)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify("{}", headers)
    Webhook(new).verify("{}", headers)
    assert secrets.signing(NOW + timedelta(hours=24)) == (new,)


def test_retries_span_more_than_a_day_then_stop() -> None:
    assert sum(RETRY_DELAYS, timedelta()) > timedelta(hours=24)
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)
    failed = AttemptResult(status_code=503, duration_ms=10, error="HTTP 503")
    assert next_attempt_at(1, failed, NOW) == NOW + RETRY_DELAYS[0]
    assert next_attempt_at(MAX_ATTEMPTS - 1, failed, NOW) == NOW + RETRY_DELAYS[-1]
    assert next_attempt_at(MAX_ATTEMPTS, failed, NOW) is None


@pytest.mark.parametrize(
    ("status", "retried"),
    [(None, True), (500, True), (503, True), (429, True), (400, False), (404, False), (301, False)],
)
def test_timeouts_5xx_and_429_are_retried_other_answers_are_final(
    status: int | None, retried: bool
) -> None:
    result = AttemptResult(status_code=status, duration_ms=5000, error="x")
    assert (next_attempt_at(1, result, NOW) is not None) is retried
    ok = AttemptResult(status_code=204, duration_ms=3)
    assert ok.succeeded and next_attempt_at(1, ok, NOW) is None


def test_retry_after_is_honoured_when_later_than_the_schedule() -> None:
    asked = AttemptResult(status_code=429, duration_ms=1, error="HTTP 429", retry_after="120")
    assert next_attempt_at(1, asked, NOW) == NOW + timedelta(seconds=120)
    sooner = AttemptResult(status_code=429, duration_ms=1, error="HTTP 429", retry_after="1")
    assert next_attempt_at(2, sooner, NOW) == NOW + RETRY_DELAYS[1]
    assert retry_after_delay("Tue, 01 Dec 2026 15:10:00 GMT", NOW) == timedelta(minutes=10)
    assert retry_after_delay("soon", NOW) is None
    huge = AttemptResult(status_code=503, duration_ms=1, error="x", retry_after="99999999")
    assert next_attempt_at(1, huge, NOW) == NOW + RETRY_DELAYS[-1]  # capped


def test_an_endpoint_failing_for_three_days_is_disabled() -> None:
    assert not should_disable(None, NOW)
    assert not should_disable(NOW - DISABLE_AFTER + timedelta(minutes=1), NOW)
    assert should_disable(NOW - DISABLE_AFTER, NOW)
