"""Campaign routes: parse, authorize, call one service method, map."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from outreach.api.deps import CallerDep, object_or_no_body
from outreach.api.pagination import PageQueryDep
from outreach.api.problems import problem_responses
from outreach.campaigns.domain import Campaign, SendsQuery
from outreach.campaigns.schemas import (
    CampaignCreate,
    CampaignCreatedPublic,
    CampaignPublic,
    CampaignsPublic,
    CampaignUpdate,
    PreviewCreate,
    PreviewPublic,
    SendsPublic,
    StatsPublic,
)
from outreach.campaigns.service import CampaignService, get_campaign_service
from outreach.campaigns.statuses import CampaignStatus, RecipientStatus

CampaignServiceDep = Annotated[CampaignService, Depends(get_campaign_service)]

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_campaign(
    body: CampaignCreate, caller: CallerDep, service: CampaignServiceDep
) -> CampaignCreatedPublic:
    """Create a draft. Placeholders are checked: a 422 names the variant and position.
    `{attributes.KEY}` names an attribute by its key or by any name with that key
    (`{attributes.Contact owner}` is `{attributes.contact_owner}`).

    `warnings` lists each `{attributes.KEY}` placeholder that no contact of the audience
    has a value for (`attribute_not_in_audience`: every recipient would get the
    fallback). The check reads at most the audience's first 500 members, so a create
    costs the same whatever the audience's size; for a larger audience the message says
    "no contact among the first 500". A warning does not stop the create."""
    return CampaignCreatedPublic.of_created(service.create_checked(caller.org_id, body.to_domain()))


@router.get("")
def list_campaigns(
    caller: CallerDep,
    service: CampaignServiceDep,
    page: PageQueryDep,
    status: CampaignStatus | None = None,
) -> CampaignsPublic:
    """Campaigns, newest first; `status` keeps those in it."""
    return CampaignsPublic.of(
        service.list_campaigns(caller.org_id, status=status, limit=page.limit, cursor=page.cursor)
    )


@router.get("/{campaign_id}")
def get_campaign(
    campaign_id: str, caller: CallerDep, service: CampaignServiceDep
) -> CampaignPublic:
    return CampaignPublic.of(service.get(caller.org_id, campaign_id))


@router.patch(
    "/{campaign_id}",
    responses=problem_responses(
        described={
            409: "The campaign is neither draft nor paused (or is starting), or a paused "
            "campaign's audience or variant names would change."
        }
    ),
)
def update_campaign(
    campaign_id: str, body: CampaignUpdate, caller: CallerDep, service: CampaignServiceDep
) -> CampaignPublic:
    """Edit while draft or paused (409 otherwise). A paused campaign keeps its audience and
    variant names."""
    return CampaignPublic.of(service.update(caller.org_id, campaign_id, body.to_domain()))


@router.delete(
    "/{campaign_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(
        described={409: "The campaign is not a draft (or is starting): cancel it instead."}
    ),
)
def delete_campaign(campaign_id: str, caller: CallerDep, service: CampaignServiceDep) -> Response:
    """Delete a draft (409 otherwise: cancel a started campaign instead)."""
    service.delete(caller.org_id, campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{campaign_id}/preview",
    dependencies=[Depends(object_or_no_body)],
    responses=problem_responses(
        described={422: "The body breaks the schema, or `contact_id` names no contact."}
    ),
)
def preview_campaign(
    campaign_id: str,
    caller: CallerDep,
    service: CampaignServiceDep,
    body: PreviewCreate | None = None,
) -> PreviewPublic:
    """Each variant rendered for `contact_id` (or with every placeholder's fallback), with
    its GSM-7 or UCS-2 length and segments twice: `body` as a repeat message (a number
    texted before: no footer) and `first_message` with the organization's
    `opt_out_footer`, which the first text to a number carries (issue 15, point 7).

    `audience_recipients` and `audience_segments` (in total and per variant) estimate the
    current audience's cost: each recipient's own text for its variant, footer where its
    number was never texted. A draft's audience is what its start would take now (opted
    out, not textable and never-in-window numbers left out); a started campaign's is its
    recipients still to be texted. With `contact_id`: `first_text` says which text that
    contact would get now, and `assigned_variant` which variant. 422 for a contact that
    does not exist.

    `warnings` lists each `{attributes.KEY}` placeholder that no contact of the current
    audience has a value for (`attribute_not_in_audience`), every contact looked at."""
    contact_id = body.contact_id if body else None
    return PreviewPublic.of(service.preview(caller.org_id, campaign_id, contact_id))


def _lifecycle_route(
    action: str,
    move: Callable[[CampaignService, str, str], Campaign],
    doc: str | None,
    conflict: str,
) -> None:
    """Add ``POST /{campaign_id}/<action>`` (named ``<action>_campaign``): ``move`` (the
    service's method) moves the campaign, and the answer is the campaign after the move;
    ``conflict`` words its 409."""

    def move_campaign(
        campaign_id: str, caller: CallerDep, service: CampaignServiceDep
    ) -> CampaignPublic:
        return CampaignPublic.of(move(service, caller.org_id, campaign_id))

    router.post(
        f"/{{campaign_id}}/{action}",
        name=f"{action}_campaign",
        description=doc,
        responses=problem_responses(described={409: conflict}),
    )(move_campaign)


_lifecycle_route(
    "start",
    CampaignService.start,
    "Snapshot the audience and go active. Numbers that are opted out, that the\n"
    "organization may not text, or that the send window never reaches within quiet hours\n"
    "are left out, counted in `left_out`. 409 unless draft, or without a sender number.",
    "The campaign is not a draft (or is being started), or the organization has no "
    "`sender_number`.",
)
_lifecycle_route(
    "pause",
    CampaignService.pause,
    "Stop sending (from active). Nothing leaves after this returns.",
    "The campaign is not active (`campaign_status` says what it is).",
)
_lifecycle_route(
    "resume",
    CampaignService.resume,
    None,
    "The campaign is not paused (`campaign_status` says what it is).",
)
_lifecycle_route(
    "cancel",
    CampaignService.cancel,
    "Cancel from draft, active or paused; every pending recipient becomes skipped.",
    "The campaign is completed or cancelled already, or is being started "
    "(`campaign_status` says what it is).",
)


@router.get("/{campaign_id}/stats")
def get_campaign_stats(
    campaign_id: str, caller: CallerDep, service: CampaignServiceDep
) -> StatsPublic:
    """Counts of recipients' states (a claimed recipient counts as pending), today's sends,
    per-variant reply rates and the winner."""
    return StatsPublic.of(service.stats(caller.org_id, campaign_id))


@router.get("/{campaign_id}/sends")
def list_campaign_sends(
    campaign_id: str,
    caller: CallerDep,
    service: CampaignServiceDep,
    page: PageQueryDep,
    status: RecipientStatus | None = None,
) -> SendsPublic:
    """The campaign's sends; `status` keeps those in it."""
    return SendsPublic.of(
        service.sends(
            caller.org_id,
            SendsQuery(campaign_id, status),
            limit=page.limit,
            cursor=page.cursor,
        )
    )


routers = [router]
