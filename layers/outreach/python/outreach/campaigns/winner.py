"""The A/B winner of a campaign, by the sending rules:

    A variant is reported as ``winner`` once each variant has at least 100 sends
    and a two-sided test of reply rates (chi-square or two-proportion z) gives
    p < 0.05; otherwise ``winner`` is null.

Two variants use the two-proportion z-test with a pooled proportion; three or more
use Pearson's chi-square test of independence on the k x 2 table of replies and
non-replies (no continuity correction, so for two variants it is the z-test:
chi-square = z**2 with the same p). The chi-square tail is computed here, without
scipy, from the regularized upper incomplete gamma function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

MIN_SENDS_PER_VARIANT = 100
SIGNIFICANCE_LEVEL = 0.05

# Relative step at which a series or continued fraction is taken as converged; near
# double precision, so the tail is good to ~1e-15 relative, far inside 1e-10.
_EPSILON = 1e-15
# Keeps Lentz's algorithm away from dividing by zero.
_TINY = 1e-300
# For the shape a <= 2.5 that 1 to 5 variants need both expansions converge in
# well under 100 terms; the bound only guards against a non-terminating loop.
_MAX_TERMS = 10_000


@dataclass(frozen=True, slots=True)
class VariantOutcome:
    """What one variant achieved so far.

    ``sent`` counts the variant's messages the provider accepted (whatever their
    receipt said later); ``replies`` counts recipients of those messages who
    replied, each at most once, so ``0 <= replies <= sent``.
    """

    name: str
    sent: int
    replies: int

    def __post_init__(self) -> None:
        if not 0 <= self.replies <= self.sent:
            raise ValueError(
                f"variant {self.name!r}: replies must be within 0..sent, "
                f"got replies={self.replies}, sent={self.sent}"
            )


@dataclass(frozen=True, slots=True)
class Winner:
    """The variant with the best reply rate, and the p-value that made it one."""

    variant: str
    p_value: float


@dataclass(frozen=True, slots=True)
class ZTestResult:
    """A two-proportion z-test: ``z`` is positive when the first rate is higher."""

    z: float
    p_value: float


@dataclass(frozen=True, slots=True)
class ChiSquareResult:
    """Pearson's chi-square test of independence with ``df`` degrees of freedom."""

    statistic: float
    df: int
    p_value: float


def reply_rate(replies: int, sent: int) -> float:
    """Return ``replies / sent``, or 0.0 when nothing was sent."""
    return replies / sent if sent else 0.0


def regularized_gamma_q(a: float, x: float) -> float:
    """Return Q(a, x) = Gamma(a, x) / Gamma(a), the regularized upper incomplete gamma.

    Uses the series for P(a, x) when x < a + 1 and Lentz's continued fraction for
    Q(a, x) otherwise (Numerical Recipes, 3rd ed., section 6.2), each where it
    converges fast.
    """
    if not a > 0:
        raise ValueError(f"the shape a must be positive, got {a}")
    if not x >= 0:
        raise ValueError(f"x must be non-negative, got {x}")
    if x == 0:
        return 1.0
    if x < a + 1:
        return min(1.0, max(0.0, 1.0 - _gamma_p_series(a, x)))
    return min(1.0, max(0.0, _gamma_q_continued_fraction(a, x)))


def _log_prefactor(a: float, x: float) -> float:
    # log(e**-x * x**a / Gamma(a)), kept in logs so that large x underflows to 0.0
    # instead of overflowing on the way.
    return -x + a * math.log(x) - math.lgamma(a)


def _gamma_p_series(a: float, x: float) -> float:
    # P(a, x) = e**-x x**a / Gamma(a) * sum_n x**n / (a (a+1) ... (a+n)).
    denominator = a
    term = 1.0 / a
    total = term
    for _ in range(_MAX_TERMS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPSILON:
            return total * math.exp(_log_prefactor(a, x))
    raise ArithmeticError(f"the gamma series did not converge for a={a}, x={x}")


def _gamma_q_continued_fraction(a: float, x: float) -> float:
    # Q(a, x) = e**-x x**a / Gamma(a) * 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...))),
    # evaluated by the modified Lentz method.
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    fraction = d
    for i in range(1, _MAX_TERMS):
        numerator = -i * (i - a)
        b += 2.0
        d = numerator * d + b
        if abs(d) < _TINY:
            d = _TINY
        c = b + numerator / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        step = d * c
        fraction *= step
        if abs(step - 1.0) < _EPSILON:
            return fraction * math.exp(_log_prefactor(a, x))
    raise ArithmeticError(f"the gamma continued fraction did not converge for a={a}, x={x}")


def chi_square_sf(statistic: float, df: int) -> float:
    """Return P(X >= statistic) for X chi-square with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    if statistic <= 0:
        return 1.0
    return regularized_gamma_q(df / 2.0, statistic / 2.0)


def two_proportion_z_test(first: VariantOutcome, second: VariantOutcome) -> ZTestResult:
    """Two-sided two-proportion z-test of reply rates, with the pooled proportion.

    When the pooled rate is 0 or 1 (no replies, or everybody replied) or a side
    sent nothing, the rates cannot differ by evidence: z = 0 and p = 1.
    """
    sent = first.sent + second.sent
    replies = first.replies + second.replies
    if first.sent == 0 or second.sent == 0 or replies in (0, sent):
        return ZTestResult(z=0.0, p_value=1.0)
    pooled = replies / sent
    standard_error = math.sqrt(pooled * (1.0 - pooled) * (1.0 / first.sent + 1.0 / second.sent))
    difference = reply_rate(first.replies, first.sent) - reply_rate(second.replies, second.sent)
    z = difference / standard_error
    return ZTestResult(z=z, p_value=math.erfc(abs(z) / math.sqrt(2.0)))


def chi_square_test(outcomes: Sequence[VariantOutcome]) -> ChiSquareResult:
    """Pearson's chi-square test of independence on the k x 2 table (replies,
    non-replies) of the variants, without continuity correction.

    A variant that sent nothing carries no information and is left out (so are its
    degrees of freedom); with fewer than two variants left, or a pooled rate of 0
    or 1, the statistic is 0 and p = 1.
    """
    rows = [outcome for outcome in outcomes if outcome.sent > 0]
    df = max(len(rows) - 1, 1)
    sent = sum(outcome.sent for outcome in rows)
    replies = sum(outcome.replies for outcome in rows)
    if len(rows) < 2 or replies in (0, sent):
        return ChiSquareResult(statistic=0.0, df=df, p_value=1.0)
    # Summing (O - E)**2 / E over a row's two cells gives (r_i N - n_i R)**2 / (n_i R (N - R))
    # for N sends and R replies in all. Exact fractions make the statistic independent of
    # the variants' order and free of cancellation when the rates are close.
    exact = sum(
        Fraction((outcome.replies * sent - outcome.sent * replies) ** 2, outcome.sent)
        for outcome in rows
    ) / (replies * (sent - replies))
    statistic = float(exact)
    return ChiSquareResult(statistic=statistic, df=df, p_value=chi_square_sf(statistic, df))


def reply_rate_p_value(outcomes: Sequence[VariantOutcome]) -> float:
    """The two-sided p-value that the variants' reply rates are all equal: the z-test
    for two variants, the chi-square test for more, 1.0 for fewer."""
    if len(outcomes) < 2:
        return 1.0
    if len(outcomes) == 2:
        return two_proportion_z_test(outcomes[0], outcomes[1]).p_value
    return chi_square_test(outcomes).p_value


def find_winner(outcomes: Sequence[VariantOutcome]) -> Winner | None:
    """Return the campaign's A/B winner, or None while there is none.

    The winner is the variant with the highest reply rate, once every variant has
    at least ``MIN_SENDS_PER_VARIANT`` sends and the rates differ with
    p < ``SIGNIFICANCE_LEVEL``. A tie for the highest rate has no winner.
    """
    names = [outcome.name for outcome in outcomes]
    if len(set(names)) != len(names):
        raise ValueError(f"variant names are unique, got {names}")
    if len(outcomes) < 2 or any(o.sent < MIN_SENDS_PER_VARIANT for o in outcomes):
        return None
    p_value = reply_rate_p_value(outcomes)
    if not p_value < SIGNIFICANCE_LEVEL:
        return None
    # Compare rates as exact fractions (r1 * n2 vs r2 * n1) so that equal rates such
    # as 1/3 and 2/6 tie instead of differing in the last float bit.
    best = outcomes[0]
    tied = False
    for outcome in outcomes[1:]:
        left, right = outcome.replies * best.sent, best.replies * outcome.sent
        if left > right:
            best, tied = outcome, False
        elif left == right:
            tied = True
    return None if tied else Winner(variant=best.name, p_value=p_value)
