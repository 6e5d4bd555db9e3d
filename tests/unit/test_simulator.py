"""The interest simulator: worked schedules, impossible input explained, parsing, and a property test that
replays every simulated schedule through the engine's own ledger handling and compares to the yen."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from domain.business_days import BusinessCalendar
from domain.due_dates import add_months, due_date
from domain.interest import interest, interest_free_until, rate_cap, slide_amount
from domain.ledger import Entry, Kind, borrowing
from domain.loan import Contract, Position, replay
from domain.policy import LoanPolicy
from domain.simulator import (
    MODE_MONTHS, OutcomeCache, Outline, Schedule, SimulatorError, SimulatorLimits, _fast_outline, _fast_run, _fast_start,
    _payoff_on_first_due, default_form, find_payment, minimum_payment, parse_inputs, plain_inputs, parse_months, parse_rate, parse_yen, run,
    run_with_engine, simulate_form, simulate_months, simulate_payment, simulate_position,
)
from tests.unit.loan_helpers import CALENDAR, POLICY

LIMITS = SimulatorLimits()
JUNE10 = date(2025, 6, 10)


def plan(amount, rate, payment, start=JUNE10, due_day=15, policy=POLICY):
    return simulate_payment(amount, rate, payment, start, due_day, policy, CALENDAR, LIMITS)


# --- worked schedules --------------------------------------------------------------------------------

def test_worked_schedule_100000_at_17_8_paying_4000():
    schedule = plan(100_000, 1780, 4_000)
    first, second, third = schedule.rows[:3]
    # June 11 – July 15: 35 days; 100,000 × 17.8% × 35 ÷ 365 = 1,706.85 → 1,706
    assert (first.on, first.payment, first.interest, first.principal, first.balance) == (
        date(2025, 7, 15), 4_000, 1_706, 2_294, 97_706)
    # July 16 – August 15: 31 days on 97,706 = 1,477.07 → 1,477
    assert (second.on, second.interest, second.principal, second.balance) == (date(2025, 8, 15), 1_477, 2_523, 95_183)
    # September 15 is a holiday: paid on the 16th, 32 days on 95,183 = 1,485.35 → 1,485
    assert (third.on, third.interest, third.balance) == (date(2025, 9, 16), 1_485, 92_668)
    assert schedule.months == 32 and schedule.last_payment == 2_307 and schedule.last_date == date(2028, 2, 15)
    assert schedule.total_interest == 26_307 and schedule.total_paid == 126_307 == 100_000 + 26_307
    assert schedule.minimum_payment == 4_000  # the amount due for ¥100,000 (product.md §6)


def test_paying_more_is_shorter_and_cheaper():
    slow, fast = plan(100_000, 1780, 4_000), plan(100_000, 1780, 10_000)
    assert fast.months == 11 and fast.months < slow.months and fast.total_interest < slow.total_interest


def test_one_payment_when_it_covers_the_payoff():
    schedule = plan(50_000, 1780, 60_000)
    # June 11 – July 15 on 50,000: 853.42 → 853
    assert schedule.months == 1 and schedule.rows[0].payment == schedule.last_payment == 50_853


def test_months_mode_finds_the_smallest_payment_in_units_of_1000():
    schedule = simulate_months(100_000, 1780, 12, JUNE10, 15, POLICY, CALENDAR, LIMITS)
    assert schedule.payment == 10_000 and schedule.months == 11 and schedule.last_payment == 9_372
    assert plan(100_000, 1780, 9_000).months == 13  # one unit less does not make it in 12


def test_months_mode_exactly_the_slowest_schedule():
    schedule = simulate_months(100_000, 1780, 32, JUNE10, 15, POLICY, CALENDAR, LIMITS)
    assert schedule.payment == 4_000 and schedule.months == 32


# --- impossible input, explained ---------------------------------------------------------------------

def test_payment_below_the_interest_is_explained_with_the_minimum():
    with pytest.raises(SimulatorError) as caught:
        plan(300_000, 1780, 500)
    error = caught.value
    # 31 days on 300,000 at 17.8% = 4,535.34 → 4,535; the amount due for 300,000 is 11,000
    assert error.field == "payment" and error.figures == {"minimum_payment": 11_000, "interest_per_month": 4_535}
    assert "4,535円" in error.message and "11,000円以上" in error.message


def test_interest_minimum_when_the_amount_due_is_smaller_than_the_interest():
    low_slide = LoanPolicy(amount_due_tiers=((300_000, 10), (1_000_000, 10)), amount_due_top=10)
    with pytest.raises(SimulatorError) as caught:
        plan(300_000, 1780, 4_535, policy=low_slide)
    assert caught.value.figures == {"minimum_payment": 4_536, "interest_per_month": 4_535}
    with pytest.raises(SimulatorError, match="120回を超えます"):  # it falls, but far too slowly
        plan(300_000, 1780, 4_536, policy=low_slide)
    assert plan(300_000, 1780, 8_000, policy=low_slide).months == 56


def test_payment_below_the_amount_due_is_explained():
    with pytest.raises(SimulatorError, match="約定返済額の4,000円以上") as caught:
        plan(100_000, 1780, 3_999)
    assert caught.value.figures == {"minimum_payment": 4_000}


def test_too_many_months_is_explained_with_the_longest():
    with pytest.raises(SimulatorError) as caught:
        simulate_months(100_000, 1780, 40, JUNE10, 15, POLICY, CALENDAR, LIMITS)
    assert caught.value.field == "months" and caught.value.figures == {"max_months": 32, "minimum_payment": 4_000}
    assert "32回" in caught.value.message


def test_schedule_longer_than_the_simulator_shows_is_refused():
    with pytest.raises(SimulatorError, match="10回を超えます"):
        simulate_payment(100_000, 1780, 4_000, JUNE10, 15, POLICY, CALENDAR, SimulatorLimits(months_max=10))


@pytest.mark.parametrize("amount, rate, field, text, figures", [
    (500_000, 1900, "rate", "利息制限法により年18.0%まで", {"rate_cap": 1800}),
    (99_999, 2001, "rate", "年20.0%まで", {"rate_cap": 2000}),
    (1_000_000, 1600, "rate", "年15.0%まで", {"rate_cap": 1500}),
    (50_000, 1900, "rate", "年4.5%から年17.8%の範囲", {}),
    (100_000, 400, "rate", "年4.5%から年17.8%の範囲", {}),
    (9_999, 1780, "amount", "10,000円から5,000,000円の範囲", {}),
    (5_000_001, 1500, "amount", "10,000円から5,000,000円の範囲", {}),
])
def test_terms_outside_the_cap_or_the_product(amount, rate, field, text, figures):
    form = {"mode": "payment", "amount": str(amount), "rate": f"{rate / 100}", "payment": "100000"}
    outcome = simulate_form(form, JUNE10, 25, POLICY, CALENDAR, LIMITS)
    assert not outcome.ok and text in outcome.errors[field] and outcome.figures == figures


def test_cap_follows_the_policy_tiers():
    assert rate_cap(99_999, POLICY) == 2000 and rate_cap(100_000, POLICY) == 1800 and rate_cap(1_000_000, POLICY) == 1500


# --- parsing -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value", [
    ("100000", 100_000), ("１００，０００", 100_000), ("100,000円", 100_000), ("10万", 100_000),
    ("１０万円", 100_000), (" 4000 ", 4_000),
])
def test_amounts_people_type(raw, value):
    assert parse_yen(raw, "amount", "お借入額", LIMITS) == value


@pytest.mark.parametrize("raw, text", [
    ("", "入力してください"), ("   ", "入力してください"), ("١٠٠٠٠٠", "数字"), ("−5000", "1円以上"), ("-5000", "1円以上"),
    ("0", "1円以上"), ("100.5", "数字"), ("1e3", "数字"), ("10\x0000", "使えない文字"), ("10\u200b000", "使えない文字"),
    ("1" * 10_000, "32文字以内"), ("abc", "数字"), ("1" * 13, "数字"),
])
def test_amounts_refused_with_a_japanese_message(raw, text):
    with pytest.raises(SimulatorError, match=text):
        parse_yen(raw, "amount", "お借入額", LIMITS)


@pytest.mark.parametrize("raw, value", [("17.8", 1780), ("１７．８％", 1780), ("4.5%", 450), ("15", 1500), ("17.85", 1785)])
def test_rates_people_type(raw, value):
    assert parse_rate(raw, LIMITS) == value


@pytest.mark.parametrize("raw", ["17.855", "17,8", "abc", "0", "0.0", "-5", "١٧", "1e1", "", "17.8\n"])
def test_rates_refused(raw):
    with pytest.raises(SimulatorError):
        parse_rate(raw, LIMITS)


def outcome_of(parse, raw):
    try:
        return parse(raw)
    except SimulatorError as error:
        return error.field, error.message, error.figures


@settings(deadline=None)
@given(st.text(alphabet="0123456789.%,円万回 ", max_size=31))
def test_plain_ascii_input_reads_as_the_cleaned_input_does(raw):
    """A keystroke of plain ASCII digits skips NFKC and the invisible-character check; the trailing space
    sends the same text through them: the answer must not change."""
    for parse in (lambda text: parse_yen(text, "amount", "お借入額", LIMITS), lambda text: parse_rate(text, LIMITS),
                  lambda text: parse_months(text, LIMITS)):
        assert outcome_of(parse, raw) == outcome_of(parse, raw + " ")


FIELD_TEXT = st.one_of(
    st.integers(0, 6_000_000).map(str), st.sampled_from(["", "0", "007", "17.8", "18.01", "4.5", "1.999", "10万", "１０万",
                                                        "100,000", " 100000", "12回", "0.0", "20", "3000000"]),
    st.text(alphabet="0123456789.", max_size=40))


@settings(deadline=None)
@given(st.sampled_from(["payment", "months", "", "other"]), FIELD_TEXT, FIELD_TEXT, FIELD_TEXT, FIELD_TEXT)
def test_plain_inputs_are_what_the_full_reading_gives(mode, amount, rate, payment, months):
    """The keystroke's short way (plain ASCII digits in range) reads a form exactly as ``parse_inputs``
    does, or leaves it to it."""
    form = {"mode": mode, "amount": amount, "rate": rate, "payment": payment, "months": months}
    inputs, errors = parse_inputs(form, POLICY, LIMITS)
    fast = plain_inputs(form, POLICY, LIMITS)
    assert fast is None or (fast == inputs and not errors)


def test_plain_keystrokes_take_the_short_way():
    for form in ({"mode": "payment", "amount": "100000", "rate": "17.8", "payment": "4321"},
                 {"mode": "months", "amount": "500000", "rate": "15", "months": "36"}):
        assert plain_inputs(form, POLICY, LIMITS) == parse_inputs(form, POLICY, LIMITS)[0] is not None
    for form in ({"mode": "payment", "amount": "１０万", "rate": "17.8", "payment": "4000"},  # NFKC first
                 {"mode": "payment", "amount": "100000", "rate": "20.0", "payment": "4000"},  # over the cap
                 {"mode": "months", "amount": "100000", "rate": "17.8", "months": "121"}):  # explained
        assert plain_inputs(form, POLICY, LIMITS) is None


def test_every_field_is_checked_at_once():
    form = {"mode": "months", "amount": "x", "rate": "y", "months": "0"}
    inputs, errors = parse_inputs(form, POLICY, LIMITS)
    assert inputs is None and set(errors) == {"amount", "rate", "months"}
    assert "1以上の整数" in errors["months"]
    outcome = simulate_form({**form, "mode": "nonsense", "due_day": "7"}, JUNE10, 25, POLICY, CALENDAR, LIMITS)
    assert {"mode", "due_day"} <= set(outcome.errors) and "5日・15日・25日・末日" in outcome.errors["due_day"]


def test_months_above_the_simulator_limit():
    outcome = simulate_form({"mode": MODE_MONTHS, "amount": "100000", "rate": "17.8", "months": "121"},
                            JUNE10, 25, POLICY, CALENDAR, LIMITS)
    assert "120回まで" in outcome.errors["months"] and outcome.figures == {"max_months": 120}


def test_default_form_is_a_working_example():
    form = default_form(100_000, 36, POLICY)
    assert form["rate"] == "17.8" and form["payment"] == str(slide_amount(100_000, POLICY)) == "4000"
    assert simulate_form(form, JUNE10, 25, POLICY, CALENDAR, LIMITS).ok


# --- the schedule is the engine's, to the yen (hypothesis) --------------------------------------------

@st.composite
def loans(draw):
    amount = draw(st.integers(POLICY.limit_min, 2_000_000))
    rate = draw(st.integers(POLICY.rate_min, min(POLICY.rate_max, rate_cap(amount, POLICY))))
    start = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 1_000)))
    due_day = draw(st.sampled_from(POLICY.due_days))
    minimum = slide_amount(amount, POLICY)
    payment = draw(st.integers(minimum, minimum * 6))
    return amount, rate, start, due_day, payment


@settings(max_examples=40, deadline=None)
@given(loans())
def test_simulated_schedule_matches_the_ledger_to_the_yen(loan):
    amount, rate, start, due_day, payment = loan
    schedule = simulate_payment(amount, rate, payment, start, due_day, POLICY, CALENDAR, LIMITS)
    contract = Contract(limit=amount, rate=rate, due_day=due_day)
    entries = [borrowing(start, amount)]
    state = replay(contract, entries, POLICY, CALENDAR)
    for row in schedule.rows:
        position = Position.of(contract, state, row.on, POLICY, CALENDAR)
        # paid on the due date the engine names, at least what the engine says is due, never late
        assert position.next_due_date == row.on and position.overdue_since is None and position.arrears == 0
        assert row.payment >= position.remaining_due and row.payment == min(payment, position.payoff)
        new = position.payment_entries(row.payment)
        repayment = new[-1]
        assert repayment.kind is Kind.REPAYMENT and repayment.late_charge == 0
        assert (row.interest, row.principal) == (-repayment.interest, -repayment.principal)
        entries += new
        state = replay(contract, new, POLICY, CALENDAR, start=state)
        assert row.balance == state.principal
    final = replay(contract, entries, POLICY, CALENDAR)  # from scratch: the whole ledger
    assert final.principal == sum(e.principal for e in entries) == 0 and final.payoff == 0
    assert schedule.total_paid == sum(e.amount for e in entries if e.kind is Kind.REPAYMENT)
    assert schedule.total_interest == sum(e.interest for e in entries if e.kind is Kind.INTEREST_CHARGE)
    assert schedule.total_paid == amount + schedule.total_interest
    assert all(row.payment == payment for row in schedule.rows[:-1]) and 0 < schedule.last_payment <= payment


@settings(max_examples=25, deadline=None)
@given(loans(), st.integers(1, 60))
def test_months_mode_is_the_smallest_unit_payment_that_makes_it(loan, months):
    amount, rate, start, due_day, _ = loan
    try:
        schedule = simulate_months(amount, rate, months, start, due_day, POLICY, CALENDAR, LIMITS)
    except SimulatorError as error:
        slowest = plan(amount, rate, error.figures["minimum_payment"], start, due_day)
        assert error.figures["max_months"] == slowest.months < months
        return
    assert schedule.months <= months
    smaller = schedule.payment - LIMITS.payment_unit
    if smaller >= schedule.minimum_payment:
        assert plan(amount, rate, smaller, start, due_day).months > months
    else:
        assert schedule.payment < schedule.minimum_payment + LIMITS.payment_unit


def test_outcome_cache_remembers_by_inputs_and_forgets_the_oldest():
    cache = OutcomeCache(2)

    def outcome(form, start=JUNE10):
        return simulate_form(form, start, 25, POLICY, CALENDAR, LIMITS, cache)

    base = {"mode": "payment", "amount": "100000", "rate": "17.8"}
    first = outcome({**base, "payment": "5000"})
    assert outcome({**base, "payment": "５，０００"}) is first  # the same inputs, typed differently
    assert outcome({**base, "payment": "5000"}, date(2025, 6, 11)) is not first  # another day, another schedule
    outcome({**base, "payment": "6000"})
    assert outcome({**base, "payment": "5000"}) is not first  # the oldest was forgotten
    unreadable = outcome({**base, "amount": "5", "payment": "5000"})
    assert unreadable.errors and outcome({**base, "amount": "5", "payment": "5000"}) is unreadable  # by the text
    assert outcome({**base, "amount": "５", "payment": "5000"}) is not unreadable  # typed otherwise
    too_long = {**base, "payment": "x" * (LIMITS.input_max_chars + 1)}
    assert outcome(too_long).errors and outcome(too_long) is not outcome(too_long)  # never text over the limit


# --- the member version: from today's position ---------------------------------------------------------

def member_position(entries, today, contract=Contract(limit=500_000, rate=1500, due_day=15)):
    return Position.of(contract, replay(contract, entries, POLICY, CALENDAR), today, POLICY, CALENDAR)


def test_member_schedule_starts_from_todays_position():
    entries = [borrowing(date(2025, 6, 10), 200_000)]
    position = member_position(entries, date(2025, 6, 30))
    outcome = simulate_position({"mode": "payment", "payment": "10000"}, position, LIMITS)
    schedule = outcome.schedule
    assert outcome.ok and schedule.balance == 200_000 and schedule.rate == 1500
    first = schedule.rows[0]
    # the member's own next due date; interest from June 11 (not from today) to July 15: 35 days at 15%
    assert first.on == position.next_due_date == date(2025, 7, 15) and first.interest == 2_876
    assert schedule.total_paid == 200_000 + schedule.total_interest
    # the same as the public simulator for a loan borrowed that day at that rate
    public = simulate_payment(200_000, 1500, 10_000, date(2025, 6, 10), 15, POLICY, CALENDAR, LIMITS)
    assert schedule.rows == public.rows


def test_member_schedule_counts_what_was_already_paid():
    contract = Contract(limit=500_000, rate=1780, due_day=15)
    entries = [borrowing(date(2025, 6, 10), 100_000)]
    entries += member_position(entries, date(2025, 6, 25), contract).payment_entries(4_000)  # July's, paid early
    position = member_position(entries, date(2025, 6, 26), contract)
    outcome = simulate_position({"mode": "months", "months": "12"}, position, LIMITS)
    assert outcome.ok and outcome.schedule.rows[0].on == date(2025, 8, 15)  # July is covered already
    assert outcome.schedule.balance == position.balance < 100_000 and outcome.schedule.months <= 12


def test_member_without_a_balance_or_in_arrears_is_told_why():
    entries = [borrowing(date(2025, 6, 10), 100_000)]
    late = member_position(entries, date(2025, 7, 20))
    outcome = simulate_position({"mode": "payment", "payment": "10000"}, late, LIMITS)
    assert not outcome.ok and "4,000円" in outcome.errors["mode"] and "未払い分" in outcome.errors["mode"]
    nothing = member_position([], date(2025, 7, 20))
    assert "お借入れはありません" in simulate_position({"payment": "10000"}, nothing, LIMITS).errors["mode"]
    low = simulate_position({"mode": "payment", "payment": "100"}, member_position(entries, date(2025, 6, 30)), LIMITS)
    assert low.errors["payment"] and low.figures["minimum_payment"] == 4_000


# --- the integer schedule is the engine's, from any state a member can be in (hypothesis) ---------------

@st.composite
def member_positions(draw):
    """A member's position after random borrowings and payments (early, late, short, partial), with random
    holidays, due day, rate and maybe the interest-free period: the states ``run`` may start from."""
    first = date(2023, 1, 1) + timedelta(days=draw(st.integers(0, 1_500)))
    free = interest_free_until(first, POLICY) if draw(st.booleans()) else None
    contract = Contract(limit=5_000_000, rate=draw(st.integers(POLICY.rate_min, POLICY.rate_max)),
                        due_day=draw(st.sampled_from(POLICY.due_days)), interest_free_until=free)
    holidays = frozenset(draw(st.sets(st.dates(first, first + timedelta(days=4_500)), max_size=80)))
    calendar = BusinessCalendar.for_policy(POLICY, holidays.__contains__)
    entries, day = [borrowing(first, draw(st.integers(1_000, 2_000_000)))], first
    for _ in range(draw(st.integers(0, 5))):
        day += timedelta(days=draw(st.integers(0, 45)))
        now = Position.of(contract, replay(contract, entries, POLICY, calendar), day, POLICY, calendar)
        action = draw(st.sampled_from(["borrow", "pay some", "pay what is due", "pay what is due", "adjust"]))
        due = min(now.payoff, now.arrears + now.remaining_due)
        if action == "pay some" and now.payoff > 0:
            entries += now.payment_entries(draw(st.integers(1, now.payoff)))
        elif action == "pay what is due" and due > 0:  # catching up on arrears leaves late charge behind
            entries += now.payment_entries(due)
        elif action == "adjust":  # an operator's correction charging late charge or interest
            extra = draw(st.integers(1, 5_000))
            entries.append(Entry(Kind.ADJUSTMENT, day, extra, **{draw(st.sampled_from(["late_charge", "interest"])): extra}))
        else:
            entries.append(borrowing(day, draw(st.integers(1_000, 300_000))))
    day += timedelta(days=draw(st.integers(0, 45)))
    return Position.of(contract, replay(contract, entries, POLICY, calendar), day, POLICY, calendar)


@settings(max_examples=300, deadline=None)
@given(member_positions(), st.integers(1, 150_000), st.integers(0, 120))
def test_integer_schedule_is_the_engines_from_any_position(position, payment, max_months):
    contract, state, calendar, first_due = position.contract, position.state, position.calendar, position.next_due_date
    if first_due is None:
        return
    expected = run_with_engine(contract, state, first_due, payment, POLICY, calendar, max_months)
    assert run(contract, state, first_due, payment, POLICY, calendar, max_months) == expected
    start = _fast_start(contract, state, first_due, POLICY, calendar)
    if position.arrears:
        return  # late charge accruing: the engine's own loop (the simulator refuses these members anyway)
    # every state the simulator accepts is computed in integers, and without the engine at any payment it accepts
    assert start is not None
    assert _payoff_on_first_due(start, contract.rate) == Position.of(contract, state, first_due, POLICY, calendar).payoff
    minimum, _ = minimum_payment(state, contract, POLICY)
    if payment >= minimum:
        assert _fast_run(start, contract.rate, payment, max_months, None) != -1
        assert _fast_run(start, contract.rate, payment, max_months, None) == (None if expected is None else len(expected))


@settings(max_examples=300, deadline=None)
@given(member_positions(), st.integers(1, 150_000), st.integers(1, 120))
def test_outline_adds_up_the_engines_rows_from_any_position(position, payment, max_months):
    """What a keystroke shows without the rows (``_fast_outline``) is what the engine's rows add up to, and the
    rows made later (when the table is opened) are the engine's."""
    contract, state, calendar, first_due = position.contract, position.state, position.calendar, position.next_due_date
    if first_due is None:
        return
    expected = run_with_engine(contract, state, first_due, payment, POLICY, calendar, max_months)
    start = _fast_start(contract, state, first_due, POLICY, calendar)
    if start is None:
        return  # a state the integer schedule does not model (the engine's own loop)
    outline = _fast_outline(start, contract.rate, payment, max_months)
    if outline is None or outline == -1:  # more than max_months, or a state the rows' own loop takes over
        assert outline == -1 or expected is None
        return
    assert expected is not None and outline == Outline(
        len(expected), sum(row.interest for row in expected), sum(row.payment for row in expected),
        expected[-1].payment, expected[-1].on, tuple(row.balance for row in expected))
    lazy = Schedule(state.through, state.principal, contract.rate, payment, None, 0, outline=outline,
                    build=lambda: run(contract, state, first_due, payment, POLICY, calendar, max_months))
    assert lazy.months == len(expected) and lazy.rows == expected and lazy.outline == outline


def test_keystroke_schedule_makes_its_rows_only_when_asked():
    schedule = plan(100_000, 1780, 4_000)
    assert schedule._rows is None and schedule.months == 32 and schedule.last_payment == 2_307
    eager = Schedule(schedule.start, schedule.balance, schedule.rate, schedule.payment, schedule.rows,
                     schedule.minimum_payment)
    assert schedule._rows is not None and eager == schedule and eager.outline == schedule.outline


def reference_find_payment(contract, state, first_due, months, policy, calendar, limits):
    """The earlier mode (b) search, every candidate a full schedule through the engine (the reference)."""
    minimum, _ = minimum_payment(state, contract, policy)
    unit = limits.payment_unit
    slowest = run_with_engine(contract, state, first_due, minimum, policy, calendar, limits.months_max)
    if slowest is not None and len(slowest) < months:
        raise SimulatorError("months", "", max_months=len(slowest), minimum_payment=minimum)
    last_due = first_due
    for _ in range(months - 1):
        last_due = due_date(add_months((last_due.year, last_due.month), 1), contract.due_day, calendar)
    owed = state.payoff + interest(state.principal, contract.rate, state.through, last_due, policy)
    low = max(minimum, -(-(-(-state.principal // months)) // unit) * unit)
    high = max(low, -(-(-(-owed // months)) // unit) * unit)
    best = run_with_engine(contract, state, first_due, high, policy, calendar, months)
    best_payment = high
    lo, hi = low // unit, high // unit - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        rows = run_with_engine(contract, state, first_due, max(mid * unit, minimum), policy, calendar, months)
        if rows is None:
            lo = mid + 1
        else:
            best, best_payment, hi = rows, max(mid * unit, minimum), mid - 1
    return Schedule(start=state.through, balance=state.principal, rate=contract.rate, payment=best_payment,
                    rows=best, minimum_payment=minimum, owed_at_start=state.interest_owed + state.late_charge_owed)


@settings(max_examples=120, deadline=None)
@given(member_positions(), st.integers(1, 120), st.sampled_from([LIMITS, SimulatorLimits(months_max=60, payment_unit=500)]))
def test_months_mode_finds_what_the_engine_search_finds(position, months, limits):
    if position.next_due_date is None or position.arrears or months > limits.months_max:
        return
    args = (position.contract, position.state, position.next_due_date, months, POLICY, position.calendar, limits)
    try:
        expected = reference_find_payment(*args)
    except SimulatorError as error:
        with pytest.raises(SimulatorError) as caught:
            find_payment(*args)
        assert caught.value.figures == error.figures
        return
    assert find_payment(*args) == expected
