"""The domain objects tests set up, each built in one place.

Every builder fills in what registration (or the campaign service, or the contacts
API) would, so a test names only what it is about; ``**changes`` replaces any other
field.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from outreach.campaigns import domain as campaigns
from outreach.contacts.domain import Contact
from outreach.identity.domain import Organization, OrganizationChanges
from outreach.ids import new_id


def organization(name: str = "Acme", *, at: datetime, **changes: Any) -> Organization:
    """An organization as registration makes it (New York, no sender number, federal
    quiet hours, one message a second)."""
    made = Organization(
        id=new_id(at),
        name=name,
        timezone="America/New_York",
        sender_number=None,
        messages_per_second=1,
        quiet_hours_start="08:00",
        quiet_hours_end="21:00",
        opt_out_footer="Reply STOP to opt out",
        created_at=at,
        updated_at=at,
    )
    return replace(made, **changes)


# A PATCH of every setting but the sender number, each away from registration's value.
CHICAGO_SETTINGS = OrganizationChanges(
    name="Acme Repair",
    timezone="America/Chicago",
    messages_per_second=5,
    quiet_hours_start="09:00",
    quiet_hours_end="20:00",
    help_text="Call us.",
    opt_out_footer="",
)


def contact(org_id: str, phone: str, *, at: datetime, **fields: Any) -> Contact:
    """A contact with only ``fields`` set (the other names, tags, attributes, timezone
    and state empty)."""
    return Contact(
        id=fields.pop("id", None) or new_id(at),
        org_id=org_id,
        phone=phone,
        first_name=fields.pop("first_name", None),
        last_name=fields.pop("last_name", None),
        email=fields.pop("email", None),
        company=fields.pop("company", None),
        tags=tuple(fields.pop("tags", ())),
        attributes=dict(fields.pop("attributes", {})),
        timezone=fields.pop("timezone", None),
        state=fields.pop("state", None),
        created_at=at,
        updated_at=at,
        **fields,
    )


def campaign(org_id: str, *, at: datetime, **changes: Any) -> campaigns.Campaign:
    """A draft to everyone with one variant, as the campaign service creates it."""
    made = campaigns.Campaign(
        id=new_id(at),
        org_id=org_id,
        name="Spring check",
        status=campaigns.CampaignStatus.DRAFT,
        variants=(campaigns.Variant("A", "Hi {first_name|there}", 1),),
        audience=campaigns.Audience(all=True),
        daily_limit=125,
        timezone="America/New_York",
        window=campaigns.Window("09:00", "18:00", ("mon", "tue", "wed", "thu", "fri")),
        start_at=None,
        end_at=None,
        recipients=0,
        created_at=at,
        updated_at=at,
        started_at=None,
        completed_at=None,
    )
    return replace(made, **changes)


def pending_recipient(
    org_id: str,
    campaign_id: str,
    contact_id: str,
    phone: str,
    *,
    at: datetime,
    variant: str = "A",
    status: campaigns.RecipientStatus = campaigns.RecipientStatus.PENDING,
) -> campaigns.Recipient:
    """A recipient as a start writes it: nothing sent yet (``status`` to say otherwise)."""
    return campaigns.Recipient(
        org_id,
        campaign_id,
        contact_id,
        phone,
        variant,
        status,
        attempts=0,
        provider_message_id=None,
        error=None,
        sent_at=None,
        updated_at=at,
    )


def boston(index: int) -> str:
    """The ``index``-th test number in Boston (617, Eastern time)."""
    return f"+1617555{index:04d}"


def los_angeles(index: int) -> str:
    """The ``index``-th test number in Los Angeles (310, Pacific time)."""
    return f"+1310555{index:04d}"
