"""Deterministic, weighted choice of a campaign variant for a contact.

The sending rules say a recipient's variant is chosen once, by weight, and the
same contact in the same campaign always gets the same one. A keyed hash gives
that without storing anything before the choice is recorded: a retried or
duplicated send computes the same answer in any process, on any host.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from outreach.campaigns.domain import MAX_VARIANTS

# Rejection sampling below keeps a draw exact for any total below 2**64; capping the
# total at 2**63 means at least half of the 64-bit words are accepted, so the loop
# ends after a couple of words even in the worst case (realistic totals are tiny).
MAX_TOTAL_WEIGHT = 1 << 63

_WORD_BYTES = 8
_WORD_SPACE = 1 << (8 * _WORD_BYTES)


def _uniform_below(seed: bytes, bound: int) -> int:
    """Map ``seed`` to an integer uniform in ``[0, bound)``, with no modulo bias.

    Takes 64-bit words from SHA-256 of the seed and rejects the few words that fall
    in the incomplete last block of ``bound`` (a chance below ``bound / 2**64`` per
    word, about 1e-17 for a total weight of 100), re-hashing the digest if all four
    words of a digest are rejected.
    """
    limit = _WORD_SPACE - _WORD_SPACE % bound
    digest = hashlib.sha256(seed).digest()
    while True:
        for start in range(0, len(digest), _WORD_BYTES):
            word = int.from_bytes(digest[start : start + _WORD_BYTES], "big")
            if word < limit:
                return word % bound
        digest = hashlib.sha256(digest).digest()


def check_weights(variants: Sequence[tuple[str, int]]) -> None:
    """Raise ``ValueError`` unless there are 1 to 5 variants with unique names and
    positive integer weights summing to at most ``MAX_TOTAL_WEIGHT``."""
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise ValueError(f"a campaign has 1 to {MAX_VARIANTS} variants, got {len(variants)}")
    names: set[str] = set()
    for name, weight in variants:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a variant name is a non-empty string, got {name!r}")
        if name in names:
            raise ValueError(f"variant names are unique, {name!r} appears twice")
        names.add(name)
        # bool is an int subclass; True as a weight is a bug upstream, not a weight of 1.
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            raise ValueError(f"variant {name!r} needs a positive integer weight, got {weight!r}")
    total = sum(weight for _, weight in variants)
    if total > MAX_TOTAL_WEIGHT:
        raise ValueError(f"the total weight is at most 2**63, got {total}")


def assign_variant(campaign_id: str, contact_id: str, variants: Sequence[tuple[str, int]]) -> str:
    """Return the name of the variant ``contact_id`` gets in ``campaign_id``.

    ``variants`` are ``(name, weight)`` pairs in the campaign's order. The same
    campaign, contact and variants always give the same name; different campaigns
    draw independently. The answer depends on the order and weights too, so it is
    stable only while those are (they are frozen once a campaign starts), and the
    chosen variant is to be recorded with the send.
    """
    check_weights(variants)
    weights = [weight for _, weight in variants]
    # Ids are ULIDs (no ':'), so the key cannot be produced by two different pairs.
    point = _uniform_below(f"{campaign_id}:{contact_id}".encode(), sum(weights))
    # Variant i owns [cumulative[i-1], cumulative[i]): a share of weight i / total.
    return variants[bisect_right(list(accumulate(weights)), point)][0]
