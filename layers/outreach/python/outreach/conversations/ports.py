"""What the conversation service needs of its store, as a Protocol (the domain's seam).

:class:`~outreach.conversations.repository.ConversationRepository` on DynamoDB and
``InMemoryConversations`` in ``tests/support/fakes/conversations.py`` implement it, held to
the same behaviour by ``tests/integration/test_conversations_contract.py``.
"""

from __future__ import annotations

from typing import Protocol

from outreach.conversations.domain import ConversationSummary, SendKey, TextingState
from outreach.conversations.messages import Message
from outreach.data.pages import Page


class ConversationStore(Protocol):
    """Conversations of each organization, by number (E.164); every call is scoped to
    ``org_id``."""

    def inbox(
        self,
        org_id: str,
        *,
        unread_only: bool,
        campaign_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[ConversationSummary]:
        """Conversations newest activity first, ``limit`` a page from ``cursor`` (sealed to
        the organization and these filters: another's is a ``BadRequest``); only those
        with unread texts with ``unread_only``; only those whose last campaign text was
        from ``campaign_id`` when given. A conversation is listed once the number texted the
        organization or was texted by a user or an auto-reply; numbers only campaigns
        texted are not. The summaries carry no contact and no opt-out."""
        ...

    def messages(self, org_id: str, phone: str, *, limit: int, cursor: str | None) -> Page[Message]:
        """The messages of ``phone``'s conversation (a number only campaigns texted has its
        texts too), newest first, ``limit`` a page from ``cursor``."""
        ...

    def message(self, org_id: str, phone: str, message_id: str) -> Message | None:
        """One message of the conversation, or ``None``."""
        ...

    def mark_read(self, org_id: str, phone: str) -> bool:
        """The conversation's unread count becomes 0; ``False`` if there is none."""
        ...

    def record_outbound(
        self, message: Message, *, mark_read: bool = False, first_text: bool = False
    ) -> None:
        """Record a text the organization sent as the conversation's last message, which
        starts a conversation if the number had none (``mark_read``: a user's answer,
        which reads the conversation; ``first_text``: the first text the organization
        ever sent the number, which counts it as texted from then on)."""
        ...

    def texting_state(self, org_id: str, phone: str) -> TextingState:
        """When the organization first texted ``phone`` and when it last texted back."""
        ...

    def claim_send_key(self, org_id: str, key: str, claim: SendKey) -> SendKey:
        """Tie the ``Idempotency-Key`` ``key`` to ``claim`` unless it is tied already;
        what it is tied to."""
        ...

    def finish_send_key(self, org_id: str, key: str) -> None:
        """The request that tied ``key`` recorded its message."""
        ...

    def release_send_key(self, org_id: str, key: str, message_id: str) -> None:
        """Untie ``key`` if it is tied to ``message_id`` (nothing was sent)."""
        ...
