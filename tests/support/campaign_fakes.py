"""The campaign service on the in-memory fakes: the unit tests' world and the
campaign API tests' fake organizations both start from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from outreach.campaigns.service import CampaignService
from outreach.clock import SimulatedClock
from tests.support.fakes.campaigns import InMemoryCampaignStore, InMemoryRecipientStore
from tests.support.fakes.contacts import InMemoryContactStore, InMemoryOptOutList
from tests.support.fakes.identity import InMemoryIdentityStore


@dataclass
class CampaignFakes:
    """Every port of :class:`CampaignService`, in memory, on a simulated clock."""

    clock: SimulatedClock
    campaigns: InMemoryCampaignStore = field(default_factory=InMemoryCampaignStore)
    recipients: InMemoryRecipientStore = field(default_factory=InMemoryRecipientStore)
    contacts: InMemoryContactStore = field(default_factory=InMemoryContactStore)
    opt_outs: InMemoryOptOutList = field(default_factory=InMemoryOptOutList)
    organizations: InMemoryIdentityStore = field(default_factory=InMemoryIdentityStore)

    @property
    def service(self) -> CampaignService:
        return CampaignService(
            campaigns=self.campaigns,
            recipients=self.recipients,
            contacts=self.contacts,
            opt_outs=self.opt_outs,
            organizations=self.organizations,
            clock=self.clock,
        )
