"""Interest, allocation, the amount due and the rate cap: the worked values of product.md §6."""

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from domain.errors import LoanError
from domain.interest import (
    Split, allocate, amount_due, check_contract_terms, exact_interest, format_rate, interest,
    interest_denominator, interest_free_until, interest_units, rate_cap, slide_amount, year_days,
)
from domain.policy import LoanPolicy
from tests.unit.loan_helpers import POLICY


def reference_exact_interest(principal, rate, start, end, policy):
    """The earlier exact interest: one ``Fraction`` per calendar year of the period (kept here as the reference
    for the integer closed form)."""
    if end <= start or principal <= 0 or rate <= 0:
        return Fraction(0)
    total, first = Fraction(0), start + timedelta(days=1)
    while first <= end:
        last = min(end, date(first.year, 12, 31))
        total += Fraction(principal * rate * ((last - first).days + 1), 10_000 * year_days(first, policy))
        first = last + timedelta(days=1)
    return total


def reference_slide_amount(base, policy):
    rate = next((tier_rate for upper, tier_rate in policy.amount_due_tiers if base <= upper), policy.amount_due_top)
    value = Fraction(base * rate, 10_000)
    return -(-value // policy.amount_due_unit) * policy.amount_due_unit if value > 0 else 0


@pytest.mark.parametrize(
    "principal, rate, start, end, expected",
    [
        (100_000, 1780, date(2025, 1, 1), date(2025, 1, 31), 1_463),  # the spec's worked value (1,463.01)
        (100_000, 1780, date(2023, 12, 31), date(2024, 12, 30), 17_751),  # 365 days of a leap year ÷ 366
        (100_000, 1780, date(2024, 12, 31), date(2025, 12, 31), 17_800),  # 365 days of a common year ÷ 365
        # across Dec 31 of a leap year: Dec 17–31 ÷ 366 + Jan 1–15 ÷ 365 = 729.51 + 731.51 = 1,461.02
        (100_000, 1780, date(2024, 12, 16), date(2025, 1, 15), 1_461),
        (100_000, 1780, date(2025, 3, 10), date(2025, 3, 10), 0),  # the borrowing day itself is not counted
        (100_000, 1780, date(2025, 3, 10), date(2025, 3, 11), 48),  # one day: 48.77 floored
        (100_000, 2000, date(2025, 7, 15), date(2025, 7, 20), 273),  # late charge rate, 5 days: 273.97
        (0, 1780, date(2025, 1, 1), date(2025, 12, 31), 0),
        (1_000_000, 450, date(2025, 1, 1), date(2025, 2, 1), 3_821),  # 3,821.9 floored
    ],
)
def test_interest_worked_values(principal, rate, start, end, expected):
    assert interest(principal, rate, start, end, POLICY) == expected


def test_leap_year_crossing_is_exact_per_day():
    across = exact_interest(100_000, 1780, date(2024, 12, 16), date(2025, 1, 15), POLICY)
    assert across == Fraction(17_800 * 15, 366) + Fraction(17_800 * 15, 365)


@given(
    principal=st.integers(0, 10_000_000), rate=st.integers(0, 2000),
    start=st.dates(date(2020, 1, 1), date(2030, 1, 1)), days=st.integers(0, 800), more=st.integers(0, 400),
    extra=st.integers(0, 1_000_000),
)
def test_interest_grows_with_days_and_balance(principal, rate, start, days, more, extra):
    end = start + timedelta(days=days)
    base = exact_interest(principal, rate, start, end, POLICY)
    assert exact_interest(principal, rate, start, end + timedelta(days=more), POLICY) >= base
    assert exact_interest(principal + extra, rate, start, end, POLICY) >= base
    assert interest(principal, rate, start, end, POLICY) == int(base) <= base < int(base) + 1


@given(
    start=st.dates(date(2020, 1, 1), date(2030, 1, 1)), a=st.integers(0, 500), b=st.integers(0, 500),
    principal=st.integers(0, 5_000_000),
)
def test_interest_over_two_periods_adds_up_exactly(start, a, b, principal):
    mid, end = start + timedelta(days=a), start + timedelta(days=a + b)
    whole = exact_interest(principal, 1780, start, end, POLICY)
    assert whole == exact_interest(principal, 1780, start, mid, POLICY) + exact_interest(principal, 1780, mid, end, POLICY)


@pytest.mark.parametrize(
    "amount, owed, expected",
    [
        (4_000, (273, 1_706, 100_000), (273, 1_706, 2_021)),
        (200, (273, 1_706, 100_000), (200, 0, 0)),
        (1_000, (0, 1_463, 100_000), (0, 1_000, 0)),
        (1_463, (0, 1_463, 100_000), (0, 1_463, 0)),
        (1_464, (0, 1_463, 100_000), (0, 1_463, 1)),
        (101_463, (0, 1_463, 100_000), (0, 1_463, 100_000)),
        (5_000, (0, 0, 5_000), (0, 0, 5_000)),
        (0, (10, 10, 10), (0, 0, 0)),
    ],
)
def test_allocation_order_late_charge_interest_principal(amount, owed, expected):
    assert allocate(amount, *owed) == Split(*expected)


def test_allocation_refuses_more_than_owed_and_negative():
    with pytest.raises(LoanError, match="完済金額"):
        allocate(101_464, 0, 1_463, 100_000)
    with pytest.raises(LoanError):
        allocate(-1, 0, 0, 10)


@given(late=st.integers(0, 10**6), intr=st.integers(0, 10**6), princ=st.integers(0, 10**8), data=st.data())
def test_no_split_loses_or_invents_a_yen(late, intr, princ, data):
    amount = data.draw(st.integers(0, late + intr + princ))
    split = allocate(amount, late, intr, princ)
    assert split.total == amount
    assert 0 <= split.late_charge <= late and 0 <= split.interest <= intr and 0 <= split.principal <= princ
    assert split.interest == 0 or split.late_charge == late  # interest only once late charge is paid
    assert split.principal == 0 or split.interest == intr  # principal only once interest is paid


@pytest.mark.parametrize(
    "base, expected",
    [
        (10_000, 1_000), (50_000, 2_000), (100_000, 4_000), (150_000, 6_000), (200_000, 8_000),
        (300_000, 11_000), (300_001, 8_000), (400_000, 11_000), (500_000, 13_000), (1_000_000, 26_000),
        (1_000_001, 20_000), (2_000_000, 40_000), (3_000_000, 60_000), (0, 0),
    ],
)
def test_amount_due_slide_table(base, expected):
    assert slide_amount(base, POLICY) == expected
    assert amount_due(base, 10**9, POLICY) == expected


@pytest.mark.parametrize("base, payoff, expected", [(100_000, 2_500, 2_500), (100_000, 4_000, 4_000), (100_000, 0, 0)])
def test_amount_due_never_above_payoff(base, payoff, expected):
    assert amount_due(base, payoff, POLICY) == expected


@given(base=st.integers(0, 10**8), payoff=st.integers(0, 10**8))
def test_amount_due_is_rounded_up_and_capped(base, payoff):
    slide = slide_amount(base, POLICY)
    assert slide % POLICY.amount_due_unit == 0
    assert amount_due(base, payoff, POLICY) == min(slide, payoff)


@pytest.mark.parametrize(
    "limit, cap", [(10_000, 2000), (99_999, 2000), (100_000, 1800), (999_999, 1800), (1_000_000, 1500), (5_000_000, 1500)]
)
def test_statutory_rate_cap_by_limit(limit, cap):
    assert rate_cap(limit, POLICY) == cap


@pytest.mark.parametrize(
    "limit, rate, error",
    [
        (500_000, 1780, None), (1_000_000, 1500, None), (1_000_000, 1780, "利息制限法"), (10_000, 1780, None),
        (9_999, 1780, "限度額"), (5_000_001, 450, "限度額"), (500_000, 449, "金利"), (99_999, 1781, "金利"),
    ],
)
def test_contract_terms(limit, rate, error):
    if error is None:
        check_contract_terms(limit, rate, POLICY)
    else:
        with pytest.raises(LoanError, match=error):
            check_contract_terms(limit, rate, POLICY)


def test_policy_numbers_are_used_not_literals():
    from dataclasses import replace

    policy = replace(POLICY, amount_due_unit=500, rate_cap_top=1400, interest_free_days=60)
    assert slide_amount(100_000, policy) == 4_000 and slide_amount(10_000, policy) == 500
    assert rate_cap(2_000_000, policy) == 1400
    assert interest_free_until(date(2025, 4, 1), policy) == date(2025, 5, 31)


@pytest.mark.parametrize("rate, text", [(1780, "17.8%"), (450, "4.5%"), (2000, "20.0%"), (1799, "17.99%"), (1805, "18.05%")])
def test_format_rate(rate, text):
    assert format_rate(rate) == text


def test_interest_free_until_counts_from_the_day_after():
    assert interest_free_until(date(2025, 4, 1), POLICY) == date(2025, 5, 1)


ODD_DIVISORS = LoanPolicy(days_in_year=360, days_in_leap_year=365, amount_due_unit=700)


@settings(deadline=None)  # timing on a shared machine is not what this checks
@given(
    principal=st.integers(-10, 50_000_000), rate=st.integers(-10, 3000),
    start=st.dates(date(1999, 1, 1), date(2040, 1, 1)), days=st.integers(-5, 4_000),
    policy=st.sampled_from([POLICY, ODD_DIVISORS]),
)
def test_integer_interest_is_the_fraction_interest(principal, rate, start, days, policy):
    end = start + timedelta(days=days)
    expected = reference_exact_interest(principal, rate, start, end, policy)
    assert exact_interest(principal, rate, start, end, policy) == expected
    assert interest(principal, rate, start, end, policy) == int(expected)
    if principal > 0 and rate > 0:
        units = interest_units(start, end, policy)
        assert Fraction(principal * rate * units, interest_denominator(policy)) == expected


@settings(deadline=None)
@given(base=st.integers(-10, 10**9), policy=st.sampled_from([POLICY, ODD_DIVISORS]))
def test_integer_slide_amount_is_the_fraction_one(base, policy):
    assert slide_amount(base, policy) == reference_slide_amount(base, policy)
