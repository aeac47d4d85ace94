"""Pages of a listing, and the opaque, integrity-protected cursors between them.

A repository answers a listing with a :class:`Page`: the items and, when more
follow, a cursor that carries DynamoDB's ``LastEvaluatedKey`` bound to the
organization and the listing it came from, sealed with an HMAC. A tampered
cursor, or one from another organization or listing, is a 400
(:class:`~outreach.errors.BadRequest`), never another tenant's data. Services and
routes see only the sealed text, never a DynamoDB key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from outreach.errors import BadRequest
from outreach.secrets import get_signing_key

if TYPE_CHECKING:
    from pynamodb.pagination import ResultIterator


@dataclass(frozen=True)
class Page[T]:
    """One page of a listing: ``items`` in the listing's order; ``next_cursor`` is
    ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None


def _key() -> bytes:
    return hmac.new(get_signing_key(), b"outreach-cursor-v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(last_key: dict[str, Any] | None, *, org_id: str, listing: str) -> str | None:
    """Seal ``last_key`` for ``org_id``'s ``listing``; ``None`` when there is no next page."""
    if not last_key:
        return None
    payload = json.dumps(
        {"o": org_id, "l": listing, "k": last_key}, separators=(",", ":"), sort_keys=True
    ).encode()
    tag = hmac.new(_key(), payload, hashlib.sha256).digest()[:16]
    return _b64(payload) + "." + _b64(tag)


def sealed_page[I, T](
    result: ResultIterator[I], convert: Callable[[I], T], *, org_id: str, listing: str
) -> Page[T]:
    """The page a query's ``result`` holds, each item through ``convert``, with the cursor
    to the next one sealed for ``org_id``'s ``listing`` (DynamoDB's next key is known once
    the page is read)."""
    items = [convert(item) for item in result]
    return Page(items, encode_cursor(result.last_evaluated_key, org_id=org_id, listing=listing))


def decode_cursor(cursor: str | None, *, org_id: str, listing: str) -> dict[str, Any] | None:
    """Open a cursor made by :func:`encode_cursor`, or raise :class:`BadRequest`."""
    if cursor is None:
        return None
    try:
        payload_text, tag_text = cursor.split(".", 1)
        payload = _unb64(payload_text)
        tag = _unb64(tag_text)
    except (ValueError, TypeError) as exc:
        raise BadRequest("The cursor is not valid.") from exc
    expected = hmac.new(_key(), payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(tag, expected):
        raise BadRequest("The cursor is not valid.")
    data = json.loads(payload)
    if data.get("o") != org_id or data.get("l") != listing or not isinstance(data.get("k"), dict):
        raise BadRequest("The cursor does not belong to this listing.")
    key: dict[str, Any] = data["k"]
    return key
