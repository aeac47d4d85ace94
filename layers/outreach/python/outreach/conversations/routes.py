"""Conversation routes: parse, authorize, call one service method, map (issue 19)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from outreach.api.deps import CallerDep
from outreach.api.fields import IdText
from outreach.api.pagination import PageQueryDep
from outreach.api.problems import problem_responses
from outreach.conversations.schemas import (
    ConversationMessageCreate,
    ConversationMessagePublic,
    ConversationMessagesPublic,
    ConversationsPublic,
)
from outreach.conversations.service import (
    ConversationService,
    ManualText,
    get_conversation_service,
)

ConversationServiceDep = Annotated[ConversationService, Depends(get_conversation_service)]

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


@router.get("")
def list_conversations(
    caller: CallerDep,
    service: ConversationServiceDep,
    page: PageQueryDep,
    unread: Annotated[
        bool,
        Query(description="Only conversations with inbound texts not yet marked read."),
    ] = False,
    campaign_id: Annotated[
        IdText | None,
        Query(description="Only conversations whose last campaign text was from it."),
    ] = None,
) -> ConversationsPublic:
    """The inbox: one conversation per number that texted the organization, or that a user
    or an auto-reply texted (numbers a campaign texted and that never answered are not in
    it), newest activity first, with its last message, unread count, contact and opt-out.
    A campaign's text names its campaign (`last_campaign_id`) but does not move the
    conversation nor become its last message."""
    return ConversationsPublic.of(
        service.inbox(
            caller.org_id,
            unread_only=unread,
            campaign_id=campaign_id,
            limit=page.limit,
            cursor=page.cursor,
        )
    )


@router.get("/{phone}/messages", responses=problem_responses(described={404: "No conversation."}))
def list_messages(
    phone: str, caller: CallerDep, service: ConversationServiceDep, page: PageQueryDep
) -> ConversationMessagesPublic:
    """The number's messages, newest first: campaign texts, manual texts, auto-replies
    and the person's texts. `phone` in any common format (URL-encoded); 404 for a number
    never texted and that never texted."""
    return ConversationMessagesPublic.of(
        service.messages(caller.org_id, phone, limit=page.limit, cursor=page.cursor)
    )


@router.post(
    "/{phone}/messages",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        503,
        described={
            409: "The text may not go now: `reason` says why (`not_textable`, `opted_out`, "
            "`quiet_hours`, `state_rule`, `daily_limit`, or `in_progress` for an "
            "`Idempotency-Key` whose first request has not finished) and "
            "`next_allowed_at` when it may (null when no hour will do)."
        },
    ),
)
def send_message(
    phone: str,
    body: ConversationMessageCreate,
    caller: CallerDep,
    service: ConversationServiceDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=255,
            description="Any text the client chooses per text (a UUID): a request "
            "repeated with it within 24 hours answers the first one's message and sends "
            "nothing more; with another number or body it is a 422.",
        ),
    ] = None,
) -> ConversationMessagePublic:
    """Text the number (any common format, URL-encoded) from the organization's sender
    number, and record it in the conversation, which is then read. The rules of a
    campaign text hold: the opt-out list, where the organization may text, its daily
    limit, the opt-out footer on the first text ever; quiet hours and state rules too,
    unless the person texted the organization in the last 24 hours (an answer). Answers
    201 with the message: `sent`, or `failed` with the provider's `error` (nothing went),
    or `unknown` (the provider did not say: it is never sent again)."""
    return ConversationMessagePublic.of(
        service.send(
            caller.org_id,
            phone,
            ManualText(body.body, caller.user_id, idempotency_key=idempotency_key),
        )
    )


@router.post(
    "/{phone}/read",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(described={404: "No conversation."}),
)
def mark_read(phone: str, caller: CallerDep, service: ConversationServiceDep) -> Response:
    """Mark the conversation read: its unread count becomes 0."""
    service.mark_read(caller.org_id, phone)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


routers = [router]
