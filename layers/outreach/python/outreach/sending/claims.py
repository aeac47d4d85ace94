"""The campaigns' claims on numbers as the phone history stores them, and their read.

A claim is :class:`~outreach.sending.domain.Claim`; the ``claims`` attribute of a phone
history item maps each campaign id to its claim's value (the claim protocol is in
:mod:`outreach.sending.repository`). Read here for the sender's takeover of a dead run,
and for the campaigns' cancel and sends listing, which must tell a recipient being sent
from one that is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from outreach.data.models import PhoneHistoryModel
from outreach.data.pynamo import raw_map
from outreach.sending.domain import Claim


def stored_claims(stored: Any) -> dict[str, Claim]:
    """The claims a ``claims`` attribute holds (``None``: none), by campaign id."""
    return {campaign_id: Claim(str(value)) for campaign_id, value in raw_map(stored).items()}


def claim_values(claims: Mapping[str, Claim]) -> dict[str, str]:
    """``claims`` as the ``claims`` attribute stores them."""
    return {campaign_id: claim.value for campaign_id, claim in claims.items()}


def claims_on(org_id: str, campaign_id: str, phones: Iterable[str]) -> dict[str, Claim]:
    """The claim ``campaign_id`` holds (or held: closed ones too) on each of ``phones``
    that has one: one batch read of their histories, consistent."""
    keys = [(org_id, phone) for phone in dict.fromkeys(phones)]
    found: dict[str, Claim] = {}
    for item in PhoneHistoryModel.batch_get(
        keys, consistent_read=True, attributes_to_get=["phone", "claims"]
    ):
        claim = stored_claims(item.claims).get(campaign_id)
        if claim is not None:
            found[item.phone] = claim
    return found
