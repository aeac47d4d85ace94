"""The conversations API's answers and requests (api-contract.md, Addendum 1)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from outreach.api.fields import (
    NOT_BLANK_PATTERN,
    E164Number,
    PublicModel,
    StrictModel,
    UtcInstant,
    model_schema,
)
from outreach.api.pagination import PagePublic
from outreach.conversations.messages import PREVIEW_LENGTH

DirectionText = Literal["inbound", "outbound"]
KindText = Literal["campaign", "manual", "auto_reply", "inbound"]


class ContactNamePublic(PublicModel):
    """The contact a conversation's number belongs to now."""

    id: str
    first_name: str | None
    last_name: str | None


class LastMessagePublic(PublicModel):
    """A conversation's newest message but a campaign's, shortened."""

    direction: DirectionText
    kind: KindText
    body: str = Field(
        validation_alias="preview",
        description=f"The message's first {PREVIEW_LENGTH} characters.",
    )
    at: UtcInstant


class ConversationPublic(PublicModel):
    """One conversation of the inbox: the organization's texts with one number."""

    phone: E164Number
    contact: ContactNamePublic | None = Field(
        description="The contact with this number now; null for a number no contact has "
        "(a deleted contact's conversation stays)."
    )
    last_message: LastMessagePublic
    unread_count: int = Field(
        ge=0, description="Inbound texts since the conversation was last marked read."
    )
    last_campaign_id: str | None = Field(
        description="The campaign that last texted the number (replies count for it)."
    )
    opted_out: bool = Field(description="Whether the number is on the opt-out list now.")


class ConversationsPublic(PagePublic[ConversationPublic]):
    """A page of the inbox, newest activity first; ``next_cursor`` is ``null`` on the last
    page."""


class ConversationMessagePublic(PublicModel):
    """One text of a conversation."""

    id: str
    direction: DirectionText
    kind: KindText = Field(
        description="`campaign` (a campaign's text), `manual` (a user's), `auto_reply` (a "
        "STOP or START confirmation, a HELP answer) or `inbound` (the person's)."
    )
    body: str
    status: Literal["received", "sent", "delivered", "failed", "unknown"] = Field(
        description="`received` (inbound); `sent` (the provider took it), `delivered` or "
        "`failed` (the carrier's receipt, or the provider's refusal), `unknown` (the "
        "provider did not say: never sent again)."
    )
    keyword: Literal["reply", "opt_out", "opt_in", "help"] | None = Field(
        description='What an inbound text was taken as (sending-rules.md, "Replies and '
        'keywords"); null for outbound texts.'
    )
    campaign_id: str | None = Field(
        description="The campaign of a campaign text; for an inbound text, the campaign "
        "that last texted the number when it came."
    )
    variant: str | None
    user_id: str | None = Field(description="The user who wrote a manual text.")
    error: str | None = Field(description="The provider's or carrier's error code.")
    created_at: UtcInstant
    updated_at: UtcInstant


class ConversationMessagesPublic(PagePublic[ConversationMessagePublic]):
    """A page of a conversation's messages, newest first; ``next_cursor`` is ``null`` on
    the last page."""


MANUAL_TEXT_MAX_LENGTH = 1600
"""The longest manual text (End User Messaging's limit for one message, in characters)."""


class ConversationMessageCreate(StrictModel):
    """A text to send in the conversation, as written: the opt-out footer is added to the
    first text the organization ever sends the number."""

    model_config = ConfigDict(
        json_schema_extra=model_schema(examples=[{"body": "Tuesday at 10 works. See you then!"}])
    )

    body: str = Field(
        min_length=1,
        max_length=MANUAL_TEXT_MAX_LENGTH,
        json_schema_extra={"pattern": NOT_BLANK_PATTERN},
        description=f"The text (1 to {MANUAL_TEXT_MAX_LENGTH} characters, not blank).",
    )

    @field_validator("body")
    @classmethod
    def _not_blank(cls, body: str) -> str:
        if not body.strip():
            raise ValueError("a text cannot be blank")
        return body
