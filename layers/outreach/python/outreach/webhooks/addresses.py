"""Where a webhook may be delivered: no server-side request forgery (issue 20, point 4).

An endpoint's URL is ``https`` and its host resolves to public addresses only: never a
private (RFC 1918, IPv6 unique-local), loopback, link-local, multicast, shared (RFC
6598), reserved or unspecified one, nor a cloud's metadata service. The check runs when
the endpoint is saved and again at every delivery (DNS can change), and the delivery
connects to the very address checked (the host name goes in ``Host`` and in TLS's SNI
and certificate check), so a name that resolves to a public address at the check and
to a private one a moment later reaches nothing private.

The local stack, started with ``WEBHOOK_ALLOW_LOOPBACK=true``, may deliver to
``http://127.0.0.1`` and ``http://localhost``; the template never sets it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address
type Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2048
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
# Instance metadata services: AWS's (IPv4 and IPv6), Alibaba's (also other clouds' on
# 169.254.169.254, which is link-local anyway).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class RefusedDestination(ValueError):
    """A URL Outreach will not deliver to; the message says why (shown to the user)."""


@dataclass(frozen=True)
class Destination:
    """A checked URL: connect to ``address`` (a string IP) at ``port``, naming ``host``."""

    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    address: str


def refusal(address: Address, *, allow_loopback: bool = False) -> str | None:
    """Why ``address`` may not be delivered to (its class), or ``None`` if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped, allow_loopback=allow_loopback)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "an address that is not public"),
    )
    for refused, reason in checks:
        if refused and not (allow_loopback and address.is_loopback):
            return reason
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (A and AAAA records)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_loopback: bool = False) -> tuple[str, str, int, str]:
    """The URL's scheme, host, port and request target, or :class:`RefusedDestination`:
    ``https`` only (``http`` to ``localhost`` or a loopback address when
    ``allow_loopback``), no user info,
    at most :data:`MAX_URL_LENGTH` characters."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedDestination(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedDestination("The URL is not valid.") from error
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise RefusedDestination("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise RefusedDestination("The URL may not carry a user name or password.")
    loopback = _is_loopback_host(host)
    if parts.scheme != "https" and not (allow_loopback and parts.scheme == "http" and loopback):
        hint = (
            " (the local stack takes http to a loopback address when started with"
            " WEBHOOK_ALLOW_LOOPBACK=true)"
            if loopback and parts.scheme == "http"
            else ""
        )
        raise RefusedDestination(f"The URL must be https{hint}.")
    default_port = 443 if parts.scheme == "https" else 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or default_port, target


def destination(
    url: str, *, allow_loopback: bool = False, resolver: Resolver | None = None
) -> Destination:
    """The checked destination of ``url``: :class:`RefusedDestination` when the URL is
    refused (:func:`check_url`), its host does not resolve, or any address it resolves
    to is not public (a name may not mix a public address with a private one).
    ``resolver``: :func:`system_resolver` unless given."""
    scheme, host, port, target = check_url(url, allow_loopback=allow_loopback)
    try:
        literal: Address | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    try:
        found = [str(literal)] if literal is not None else (resolver or system_resolver)(host, port)
    except (OSError, UnicodeError) as error:
        raise RefusedDestination(f"The host {host} does not resolve.") from error
    if not found:
        raise RefusedDestination(f"The host {host} does not resolve.")
    for text in found:
        reason = refusal(ipaddress.ip_address(text.split("%", 1)[0]), allow_loopback=allow_loopback)
        if reason is not None:
            raise RefusedDestination(f"The host {host} resolves to {reason} ({text}).")
    return Destination(scheme, host, port, target, found[0])
