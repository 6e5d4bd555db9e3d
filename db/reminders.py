"""The reminder-mail job of ``kaiin worker``: 返済日お知らせメール, or the overdue notice instead.

Once only, whatever runs it: the claim is a ``ReminderSent`` row whose unique ``key`` names the member,
the kind and the date (``<member>:due:<due date>`` or ``<member>:overdue:<first late day>``). It is
inserted in the same transaction as the outbox mail that carries the reminder, so two workers that pick
the same member at the same moment cannot both commit (the second fails on the unique key and its mail
rolls back with it), and a worker restarted after a crash finds the row and skips. Delivery from the
outbox (SMTP or files) has its own claims (``db.mail``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from db import loans, mail
from db.engine import write_tx
from db.member_settings import reminder_of
from db.tables import Member, ReminderSent
from domain.interest import format_rate
from domain.loan import Position
from domain.policy import LoanPolicy
from domain.reminders import (
    Reminder,
    ReminderPolicy,
    default_preference,
    due_reminder_text,
    next_reminder,
    overdue_notice_text,
)


@dataclass(frozen=True, slots=True)
class ReminderContext:
    """What the job needs besides ``now``; ``kaiin worker`` builds it from the settings."""

    loan_policy: LoanPolicy
    reminder_policy: ReminderPolicy
    origin: str  #: https://kaiin.example.jp, for the links in the mail
    app_name: str
    lender_name: str
    phone: str


async def recipients() -> list[dict]:
    """Members who can receive a reminder: a verified email and not suspended."""
    return await Member.select(Member.id, Member.name, Member.email).where(
        Member.email.is_not_null() & (Member.email_verified == True) & (Member.status != "suspended")  # noqa: E712
    ).order_by(Member.id)


def _text(reminder: Reminder, name: str, position: Position, ctx: ReminderContext):
    settings_url = f"{ctx.origin}/settings/reminder"
    link = f"{ctx.origin}/repayments/new"
    common = dict(name=name, link=link, settings_url=settings_url, app_name=ctx.app_name,
                  lender_name=ctx.lender_name, phone=ctx.phone)
    if reminder.kind == "overdue":
        return overdue_notice_text(missed=reminder.on - timedelta(days=1), arrears=position.arrears,
                                   late_rate=format_rate(ctx.loan_policy.late_charge_rate), **common)
    return due_reminder_text(due=reminder.on, amount_due=position.amount_due, paid=position.paid_toward_due, **common)


async def due_for(member_id: int, now: datetime, ctx: ReminderContext) -> tuple[Reminder, Position] | None:
    """The reminder this member is owed at ``now`` (not yet checked against what was sent), or None."""
    preference = await reminder_of(member_id, ctx.reminder_policy) or default_preference(ctx.reminder_policy)
    if not preference.enabled:
        return None
    account = await loans.account_for_member(member_id, now, ctx.loan_policy)
    if account is None:
        return None
    position = account.position
    reminder = next_reminder(preference, next_due_date=position.next_due_date, overdue_since=position.overdue_since)
    if reminder is None or not reminder.is_due(now):
        return None
    return reminder, position


async def _queue(member: dict, reminder: Reminder, position: Position, now: datetime, ctx: ReminderContext) -> bool:
    key = f"{member['id']}:{reminder.key}"
    text = _text(reminder, member["name"], position, ctx)
    try:
        async with write_tx():
            if await ReminderSent.exists().where(ReminderSent.key == key):
                return False
            rows = await ReminderSent.insert(
                ReminderSent(key=key, member=member["id"], kind=reminder.kind, on_date=reminder.on, queued_at=now)
            ).returning(ReminderSent.id)
            mail_id = await mail.enqueue(to_addr=member["email"], notice=text, now=now, member=member["id"])
            await ReminderSent.update({ReminderSent.outbox: mail_id}).where(ReminderSent.id == rows[0]["id"])
    except (sqlite3.IntegrityError, asyncpg.exceptions.UniqueViolationError):
        return False  # another worker queued it first
    return True


async def run(now: datetime, ctx: ReminderContext) -> dict[str, int]:
    """Queue every reminder due at ``now`` that was never queued; returns counts for the worker log."""
    counts = {"due": 0, "overdue": 0}
    for member in await recipients():
        found = await due_for(member["id"], now, ctx)
        if found and await _queue(member, *found, now, ctx):
            counts[found[0].kind] += 1
    return counts
