"""Access tokens (signed JWT) and refresh tokens (opaque, stored only as a hash)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from outreach.errors import Unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "org", "role", "sid", "jti", "iat", "exp", "iss", "aud"]


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says about its bearer."""

    user_id: str
    org_id: str
    role: str
    session_id: str


class AccessTokens:
    """Issue and verify HS256 access tokens."""

    def __init__(self, key: bytes, *, issuer: str, audience: str, ttl: timedelta) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self.ttl = ttl

    def issue(self, *, user_id: str, org_id: str, role: str, session_id: str, now: datetime) -> str:
        """A token for the user, valid for ``ttl`` from ``now``."""
        claims = {
            "sub": user_id,
            "org": org_id,
            "role": role,
            "sid": session_id,
            "jti": secrets.token_urlsafe(16),
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "iss": self._issuer,
            "aud": self._audience,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str, *, now: datetime) -> AccessClaims:
        """Check signature, algorithm, issuer, audience and expiry; else :class:`Unauthorized`."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM:
                raise Unauthorized("Invalid access token")
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid access token") from exc
        # Expiry is checked against the injected clock, not the machine's.
        if not isinstance(claims["exp"], int) or claims["exp"] <= int(now.timestamp()):
            raise Unauthorized("Access token expired")
        values = [claims["sub"], claims["org"], claims["role"], claims["sid"]]
        if not all(isinstance(value, str) and value for value in values):
            raise Unauthorized("Invalid access token")
        return AccessClaims(
            user_id=claims["sub"],
            org_id=claims["org"],
            role=claims["role"],
            session_id=claims["sid"],
        )


def new_refresh_token() -> str:
    """A fresh opaque refresh token (256 bits)."""
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    """What is stored of a refresh token: its SHA-256 (the token is high-entropy)."""
    return hashlib.sha256(token.encode()).hexdigest()
