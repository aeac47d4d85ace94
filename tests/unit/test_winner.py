"""The A/B winner: reported once each variant has at least 100 sends and a two-sided
test of reply rates gives p < 0.05; otherwise null.

Reference figures come from SciPy 1.17.1 (``scipy.stats.chi2.sf``,
``scipy.stats.chi2_contingency(table, correction=False)``) and mpmath at 30 digits
(``gammainc(df/2, x/2, inf, regularized=True)``), computed outside this project,
which does not depend on either.
"""

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.campaigns import winner as winner_module
from outreach.campaigns.winner import (
    VariantOutcome,
    Winner,
    chi_square_sf,
    chi_square_test,
    find_winner,
    regularized_gamma_q,
    reply_rate,
    reply_rate_p_value,
    two_proportion_z_test,
)


def outcomes(*counts: tuple[int, int]) -> list[VariantOutcome]:
    """Variants A, B, C, ... from (replies, sent) pairs."""
    return [
        VariantOutcome(name=chr(ord("A") + i), sent=sent, replies=replies)
        for i, (replies, sent) in enumerate(counts)
    ]


# --- reply rate ------------------------------------------------------------------


def test_reply_rate_is_replies_over_sends_and_zero_before_any_send() -> None:
    assert reply_rate(40, 200) == 0.2
    assert reply_rate(0, 0) == 0.0


# --- the chi-square tail -------------------------------------------------------------


@pytest.mark.parametrize(
    ("statistic", "df", "expected"),
    [
        # The 5% critical values of chi-square with 1 to 4 degrees of freedom
        # (scipy.stats.chi2.isf(0.05, df)); mpmath gives 0.05 + 6e-17 for each.
        (3.841458820694124, 1, 0.05),
        (5.991464547107979, 2, 0.05),
        (7.814727903251178, 3, 0.05),
        (9.487729036781154, 4, 0.05),
        # erfc(1 / sqrt(2)) = 0.3173105078629141028... (mpmath, 30 digits;
        # scipy.stats.chi2.sf(1, 1) prints 0.31731050786291115).
        (1.0, 1, 0.3173105078629141),
        # scipy.stats.chi2.sf(10, 4); closed form exp(-5) * (1 + 5) = 0.0404276819945128.
        (10.0, 4, 0.04042768199451279),
        # scipy.stats.chi2.sf(0.5, 2); closed form exp(-0.25) = 0.7788007830714049.
        (0.5, 2, 0.7788007830714049),
    ],
)
def test_chi_square_tail_matches_reference_values(
    statistic: float, df: int, expected: float
) -> None:
    assert chi_square_sf(statistic, df) == pytest.approx(expected, rel=1e-12, abs=0)


def closed_form_chi_square_sf(x: float, df: int) -> float:
    """Textbook closed forms of the chi-square tail for integer df (e.g. Abramowitz &
    Stegun 26.4.4 and 26.4.5): even df is a Poisson sum, odd df adds terms to erfc."""
    half = x / 2.0
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for k in range(1, df // 2):
            term *= half / k
            total += term
        return math.exp(-half) * total
    total = math.erfc(math.sqrt(half))
    term = math.sqrt(x) * math.exp(-half) * math.sqrt(2.0 / math.pi)
    for k in range(1, (df + 1) // 2):
        total += term
        term *= x / (2 * k + 1)
    return total


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 6, 100])
@pytest.mark.parametrize("x", [1e-6, 0.01, 0.5, 1.0, 2.9, 3.0, 3.1, 7.5, 20.0, 99.0, 150.0, 400.0])
def test_chi_square_tail_agrees_with_closed_forms_to_1e10(x: float, df: int) -> None:
    # x spans both branches (series below a + 1, continued fraction above) and tails
    # down to 1e-88; df=100 checks a shape far beyond the 4 that 5 variants need.
    assert chi_square_sf(x, df) == pytest.approx(closed_form_chi_square_sf(x, df), rel=1e-10)


def test_chi_square_tail_edges() -> None:
    assert chi_square_sf(0.0, 3) == 1.0
    assert chi_square_sf(-1.0, 3) == 1.0
    # Far in the tail the probability underflows to zero instead of overflowing.
    assert chi_square_sf(1e7, 4) == 0.0
    assert regularized_gamma_q(2.0, 0.0) == 1.0
    with pytest.raises(ValueError, match="degrees of freedom"):
        chi_square_sf(3.0, 0)
    with pytest.raises(ValueError, match="shape"):
        regularized_gamma_q(0.0, 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        regularized_gamma_q(1.0, -1.0)
    with pytest.raises(ValueError, match="non-negative"):
        regularized_gamma_q(1.0, math.nan)


@pytest.mark.parametrize("x", [0.5, 10.0])
def test_a_non_converging_expansion_raises_instead_of_returning_a_guess(
    monkeypatch: pytest.MonkeyPatch, x: float
) -> None:
    monkeypatch.setattr(winner_module, "_MAX_TERMS", 2)
    with pytest.raises(ArithmeticError, match="did not converge"):
        regularized_gamma_q(1.5, x)


# --- the tests of reply rates ----------------------------------------------------


def test_z_test_of_40_in_200_against_20_in_200() -> None:
    # By hand: rates 0.20 and 0.10, pooled 60/400 = 0.15,
    # SE = sqrt(0.15 * 0.85 * (1/200 + 1/200)) = sqrt(0.001275) = 0.0357071,
    # z = 0.10 / 0.0357071 = 2.80056; p = erfc(z / sqrt 2) = 0.0051014.
    # scipy.stats.chi2_contingency([[40, 160], [20, 180]], correction=False) gives
    # statistic 7.843137254901961 (= z**2 = 400/51) and p 0.005101399646004978.
    result = two_proportion_z_test(*outcomes((40, 200), (20, 200)))
    assert result.z == pytest.approx(2.8005601680560193, rel=1e-12)
    assert result.p_value == pytest.approx(0.005101399646004978, rel=1e-12)
    swapped = two_proportion_z_test(*outcomes((20, 200), (40, 200)))
    assert swapped.z == -result.z
    assert swapped.p_value == result.p_value


def test_for_two_variants_chi_square_is_the_z_test_squared() -> None:
    pair = outcomes((40, 200), (20, 200))
    z_test = two_proportion_z_test(*pair)
    chi_square = chi_square_test(pair)
    assert chi_square.df == 1
    assert chi_square.statistic == pytest.approx(400 / 51, rel=1e-15)
    assert chi_square.statistic == pytest.approx(z_test.z**2, rel=1e-12)
    assert chi_square.p_value == pytest.approx(z_test.p_value, rel=1e-12)


@given(
    st.integers(min_value=1, max_value=10**6).flatmap(
        lambda sent: st.tuples(st.integers(0, sent), st.just(sent))
    ),
    st.integers(min_value=1, max_value=10**6).flatmap(
        lambda sent: st.tuples(st.integers(0, sent), st.just(sent))
    ),
)
def test_chi_square_and_z_test_agree_for_any_two_variants(
    first: tuple[int, int], second: tuple[int, int]
) -> None:
    pair = outcomes(first, second)
    z_test = two_proportion_z_test(*pair)
    chi_square = chi_square_test(pair)
    assert chi_square.statistic == pytest.approx(z_test.z**2, rel=1e-9, abs=1e-12)
    # abs covers tails so deep they are subnormal floats, where relative error grows.
    assert chi_square.p_value == pytest.approx(z_test.p_value, rel=1e-9, abs=1e-300)


def test_three_variants_against_scipy() -> None:
    # scipy.stats.chi2_contingency([[30, 170], [32, 168], [60, 140]], correction=False)
    result = chi_square_test(outcomes((30, 200), (32, 200), (60, 200)))
    assert result.df == 2
    assert result.statistic == pytest.approx(17.36744632690857, rel=1e-12)
    assert result.p_value == pytest.approx(0.00016931948846088488, rel=1e-10)


def test_five_variants_against_scipy() -> None:
    # scipy.stats.chi2_contingency with rows [r, 100 - r] for r = 10, 12, 15, 9, 30,
    # correction=False: statistic 22.871151936444885, df 4, p 0.00013435640181932345.
    result = chi_square_test(outcomes((10, 100), (12, 100), (15, 100), (9, 100), (30, 100)))
    assert result.df == 4
    assert result.statistic == pytest.approx(22.871151936444885, rel=1e-12)
    assert result.p_value == pytest.approx(0.00013435640181932345, rel=1e-10)


def test_a_variant_with_no_sends_adds_nothing_to_the_chi_square_test() -> None:
    with_empty = chi_square_test(outcomes((40, 200), (0, 0), (20, 200)))
    assert with_empty.df == 1
    assert with_empty.p_value == pytest.approx(0.005101399646004978, rel=1e-12)
    assert two_proportion_z_test(*outcomes((5, 10), (0, 0))).p_value == 1.0
    assert chi_square_test(outcomes((5, 10), (0, 0), (0, 0))).p_value == 1.0


@pytest.mark.parametrize(
    "counts",
    [
        [(0, 500), (0, 500)],
        [(500, 500), (300, 300)],
        [(0, 100), (0, 100), (0, 100)],
        [(100, 100), (200, 200), (100, 100)],
        [(0, 0), (0, 0)],
    ],
)
def test_no_replies_or_only_replies_cannot_show_a_difference(counts: list[tuple[int, int]]) -> None:
    # The pooled variance p(1 - p) is zero: the answer is p = 1, not a division error.
    assert reply_rate_p_value(outcomes(*counts)) == 1.0
    assert find_winner(outcomes(*counts)) is None


# --- the winner ---------------------------------------------------------------------


def assert_winner(result: Winner | None, variant: str, p_value: float, rel: float) -> None:
    assert result is not None
    assert result.variant == variant
    assert result.p_value == pytest.approx(p_value, rel=rel)


def test_a_clear_two_variant_winner() -> None:
    assert_winner(find_winner(outcomes((40, 200), (20, 200))), "A", 0.005101399646004978, rel=1e-12)
    assert_winner(find_winner(outcomes((20, 200), (40, 200))), "B", 0.005101399646004978, rel=1e-12)


def test_no_winner_before_every_variant_has_100_sends() -> None:
    # 99 of 99 against 0 of 500 is as clear as a difference gets, but B is short.
    assert find_winner(outcomes((0, 500), (99, 99))) is None
    decided = find_winner(outcomes((0, 500), (100, 100)))
    assert decided is not None
    assert decided.variant == "B"
    assert find_winner(outcomes((60, 200), (30, 200), (10, 99))) is None


def test_p_just_above_five_percent_has_no_winner() -> None:
    # scipy.stats.chi2_contingency([[19, 181], [9, 191]], correction=False).pvalue
    # = 0.05003618617623258: B is nearly half of A's rate but not significantly.
    pair = outcomes((19, 200), (9, 200))
    assert reply_rate_p_value(pair) == pytest.approx(0.05003618617623258, rel=1e-12)
    assert find_winner(pair) is None


def test_p_just_below_five_percent_has_a_winner() -> None:
    # scipy.stats.chi2_contingency([[37, 163], [23, 177]], correction=False).pvalue
    # = 0.04994997645474635.
    assert_winner(find_winner(outcomes((37, 200), (23, 200))), "A", 0.04994997645474635, rel=1e-12)


def test_three_variants_with_a_clear_winner() -> None:
    assert_winner(
        find_winner(outcomes((30, 200), (32, 200), (60, 200))),
        "C",
        0.00016931948846088488,
        rel=1e-10,
    )


def test_three_variants_without_a_significant_difference() -> None:
    # scipy.stats.chi2_contingency([[12, 88], [15, 85], [20, 80]], correction=False)
    # .pvalue = 0.2904775225236765.
    counts = outcomes((12, 100), (15, 100), (20, 100))
    assert reply_rate_p_value(counts) == pytest.approx(0.2904775225236765, rel=1e-10)
    assert find_winner(counts) is None


def test_a_tie_for_the_best_rate_has_no_winner() -> None:
    # The rates differ significantly (p = 1.79e-7 per scipy.stats.chi2_contingency),
    # but A and B share the best rate, 60/200 = 90/300, compared exactly.
    counts = outcomes((60, 200), (90, 300), (20, 200))
    assert reply_rate_p_value(counts) == pytest.approx(1.7856899424731736e-07, rel=1e-10)
    assert find_winner(counts) is None
    assert find_winner(outcomes((20, 200), (60, 200), (60, 200))) is None


def test_a_single_variant_has_no_winner() -> None:
    assert find_winner(outcomes((50, 1000))) is None
    assert find_winner([]) is None


def test_invalid_outcomes_are_refused() -> None:
    with pytest.raises(ValueError, match="replies must be within"):
        VariantOutcome(name="A", sent=10, replies=11)
    with pytest.raises(ValueError, match="replies must be within"):
        VariantOutcome(name="A", sent=10, replies=-1)
    with pytest.raises(ValueError, match="unique"):
        find_winner([VariantOutcome("A", 200, 40), VariantOutcome("A", 200, 20)])


counts_strategy = st.integers(min_value=0, max_value=10**6).flatmap(
    lambda sent: st.tuples(st.integers(0, sent), st.just(sent))
)


@given(st.lists(counts_strategy, min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_any_counts_give_a_probability_independent_of_variant_order(
    counts: list[tuple[int, int]], shuffler: random.Random
) -> None:
    variants = outcomes(*counts)
    p_value = reply_rate_p_value(variants)
    assert 0.0 <= p_value <= 1.0
    result = find_winner(variants)
    if result is not None:
        assert result.p_value < 0.05
        assert all(v.sent >= 100 for v in variants)

    reordered = list(reversed(variants))
    shuffler.shuffle(reordered)
    assert reply_rate_p_value(reordered) == p_value
    assert find_winner(reordered) == result
