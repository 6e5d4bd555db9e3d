"""What ``kaiin worker`` runs, built from the settings: each area's scheduled work, and the maintenance
calendar the worker must respect (no money moves inside a window)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from db import reminders, repayments, throttle, transfers
from db.maintenance import operator_windows
from db.worker import Job, WindowAt
from domain.maintenance import Window, active_window
from web.deps import repay_context, transfer_context
from web.mail import MailSender
from web.settings import Settings


def jobs(settings: Settings) -> list[tuple[str, Job]]:
    """The worker's jobs, in the order they run each round."""
    ctx = repay_context(settings)
    mailer = MailSender(settings)

    async def deliver_mail(now: datetime) -> dict[str, int]:  # notices the jobs queued go out in the same round
        return {"delivered": await mailer.deliver_pending(now=now)}

    async def sweep_throttle(now: datetime) -> dict[str, int]:
        keep = max(settings.login_throttle_window_seconds, settings.recover_throttle_window_seconds,
                   settings.passkey_options_throttle_window_seconds)
        return {"deleted": await throttle.sweep(now, keep_seconds=keep)}

    return [
        ("rollover", partial(repayments.rollover_round, ctx=ctx)),
        ("debit", partial(repayments.debit_round, ctx=ctx)),
        ("transfers", partial(transfers.send_due, ctx=transfer_context(settings), limit=settings.worker_batch)),
        ("reminders", partial(reminders.run, ctx=reminder_context(settings))),
        ("mail", deliver_mail),
        ("throttle", sweep_throttle),
    ]


def reminder_context(settings: Settings) -> reminders.ReminderContext:
    return reminders.ReminderContext(
        loan_policy=settings.loan_policy(), reminder_policy=settings.reminder_policy(), origin=settings.origin,
        app_name=settings.app_name, lender_name=settings.lender_name, phone=settings.lender_phone,
    )


def maintenance_window(settings: Settings) -> WindowAt:
    """The maintenance window a moment stands in (weekly, New Year and operators' windows), or None."""
    policy = settings.maintenance_policy()

    async def window_at(now: datetime) -> Window | None:
        return active_window(now, policy, await operator_windows(now))

    return window_at
