"""Build an organization, contacts and a started campaign through the real services."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from outreach.campaigns.domain import Audience, CampaignDraft, Variant, Window
from outreach.campaigns.service import CampaignService, build_campaign_service
from outreach.campaigns.statuses import RecipientStatus
from outreach.clock import SimulatedClock
from outreach.contacts.repository import ContactRepository, OptOutRepository
from outreach.data.counters import DynamoCounters
from outreach.data.keys import campaign_key
from outreach.data.models import CampaignStatsModel, OutboxMessageModel, RecipientModel
from outreach.identity.domain import OrganizationChanges, Role, User
from outreach.identity.repository import IdentityRepository
from outreach.ids import new_id
from outreach.sending.dispatch import CampaignWork
from outreach.sending.repository import SendingRepository, SendingTurnRepository
from outreach.sending.sender import CampaignSender, FaultHooks
from outreach.sms.outbox import sandbox_box
from outreach.sms.providers import SandboxProvider, SmsProvider
from outreach.stats.projection import PROJECTED_COUNTERS
from outreach_local.streams import StatsPump
from tests.support import builders
from tests.support.builders import boston

# Monday 23 November 2026, 10:00 in New York (15:00 UTC): inside every default window.
MONDAY_10AM_EASTERN = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SENDER = "+16175550100"


@dataclass
class World:
    org_id: str
    clock: SimulatedClock
    campaign_id: str = ""

    def services(self) -> CampaignService:
        return build_campaign_service(self.clock)

    def sender(
        self, provider: SmsProvider | None = None, hooks: FaultHooks | None = None
    ) -> CampaignSender:
        return CampaignSender(
            repository=SendingRepository(),
            organizations=IdentityRepository(),
            opt_outs=OptOutRepository(),
            counters=DynamoCounters(),
            turns=SendingTurnRepository(),
            provider=provider or SandboxProvider(),
            clock=self.clock,
            hooks=hooks,
        )

    def work(self) -> CampaignWork:
        return CampaignWork(org_id=self.org_id, campaign_id=self.campaign_id, tick=self.clock.now())

    def recipients(self) -> list[RecipientModel]:
        return list(
            RecipientModel.query(campaign_key(self.org_id, self.campaign_id), consistent_read=True)
        )

    def statuses(self) -> Counter[str]:
        return Counter(item.status for item in self.recipients())

    def counters(self) -> dict[str, int]:
        """The campaign's counters once the recipients' stream is counted (as Lambda would)."""
        StatsPump(self.clock).drain()
        totals: Counter[str] = Counter()
        for item in CampaignStatsModel.query(
            campaign_key(self.org_id, self.campaign_id), consistent_read=True
        ):
            for name in PROJECTED_COUNTERS:
                totals[name] += int(getattr(item, name) or 0)
        return dict(totals)

    def outbox(self) -> list[OutboxMessageModel]:
        return list(OutboxMessageModel.query(sandbox_box(self.org_id)))


def make_org(clock: SimulatedClock, **settings: Any) -> str:
    now = clock.now()
    org_id = new_id(now)
    users = IdentityRepository()
    users.create_organization_with_owner(
        builders.organization(
            "Acme",
            at=now,
            id=org_id,
            messages_per_second=settings.get("messages_per_second", 100),
            help_texts={"en": "Acme: call us."},
            opt_out_footer=settings.get("opt_out_footer", "Reply STOP to opt out"),
        ),
        User(
            id=new_id(now),
            org_id=org_id,
            email=f"{org_id.lower()}@acme.test",
            full_name="O",
            role=Role.OWNER,
            created_at=now,
            updated_at=now,
        ),
        "not-a-real-hash",
    )
    users.update_organization(
        org_id,
        OrganizationChanges(sender_number=settings.get("sender", SENDER)),
        now=now,
        old_sender=None,
    )
    return org_id


def add_contacts(org_id: str, phones: list[str], clock: SimulatedClock, **fields: Any) -> list[str]:
    now = clock.now()
    contacts = [
        builders.contact(
            org_id,
            phone,
            at=now,
            id=new_id(now + timedelta(milliseconds=i)),
            first_name=fields.get("first_name", f"N{i}"),
            timezone=fields.get("timezone"),
        )
        for i, phone in enumerate(phones)
    ]
    ContactRepository().write_new_many(contacts)
    return [c.id for c in contacts]


def start_campaign(
    world: World,
    *,
    daily_limit: int = 125,
    variants: tuple[Variant, ...] | None = None,
    **draft: Any,
) -> str:
    service = world.services()
    campaign = service.create(
        world.org_id,
        CampaignDraft(
            name="Spring check",
            variants=variants
            or (
                Variant("A", "Hi {first_name|there}, A", 50),
                Variant("B", "Hey {first_name|there}! B", 50),
            ),
            audience=Audience(all=True),
            daily_limit=daily_limit,
            window=draft.get(
                "window", Window("09:00", "18:00", ("mon", "tue", "wed", "thu", "fri"))
            ),
            start_at=draft.get("start_at"),
            end_at=draft.get("end_at"),
        ),
    )
    service.start(world.org_id, campaign.id)
    world.campaign_id = campaign.id
    return campaign.id


def world_with(
    count: int,
    *,
    clock: SimulatedClock | None = None,
    phones: list[str] | None = None,
    daily_limit: int = 125,
    **settings: Any,
) -> World:
    clock = clock or SimulatedClock(MONDAY_10AM_EASTERN)
    org_id = make_org(clock, **settings)
    world = World(org_id=org_id, clock=clock)
    add_contacts(org_id, phones or [boston(i) for i in range(count)], clock)
    start_campaign(world, daily_limit=daily_limit)
    return world


__all__ = ["RecipientStatus", "World", "world_with"]
