"""Attribute keys that templates can use (issue 17, point 4; ``api-contract.md``,
Addendum 1: "Attribute keys are stored normalised"): the keying of written and stored
attributes, their labels, the placeholders that name them, and the campaign warnings
about attributes no contact of the audience has."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from outreach.campaigns import domain as campaigns
from outreach.campaigns import service as campaign_service
from outreach.campaigns.templates import (
    ATTRIBUTE_NOT_IN_AUDIENCE,
    AttributeUse,
    TemplateError,
    TemplateWarning,
    check_placeholders,
    parse_template,
    render_for_contact,
)
from outreach.clock import SimulatedClock
from outreach.contacts.domain import Contact, ContactChanges, keyed_attributes, stored_attributes
from outreach.contacts.schemas import ContactCreate, ContactUpdate
from outreach.contacts.service import apply_changes, profile_changes
from outreach.errors import ValidationFailed
from outreach.ids import new_id
from tests.support import builders
from tests.support.campaign_fakes import CampaignFakes

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


# --- Keys and labels --------------------------------------------------------------


def test_names_are_keyed_and_the_names_kept_as_labels_where_they_differ() -> None:
    assert keyed_attributes({"Contact owner": "Ann", "plan": "pro", "Código Postal": "02139"}) == (
        {"contact_owner": "Ann", "plan": "pro", "codigo_postal": "02139"},
        {"contact_owner": "Contact owner", "codigo_postal": "Código Postal"},
    )


def test_given_labels_win_and_a_label_equal_to_its_key_is_dropped() -> None:
    keyed = keyed_attributes(
        {"contact_owner": "Ann", "plan": "pro"}, {"contact_owner": "Contact owner", "plan": "plan"}
    )
    assert keyed == ({"contact_owner": "Ann", "plan": "pro"}, {"contact_owner": "Contact owner"})


def test_of_two_names_with_one_key_the_first_wins_and_a_keyless_name_is_left_out() -> None:
    assert keyed_attributes({"Lead-Source": "web", "lead source": "fair", "???": "x"}) == (
        {"lead_source": "web"},
        {"lead_source": "Lead-Source"},
    )


@pytest.mark.parametrize(
    "stored",
    [
        {"favorite_color": "blue", "Favorite Color": "red"},
        {"Favorite Color": "red", "favorite_color": "blue"},
    ],
)
def test_a_stored_collision_reads_the_same_whatever_order_the_store_answers(
    stored: dict[str, str],
) -> None:
    # The name that is its key already wins; the raw one is not kept as a label of it.
    assert stored_attributes(stored) == ({"favorite_color": "blue"}, {})


def test_stored_names_without_a_key_match_are_settled_by_code_point_order() -> None:
    for stored in ({"favorite color": "b", "Favorite Color": "a"}, {"Favorite Color": "a"}):
        keyed, labels = stored_attributes(stored)
        assert keyed == {"favorite_color": "a"}
        assert labels == {"favorite_color": "Favorite Color"}


# --- Writes: the request bodies and the service's changes ---------------------------


def test_a_create_body_keys_its_attributes_and_keeps_the_names_as_labels() -> None:
    changes = ContactCreate.model_validate(
        {"phone": "+16175550123", "attributes": {"Contact owner": "Ann", "plan": "pro"}}
    ).to_domain()
    assert changes.attributes == {"contact_owner": "Ann", "plan": "pro"}
    assert changes.attribute_labels == {"contact_owner": "Contact owner"}


def _errors(body: dict[str, Any], model: type[ContactCreate | ContactUpdate]) -> list[Any]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


@pytest.mark.parametrize("model", [ContactCreate, ContactUpdate])
def test_a_name_without_a_letter_or_digit_is_refused_at_that_name(
    model: type[ContactCreate | ContactUpdate],
) -> None:
    body = {"phone": "+16175550123", "attributes": {"plan": "pro", "???": "x"}}
    assert _errors(body, model) == [
        (("attributes", "???"), "an attribute name needs a letter or a digit")
    ]


@pytest.mark.parametrize("model", [ContactCreate, ContactUpdate])
def test_two_names_with_one_key_are_refused_at_the_second(
    model: type[ContactCreate | ContactUpdate],
) -> None:
    body = {"phone": "+16175550123", "attributes": {"Contact owner": "a", "contact-owner": "b"}}
    assert _errors(body, model) == [
        (
            ("attributes", "contact-owner"),
            "names the same attribute as 'Contact owner' (both are stored as 'contact_owner')",
        )
    ]


def _contact(**fields: Any) -> Contact:
    return builders.contact("org", "+16175550123", at=NOW, **fields)


def test_a_patch_replaces_attributes_and_a_key_given_as_it_is_keeps_its_label() -> None:
    stored = _contact(
        attributes={"contact_owner": "Ann", "favorite_color": "red"},
        attribute_labels={"contact_owner": "Contact owner", "favorite_color": "Favorite Color"},
    )
    body = ContactUpdate.model_validate(
        {"attributes": {"contact_owner": "Bob", "Código Postal": "02139"}}
    )
    patched = apply_changes(stored, body.to_domain(), erase=True)
    assert patched.attributes == {"contact_owner": "Bob", "codigo_postal": "02139"}
    assert patched.attribute_labels == {
        "contact_owner": "Contact owner",
        "codigo_postal": "Código Postal",
    }
    # Given under another name, the key takes that name; {} clears both
    renamed = apply_changes(
        patched,
        ContactUpdate.model_validate({"attributes": {"Owner": "Cy"}}).to_domain(),
        erase=True,
    )
    assert (renamed.attributes, renamed.attribute_labels) == ({"owner": "Cy"}, {"owner": "Owner"})
    cleared = apply_changes(renamed, ContactChanges(attributes={}, attribute_labels={}), erase=True)
    assert (cleared.attributes, cleared.attribute_labels) == ({}, {})


def test_an_import_row_adds_attributes_and_labels() -> None:
    stored = _contact(
        attributes={"plan": "pro", "contact_owner": "Ann"},
        attribute_labels={"contact_owner": "Contact owner"},
    )
    # As the CSV reader gives a row: keys normalised, the headers that differ as labels
    changes = profile_changes({}, None, {"favorite_color": "red"}, {"favorite_color": "Fav Color"})
    imported = apply_changes(stored, changes, erase=False)
    assert imported.attributes == {"plan": "pro", "contact_owner": "Ann", "favorite_color": "red"}
    assert imported.attribute_labels == {
        "contact_owner": "Contact owner",
        "favorite_color": "Fav Color",
    }


def test_a_row_read_with_its_headers_as_they_are_is_keyed_too() -> None:
    changes = profile_changes({"first_name": "Ana"}, None, {"Contact owner": "Ann"})
    assert changes.attributes == {"contact_owner": "Ann"}
    assert changes.attribute_labels == {"contact_owner": "Contact owner"}
    assert profile_changes({}, None, None).attribute_labels is None


# --- Placeholders ------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "Contact owner",
        "contact_owner",
        "Contact-Owner",
        "CONTACT.OWNER",
        "contact  owner",
        "Cöntact owner",
    ],
)
def test_every_spelling_of_a_name_is_one_placeholder(written: str) -> None:
    template = parse_template("Ask {attributes." + written + "|us}.")
    [placeholder] = template.placeholders
    assert (placeholder.field, placeholder.attribute) == (
        "attributes.contact_owner",
        "contact_owner",
    )
    assert template.render({}, {"contact_owner": "Ann"}) == "Ask Ann."
    assert render_for_contact(template, {"attributes": {}}) == "Ask us."


def test_a_contact_field_placeholder_names_no_attribute() -> None:
    assert parse_template("{first_name}").placeholders[0].attribute is None


@pytest.mark.parametrize("written", ["---", "_ _", ".", "日本"])
def test_a_name_with_no_key_is_an_error_at_its_brace(written: str) -> None:
    body = "Hi {attributes." + written + "|there}"
    with pytest.raises(TemplateError) as caught:
        parse_template(body)
    assert caught.value.position == 3
    assert "names no attribute: an attribute key needs a letter a-z" in caught.value.message
    with pytest.raises(ValidationFailed) as failed:
        check_placeholders([("A", body)])
    assert failed.value.errors[0]["loc"] == ["body", "variants", 0, "body"]


@pytest.mark.parametrize(
    "written", ["{attributes.a|b}c}", "{attributes.a{b}", "{attributes. owner}"]
)
def test_braces_pipes_and_edge_spaces_are_still_refused(written: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(written)


# --- Warnings about attributes no contact has ----------------------------------------


def test_attribute_use_names_the_placeholders_no_contact_has_a_value_for() -> None:
    uses = AttributeUse(
        [
            (
                "A",
                "Hi {first_name}, {attributes.Contact owner|we} will call about {attributes.plan}",
            ),
            ("B", "{attributes.zip} {attributes.zip}"),  # one warning for both
        ]
    )
    assert not uses.settled
    uses.add({"contact_owner": "Ann", "plan": " "})  # a blank value renders the fallback
    uses.add({"plan": "{}"})  # and so does one of braces only
    assert [(w.variant, w.placeholder) for w in uses.warnings()] == [
        ("A", "{attributes.plan}"),
        ("B", "{attributes.zip}"),
    ]
    plan = uses.warnings()[0]
    assert plan.code == ATTRIBUTE_NOT_IN_AUDIENCE
    assert plan.message == (
        "No contact of the audience (2 checked) has a value for {attributes.plan} "
        "(attribute 'plan'): each recipient would get an empty text (no fallback)."
    )
    uses.add({"plan": "pro", "zip": "02139"})
    assert uses.settled and uses.warnings() == ()


def test_a_bounded_check_says_so() -> None:
    uses = AttributeUse([("A", "{attributes.Region|your area}")])
    [warning] = uses.warnings(checked_first=500)
    assert warning.message == (
        "No contact among the first 500 of the audience has a value for "
        "{attributes.Region|your area} (attribute 'region'; the others were not checked): "
        "a recipient without it would get its fallback 'your area'."
    )


class _CountingContacts(CampaignFakes):
    """The fakes, counting the contacts the service reads in batches."""

    def __init__(self) -> None:
        super().__init__(clock=SimulatedClock(NOW))
        self.read: list[int] = []
        self.made = 0
        get_many = self.contacts.get_many

        def counted(org_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
            ids = list(contact_ids)
            self.read.append(len(ids))
            return get_many(org_id, ids)

        self.contacts.get_many = counted  # type: ignore[method-assign]
        self.org_id = new_id(NOW)
        self.organizations.organizations[self.org_id] = builders.organization(
            "Acme", at=NOW, id=self.org_id, sender_number="+16175550100"
        )

    def add_contacts(self, count: int, **attributes: str) -> None:
        for _ in range(count):
            self.clock.advance(timedelta(milliseconds=1))
            self.made += 1
            self.contacts.create(
                builders.contact(
                    self.org_id,
                    f"+1617555{self.made:04d}",
                    at=NOW,
                    id=new_id(self.clock.now()),
                    attributes=attributes,
                )
            )

    def create(self, body: str) -> tuple[TemplateWarning, ...]:
        draft = campaigns.CampaignDraft(
            name="Spring",
            variants=(campaigns.Variant("A", body, 1),),
            audience=campaigns.Audience(all=True),
        )
        return self.service.create_checked(self.org_id, draft).warnings


def test_a_create_without_attribute_placeholders_reads_no_contact() -> None:
    world = _CountingContacts()
    world.add_contacts(3)
    assert world.create("Hi {first_name|there}") == ()
    assert world.read == []


def test_a_create_stops_reading_once_every_attribute_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(campaign_service, "ATTRIBUTE_CHECK_LIMIT", 250)
    world = _CountingContacts()
    world.add_contacts(150)
    world.add_contacts(1, plan="pro")  # the 151st member: in the second batch
    world.add_contacts(200)
    assert world.create("{attributes.Plan|basic}") == ()
    assert world.read == [100, 100]


def test_a_create_checks_at_most_the_first_members_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(campaign_service, "ATTRIBUTE_CHECK_LIMIT", 250)
    world = _CountingContacts()
    world.add_contacts(250)
    world.add_contacts(1, plan="pro")  # the 251st member: never read
    [warning] = world.create("{attributes.plan|basic}")
    assert world.read == [100, 100, 50]
    assert (warning.variant, warning.placeholder) == ("A", "{attributes.plan|basic}")
    assert warning.message.startswith("No contact among the first 250 of the audience")


def test_a_create_over_a_whole_audience_says_how_many_were_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(campaign_service, "ATTRIBUTE_CHECK_LIMIT", 250)
    world = _CountingContacts()
    world.add_contacts(250)  # exactly the limit: the whole audience is read
    [warning] = world.create("{attributes.plan|basic}")
    assert warning.message.startswith("No contact of the audience (250 checked)")


def test_the_preview_checks_every_contact_of_its_audience() -> None:
    world = _CountingContacts()
    world.add_contacts(250)
    world.add_contacts(1, plan="pro")
    campaign = world.service.create(
        world.org_id,
        campaigns.CampaignDraft(
            name="Spring",
            variants=(campaigns.Variant("A", "{attributes.plan|basic} {attributes.zip}", 1),),
            audience=campaigns.Audience(all=True),
        ),
    )
    preview = world.service.preview(world.org_id, campaign.id, None)
    assert [w.placeholder for w in preview.warnings] == ["{attributes.zip}"]
    assert preview.warnings[0].message.startswith("No contact of the audience (251 checked)")
    # A started campaign's preview looks at its recipients still to be texted
    world.service.start(world.org_id, campaign.id)
    started = world.service.preview(world.org_id, campaign.id, None)
    assert [w.placeholder for w in started.warnings] == ["{attributes.zip}"]
