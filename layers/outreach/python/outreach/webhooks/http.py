"""One delivery attempt over HTTP(S), to a checked address (:mod:`.addresses`): a POST
with a 5 s timeout, no redirects followed, at most the first 1 kB of the answer kept."""

from __future__ import annotations

import time

import urllib3
from urllib3.exceptions import HTTPError

from outreach.webhooks.addresses import Destination
from outreach.webhooks.domain import ATTEMPT_TIMEOUT_SECONDS, RESPONSE_KEPT_BYTES, AttemptResult

USER_AGENT = "Outreach-Webhooks/1"


def post(
    destination: Destination,
    body: str,
    headers: dict[str, str],
    *,
    timeout: float = ATTEMPT_TIMEOUT_SECONDS,
) -> AttemptResult:
    """POST ``body`` (JSON) with ``headers`` to ``destination``'s address, naming its
    host (``Host``, and TLS's SNI and certificate check for https). A redirect is an
    answer like any other (not followed); a timeout or a connection error has no
    status."""
    started = time.monotonic()
    pool: urllib3.HTTPConnectionPool
    limit = urllib3.Timeout(total=timeout)
    if destination.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            destination.address,
            destination.port,
            timeout=limit,
            retries=False,
            maxsize=1,
            server_hostname=destination.host,
            assert_hostname=destination.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            destination.address, destination.port, timeout=limit, retries=False, maxsize=1
        )
    default_port = 443 if destination.scheme == "https" else 80
    host = (
        destination.host
        if destination.port == default_port
        else (f"{destination.host}:{destination.port}")
    )
    try:
        with pool:
            response = pool.urlopen(
                "POST",
                destination.target,
                body=body.encode(),
                headers={
                    **headers,
                    "Host": host,
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                },
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                excerpt = response.read(RESPONSE_KEPT_BYTES, decode_content=False)
            finally:
                response.release_conn()
                response.close()
    except (HTTPError, OSError) as error:
        return AttemptResult(
            status_code=None, duration_ms=_elapsed(started), error=_describe(error)
        )
    status = response.status
    ok = 200 <= status < 300
    return AttemptResult(
        status_code=status,
        duration_ms=_elapsed(started),
        error=None if ok else f"HTTP {status}",
        response_excerpt=excerpt.decode("utf-8", "replace"),
        retry_after=response.headers.get("Retry-After"),
    )


def _elapsed(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _describe(error: BaseException) -> str:
    """A short, secret-free description of a transport failure."""
    name = type(error).__name__
    if "Timeout" in name:
        return "timed out"
    return f"connection failed ({name})"
