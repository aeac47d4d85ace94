"""Variants are stable: chosen once, by weight, the same for the same contact in the
same campaign, and independent across campaigns."""

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.campaigns.variants import MAX_TOTAL_WEIGHT, assign_variant

CONTACTS = [f"C{i:05d}" for i in range(10_000)]
SEVENTY_THIRTY = [("A", 70), ("B", 30)]


def shares(
    campaign_id: str, contacts: list[str], variants: list[tuple[str, int]]
) -> dict[str, float]:
    counts = Counter(assign_variant(campaign_id, contact, variants) for contact in contacts)
    return {name: counts[name] / len(contacts) for name, _ in variants}


def test_seventy_thirty_split_lands_within_two_points() -> None:
    # With 10,000 recipients the standard error of a 30% share is 0.46 points,
    # so 2 points is over 4 standard errors.
    measured = shares("01JCAMPAIGN0000000000000001", CONTACTS, SEVENTY_THIRTY)
    assert measured["A"] == pytest.approx(0.70, abs=0.02)
    assert measured["B"] == pytest.approx(0.30, abs=0.02)


def test_the_same_contact_always_gets_the_same_variant() -> None:
    campaign = "01JCAMPAIGN0000000000000001"
    first = [assign_variant(campaign, contact, SEVENTY_THIRTY) for contact in CONTACTS]
    # Reverse order, a fresh list and tuple of variants: nothing but the inputs matters.
    again = [
        assign_variant(campaign, contact, (("A", 70), ("B", 30))) for contact in reversed(CONTACTS)
    ]
    assert first == list(reversed(again))


def test_assignment_does_not_change_between_releases_or_processes() -> None:
    # Pinned outputs: a switch to the per-process salted hash() or another key layout
    # would move recipients whose variant is not recorded yet (a send being retried).
    # Expected values worked out apart from the module, by the documented scheme:
    # int.from_bytes(sha256(b"<campaign>:<contact>").digest()[:8], "big") % 5 -> "ABCDE".
    variants = [("A", 1), ("B", 1), ("C", 1), ("D", 1), ("E", 1)]
    expected = {"C00000": "B", "C00001": "C", "C00002": "C", "C00003": "D", "C00004": "D"}
    measured = {
        contact: assign_variant("01JCAMPAIGN0000000000000001", contact, variants)
        for contact in expected
    }
    assert measured == expected


def test_another_campaign_draws_independently_at_the_same_weights() -> None:
    first = [assign_variant("01JCAMPAIGN0000000000000001", c, SEVENTY_THIRTY) for c in CONTACTS]
    second = [assign_variant("01JCAMPAIGN0000000000000002", c, SEVENTY_THIRTY) for c in CONTACTS]
    # Independent 70/30 draws disagree with probability 2 * 0.7 * 0.3 = 42%; a
    # contact-only hash would make every campaign's A group the same people.
    disagreements = sum(a != b for a, b in zip(first, second, strict=True))
    assert disagreements / len(CONTACTS) == pytest.approx(0.42, abs=0.03)
    counts = Counter(second)
    assert counts["A"] / len(CONTACTS) == pytest.approx(0.70, abs=0.02)
    assert counts["B"] / len(CONTACTS) == pytest.approx(0.30, abs=0.02)


def test_five_variants_follow_their_weights() -> None:
    variants = [("A", 1), ("B", 2), ("C", 3), ("D", 4), ("E", 10)]
    contacts = [f"C{i:05d}" for i in range(20_000)]
    measured = shares("01JCAMPAIGN0000000000000003", contacts, variants)
    for name, weight in variants:
        assert measured[name] == pytest.approx(weight / 20, abs=0.02), name


def test_huge_weights_stay_proportional() -> None:
    # A total of 3 * 2**61 rejects a quarter of the 64-bit words, so this exercises
    # the rejection loop; plain modulo would still be near 1/3 : 2/3 but not exact.
    variants = [("A", 2**61), ("B", 2**62)]
    measured = shares("01JCAMPAIGN0000000000000004", CONTACTS[:3000], variants)
    assert measured["A"] == pytest.approx(1 / 3, abs=0.03)


def test_a_single_variant_is_always_chosen() -> None:
    assert {assign_variant("01JCAMPAIGN0000000000000005", c, [("only", 7)]) for c in CONTACTS} == {
        "only"
    }


@given(
    campaign_id=st.text(max_size=30),
    contact_id=st.text(max_size=30),
    weights=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=5),
)
def test_any_valid_input_gives_one_of_the_variants_and_the_same_one_twice(
    campaign_id: str, contact_id: str, weights: list[int]
) -> None:
    variants = [(f"V{i}", weight) for i, weight in enumerate(weights)]
    chosen = assign_variant(campaign_id, contact_id, variants)
    assert chosen in {name for name, _ in variants}
    assert assign_variant(campaign_id, contact_id, variants) == chosen


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ([], "1 to 5 variants"),
        ([(name, 1) for name in "ABCDEF"], "1 to 5 variants"),
        ([("A", 0)], "positive integer weight"),
        ([("A", -3)], "positive integer weight"),
        ([("A", 1.5)], "positive integer weight"),
        ([("A", True)], "positive integer weight"),
        ([("A", "50")], "positive integer weight"),
        ([("A", 50), ("A", 50)], "unique"),
        ([("", 1)], "non-empty string"),
        ([(None, 1)], "non-empty string"),
        ([("A", MAX_TOTAL_WEIGHT), ("B", 1)], "total weight"),
    ],
)
def test_invalid_variants_are_refused(variants: list[tuple[Any, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assign_variant("01JCAMPAIGN0000000000000001", "C00000", variants)
