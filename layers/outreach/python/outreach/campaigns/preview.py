"""An honest preview: each variant as a repeat and as a first message, and what the
campaign's current audience would cost in segments.

Source: issue 15, point 7 and ``api-contract.md`` Addendum 1 ("Preview answers per
variant ``first_message: {body, encoding, characters, segments}`` beside the
repeat-message figures, and ``audience_segments``"). The texts are composed as the
sender composes them (``CampaignSender._turn`` in :mod:`outreach.sending.sender`):
the variant rendered for the contact
(:func:`~outreach.campaigns.templates.render_for_contact`), with the organization's
``opt_out_footer`` on the first text the organization's campaigns ever send the number
(:func:`~outreach.contacts.opt_outs.with_footer`, ``first_text`` when the number has no
phone history; ``sending-rules.md``, "Message body"). Lengths are measured as carriers
bill them (:func:`~outreach.campaigns.sms_length.measure`).

``warnings`` name each ``{attributes.KEY}`` placeholder that no contact of the current
audience (the contacts the totals are counted over) has a value for
(:class:`~outreach.campaigns.templates.AttributeUse`; issue 17, point 4): exact, from the
same batch reads.

Why the audience total is an estimate: it counts every recipient as if all were texted,
while a contact may change or be deleted, a number may opt out or be texted by another
campaign before its turn, the campaign may end first, and a draft's audience is resolved
again when it starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import batched
from typing import Any

from outreach.campaigns.domain import Campaign, Variant
from outreach.campaigns.ports import AudienceSource, RecipientStore
from outreach.campaigns.sms_length import SmsLength, measure
from outreach.campaigns.statuses import CampaignStatus
from outreach.campaigns.templates import (
    AttributeUse,
    Template,
    TemplateWarning,
    parse_template,
    render_for_contact,
)
from outreach.campaigns.variants import assign_variant
from outreach.contacts.domain import Contact
from outreach.contacts.opt_outs import with_footer

# Audience members whose contacts and phone histories are read at once (DynamoDB's
# BatchGetItem takes 100 keys).
AUDIENCE_READ_BATCH = 100

# What a placeholder renders from without a contact: every one takes its fallback.
_NO_CONTACT: Mapping[str, Any] = {"attributes": {}}


@dataclass(frozen=True)
class Message:
    """One text as the carrier bills it: its ``body`` and :class:`SmsLength`."""

    body: str
    length: SmsLength

    @classmethod
    def of(cls, body: str) -> Message:
        """``body``, measured."""
        return cls(body=body, length=measure(body))


@dataclass(frozen=True)
class AudienceCost:
    """The texts of an audience: how many ``recipients``, and the ``segments`` their own
    texts add up to (each at least 1)."""

    recipients: int = 0
    segments: int = 0


@dataclass(frozen=True)
class VariantPreview:
    """One variant rendered for the contact (or with every fallback): ``repeat``, the text
    a number texted before gets (no footer), and ``first_message``, the first text to a
    number (the footer appended; equal to ``repeat`` when the footer is empty); and the
    ``audience`` part assigned this variant."""

    name: str
    repeat: Message
    first_message: Message
    audience: AudienceCost


class LeftOutReason(StrEnum):
    """Why a draft's start would not make the previewed contact a recipient: the reasons
    a start counts in ``left_out`` (:class:`~outreach.campaigns.domain.LeftOut`), and a
    contact the campaign's audience does not select."""

    NOT_IN_AUDIENCE = "not_in_audience"
    OPTED_OUT = "opted_out"
    NOT_TEXTABLE = "not_textable"
    NEVER_IN_WINDOW = "never_in_window"


@dataclass(frozen=True)
class Preview:
    """A campaign's preview.

    ``first_text``: with a contact, whether its next campaign text would be the first to
    its number (so carry the footer), decided as the sender decides it; ``None`` without
    a contact. ``assigned_variant``: the variant that contact gets (a draft: the one its
    start would assign; a started campaign: the one recorded for it, ``None`` if it is
    not a recipient); ``None`` without a contact. ``audience``: the cost of the current
    audience over all variants (:func:`current_audience`). ``left_out``: for a draft,
    why its start would not take the contact (then ``assigned_variant`` is ``None``).
    ``warnings``: the ``{attributes.KEY}`` placeholders no contact of that audience has
    a value for (:meth:`~outreach.campaigns.templates.AttributeUse.warnings`).
    """

    variants: tuple[VariantPreview, ...]
    audience: AudienceCost
    first_text: bool | None
    assigned_variant: str | None
    left_out: LeftOutReason | None = None
    warnings: tuple[TemplateWarning, ...] = ()


@dataclass(frozen=True)
class Composer:
    """A campaign's variants composed as the sender composes them, for one organization's
    ``footer`` (its ``opt_out_footer``; empty: none)."""

    templates: Mapping[str, Template]  # by variant name, in the campaign's order
    footer: str

    @classmethod
    def of(cls, variants: Sequence[Variant], footer: str) -> Composer:
        """The variants' templates parsed once (they were checked when stored)."""
        return cls({v.name: parse_template(v.body) for v in variants}, footer)

    def text(self, variant: str, values: Mapping[str, Any], *, first_text: bool) -> str:
        """The exact body the sender sends: ``variant`` rendered with ``values`` (a
        contact's :meth:`~outreach.contacts.domain.Contact.template_values`), with the
        footer when ``first_text``."""
        body = render_for_contact(self.templates[variant], values)
        return with_footer(body, self.footer, first_text=first_text)


class AudienceTally:
    """Recipients and segments per variant, as an audience's texts are added."""

    def __init__(self, names: Iterable[str]) -> None:
        self._counts = {name: [0, 0] for name in names}

    def add(self, variant: str, text: str) -> None:
        """Count one recipient of ``variant`` whose text is ``text``."""
        counts = self._counts[variant]
        counts[0] += 1
        counts[1] += measure(text).segments

    def of(self, variant: str) -> AudienceCost:
        """The cost of the recipients of ``variant``."""
        recipients, segments = self._counts[variant]
        return AudienceCost(recipients, segments)

    def total(self) -> AudienceCost:
        """The cost over every variant."""
        return AudienceCost(
            sum(c[0] for c in self._counts.values()), sum(c[1] for c in self._counts.values())
        )


def assigned(campaign: Campaign, contact_id: str) -> str:
    """The variant ``campaign``'s start assigns ``contact_id``: the deterministic, weighted
    choice of :func:`~outreach.campaigns.variants.assign_variant` (``sending-rules.md``,
    variant assignment), over the variants as they are now."""
    return assign_variant(campaign.id, contact_id, [(v.name, v.weight) for v in campaign.variants])


def preview_campaign(
    campaign: Campaign,
    footer: str,
    contact: Contact | None,
    audience: Iterable[tuple[str, str, str]],
    *,
    contacts: AudienceSource,
    recipients: RecipientStore,
) -> Preview:
    """The preview of ``campaign`` for ``contact`` (``None``: every placeholder's
    fallback), with the cost of its current ``audience`` (``(contact id, phone,
    variant)``: a draft's members its start would keep, each with its :func:`assigned`
    variant; a started campaign's
    :meth:`~outreach.campaigns.ports.RecipientStore.open_recipients`).

    Reads: with a contact, one batch read of its number's history and, for a started
    campaign, one read of its recipient; per :data:`AUDIENCE_READ_BATCH` members of the
    audience, one batch read of their contacts and one of their numbers' histories. A
    member whose contact was deleted is not counted (the sender skips it), nor looked at
    for the ``warnings``.
    """
    composer = Composer.of(campaign.variants, footer)
    uses = AttributeUse((v.name, v.body) for v in campaign.variants)
    tally = _tally(campaign.org_id, composer, audience, contacts, recipients, uses=uses)
    values = contact.template_values() if contact else _NO_CONTACT
    variants = tuple(
        VariantPreview(
            name=v.name,
            repeat=Message.of(composer.text(v.name, values, first_text=False)),
            first_message=Message.of(composer.text(v.name, values, first_text=True)),
            audience=tally.of(v.name),
        )
        for v in campaign.variants
    )
    first_text: bool | None = None
    variant: str | None = None
    if contact is not None:
        texted = recipients.texted_numbers(campaign.org_id, [contact.phone])
        first_text = contact.phone not in texted
        if campaign.status is CampaignStatus.DRAFT:
            variant = assigned(campaign, contact.id)
        else:
            variant = recipients.variant_of(campaign.org_id, campaign.id, contact.id)
    return Preview(
        variants=variants,
        audience=tally.total(),
        first_text=first_text,
        assigned_variant=variant,
        warnings=uses.warnings(),
    )


def _tally(
    org_id: str,
    composer: Composer,
    audience: Iterable[tuple[str, str, str]],
    contacts: AudienceSource,
    recipients: RecipientStore,
    *,
    uses: AttributeUse,
) -> AudienceTally:
    """Each member's own text (its contact's values, its variant, the footer if its number
    was never texted), counted by variant, and its attributes added to ``uses``; reads in
    batches only."""
    tally = AudienceTally(composer.templates)
    for batch in batched(audience, AUDIENCE_READ_BATCH):
        found = contacts.get_many(org_id, (contact_id for contact_id, _, _ in batch))
        texted = recipients.texted_numbers(org_id, (phone for _, phone, _ in batch))
        for contact_id, phone, variant in batch:
            member = found.get(contact_id)
            if member is None:  # deleted since: the sender skips it ("contact deleted")
                continue
            uses.add(member.attributes)
            values = member.template_values()
            tally.add(variant, composer.text(variant, values, first_text=phone not in texted))
    return tally
