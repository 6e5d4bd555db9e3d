"""What ``kaiin worker`` runs, built from the settings: each area's scheduled work, and the maintenance
calendar the worker must respect (no money moves inside a window)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from db import repayments
from db.maintenance import operator_windows
from db.worker import Job, WindowAt
from domain.maintenance import Window, active_window
from web.deps import repay_context
from web.settings import Settings


def jobs(settings: Settings) -> list[tuple[str, Job]]:
    """The worker's jobs, in the order they run each round."""
    ctx = repay_context(settings)
    return [
        ("rollover", partial(repayments.rollover_round, ctx=ctx)),
        ("debit", partial(repayments.debit_round, ctx=ctx)),
    ]


def maintenance_window(settings: Settings) -> WindowAt:
    """The maintenance window a moment stands in (weekly, New Year and operators' windows), or None."""
    policy = settings.maintenance_policy()

    async def window_at(now: datetime) -> Window | None:
        return active_window(now, policy, await operator_windows(now))

    return window_at
