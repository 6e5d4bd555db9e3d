"""The reminder job on both engines: sent once per due date at the member's JST hour, the overdue
notice instead for an overdue member, nothing when switched off, and never twice with two workers."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest

from db import mail, reminders
from db.member_settings import save_reminder
from db.tables import ReminderSent
from domain.reminders import ReminderPreference
from tests.auth_helpers import run
from tests.conftest import make_member

UTC = timezone.utc
#: borrowed 2026-11-02 with due day 5 → first due 2026-12-05 (Sat) → 2026-12-07 (Mon);
#: 3 days before at 09:00 JST = 2026-12-04 09:00 JST = 2026-12-04 00:00 UTC
SEND_AT = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
JUST_BEFORE = datetime(2026, 12, 3, 23, 59, 59, tzinfo=UTC)


def context(settings) -> reminders.ReminderContext:
    return reminders.ReminderContext(
        loan_policy=settings.loan_policy(), reminder_policy=settings.reminder_policy(), origin=settings.origin,
        app_name=settings.app_name, lender_name=settings.lender_name, phone=settings.lender_phone,
    )


def borrower(settings, **changes) -> int:
    fields = dict(balance=100_000, borrowed_on=date(2026, 11, 2), opened_on=date(2026, 11, 2))
    fields.update(changes)
    return make_member(settings, **fields)


def reminder_mails() -> list:
    return [m for m in run(mail.newest(limit=100)) if m.kind.startswith("reminder_")]


def test_sent_once_at_the_members_hour(settings):
    borrower(settings)
    ctx = context(settings)
    assert run(reminders.run(JUST_BEFORE, ctx)) == {"due": 0, "overdue": 0}
    assert run(reminders.run(SEND_AT, ctx)) == {"due": 1, "overdue": 0}
    assert run(reminders.run(SEND_AT, ctx)) == {"due": 0, "overdue": 0}
    later = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    assert run(reminders.run(later, ctx)) == {"due": 0, "overdue": 0}, "a restart or a later round sends nothing again"
    [sent] = reminder_mails()
    assert sent.to_addr == "taro@example.jp" and sent.kind == "reminder_due"
    assert "2026年12月7日(月)" in sent.body and "4,000円" in sent.body
    assert f"{settings.origin}/repayments/new" in sent.body


def test_the_chosen_day_and_hour(settings):
    member = borrower(settings)
    run(save_reminder(member, ReminderPreference(True, 1, 20), now=SEND_AT))
    ctx = context(settings)
    # 1 day before at 20:00 JST = 2026-12-06 20:00 JST = 2026-12-06 11:00 UTC
    assert run(reminders.run(datetime(2026, 12, 6, 10, 59, tzinfo=UTC), ctx))["due"] == 0
    assert run(reminders.run(datetime(2026, 12, 6, 11, 0, tzinfo=UTC), ctx))["due"] == 1


def test_caught_up_late_but_never_after_the_due_date(settings):
    borrower(settings)
    ctx = context(settings)
    # the worker was down until 23:59 JST on the due date: still worth sending
    assert run(reminders.run(datetime(2026, 12, 7, 14, 59, tzinfo=UTC), ctx))["due"] == 1


def test_switched_off_sends_nothing(settings):
    member = borrower(settings)
    run(save_reminder(member, ReminderPreference(False, 3, 9), now=SEND_AT))
    assert run(reminders.run(SEND_AT, context(settings))) == {"due": 0, "overdue": 0}
    assert reminder_mails() == []


def test_no_verified_email_or_no_balance_sends_nothing(settings):
    borrower(settings, email=None)
    make_member(settings, card_number="2234567890", web_id=None, email="zero@example.jp")  # nothing borrowed
    assert run(reminders.run(SEND_AT, context(settings))) == {"due": 0, "overdue": 0}


def test_overdue_member_gets_the_overdue_notice_instead(settings):
    # borrowed 2026-09-01 → due 2026-10-05 (Mon), unpaid → overdue from 2026-10-06
    borrower(settings, borrowed_on=date(2026, 9, 1), opened_on=date(2026, 9, 1))
    ctx = context(settings)
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    assert run(reminders.run(now, ctx)) == {"due": 0, "overdue": 1}
    assert run(reminders.run(now, ctx)) == {"due": 0, "overdue": 0}
    [notice] = reminder_mails()
    assert notice.kind == "reminder_overdue" and "10月5日" in notice.body and "未払い額" in notice.body


def test_two_workers_at_once_send_one(settings):
    for n in range(5):
        borrower(settings, card_number=f"{n + 3}234567890", web_id=None, email=f"m{n}@example.jp")
    ctx = context(settings)

    async def two_workers():
        return await asyncio.gather(reminders.run(SEND_AT, ctx), reminders.run(SEND_AT, ctx))

    first, second = run(two_workers())
    assert first["due"] + second["due"] == 5
    assert len(reminder_mails()) == 5
    assert run(ReminderSent.count()) == 5
