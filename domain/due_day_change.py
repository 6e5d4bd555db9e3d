"""Changing the due day (返済日の変更): 5th, 15th, 25th or month end, and from which due date it applies.

Rule (product.md §6, weecare.info in reference/domain.md): a change applies from the **next** due date,
never the current one. The cycle under way keeps the due date the member was told; when it closes,
the loan engine moves to the following month on the new day (``LoanState._close_cycle``:
``add_months(due_month, 1)`` with the contract's due day). This module says the same in advance,
with the same functions, so the page can show it before the member confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.business_days import BusinessCalendar
from domain.due_dates import Month, add_months, due_date, due_day_label
from domain.errors import LoanError


@dataclass(frozen=True, slots=True)
class DueDayChange:
    old_day: int
    new_day: int
    #: the due date of the cycle under way, unchanged by the change (None when nothing is owed)
    current_due_date: date | None
    #: the first due date on the new day (None when nothing is owed: then the first borrowing's
    #: first due date follows the new day, product.md §6 table)
    first_new_due_date: date | None

    def summary(self) -> str:
        """One Japanese sentence for the confirmation and the result."""
        new = due_day_label(self.new_day)
        if self.first_new_due_date is None:
            return f"返済日を毎月{new}に変更しました。次回のお借入れ後の最初の返済期日から適用されます。"
        first = self.first_new_due_date
        current = self.current_due_date
        assert current is not None
        return (
            f"返済日を毎月{new}に変更しました。{current.month}月{current.day}日の返済期日はそのままで、"
            f"{first.year}年{first.month}月{first.day}日の返済期日から新しい返済日になります。"
        )


def plan_due_day_change(old_day: int, new_day: int, *, due_month: Month | None, current_due_date: date | None,
                        calendar: BusinessCalendar) -> DueDayChange:
    """What changing ``old_day`` to ``new_day`` does, given the cycle under way (``LoanState.due_month``
    and ``due_date``, both None when nothing is owed). ``new_day`` is already parsed (``parse_due_day``).

    Raises:
        LoanError: ``new_day`` is the current day.
    """
    if new_day == old_day:
        raise LoanError(f"返済日はすでに毎月{due_day_label(old_day)}です。別の日を選んでください。")
    if due_month is None or current_due_date is None:
        return DueDayChange(old_day, new_day, None, None)
    return DueDayChange(old_day, new_day, current_due_date, due_date(add_months(due_month, 1), new_day, calendar))
