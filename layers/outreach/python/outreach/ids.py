"""Identifiers that sort by creation time, so "newest first" is a key order."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime

# Crockford's base32: no I, L, O, U; sorts the same as the numbers it encodes.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, index = divmod(value, 32)
        chars.append(_ALPHABET[index])
    return "".join(reversed(chars))


def new_id(at: datetime) -> str:
    """Return a ULID: 48 bits of milliseconds then 80 random bits, 26 characters.

    Ids made later sort after ids made earlier (to the millisecond), which lets a
    Query on the range key answer "newest first" with no index.
    """
    millis = int(at.timestamp() * 1000)
    randomness = int.from_bytes(os.urandom(10), "big")
    return _encode(millis, 10) + _encode(randomness, 16)


def is_id(value: str) -> bool:
    """Tell whether ``value`` has the shape of an id made by :func:`new_id`."""
    return len(value) == 26 and all(char in _ALPHABET for char in value)


def stable_id(at: datetime, seed: str) -> str:
    """An id with :func:`new_id`'s shape and order (its first 10 characters are ``at``'s
    milliseconds) whose other 16 come from ``seed``'s SHA-256: the same ``at`` and
    ``seed`` give the same id, as a fact seen twice (a stream record read again) must."""
    millis = int(at.timestamp() * 1000)
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10], "big")
    return _encode(millis, 10) + _encode(digest, 16)
