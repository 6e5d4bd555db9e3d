"""The engine equals its earlier self (``tests/unit/loan_reference.py``) exactly: every ``Position`` field and the
cached state's text (``LoanState.to_dict``), for random contracts, policies, calendars, ledgers and days (hypothesis).
"""

from dataclasses import fields
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings, strategies as st

from domain.business_days import BusinessCalendar
from domain.ledger import Entry, Kind, reversal
from domain.loan import Contract, LoanState, Position, replay
from domain.policy import MONTH_END, LoanPolicy
from tests.unit import loan_reference as ref
from tests.unit.loan_helpers import CALENDAR, POLICY

FIGURES = [f.name for f in fields(Position) if f.name not in ("contract", "state", "policy", "calendar")]
STATE_FIELDS = [f.name for f in fields(LoanState)]


def same_state(new: LoanState, old: ref.LoanState) -> None:
    assert new.to_dict() == old.to_dict()
    for name in STATE_FIELDS:
        a, b = getattr(new, name), getattr(old, name)
        assert a == b and type(a) is type(b), name


def same_position(new: Position, old: ref.Position) -> None:
    assert [getattr(new, n) for n in FIGURES] == [getattr(old, n) for n in FIGURES]
    for name in FIGURES:
        assert type(getattr(new, name)) is type(getattr(old, name)), name
    same_state(new.state, old.state)


def both_positions(contract, new_state, old_state, as_of, policy, calendar):
    old = ref.Position.of(contract, old_state, as_of, policy, calendar)
    new = Position.of(contract, new_state, as_of, policy, calendar)
    same_position(new, old)
    return new, old


policies = st.one_of(
    st.just(POLICY),
    st.builds(
        LoanPolicy,
        late_charge_rate=st.integers(0, 2920),
        days_in_year=st.sampled_from([365, 360, 366]),
        days_in_leap_year=st.sampled_from([366, 365, 360]),
        amount_due_unit=st.sampled_from([1, 500, 1_000, 7_000]),
        interest_free_days=st.integers(0, 180),
    ),
)
calendars = st.one_of(
    st.just(CALENDAR),
    st.frozensets(st.dates(date(2023, 1, 1), date(2030, 12, 31)), max_size=400).map(
        lambda days: BusinessCalendar.for_policy(POLICY, days.__contains__)),
)
contracts = st.builds(
    Contract,
    limit=st.integers(10_000, 5_000_000),
    rate=st.integers(0, 2000),
    due_day=st.sampled_from([5, 15, 25, MONTH_END]),
    status=st.sampled_from(["active", "active", "borrowing_stopped", "suspended", "closed"]),
    status_reason=st.sampled_from(["", "調査中"]),
)
ops = st.lists(
    st.tuples(
        st.integers(0, 75),
        st.sampled_from(["borrow", "borrow", "pay", "pay", "pay_all", "points", "charge", "reverse_borrow",
                         "reverse_pay", "adjust"]),
        st.integers(1, 400_000),
        st.lists(st.integers(0, 800), max_size=3),  # extra days to look at (as_of after the cache)
    ),
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(ops=ops, contract=contracts, policy=policies, calendar=calendars,
       free=st.one_of(st.none(), st.integers(0, 60)), start=st.dates(date(2023, 1, 1), date(2028, 12, 1)))
def test_positions_and_cached_state_equal_the_reference(ops, contract, policy, calendar, free, start):
    if free is not None:
        contract = Contract(contract.limit, contract.rate, contract.due_day, start + timedelta(days=free),
                            contract.status, contract.status_reason)
    day, entries = start, []
    new_cache, old_cache = LoanState(), ref.LoanState()
    for gap, op, amount, looks in ops:
        day += timedelta(days=gap)
        for extra in looks:
            both_positions(contract, new_cache, old_cache, day + timedelta(days=extra), policy, calendar)
        new_pos, old_pos = both_positions(contract, new_cache, old_cache, day, policy, calendar)
        state = old_pos.state
        if op == "borrow":
            new = [Entry(Kind.BORROWING, day, amount, principal=amount)]
        elif op in ("pay", "pay_all", "points"):
            payoff = old_pos.payoff
            if payoff <= 0 or min(state.late_charge_owed, state.interest_owed, state.principal) < 0:
                continue  # nothing to pay, or an adjustment made a part negative (allocate refuses it)
            paid = payoff if op == "pay_all" else min(amount, payoff)
            new = ref.payment_entries(state, day, paid, Kind.POINT_USE if op == "points" else Kind.REPAYMENT)
        elif op == "charge":
            new = [Entry(Kind.INTEREST_CHARGE, day, c, interest=c) for c in [int(state.accrued_interest)] if c]
            new += [Entry(Kind.LATE_CHARGE, day, c, late_charge=c) for c in [int(state.accrued_late)] if c]
        elif op == "reverse_borrow":
            new = [Entry(Kind.REVERSAL, day, amount, principal=-amount, reverses=Kind.BORROWING)]
        elif op == "reverse_pay":
            paid = [e for e in entries if e.kind.is_payment]
            new = [reversal(paid[-1], day)] if paid else []
        else:
            new = [Entry(Kind.ADJUSTMENT, day, 0, principal=amount % 2_001 - 1_000, interest=amount % 301 - 150,
                         late_charge=amount % 101 - 50)]
        entries += new
        new_state = replay(contract, new, policy, calendar, start=new_cache)
        old_state = ref.replay(contract, new, policy, calendar, start=old_cache)
        same_state(new_state, old_state)
        new_cache, old_cache = LoanState.from_dict(new_state.to_dict()), ref.LoanState.from_dict(old_state.to_dict())
        same_state(new_cache, old_cache)
    same_state(replay(contract, entries, policy, calendar), ref.replay(contract, entries, policy, calendar))


fractions_of_a_yen = st.one_of(
    st.just(Fraction(0)),
    st.builds(Fraction, st.integers(0, 10**12), st.sampled_from([1, 3, 73, 365, 9125, 36500, 133590000, 1335900000])),
    st.builds(Fraction, st.integers(-10**6, 10**9), st.integers(1, 10**7)),  # odd ones: any denominator, any sign
)


@st.composite
def states(draw):
    """Any state, also ones the ledger never makes (negative principal, odd fractions, a due date already past)."""
    through = draw(st.one_of(st.none(), st.dates(date(2023, 1, 1), date(2029, 12, 31))))
    owing = draw(st.booleans())
    month = (draw(st.integers(2023, 2030)), draw(st.integers(1, 12)))
    if through is not None and owing and draw(st.booleans()):  # usual: the cycle under way is due after through
        month = (through.year, through.month)
    due_day = draw(st.sampled_from([5, 15, 25, MONTH_END]))
    calendar = draw(calendars)
    return draw(st.builds(
        LoanState,
        through=st.just(through),
        principal=st.integers(-5_000, 2_000_000),
        interest=st.integers(0, 50_000),
        late_charge=st.integers(0, 50_000),
        accrued_interest=fractions_of_a_yen,
        accrued_late=fractions_of_a_yen,
        slide_base=st.integers(0, 2_000_000),
        due_month=st.just(month if owing else None),
        due_date=st.just(ref.due_date(month, due_day, calendar) if owing else None),
        paid=st.integers(0, 300_000),
        arrears=st.integers(0, 300_000),
        overdue_since=st.one_of(st.none(), st.dates(date(2022, 12, 1), date(2030, 1, 1))),
        first_borrowed_on=st.one_of(st.none(), st.dates(date(2022, 12, 1), date(2030, 1, 1))),
        entries=st.integers(0, 10_000),
    )), due_day, calendar


@settings(max_examples=1_500, deadline=None)
@given(drawn=states(), contract=contracts, policy=policies, days=st.one_of(st.integers(0, 40), st.integers(0, 900)),
       free=st.one_of(st.none(), st.integers(-3, 40), st.dates(date(2022, 12, 1), date(2030, 6, 1))))
def test_advance_and_position_of_any_state_equal_the_reference(drawn, contract, policy, days, free):
    state, due_day, calendar = drawn
    if isinstance(free, int):  # the interest-free days end near the state's day
        free = (state.through or date(2026, 1, 1)) + timedelta(days=free)
    contract = Contract(contract.limit, contract.rate, due_day, free, contract.status, contract.status_reason)
    old = ref.LoanState(*(getattr(state, name) for name in STATE_FIELDS))
    same_state(state, old)
    as_of = (state.through or date(2026, 1, 1)) + timedelta(days=days)
    both_positions(contract, state, old, as_of, policy, calendar)
    state.advance(as_of, contract, policy, calendar)
    old.advance(as_of, contract, policy, calendar)
    same_state(state, old)
