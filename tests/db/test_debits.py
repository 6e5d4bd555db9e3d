"""口座振替 registration on both engines: instant banks at once, other banks pending 3 business days
(across a weekend and a national holiday) with the due day fixed to the 5th from the next due date, the
worker debiting only the account in force (once, even with two workers), the due-day page refusing to
leave the 5th, the registration mail, and the overdue mail once per missed due date."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest

from db import debits, due_day, loans, mail, reminders, repayments
from db.tables import Contract, DebitAccount, LedgerEntry, OutboxMail, Repayment
from domain.repayment import RepaymentError
from domain.transfers import PayeeFieldErrors
from tests.conftest import make_member, run
from web.deps import repay_context
from web.jobs import reminder_context

JST = timezone(timedelta(hours=9))
EMAIL = "taro@example.jp"
BORROWED = date(2026, 9, 10)  # ¥100,000, due day 15: first due date 2026-10-15 (Thu), ¥4,000
DUE = date(2026, 10, 15)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=JST).astimezone(timezone.utc)


def q(query):
    return run(query.run())


@pytest.fixture
def ctx(settings):
    return repay_context(settings)


@pytest.fixture
def notice(settings):
    return debits.NoticeContext(settings.transfer_policy(), settings.app_name, settings.lender_phone)


@pytest.fixture
def member(settings):
    return make_member(settings, balance=100_000, borrowed_on=BORROWED, opened_on=BORROWED, due_day="15")


def form(bank_code="0009", **changes) -> debits.DebitForm:
    fields = {"bank_code": bank_code, "branch_code": "123", "account_type": "1", "account_number": "1234567",
              "holder_name": "ヤマダ タロウ", **changes}
    return debits.DebitForm(**fields)


def register(member_id, ctx, notice, day, bank_code="0009", **changes):
    return run(debits.register(member_id, form(bank_code, **changes), now=at(day), ctx=ctx, notice=notice))


def stored_due_day(member_id) -> str:
    return q(Contract.select(Contract.due_day).where(Contract.member == member_id).first())["due_day"]


def mails(kind=None):
    found = run(mail.newest(to_addr=EMAIL))
    return [m for m in found if kind is None or m.kind == kind]


def debits_paid() -> list[dict]:
    return q(Repayment.select(Repayment.total, Repayment.status).where(Repayment.channel == "debit"))


def test_an_instant_bank_is_in_force_at_once_and_keeps_the_due_day(member, ctx, notice):
    done = register(member, ctx, notice, date(2026, 10, 13))
    assert done.terms.instant and done.registration.active and done.due_day_change is None and not done.changed
    assert done.registration.active_from == date(2026, 10, 13) and stored_due_day(member) == "15"
    current, pending = run(debits.registrations(member, date(2026, 10, 13)))
    assert current.status_label == "有効" and current.masked_number == "****567" and pending is None
    sent = mails("debit_registered")
    assert len(sent) == 1 and "三井住友銀行" in sent[0].body and "****567" in sent[0].body
    assert "1234567" not in sent[0].body and "本日から" in sent[0].body
    assert run(repayments.debit_round(at(DUE, 9), ctx))["paid"] == 1
    assert debits_paid() == [{"total": 4_000, "status": "paid"}]


def test_another_bank_waits_3_business_days_across_a_weekend_and_a_holiday(member, ctx, notice):
    # Thu 2026-10-08 → Fri 9, (Sat, Sun, Mon 12 = スポーツの日), Tue 13, Wed 14: in force from 10/14
    done = register(member, ctx, notice, date(2026, 10, 8), bank_code="0005")
    assert not done.terms.instant and done.registration.active_from == date(2026, 10, 14)
    assert done.registration.status_label == "手続き中"
    for day in (date(2026, 10, 9), date(2026, 10, 12), date(2026, 10, 13)):
        assert run(debits.in_force(member, day)) is None, day
        current, pending = run(debits.registrations(member, day))
        assert current is None and pending.bank_code == "0005"
    assert run(debits.in_force(member, date(2026, 10, 14)))["bank_code"] == "0005"
    assert "2026年10月14日から" in mails("debit_registered")[0].body


def test_another_bank_fixes_the_due_day_to_the_5th_from_the_next_due_date(member, ctx, notice, settings):
    done = register(member, ctx, notice, date(2026, 10, 8), bank_code="0005")
    change = done.due_day_change
    assert change.current_due_date == DUE and change.first_new_due_date == date(2026, 11, 5)
    assert stored_due_day(member) == "5"
    position = run(loans.account_for_member(member, at(date(2026, 10, 8)), ctx.loan)).position
    assert position.next_due_date == DUE  # the cycle under way keeps its due date, as the due-day page does
    assert "11月5日" not in mails()[0].subject and "2026年11月5日の返済期日から" in mails("debit_registered")[0].body
    # the debit on 10/15 comes from the new account (in force since 10/14), then the next due date is 11/5
    assert run(repayments.debit_round(at(DUE, 9), ctx))["paid"] == 1
    after = run(loans.account_for_member(member, at(DUE + timedelta(days=1)), ctx.loan)).position
    assert after.next_due_date == date(2026, 11, 5)


def test_the_worker_never_debits_a_pending_account(member, ctx, notice):
    register(member, ctx, notice, date(2026, 10, 13), bank_code="0005")  # in force from 10/16
    assert run(repayments.debit_round(at(DUE, 9), ctx)) == {"paid": 0, "declined": 0, "skipped": 0}
    assert run(repayments.debit_one(member, at(DUE, 9), ctx)) == "none"
    assert debits_paid() == [] and q(LedgerEntry.count().where(LedgerEntry.kind == "repayment")) == 0


def test_while_a_change_is_pending_the_account_in_force_is_debited_once_by_two_workers(member, ctx, notice):
    register(member, ctx, notice, date(2026, 10, 1))  # 三井住友銀行, in force
    changed = register(member, ctx, notice, date(2026, 10, 13), bank_code="0005", account_number="7654321")
    assert changed.changed and changed.registration.active_from == date(2026, 10, 16)
    current, pending = run(debits.registrations(member, date(2026, 10, 13)))
    assert (current.bank_code, pending.bank_code) == ("0009", "0005")
    assert len(mails("debit_changed")) == 1

    async def two_workers():
        return await asyncio.gather(repayments.debit_round(at(DUE, 9), ctx), repayments.debit_round(at(DUE, 9), ctx))

    reports = run(two_workers())
    assert sum(report["paid"] for report in reports) == 1 and debits_paid() == [{"total": 4_000, "status": "paid"}]
    assert run(debits.in_force(member, date(2026, 10, 16)))["bank_code"] == "0005"


def test_changing_to_an_instant_bank_replaces_a_pending_one(member, ctx, notice):
    register(member, ctx, notice, date(2026, 10, 13), bank_code="0005")
    register(member, ctx, notice, date(2026, 10, 14), bank_code="0033")
    current, pending = run(debits.registrations(member, date(2026, 10, 14)))
    assert current.bank_code == "0033" and pending is None
    assert q(DebitAccount.count().where(DebitAccount.cancelled_at.is_null())) == 1


def test_bad_fields_change_nothing(member, ctx, notice):
    for changes in ({"bank_code": "9999"}, {"branch_code": "12"}, {"account_number": "١٢٣٤٥٦٧"},
                    {"holder_name": "山田太郎"}, {"account_type": "3"}):
        with pytest.raises(PayeeFieldErrors):
            run(debits.register(member, form(**changes), now=at(date(2026, 10, 8)), ctx=ctx, notice=notice))
    assert q(DebitAccount.count()) == 0 and stored_due_day(member) == "15" and q(OutboxMail.count()) == 0


def test_full_width_account_fields_are_read_like_the_payee_form(member, ctx, notice):
    done = register(member, ctx, notice, date(2026, 10, 13), branch_code="１２３", account_number="１２３４５６７",
                    holder_name="ﾔﾏﾀﾞ ﾀﾛｳ")
    assert (done.registration.branch_code, done.registration.holder_name) == ("123", "ヤマダ\u3000タロウ")


def test_the_due_day_cannot_leave_the_5th_while_another_bank_debits(member, ctx, notice, settings):
    register(member, ctx, notice, date(2026, 10, 8), bank_code="0005")  # due day now 5, account pending
    loan, repay = settings.loan_policy(), settings.repayment_policy()
    for day in (date(2026, 10, 9), date(2026, 10, 20)):  # pending, then in force
        with pytest.raises(RepaymentError, match="返済日は毎月5日から変更できません") as caught:
            run(due_day.change_due_day(member, "25", at(day), loan, repay))
        assert "三井住友銀行・PayPay銀行" in caught.value.message
    assert stored_due_day(member) == "5"
    options = run(due_day.options(member, at(date(2026, 10, 20)), loan, repay))
    assert options.fixed_by_debit == "三菱UFJ銀行"
    register(member, ctx, notice, date(2026, 10, 20), bank_code="0033")  # PayPay銀行: any due day again
    run(due_day.change_due_day(member, "25", at(date(2026, 10, 20)), loan, repay))
    assert stored_due_day(member) == "25"


# --- the overdue mail of the roll-over ----------------------------------------------------------------------


def test_the_roll_over_mails_an_overdue_member_once_per_missed_due_date(member, ctx, settings):
    day_after = DUE + timedelta(days=1)

    async def two_workers(moment):
        return await asyncio.gather(repayments.rollover_round(moment, ctx), repayments.rollover_round(moment, ctx))

    run(two_workers(at(day_after, 1)))
    sent = mails("reminder_overdue")
    assert len(sent) == 1 and "2026年10月15日(木)のご返済が確認できていません" in sent[0].body
    assert "未払い額：4,000円" in sent[0].body and f"{settings.origin}/repayments/new" in sent[0].body
    # the reminder job's overdue notice for the same missed date is that mail: nothing more is sent
    assert run(reminders.run(at(day_after, 10), reminder_context(settings))) == {"due": 0, "overdue": 0}
    run(repayments.rollover_round(at(day_after, 15), ctx))
    assert len(mails("reminder_overdue")) == 1
    # a second missed due date (11/15 is a Sunday → Mon 11/16) is a second mail
    run(two_workers(at(date(2026, 11, 17), 1)))
    sent = mails("reminder_overdue")
    assert len(sent) == 2 and "2026年11月16日(月)のご返済が確認できていません" in sent[0].body


def test_no_overdue_mail_for_a_member_who_paid(member, ctx):
    run(repayments.pay(member, repayments.new_key(), repayments.RepayForm("due", "", ""), "4000",
                       at(date(2026, 10, 10)), ctx))
    run(repayments.rollover_round(at(DUE + timedelta(days=1), 1), ctx))
    assert mails("reminder_overdue") == []


def test_after_a_due_day_change_the_cycle_under_way_is_still_rolled_over_and_mailed(member, ctx, settings):
    """The due day moves 15 → 5 on 10/8; the cycle under way keeps 10/15, so the worker must still find it."""
    run(due_day.change_due_day(member, "5", at(date(2026, 10, 8)), settings.loan_policy(), settings.repayment_policy()))
    assert run(repayments.rollover_round(at(DUE + timedelta(days=1), 1), ctx)) == {"checked": 1, "overdue": 1}
    assert "2026年10月15日(木)のご返済が確認できていません" in mails("reminder_overdue")[0].body
    assert run(repayments.rollover_round(at(date(2026, 11, 17), 1), ctx)) == {"checked": 0, "overdue": 0}  # not its day
    assert run(repayments.rollover_round(at(date(2026, 11, 6), 1), ctx)) == {"checked": 1, "overdue": 1}
    assert "2026年11月5日(木)のご返済が確認できていません" in mails("reminder_overdue")[0].body
    assert len(mails("reminder_overdue")) == 2
