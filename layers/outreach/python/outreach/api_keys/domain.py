"""API keys: what a key is, how it is made and read back, and the rules on it.

A key is ``otr_<key id><organization id>_<secret>``: the recognisable ``otr_``
(secret scanners and people tell it from an access token), the key's and its
organization's ids (26 characters each, so the key's item is read by its primary key),
then 256 random bits (``secrets.token_urlsafe(32)``, 43 characters). Only the secret's
SHA-256 is stored: a key is shown once, when it is made. A fast hash suffices where a
password needs argon2: the secret has 256 bits of entropy, so no dictionary or brute
force reaches it, and a verification per request must be cheap (the practice of
GitHub's and Stripe's tokens).

A key acts with its role (``admin`` or ``member``, never ``owner``) in its organization,
and never manages users, API keys or webhooks (issue 20, point 1).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from outreach.identity.domain import Role

KEY_PREFIX = "otr_"
SECRET_BYTES = 32  # 256 bits
# What the listing shows of a key: its first 16 characters (``otr_`` and 12 of its id).
SHOWN_CHARACTERS = 16
# ``last_used_at`` moves at most this often per key: no write per request.
LAST_USED_EVERY = timedelta(minutes=1)
MAX_NAME_LENGTH = 100
_ID = "[0-9A-HJKMNP-TV-Z]{26}"  # a ULID (outreach.ids): Crockford base 32
_KEY = re.compile(
    rf"{KEY_PREFIX}(?P<key_id>{_ID})(?P<org_id>{_ID})_(?P<secret>[A-Za-z0-9_-]{{43}})"
)


@dataclass(frozen=True)
class ApiKey:
    """An organization's API key as stored and listed (never its secret)."""

    id: str
    org_id: str
    name: str
    role: Role
    prefix: str
    created_by: str  # the user who made it
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class IssuedKey:
    """A key just made: its record and the key itself, which is shown this once."""

    api_key: ApiKey
    key: str = field(repr=False)


@dataclass(frozen=True)
class KeyParts:
    """A presented key, read: whose item to look up, and the secret to check."""

    key_id: str
    org_id: str
    secret: str = field(repr=False)


def new_key(key_id: str, org_id: str) -> tuple[str, str]:
    """A new key for ``key_id`` of ``org_id``, and the SHA-256 (hex) of its secret."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return f"{KEY_PREFIX}{key_id}{org_id}_{secret}", secret_hash(secret)


def read_key(token: str) -> KeyParts | None:
    """The parts of a presented key; ``None`` when ``token`` does not have a key's shape."""
    found = _KEY.fullmatch(token)
    if found is None:
        return None
    return KeyParts(found["key_id"], found["org_id"], found["secret"])


def looks_like_key(token: str) -> bool:
    """Whether a bearer token is meant as an API key (it carries the key prefix)."""
    return token.startswith(KEY_PREFIX)


def secret_hash(secret: str) -> str:
    """The SHA-256 of a key's secret, in hex: what is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` is the one whose hash was stored (in constant time)."""
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def shown_prefix(key: str) -> str:
    """The part of a key the listing shows, to tell keys apart."""
    return key[:SHOWN_CHARACTERS]


def last_used_is_stale(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a use at ``now`` should move ``last_used_at`` (at most once a minute)."""
    return last_used_at is None or now - last_used_at >= LAST_USED_EVERY
