"""``kaiin worker``: scheduled work, claimed row by row so any number of workers can run at once.

A job is an async function ``job(now) -> dict[str, int]`` (counts of what it did) that takes its own
claims: a unique row (``JobClaim``, or a use case's own unique key) written in the same transaction as the
work, so a second worker finds the work done and skips it. ``run_once`` runs every job once; ``run`` keeps
doing that every ``interval`` seconds.

Money never moves in a maintenance window (product.md §2): inside one, ``run_once`` does nothing and
reports the window, and the work waits for the next round after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from domain.maintenance import Window

log = logging.getLogger("kaiin.worker")

Job = Callable[[datetime], Awaitable[dict[str, int]]]
WindowAt = Callable[[datetime], Awaitable[Window | None]]


async def run_once(now: datetime, jobs: Sequence[tuple[str, Job]], window_at: WindowAt) -> dict[str, dict[str, int]]:
    """Run each job once at ``now``, unless ``now`` is inside a maintenance window."""
    window = await window_at(now)
    if window is not None:
        return {"maintenance": {"until": int(window.end.timestamp())}}
    report: dict[str, dict[str, int]] = {}
    for name, job in jobs:
        try:
            report[name] = await job(now)
        except Exception:  # one job's failure must not stop the others; it is retried next round
            log.exception("worker job %s failed", name)
            report[name] = {"error": 1}
    return report


async def run(clock: Callable[[], datetime], jobs: Sequence[tuple[str, Job]], window_at: WindowAt, *,
              interval: float, rounds: int | None = None) -> None:
    """Run every ``interval`` seconds (``rounds`` times, or until cancelled)."""
    done = 0
    while rounds is None or done < rounds:
        report = await run_once(clock(), jobs, window_at)
        if any(any(counts.values()) for counts in report.values()):
            log.info("worker round: %s", report)
        done += 1
        if rounds is None or done < rounds:
            await asyncio.sleep(interval)
