"""Issue 15 on the identity side, on DynamoDB (moto): the fallback zones (point 4), the
support line (point 8) and the per-language auto-reply texts (point 2) stored and read
back through the identity function, and organization items written before issue 15
(the old default HELP answer stored on each) read as using today's defaults.

The rules themselves are in ``tests/unit/test_identity_settings.py`` and
``test_identity_service.py``; the store is held to its fake by
``test_identity_contract.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from outreach.data.models import OrganizationModel
from outreach.data.pynamo import raw_map
from outreach.identity.domain import DEFAULT_FALLBACK_TIME_ZONES
from outreach.identity.repository import IdentityRepository
from outreach.identity.schemas import OrganizationPublic
from tests.integration.identity_support import Account, add_user
from tests.support import builders
from tests.support.api import ApiClient

SUPPORT = "call 555-0100 or visit acme.test/help"
CREATED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# What every organization was given as its HELP answer before issue 15.
OLD_DEFAULT = "{name}: reply STOP to opt out."


def _patch(api: ApiClient, account: Account, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.call("PATCH", "/v1/organization", headers=account.auth, body=body)
    assert answer.status == 200, answer.text
    patched: dict[str, Any] = answer.json()
    return patched


def _get(api: ApiClient, account: Account) -> dict[str, Any]:
    answer = api.call("GET", "/v1/organization", headers=account.auth)
    assert answer.status == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_every_new_setting_is_stored_and_read_back(identity: ApiClient, owner: Account) -> None:
    org_id = owner.organization["id"]
    assert owner.organization["fallback_time_zones"] == list(DEFAULT_FALLBACK_TIME_ZONES)
    assert IdentityRepository().get_organization(org_id).fallback_time_zones == (
        DEFAULT_FALLBACK_TIME_ZONES
    )
    patched = _patch(
        identity,
        owner,
        {
            "fallback_time_zones": ["America/Phoenix", "Pacific/Honolulu", "America/Phoenix"],
            "support_contact": SUPPORT,
            "help_text": "Acme: call us.",
            "help_texts": {"es": "Acme: llame al 555-0100."},
            "opt_out_confirmations": {"fr": "Acme : c'est noté."},
        },
    )
    assert patched["fallback_time_zones"] == ["America/Phoenix", "Pacific/Honolulu"]
    assert patched["support_contact"] == SUPPORT
    assert patched["help_text"] == patched["help_texts"]["en"] == "Acme: call us."
    assert patched["help_texts"]["es"] == "Acme: llame al 555-0100."
    assert SUPPORT in patched["help_texts"]["fr"]  # the default, with the support line
    assert patched["opt_out_confirmations"]["fr"] == "Acme : c'est noté."
    assert _get(identity, owner) == patched
    stored = IdentityRepository().get_organization(org_id)
    assert stored.fallback_time_zones == ("America/Phoenix", "Pacific/Honolulu")
    assert stored.support_contact == SUPPORT
    assert stored.help_texts == {"en": "Acme: call us.", "es": "Acme: llame al 555-0100."}
    assert stored.opt_out_confirmations == {"fr": "Acme : c'est noté."}

    # Merged by language, and null goes back to the default (and off the item).
    merged = _patch(identity, owner, {"help_texts": {"fr": "Acme : appelez-nous."}})
    assert merged["help_texts"]["es"] == "Acme: llame al 555-0100."
    reset = _patch(
        identity,
        owner,
        {
            "support_contact": None,
            "help_texts": {"en": None, "es": None, "fr": None},
            "opt_out_confirmations": {"fr": None},
        },
    )
    assert reset["support_contact"] is None
    assert reset["help_texts"] == owner.organization["help_texts"]
    assert reset["opt_out_confirmations"] == owner.organization["opt_out_confirmations"]
    assert reset["fallback_time_zones"] == ["America/Phoenix", "Pacific/Honolulu"]
    item = OrganizationModel.get(org_id, consistent_read=True)
    assert item.help_text is None
    assert item.support_contact is None
    assert raw_map(item.help_texts) == raw_map(item.opt_out_confirmations) == {}


def test_a_member_changes_none_of_them_on_dynamodb(identity: ApiClient, owner: Account) -> None:
    member = add_user(identity, owner, "member@acme.test")
    for body in (
        {"fallback_time_zones": ["America/Chicago"]},
        {"support_contact": SUPPORT},
        {"help_texts": {"es": "Ayuda."}},
        {"opt_out_confirmations": {"en": "Done."}},
    ):
        identity.call("PATCH", "/v1/organization", headers=member.auth, body=body).assert_problem(
            403
        )
    assert _get(identity, owner) == owner.organization


def _legacy_item(name: str, help_text: str) -> OrganizationModel:
    """An organization item as the code before issue 15 wrote it: a HELP answer always
    stored, none of the new attributes."""
    organization = builders.organization(name, at=CREATED)
    item = OrganizationModel(
        organization.id,
        **{attribute: getattr(organization, attribute) for attribute in _PRE_ISSUE_15_ATTRIBUTES},
        help_text=help_text,
    )
    item.save()
    return item


_PRE_ISSUE_15_ATTRIBUTES = (
    "name", "timezone", "sender_number", "messages_per_second", "quiet_hours_start",
    "quiet_hours_end", "opt_out_footer", "created_at", "updated_at",
)  # fmt: skip


@pytest.mark.usefixtures("aws")
def test_an_item_with_the_old_default_help_text_reads_as_using_the_default() -> None:
    # "The default help_text gives no help" (issue 15): before, this stored text was the
    # answer, and no support line could be added to it.
    item = _legacy_item("Bolt Plumbing", OLD_DEFAULT.format(name="Bolt Plumbing"))
    organization = IdentityRepository().get_organization(item.org_id)
    assert organization.help_texts == {}
    assert organization.opt_out_confirmations == {}
    assert organization.support_contact is None
    assert organization.fallback_time_zones == DEFAULT_FALLBACK_TIME_ZONES
    public = OrganizationPublic.of(organization)
    assert public.help_text != OLD_DEFAULT.format(name="Bolt Plumbing")
    assert "Bolt Plumbing" in public.help_text and "STOP" in public.help_text
    assert public.help_texts["en"] == public.help_text
    assert public.fallback_time_zones == list(DEFAULT_FALLBACK_TIME_ZONES)


@pytest.mark.usefixtures("aws")
def test_the_old_default_under_an_earlier_name_reads_as_the_default_too() -> None:
    # Renamed before issue 15: the stored text names the organization as it was then.
    item = _legacy_item("Bolt Plumbing & Heating", OLD_DEFAULT.format(name="Bolt Plumbing"))
    organization = IdentityRepository().get_organization(item.org_id)
    assert organization.help_texts == {}
    assert "Bolt Plumbing & Heating" in OrganizationPublic.of(organization).help_text


@pytest.mark.usefixtures("aws")
def test_an_item_with_its_own_help_text_keeps_it() -> None:
    item = _legacy_item("Bolt Plumbing", "Bolt: call 617-555-0100, 8am-5pm.")
    organization = IdentityRepository().get_organization(item.org_id)
    assert organization.help_texts == {"en": "Bolt: call 617-555-0100, 8am-5pm."}
    assert OrganizationPublic.of(organization).help_text == "Bolt: call 617-555-0100, 8am-5pm."


def test_an_old_organization_gets_the_support_line_and_loses_the_old_text(
    identity: ApiClient, owner: Account
) -> None:
    # Make the registered organization's item look as it did before issue 15.
    item = OrganizationModel.get(owner.organization["id"], consistent_read=True)
    item.help_text = OLD_DEFAULT.format(name=item.name)
    item.help_texts = item.opt_out_confirmations = None
    item.fallback_time_zones = item.support_contact = None
    item.save()
    assert _get(identity, owner) == owner.organization  # today's defaults

    patched = _patch(identity, owner, {"support_contact": SUPPORT})
    assert all(SUPPORT in text for text in patched["help_texts"].values())
    # Rewritten without the old text: renaming no longer leaves it behind as if written.
    assert OrganizationModel.get(item.org_id, consistent_read=True).help_text is None
    renamed = _patch(identity, owner, {"name": "Acme Repair"})
    assert "Acme Repair" in renamed["help_text"] and SUPPORT in renamed["help_text"]
