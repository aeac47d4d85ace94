"""API key request and answer shapes (`api-contract.md`, Integrations)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from outreach.api.fields import (
    NOT_BLANK_PATTERN,
    PublicModel,
    StrictModel,
    UtcInstant,
    model_schema,
)
from outreach.api.pagination import PagePublic
from outreach.api_keys.domain import MAX_NAME_LENGTH, IssuedKey
from outreach.identity.domain import Role


def _stripped_not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


KeyName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        json_schema_extra={"pattern": NOT_BLANK_PATTERN},
        description="What the key is for (e.g. the CRM it serves); surrounding spaces are dropped.",
    ),
    AfterValidator(_stripped_not_blank),
]


class ApiKeyCreate(StrictModel):
    """``POST /v1/api-keys``: a name and the role the key acts with (never owner)."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(examples=[{"name": "HubSpot sync", "role": "member"}])
    )

    name: KeyName
    role: Literal["admin", "member"]

    @property
    def grant(self) -> Role:
        return Role(self.role)


class ApiKeyPublic(PublicModel):
    """An API key as listed: never the key itself, only its first characters (``prefix``).
    ``created_by`` is the id of the user who made it; ``last_used_at`` moves at most once
    a minute."""

    id: str
    name: str
    role: Role
    prefix: str
    created_by: str
    created_at: UtcInstant
    last_used_at: UtcInstant | None


class ApiKeyCreatedPublic(ApiKeyPublic):
    """A key just made: ``key`` is shown in this answer only (send it as
    ``Authorization: Bearer <key>``); only a hash of it is kept."""

    key: str

    @classmethod
    def of_issued(cls, issued: IssuedKey) -> ApiKeyCreatedPublic:
        return cls(**ApiKeyPublic.of(issued.api_key).model_dump(), key=issued.key)


class ApiKeysPublic(PagePublic[ApiKeyPublic]):
    """A page of API keys, oldest first; ``next_cursor`` is ``null`` on the last page."""
