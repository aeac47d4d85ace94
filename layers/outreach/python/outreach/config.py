"""Typed settings read from the environment, behind a cached factory.

Nothing here runs at import: handlers call :func:`get_settings` when they first
need a value, so tests can set the environment (or clear the cache) first.

Stdlib only, on purpose: every function reads its settings on its first call,
and pydantic-settings (with the pydantic models it builds) cost the event
functions about 150 ms of each cold start (``bench/cold_start.py``) for a dozen
strings, two integers and one enum.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from outreach import __version__


class SmsProviderName(StrEnum):
    """The SMS providers a deployment can choose between."""

    SANDBOX = "sandbox"
    SNS = "sns"
    END_USER_MESSAGING = "end_user_messaging"


class ConfigurationError(ValueError):
    """An environment variable holds a value its setting cannot take (the message names it)."""


def _optional(value: str) -> str | None:
    """Empty means unset: template.yaml declares some variables empty so that
    ``sam local --env-vars`` can set them (``DYNAMODB_ENDPOINT``)."""
    return value or None


def _sms_provider(value: str) -> SmsProviderName:
    try:
        return SmsProviderName(value)
    except ValueError:
        raise ValueError(f"give one of {', '.join(p.value for p in SmsProviderName)}") from None


def _seconds(value: str) -> int:
    number = int(value.strip())
    if number <= 0:
        raise ValueError("must be a positive number of seconds")
    return number


def _flag(value: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("", "false", "0", "no"):
        return False
    raise ValueError("give true or false")


def _read(parse: Callable[[str], Any], env: str = "") -> dict[str, Any]:
    """A field's metadata: read from the environment variable ``env`` (default: the
    field's name in upper case), converted by ``parse``; its default when absent."""
    return {"env": env, "parse": parse}


@dataclass(frozen=True)
class Settings:
    """Every setting Outreach reads from its environment.

    Build it with :meth:`from_environ`; constructing it directly (tests) normalises
    empty optional values to ``None`` the same way.
    """

    version: str = field(default=__version__, metadata=_read(str, env="APP_VERSION"))
    aws_region: str = field(default="us-east-1", metadata=_read(str))
    # Every table is named "<table_prefix><logical name>" (see outreach.data.models).
    table_prefix: str = field(default="outreach-local-", metadata=_read(str))
    # Set locally (embedded moto server or DynamoDB Local); unset in the cloud.
    dynamodb_endpoint: str | None = field(default=None, metadata=_read(_optional))

    # Token signing: the cloud passes the Secrets Manager ARN, local runs pass the key.
    jwt_secret_arn: str | None = field(default=None, metadata=_read(_optional))
    jwt_secret: str | None = field(default=None, metadata=_read(_optional), repr=False)
    jwt_issuer: str = field(default="outreach", metadata=_read(str))
    jwt_audience: str = field(default="outreach-api", metadata=_read(str))
    access_token_ttl_seconds: int = field(default=15 * 60, metadata=_read(_seconds))
    refresh_token_ttl_seconds: int = field(default=30 * 24 * 3600, metadata=_read(_seconds))

    sms_provider: SmsProviderName = field(
        default=SmsProviderName.SANDBOX, metadata=_read(_sms_provider)
    )
    # End User Messaging SMS: the configuration set whose event destination
    # publishes delivery receipts; the origination identity is the org's number.
    sms_configuration_set: str | None = field(default=None, metadata=_read(_optional))
    send_queue_url: str | None = field(default=None, metadata=_read(_optional))
    # The inbound function accepts notifications from these two topics only.
    inbound_texts_topic_arn: str | None = field(default=None, metadata=_read(_optional))
    delivery_events_topic_arn: str | None = field(default=None, metadata=_read(_optional))
    # The S3 bucket of import uploads and error reports (issue 17, point 6).
    imports_bucket: str | None = field(default=None, metadata=_read(_optional))
    # Webhooks (issue 20): the work queue of the deliveries, and (the local stack only,
    # never the template) whether endpoints on http://127.0.0.1 and localhost are allowed.
    webhook_queue_url: str | None = field(default=None, metadata=_read(_optional))
    webhook_allow_loopback: bool = field(default=False, metadata=_read(_flag))

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            if item.metadata["parse"] is _optional and getattr(self, item.name) == "":
                object.__setattr__(self, item.name, None)

    @classmethod
    def environment_variables(cls) -> dict[str, str]:
        """Field name -> the environment variable it is read from."""
        return {
            item.name: item.metadata["env"] or item.name.upper() for item in dataclasses.fields(cls)
        }

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings from ``environ`` (default: ``os.environ``); variable names are
        upper case, absent ones take their defaults. Raises :class:`ConfigurationError`
        naming the variable when a value cannot be converted (``SMS_PROVIDER=sms``,
        ``ACCESS_TOKEN_TTL_SECONDS=soon``)."""
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        names = cls.environment_variables()
        for item in dataclasses.fields(cls):
            variable = names[item.name]
            if variable not in source:
                continue
            raw = source[variable]
            try:
                values[item.name] = item.metadata["parse"](raw)
            except ValueError as exc:
                raise ConfigurationError(
                    f"{variable}={raw!r} is not a valid value: {exc}"
                ) from None
        return cls(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings.from_environ()
