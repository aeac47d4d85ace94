"""Where texts may go (issue 14, point 1), on moto through the handlers: premium-rate and
satellite numbers are stored as contacts but shown not textable, and a campaign start
leaves them out, counted in ``left_out`` (``api-contract.md``, Addendum 1); the
engine never texts them.

The attack replayed: ``+449098790000`` (UK premium rate) and ``+88216001234``
(satellite) were accepted as contacts of a US organization and received campaign texts.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.campaigns.support import CampaignsApi, MotoOrganizations
from tests.integration.identity_support import Account
from tests.support.engine import world_with

BOSTON = "+16175550101"
UK_PREMIUM = "+449098790000"
SATELLITE = "+88216001234"
UK_MOBILE = "+447400123456"  # GB (libphonenumber gives +447781234567 to Guernsey, GG)


def _contact(orgs: MotoOrganizations, who: Account, contact_id: str) -> dict[str, Any]:
    response = orgs.contacts.call("GET", f"/v1/contacts/{contact_id}", headers=who.auth)
    assert response.status == 200, response.text
    contact: dict[str, Any] = response.json()
    return contact


@pytest.mark.dynamodb
def test_premium_and_satellite_numbers_are_stored_shown_and_left_out(
    api: CampaignsApi, orgs: MotoOrganizations, owner: Account
) -> None:
    # Given a US organization (its sender number is in Boston) and four contacts
    made = {phone: orgs.add_contact(owner, phone) for phone in (BOSTON, UK_PREMIUM, SATELLITE)}
    made["opted"] = orgs.add_contact(owner, "+16175550102")
    orgs.opt_out(owner, "+16175550102")
    # Then every one was stored, and each answer says whether it may be texted and why
    assert (made[BOSTON]["textable"], made[BOSTON]["not_textable_reason"]) == (True, None)
    for phone in (UK_PREMIUM, SATELLITE):
        assert made[phone]["textable"] is False
        assert made[phone]["not_textable_reason"] == "country_not_allowed"
        assert _contact(orgs, owner, made[phone]["id"]) == made[phone]
    listed = orgs.contacts.call("GET", "/v1/contacts", headers=owner.auth).json()["items"]
    assert {c["phone"]: c["textable"] for c in listed} == {
        BOSTON: True,
        UK_PREMIUM: False,
        SATELLITE: False,
        "+16175550102": True,
    }

    # When a campaign to everyone starts
    campaign = api.create(owner)
    started = api.act(owner, campaign["id"], "start").json()
    # Then both are left out, counted by reason, and never get a recipient item
    assert started["left_out"] == {"opted_out": 1, "not_textable": 2, "never_in_window": 0}
    assert started["recipients"] == 1
    assert [s["phone"] for s in api.sends(owner, campaign["id"])] == [BOSTON]
    assert api.get(owner, campaign["id"]) == started

    # When the organization allows GB, a UK mobile may be texted; a premium line never
    orgs.set_organization(owner, allowed_countries=["US", "GB"])
    mobile = orgs.add_contact(owner, UK_MOBILE)
    assert (mobile["textable"], mobile["not_textable_reason"]) == (True, None)
    premium = _contact(orgs, owner, made[UK_PREMIUM]["id"])
    assert (premium["textable"], premium["not_textable_reason"]) == (False, "line_type")
    second = api.create(owner)
    started = api.act(owner, second["id"], "start").json()
    assert started["left_out"] == {"opted_out": 1, "not_textable": 2, "never_in_window": 0}
    assert sorted(s["phone"] for s in api.sends(owner, second["id"])) == [BOSTON, UK_MOBILE]


def test_the_engine_never_texts_them(aws: None) -> None:
    # A campaign started on DynamoDB, then a tick of the sender: one text, to Boston.
    world = world_with(0, phones=[BOSTON, UK_PREMIUM, SATELLITE])
    assert [r.phone for r in world.recipients()] == [BOSTON]
    report = world.sender().run(world.work())
    assert report.sent == 1 and report.completed
    assert [m.to_number for m in world.outbox()] == [BOSTON]
