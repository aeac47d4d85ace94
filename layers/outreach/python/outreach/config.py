"""Typed settings read from the environment, behind a cached factory.

Nothing here runs at import: handlers call :func:`get_settings` when they first
need a value, so tests can set the environment (or clear the cache) first.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from outreach import __version__


class SmsProviderName(StrEnum):
    """The SMS providers a deployment can choose between."""

    SANDBOX = "sandbox"
    SNS = "sns"
    END_USER_MESSAGING = "end_user_messaging"


class Settings(BaseSettings):
    """Every setting Outreach reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    version: str = Field(default=__version__, alias="APP_VERSION")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    # Every table is named "<table_prefix><logical name>" (see outreach.data.models).
    table_prefix: str = "outreach-local-"
    # Set locally (embedded moto server or DynamoDB Local); unset in the cloud.
    dynamodb_endpoint: str | None = None

    # Token signing: the cloud passes the Secrets Manager ARN, local runs pass the key.
    jwt_secret_arn: str | None = None
    jwt_secret: str | None = Field(default=None, repr=False)
    jwt_issuer: str = "outreach"
    jwt_audience: str = "outreach-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600

    sms_provider: SmsProviderName = SmsProviderName.SANDBOX
    # End User Messaging SMS: the configuration set whose event destination
    # publishes delivery receipts; the origination identity is the org's number.
    sms_configuration_set: str | None = None
    send_queue_url: str | None = None
    # The inbound function accepts notifications from these two topics only.
    inbound_texts_topic_arn: str | None = None
    delivery_events_topic_arn: str | None = None

    @field_validator("dynamodb_endpoint", mode="before")
    @classmethod
    def _empty_endpoint_is_unset(cls, value: object) -> object:
        """template.yaml declares DYNAMODB_ENDPOINT empty, so `sam local --env-vars` can set it."""
        return value or None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
