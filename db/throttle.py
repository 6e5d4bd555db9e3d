"""Per-IP throttle counters as database rows: one atomic upsert per attempt, shared by all processes.

The counter is taken *before* any work (hashing, mail), so a flood is refused cheaply; a successful
sign-in gives its attempt back, so members behind one shared address are not throttled by success.
"""

from __future__ import annotations

from datetime import datetime

from db.tables import ThrottleCounter
from domain.auth_policy import ThrottleDecision, throttle_decision, throttle_window_start

_TABLE = ThrottleCounter._meta.tablename


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


async def hit(key: str, *, now: datetime, limit: int, window_seconds: int) -> ThrottleDecision:
    """Count one attempt for ``key`` in the current window and say whether it may go on."""
    start = throttle_window_start(now, window_seconds)
    rows = await ThrottleCounter.raw(
        f"INSERT INTO {_TABLE} (bucket, window_start, hits) VALUES ({{}}, {{}}, 1) "
        f"ON CONFLICT (bucket) DO UPDATE SET hits = CASE WHEN {_TABLE}.window_start = excluded.window_start "
        f"THEN {_TABLE}.hits + 1 ELSE 1 END, window_start = excluded.window_start RETURNING hits",
        key, _epoch(start),
    )
    return throttle_decision(rows[0]["hits"], window_start=start, now=now, limit=limit, window_seconds=window_seconds)


async def give_back(key: str, *, now: datetime, window_seconds: int) -> None:
    """Return one attempt to the current window (after a successful sign-in)."""
    start = _epoch(throttle_window_start(now, window_seconds))
    await ThrottleCounter.update({ThrottleCounter.hits: ThrottleCounter.hits - 1}).where(
        (ThrottleCounter.bucket == key) & (ThrottleCounter.window_start == start) & (ThrottleCounter.hits > 0)
    )


async def sweep(now: datetime, *, keep_seconds: int) -> int:
    """Delete the counters whose window started more than ``keep_seconds`` ago (the longest window): they can
    no longer refuse anything, and without this an attack from many addresses leaves a row per address."""
    rows = await ThrottleCounter.delete().where(
        ThrottleCounter.window_start < _epoch(now) - keep_seconds).returning(ThrottleCounter.id)
    return len(rows)
