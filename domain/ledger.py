"""Ledger entries as the loan engine sees them.

An entry records the signed change it makes to what the member owes, in three parts (principal,
interest, late charge), so what is owed is always the sum of the entries plus the interest and late
charge accrued since they were last charged (``domain.loan.LoanState``). ``amount`` is the money (or
points) that moved. Entries are never changed: a mistake is undone by a ``REVERSAL`` or corrected by
an ``ADJUSTMENT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Kind(StrEnum):
    BORROWING = "borrowing"  #: money lent (principal +)
    REPAYMENT = "repayment"  #: money received (late charge −, interest −, principal −)
    POINT_USE = "point_use"  #: a repayment paid with points (1 point = ¥1)
    INTEREST_CHARGE = "interest_charge"  #: accrued interest charged, floored to the yen (interest +)
    LATE_CHARGE = "late_charge"  #: accrued late charge charged, floored to the yen (late charge +)
    REVERSAL = "reversal"  #: undoes an earlier entry (e.g. a failed bank transfer)
    ADJUSTMENT = "adjustment"  #: an operator's correction

    @property
    def is_payment(self) -> bool:
        return self in (Kind.REPAYMENT, Kind.POINT_USE)


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry. ``principal``/``interest``/``late_charge`` are signed changes to what is owed;
    ``amount`` is the money (or points) moved, always >= 0. ``reverses`` names the kind of the entry a
    reversal undoes (its changes are the negated changes of that entry)."""

    kind: Kind
    on: date  #: the JST day the entry counts on
    amount: int
    principal: int = 0
    interest: int = 0
    late_charge: int = 0
    reverses: Kind | None = None


def borrowing(on: date, amount: int) -> Entry:
    return Entry(Kind.BORROWING, on, amount, principal=amount)


def reversal(of: Entry, on: date) -> Entry:
    return Entry(Kind.REVERSAL, on, of.amount, -of.principal, -of.interest, -of.late_charge, reverses=of.kind)
