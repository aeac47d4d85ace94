"""The signing key for tokens and cursors, cached per container.

In the cloud it is read once from Secrets Manager (``JWT_SECRET_ARN``); locally
it comes from ``JWT_SECRET``. It never appears in code or logs.
"""

from __future__ import annotations

from functools import lru_cache

from outreach import aws
from outreach.config import get_settings

MIN_KEY_BYTES = 32


@lru_cache(maxsize=1)
def get_signing_key() -> bytes:
    """Return the HMAC key; raise ``RuntimeError`` when none is configured or it is too short."""
    settings = get_settings()
    if settings.jwt_secret:
        key = settings.jwt_secret.encode()
    elif settings.jwt_secret_arn:
        client = aws.client("secretsmanager", region_name=settings.aws_region)
        key = client.get_secret_value(SecretId=settings.jwt_secret_arn)["SecretString"].encode()
    else:
        raise RuntimeError("No signing key: set JWT_SECRET_ARN (cloud) or JWT_SECRET (local)")
    if len(key) < MIN_KEY_BYTES:
        raise RuntimeError(f"The signing key must be at least {MIN_KEY_BYTES} bytes")
    return key
