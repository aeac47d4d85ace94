"""Opaque, integrity-protected list cursors.

A cursor carries a DynamoDB ``LastEvaluatedKey``, bound to the organization
and the listing it came from, and sealed with an HMAC. A tampered cursor, or
one from another organization or listing, is a 400, never another tenant's data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Annotated, Any

from fastapi import Query

from outreach.errors import BadRequest
from outreach.secrets import get_signing_key

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1..200).")]
CursorParam = Annotated[
    str | None,
    Query(max_length=2048, description="The previous page's `next_cursor`."),
]


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
