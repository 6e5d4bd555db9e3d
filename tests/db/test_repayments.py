"""Repayment use cases on both engines: paying (idempotent, with points), bad amounts changing nothing,
the automatic debit (once, even with two workers), the due-date roll-over and maintenance."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest

from db import history, loans, repayments, worker
from db.payment_gateway import Collected, PaymentDeclined
from db.tables import DebitAccount, JobClaim, LedgerEntry, Member, Repayment
from domain.repayment import RepaymentError, debit_terms
from tests.conftest import ROOT, make_member, run
from web.deps import repay_context
from web.jobs import jobs, maintenance_window

JST = timezone(timedelta(hours=9))


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=JST).astimezone(timezone.utc)


# ¥100,000 borrowed 2026-09-10, due day 15: first due date 2026-10-15 (Thu), ¥4,000 a month
BORROWED = date(2026, 9, 10)
TODAY = date(2026, 10, 10)  # a Saturday: interest for 30 days = 1,463
FORM_DUE = repayments.RepayForm("due", "", "")


@pytest.fixture
def ctx(settings):
    return repay_context(settings)


@pytest.fixture
def member(settings):
    return make_member(settings, credit_limit=500_000, balance=100_000, borrowed_on=BORROWED, opened_on=BORROWED,
                       due_day="15")


def q(query):
    """Run a Piccolo query from a synchronous test."""
    return run(query.run())


def position(member_id, ctx, day=TODAY):
    return run(loans.account_for_member(member_id, at(day), ctx.loan)).position


def entries(member_id):
    return q(LedgerEntry.select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.points).order_by(LedgerEntry.id))


def set_points(member_id, points):
    q(Member.update({Member.points: points}).where(Member.id == member_id))


def points_of(member_id):
    return q(Member.select(Member.points).where(Member.id == member_id).first())["points"]


def test_paying_the_amount_due_posts_the_split_and_earns_points(member, ctx):
    key = repayments.new_key()
    rid = run(repayments.pay(member, key, FORM_DUE, "4000", at(TODAY), ctx))
    done = run(repayments.result(member, rid))
    assert (done.status, done.total, done.money, done.points) == ("paid", 4_000, 4_000, 0)
    assert done.balance_after == 100_000 - (4_000 - 1_463) and done.gateway_reference.startswith("PE")
    assert done.points_earned == 7 and points_of(member) == 7  # 1,463 of interest: 7 pt
    kinds = [(row["kind"], row["amount"]) for row in entries(member)]
    assert kinds[-2:] == [("interest_charge", 1_463), ("repayment", 4_000)]
    receipt = run(history.receipt(member, done.entry))
    assert (receipt.amount, receipt.interest, receipt.principal, receipt.late_charge) == (4_000, 1_463, 2_537, 0)
    assert receipt.balance_after == done.balance_after
    after = position(member, ctx)
    assert after.next_due_date == date(2026, 11, 16)  # October covered: November's (15th is a Sunday)


def test_the_same_form_twice_pays_once(member, ctx):
    key = repayments.new_key()
    first = run(repayments.pay(member, key, FORM_DUE, "4000", at(TODAY), ctx))
    again = run(repayments.pay(member, key, FORM_DUE, "4000", at(TODAY), ctx))
    assert first == again
    assert [row["kind"] for row in entries(member)].count("repayment") == 1


def test_parallel_taps_of_one_form_pay_once(member, ctx):
    key = repayments.new_key()

    async def both():
        return await asyncio.gather(*(repayments.pay(member, key, FORM_DUE, "4000", at(TODAY), ctx) for _ in range(4)))

    ids = run(both())
    assert len(set(ids)) == 1
    assert q(Repayment.count()) == 1
    assert [row["kind"] for row in entries(member)].count("repayment") == 1


def test_a_changed_total_is_refused_and_nothing_changes(member, ctx):
    full = repayments.RepayForm("full", "", "")
    with pytest.raises(RepaymentError, match="ご返済額が変わりました"):
        run(repayments.pay(member, repayments.new_key(), full, "101000", at(TODAY), ctx))
    assert len(entries(member)) == 1 and q(Repayment.count()) == 0


@pytest.mark.parametrize(
    ("amount", "words"),
    [("0", "0円では"), ("199", "200円以上"), ("101464", "超えています"), ("1000.5", "小数"), ("١٠٠٠", "数字（0〜9）"),
     ("-100", "マイナス"), ("1e3", "「e」")],
)
def test_bad_amounts_change_nothing(member, ctx, amount, words):
    form = repayments.RepayForm("any", amount, "")
    with pytest.raises(RepaymentError, match=words):
        run(repayments.pay(member, repayments.new_key(), form, "1000", at(TODAY), ctx))
    assert len(entries(member)) == 1 and q(Repayment.count()) == 0 and points_of(member) == 0


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "bad key with spaces!!", "../../etc/passwd-aaaaaaaa"])
def test_a_tampered_key_is_refused(member, ctx, key):
    with pytest.raises(RepaymentError, match="この確認画面は使えません"):
        run(repayments.pay(member, key, FORM_DUE, "4000", at(TODAY), ctx))
    assert q(Repayment.count()) == 0


def test_another_members_repayment_is_not_found(settings, member, ctx):
    other = make_member(settings, card_number="9876543210", web_id="hanako2024", balance=50_000,
                        borrowed_on=BORROWED, opened_on=BORROWED)
    rid = run(repayments.pay(member, repayments.new_key(), FORM_DUE, "4000", at(TODAY), ctx))
    assert run(repayments.result(other, rid)) is None
    assert run(history.receipt(other, run(repayments.result(member, rid)).entry)) is None


def test_points_and_money_together(member, ctx):
    set_points(member, 800)
    form = repayments.RepayForm("any", "10000", "500")
    rid = run(repayments.pay(member, repayments.new_key(), form, "10000", at(TODAY), ctx))
    done = run(repayments.result(member, rid))
    assert (done.total, done.money, done.points) == (10_000, 9_500, 500)
    assert points_of(member) == 800 - 500 + 7
    last = entries(member)[-1]
    assert (last["kind"], last["amount"], last["points"]) == ("repayment", 10_000, 500)
    receipt = run(history.receipt(member, done.entry))
    assert (receipt.amount, receipt.points) == (10_000, 500)


class Recording:
    name = "recording"

    def __init__(self, decline: bool = False):
        self.calls, self.decline = [], decline

    async def collect(self, request):
        self.calls.append(request)
        if self.decline:
            raise PaymentDeclined("口座の残高が不足しているため、お支払いできませんでした。")
        return Collected(reference="T1", steps=("paid",))


def test_points_alone_never_call_the_bank(member, ctx):
    set_points(member, 5_000)
    gateway = Recording()
    ctx = dataclasses.replace(ctx, gateway=gateway)
    rid = run(repayments.pay(member, repayments.new_key(), repayments.RepayForm("due", "", "4000"), "4000",
                             at(TODAY), ctx))
    done = run(repayments.result(member, rid))
    assert (done.money, done.points) == (0, 4_000) and gateway.calls == []
    assert entries(member)[-1]["kind"] == "point_use" and points_of(member) == 1_000 + 7


def test_more_points_than_held_are_refused(member, ctx):
    set_points(member, 100)
    with pytest.raises(RepaymentError, match="100ptまで"):
        run(repayments.pay(member, repayments.new_key(), repayments.RepayForm("due", "", "101"), "4000",
                           at(TODAY), ctx))
    assert points_of(member) == 100 and len(entries(member)) == 1


def test_a_declined_payment_writes_nothing(member, ctx):
    ctx = dataclasses.replace(ctx, gateway=Recording(decline=True))
    with pytest.raises(PaymentDeclined):
        run(repayments.pay(member, repayments.new_key(), FORM_DUE, "4000", at(TODAY), ctx))
    assert len(entries(member)) == 1 and q(Repayment.count()) == 0


def test_full_payoff_leaves_nothing_owed(member, ctx):
    payoff = position(member, ctx).payoff
    rid = run(repayments.pay(member, repayments.new_key(), repayments.RepayForm("full", "", ""), str(payoff),
                             at(TODAY), ctx))
    done = run(repayments.result(member, rid))
    assert done.balance_after == 0 and run(history.receipt(member, done.entry)).balance_after == 0
    after = position(member, ctx, TODAY + timedelta(days=40))
    assert after.payoff == 0 and after.next_due_date is None and after.status == "active"


def test_payoff_to_the_yen_on_a_leap_day(settings, ctx):
    leap = make_member(settings, balance=100_000, borrowed_on=date(2028, 1, 31), opened_on=date(2028, 1, 31), due_day="5")
    pos = position(leap, ctx, date(2028, 2, 29))
    assert pos.payoff == 101_410  # 29 days of 1/366 at 17.8%: 1,410.38 → 1,410
    rid = run(repayments.pay(leap, repayments.new_key(), repayments.RepayForm("full", "", ""), "101410",
                             at(date(2028, 2, 29)), ctx))
    assert run(repayments.result(leap, rid)).balance_after == 0


# --- the worker: automatic debit and roll-over ---------------------------------------------------------

DUE = date(2026, 10, 15)


def register(member_id, ctx, day=TODAY, bank_code="0009"):
    """An automatic-debit account as registration leaves it (active from the day the terms say)."""
    terms = debit_terms(bank_code, 15, day, ctx.calendar, ctx.repay)
    q(DebitAccount.insert(DebitAccount(
        member=member_id, bank_code=bank_code, bank_name="三井住友銀行", branch_code="123", account_type="1",
        account_number="1234567", holder_name="ヤマダ タロウ", active_from=terms.active_from, registered_at=at(day))))


def test_an_account_not_yet_active_is_not_debited(member, ctx):
    register(member, ctx, date(2026, 10, 13), bank_code="0005")  # other banks: 3 business days → 10/16
    assert q(DebitAccount.select(DebitAccount.active_from).first())["active_from"] == date(2026, 10, 16)
    assert run(repayments.debit_round(at(DUE, 9), ctx)) == {"paid": 0, "declined": 0, "skipped": 0}


def test_the_debit_runs_once_on_the_due_date_even_with_two_workers(member, ctx):
    register(member, ctx)
    assert run(repayments.debit_round(at(DUE - timedelta(days=1)), ctx))["paid"] == 0

    async def two_workers():
        return await asyncio.gather(repayments.debit_round(at(DUE, 9), ctx), repayments.debit_round(at(DUE, 9), ctx))

    reports = run(two_workers())
    assert sum(report["paid"] for report in reports) == 1
    assert run(repayments.debit_round(at(DUE, 15), ctx))["paid"] == 0  # later that day: done already
    rows = q(Repayment.select().where(Repayment.channel == "debit"))
    assert len(rows) == 1 and rows[0]["total"] == 4_000 and rows[0]["status"] == "paid"
    assert [row["kind"] for row in entries(member)].count("repayment") == 1
    assert position(member, ctx, DUE + timedelta(days=1)).status == "active"


def test_two_worker_processes_debit_once(settings, member, ctx, tmp_path):
    register(member, ctx)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "KAIIN_DATA_DIR": str(tmp_path / "data"),
           "KAIIN_ENV": "test", "KAIIN_CLOCK": at(DUE, 9).isoformat(), "KAIIN_DB_POOL_MAX": "0"}
    command = [sys.executable, "-m", "web.cli", "worker", "--once"]
    workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    reports = [json.loads(w.communicate(timeout=120)[0].strip().splitlines()[-1]) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert sum(report["debit"]["paid"] for report in reports) == 1
    assert q(Repayment.count().where(Repayment.channel == "debit")) == 1
    assert [row["kind"] for row in entries(member)].count("repayment") == 1


def test_no_debit_when_already_paid(member, ctx):
    register(member, ctx)
    run(repayments.pay(member, repayments.new_key(), FORM_DUE, "4000", at(TODAY), ctx))
    report = run(repayments.debit_round(at(DUE, 9), ctx))
    assert report == {"paid": 0, "declined": 0, "skipped": 1}
    assert [row["kind"] for row in entries(member)].count("repayment") == 1


def test_a_partial_payment_leaves_the_rest_to_the_debit(member, ctx):
    register(member, ctx)
    run(repayments.pay(member, repayments.new_key(), repayments.RepayForm("any", "1500", ""), "1500", at(TODAY), ctx))
    run(repayments.debit_round(at(DUE, 9), ctx))
    debit = q(Repayment.select().where(Repayment.channel == "debit").first())
    assert debit["total"] == 2_500


def test_a_declined_debit_is_recorded_once_and_the_member_falls_overdue(member, ctx):
    register(member, ctx)
    declining = dataclasses.replace(ctx, gateway=Recording(decline=True))
    assert run(repayments.debit_round(at(DUE, 9), declining))["declined"] == 1
    assert run(repayments.debit_round(at(DUE, 10), declining))["declined"] == 0
    assert position(member, ctx, DUE + timedelta(days=1)).status == "borrowing_stopped"


def test_roll_over_makes_an_unpaid_member_overdue_once_and_paying_restores_active(member, ctx):
    day_after = DUE + timedelta(days=1)
    assert run(repayments.rollover_round(at(DUE, 20), ctx))["checked"] == 0  # the due date is not over yet
    assert run(repayments.rollover_round(at(day_after, 9), ctx)) == {"checked": 1, "overdue": 1}
    assert run(repayments.rollover_round(at(day_after, 10), ctx)) == {"checked": 0, "overdue": 0}  # claimed once
    assert q(JobClaim.count()) == 1
    late = position(member, ctx, date(2026, 10, 26))
    assert late.status == "borrowing_stopped" and late.late_charge > 0 and late.arrears == 4_000
    assert late.available_credit == 0
    run(repayments.pay(member, repayments.new_key(), FORM_DUE, "4000", at(date(2026, 10, 26)), ctx))
    after = position(member, ctx, date(2026, 10, 26))
    assert after.status == "active" and after.arrears == 0 and after.available_credit > 0


def test_roll_over_of_a_member_who_paid_leaves_them_active(member, ctx):
    run(repayments.pay(member, repayments.new_key(), FORM_DUE, "4000", at(TODAY), ctx))
    assert run(repayments.rollover_round(at(DUE + timedelta(days=1), 9), ctx)) == {"checked": 1, "overdue": 0}
    assert position(member, ctx, DUE + timedelta(days=1)).status == "active"


def test_two_workers_roll_over_once(member, ctx):
    async def two():
        later = at(DUE + timedelta(days=1), 9)
        return await asyncio.gather(repayments.rollover_round(later, ctx), repayments.rollover_round(later, ctx))

    reports = run(two())
    assert sum(report["checked"] for report in reports) == 1 and q(JobClaim.count()) == 1


def test_the_worker_moves_no_money_in_a_maintenance_window(settings, member, ctx):
    register(member, ctx)
    monday = date(2026, 11, 16)  # the November due date, a Monday: the weekly window until 07:00 JST
    run(repayments.pay(member, repayments.new_key(), FORM_DUE, "4000", at(TODAY), ctx))  # October paid
    inside = run(worker.run_once(at(monday, 3), jobs(settings), maintenance_window(settings)))
    assert "maintenance" in inside and q(Repayment.count()) == 1
    outside = run(worker.run_once(at(monday, 8), jobs(settings), maintenance_window(settings)))
    assert outside["debit"]["paid"] == 1 and q(Repayment.count()) == 2
