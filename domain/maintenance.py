"""Maintenance windows: the weekly one, the New Year one and those operators add.

Every window is a half-open interval [start, end) of aware datetimes. The fixed windows are laid out on
the Tokyo wall clock, whatever the process time zone, and windows that touch or overlap are merged into
one, so a Monday that is January 1 is a single window until January 2 07:00 and an operator window that
begins when the weekly one ends simply extends it.

No clock is read here: every function takes `now`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.errors import DomainError

JST = ZoneInfo("Asia/Tokyo")
REASON_MAX_LENGTH = 200  #: the width of the reason column
_UNPRINTED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  #: control, format (zero-width), unassigned, line breaks

WEEKLY = "weekly"
NEW_YEAR = "new_year"
OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class MaintenancePolicy:
    """The numbers of the calendar; web/settings.py builds this from the environment."""

    weekly_weekday: int = 0  # Monday (datetime.weekday numbering)
    weekly_start_hour: int = 0
    weekly_end_hour: int = 7
    new_year_end_day: int = 2  # the New Year window runs from January 1 00:00 to this day of January…
    new_year_end_hour: int = 7  # …at this hour
    banner_lead_minutes: int = 60

    def __post_init__(self) -> None:
        if not 0 <= self.weekly_weekday <= 6:
            raise ValueError("weekly_weekday must be 0 (Monday) to 6 (Sunday)")
        if not 0 <= self.weekly_start_hour < self.weekly_end_hour <= 24 * 7:
            raise ValueError("weekly window needs 0 <= start hour < end hour <= 168")
        if not 1 <= self.new_year_end_day <= 31 or not 0 <= self.new_year_end_hour <= 23:
            raise ValueError("New Year window must end on January 1–31 at hour 0–23")
        if (self.new_year_end_day, self.new_year_end_hour) == (1, 0):
            raise ValueError("New Year window must end after January 1 00:00")
        if self.banner_lead_minutes < 0:
            raise ValueError("banner_lead_minutes must not be negative")

    @property
    def banner_lead(self) -> timedelta:
        return timedelta(minutes=self.banner_lead_minutes)


@dataclass(frozen=True, slots=True)
class Window:
    """One maintenance window [start, end). `kinds` says what it is made of, `reasons` the operators' words."""

    start: datetime
    end: datetime
    kinds: frozenset[str] = field(default=frozenset({OPERATOR}))
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise ValueError("window times must carry a time zone")
        if self.end <= self.start:
            raise ValueError("a window must end after it starts")

    def contains(self, now: datetime) -> bool:
        return self.start <= now < self.end


class MaintenanceError(DomainError):
    """An operator's window cannot be added or removed as asked."""


def operator_window(start: datetime, end: datetime, reason: str = "") -> Window:
    return Window(start, end, frozenset({OPERATOR}), (reason,) if reason else ())


def parse_operator_time(text: str) -> datetime:
    """An operator's time: ISO 8601 with an offset (``2026-11-25T05:00Z``, ``…+09:00``) or without one (JST)."""
    cleaned = text.strip()
    if "T" not in cleaned.upper() and " " not in cleaned:
        raise MaintenanceError(f"日時には時刻も指定してください (例: 2026-11-25T14:00): {text!r}")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise MaintenanceError(
            f"日時は 2026-11-25T14:00 (日本時間) か 2026-11-25T05:00+00:00 の形で指定してください: {text!r}"
        ) from None
    return moment.replace(tzinfo=JST) if moment.utcoffset() is None else moment


def check_operator_window(start: datetime, end: datetime, reason: str, now: datetime) -> Window:
    """The window an operator asks for, or a MaintenanceError that says what is wrong with it."""
    _require_aware(now)
    reason = reason.strip()
    if start.utcoffset() is None or end.utcoffset() is None:
        raise MaintenanceError("開始と終了の日時にはタイムゾーンが必要です。")
    if end <= start:
        raise MaintenanceError("終了日時は開始日時より後にしてください。")
    if end <= now:
        raise MaintenanceError("終了日時がすでに過ぎています。")
    if not reason or any(unicodedata.category(ch) in _UNPRINTED for ch in reason):
        raise MaintenanceError("理由を入力してください (制御文字は使えません)。")
    if len(reason) > REASON_MAX_LENGTH:
        raise MaintenanceError(f"理由は{REASON_MAX_LENGTH}文字以内で入力してください。")
    return operator_window(start, end, reason)


def active_window(
    now: datetime, policy: MaintenancePolicy, operator_windows: Iterable[Window] = ()
) -> Window | None:
    """The (merged) window that `now` stands in, or None."""
    _require_aware(now)
    for window in windows_between(now, now, policy, operator_windows):
        if window.contains(now):
            return window
    return None


def upcoming_window(
    now: datetime,
    policy: MaintenancePolicy,
    operator_windows: Iterable[Window] = (),
    horizon: timedelta | None = None,
) -> Window | None:
    """The first window that starts after `now` and no later than `now + horizon` (default: the banner lead)."""
    _require_aware(now)
    horizon = policy.banner_lead if horizon is None else horizon
    for window in windows_between(now, now + horizon, policy, operator_windows):
        if now < window.start <= now + horizon:
            return window
    return None


def seconds_until_end(window: Window, now: datetime) -> int:
    """Whole seconds from `now` to the end of `window`, rounded up (a Retry-After value); 0 once it ended."""
    return max(0, math.ceil((window.end - now).total_seconds()))


def windows_between(
    lo: datetime, hi: datetime, policy: MaintenancePolicy, operator_windows: Iterable[Window] = ()
) -> list[Window]:
    """The merged windows that overlap [lo, hi], in order, each whole (not cut at lo or hi)."""
    _require_aware(lo)
    _require_aware(hi)
    operators = list(operator_windows)
    first, last = lo, hi
    while True:  # a merged window may reach past the span through a chain of touching windows: widen it
        pieces = [w for w in (*_fixed_windows(first, last, policy), *operators) if w.end >= first and w.start <= last]
        merged = _merge(pieces)
        wider_first = min([first, *(w.start for w in merged)])
        wider_last = max([last, *(w.end for w in merged)])
        if (wider_first, wider_last) == (first, last):
            break
        first, last = wider_first, wider_last
    return [w for w in merged if w.end > lo and w.start <= hi]


def _fixed_windows(lo: datetime, hi: datetime, policy: MaintenancePolicy) -> list[Window]:
    longest = max(policy.weekly_end_hour, 24 * (policy.new_year_end_day - 1) + policy.new_year_end_hour)
    day = lo.astimezone(JST).date() - timedelta(days=longest // 24 + 1)
    last_day = hi.astimezone(JST).date()
    windows = []
    while day <= last_day:
        midnight = _tokyo_midnight(day)
        if day.weekday() == policy.weekly_weekday:
            windows.append(
                Window(
                    midnight + timedelta(hours=policy.weekly_start_hour),
                    midnight + timedelta(hours=policy.weekly_end_hour),
                    frozenset({WEEKLY}),
                )
            )
        if (day.month, day.day) == (1, 1):
            end = _tokyo_midnight(date(day.year, 1, policy.new_year_end_day))
            windows.append(Window(midnight, end + timedelta(hours=policy.new_year_end_hour), frozenset({NEW_YEAR})))
        day += timedelta(days=1)
    return windows


def _tokyo_midnight(day: date) -> datetime:
    """Midnight of `day` on the Tokyo wall clock, as an aware UTC datetime (UTC so arithmetic is exact)."""
    return datetime(day.year, day.month, day.day, tzinfo=JST).astimezone(ZoneInfo("UTC"))


def _merge(pieces: list[Window]) -> list[Window]:
    merged: list[Window] = []
    for window in sorted(pieces, key=lambda w: (w.start, w.end)):
        if merged and window.start <= merged[-1].end:
            prev = merged[-1]
            merged[-1] = Window(
                prev.start,
                max(prev.end, window.end),
                prev.kinds | window.kinds,
                prev.reasons + tuple(r for r in window.reasons if r not in prev.reasons),
            )
        else:
            merged.append(window)
    return merged


def _require_aware(moment: datetime) -> None:
    if moment.utcoffset() is None:
        raise ValueError("a naive datetime has no place in the maintenance calendar; pass an aware one")
