"""返済日お知らせメール: the member's choice (on/off, 1–7 days before the due date, hour of day in JST),
when each reminder is due, and the mail texts.

Times: the hour is a Japan hour. Japan has no daylight saving, so the instant is the JST wall time
at UTC+9, computed from the date alone; the server's time zone never enters (``now`` is aware UTC).

Which mail, and when (``next_reminder``):
- a member who is overdue (``overdue_since`` set) gets the **overdue notice instead** of the reminder,
  once per overdue spell (keyed by its first late day), at the chosen hour on that day or at the first
  run after it while still overdue;
- otherwise the reminder for the next due date still to be met is sent ``days_before`` days before it
  at the chosen hour, once per due date. A worker that was down catches up later, but never after the
  due date has ended (a reminder after the deadline would be wrong, not late);
- a cycle already covered is not reminded: the next due date still to be met is then next month's;
- reminders switched off send neither.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal

from domain.errors import FieldError
from domain.notices import Notice

JST = timezone(timedelta(hours=9), "JST")
ONE_DAY = timedelta(days=1)
WEEKDAYS = "月火水木金土日"

Kind = Literal["due", "overdue"]


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """Numbers of product.md §9; ``web/settings.py`` builds one from its fields."""

    days_before_min: int = 1
    days_before_max: int = 7
    hour_min: int = 0
    hour_max: int = 23
    default_enabled: bool = True
    default_days_before: int = 3
    default_hour: int = 9

    def __post_init__(self) -> None:
        if not (1 <= self.days_before_min <= self.default_days_before <= self.days_before_max):
            raise ValueError("reminder days: 1 <= min <= default <= max")
        if not (0 <= self.hour_min <= self.default_hour <= self.hour_max <= 23):
            raise ValueError("reminder hours: 0 <= min <= default <= max <= 23")


@dataclass(frozen=True, slots=True)
class ReminderPreference:
    enabled: bool
    days_before: int
    hour: int  #: 0–23, Japan time


def default_preference(policy: ReminderPolicy) -> ReminderPreference:
    return ReminderPreference(policy.default_enabled, policy.default_days_before, policy.default_hour)


class ReminderError(FieldError):
    """A reminder choice outside the allowed ones."""


def _small_int(raw: str, field: str, low: int, high: int, message: str) -> int:
    text = unicodedata.normalize("NFKC", raw or "").strip(" ")
    if len(text) > 2 or not re.fullmatch("[0-9]+", text) or not low <= int(text) <= high:
        raise ReminderError(field, message)
    return int(text)


def parse_preference(enabled: str, days_before: str, hour: str, policy: ReminderPolicy) -> ReminderPreference:
    """Read the form: ``enabled`` is ``on``/``off``; days and hour are ASCII (or full-width) digits.

    Raises:
        ReminderError: a value outside the choices.
    """
    if enabled not in ("on", "off"):
        raise ReminderError("enabled", "お知らせメールを「受け取る」か「受け取らない」から選んでください。")
    days = _small_int(days_before, "days_before", policy.days_before_min, policy.days_before_max,
                      f"お知らせする日は返済期日の{policy.days_before_min}〜{policy.days_before_max}日前から選んでください。")
    at = _small_int(hour, "hour", policy.hour_min, policy.hour_max,
                    f"お知らせする時刻は{policy.hour_min}時〜{policy.hour_max}時から選んでください。")
    return ReminderPreference(enabled == "on", days, at)


def jst_instant(day: date, hour: int) -> datetime:
    """``hour``:00 Japan time on ``day``, as aware UTC."""
    return datetime.combine(day, time(hour), JST).astimezone(timezone.utc)


def send_at(due: date, preference: ReminderPreference) -> datetime:
    """When the reminder for ``due`` goes out: ``days_before`` days before, at ``hour`` JST, in UTC."""
    return jst_instant(due - timedelta(days=preference.days_before), preference.hour)


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: Kind
    on: date  #: the due date reminded of, or the first late day of the overdue spell (the once-only key)
    send_at: datetime  #: aware UTC
    deadline: datetime | None  #: aware UTC; not sent at or after it (None: while the state lasts)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.on.isoformat()}"

    def is_due(self, now: datetime) -> bool:
        return self.send_at <= now and (self.deadline is None or now < self.deadline)


def next_reminder(preference: ReminderPreference, *, next_due_date: date | None,
                  overdue_since: date | None) -> Reminder | None:
    """The one mail this member may be owed now or later, or None (switched off, nothing due)."""
    if not preference.enabled:
        return None
    if overdue_since is not None:
        return Reminder("overdue", overdue_since, jst_instant(overdue_since, preference.hour), None)
    if next_due_date is None:
        return None
    deadline = jst_instant(next_due_date + ONE_DAY, 0)
    return Reminder("due", next_due_date, send_at(next_due_date, preference), deadline)


# --- the texts ---------------------------------------------------------------------------------------


def _jdate(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日({WEEKDAYS[day.weekday()]})"


def _footer(app_name: str, lender_name: str, phone: str, settings_url: str) -> str:
    return (
        f"\n\nお知らせメールの設定（日・時刻・停止）は次のページで変更できます。\n{settings_url}\n\n"
        f"このメールは送信専用です。お問い合わせはお客様サービスセンター（{phone}）まで。\n"
        f"{app_name}\n{lender_name}"
    )


def due_reminder_text(*, name: str, due: date, amount_due: int, paid: int, link: str, settings_url: str,
                      app_name: str, lender_name: str, phone: str) -> Notice:
    """The reminder: お客様のご返済期日は〇月〇日〇曜日です, with the amount due and a link."""
    left = max(0, amount_due - paid)
    paid_line = f"（お支払い済み {paid:,}円、残り {left:,}円）\n" if paid else ""
    body = (
        f"{name} 様\n\nお客様のご返済期日は {_jdate(due)} です。\n\n"
        f"ご返済額：{amount_due:,}円\n{paid_line}"
        f"期日の23時59分までのご入金が、今回のご返済に充当されます。\n\n"
        f"ご返済・残高の確認はこちらから：\n{link}"
        + _footer(app_name, lender_name, phone, settings_url)
    )
    return Notice("reminder_due", f"【{app_name}】ご返済期日（{due.month}月{due.day}日）のお知らせ", body)


def overdue_notice_text(*, name: str, missed: date, arrears: int, late_rate: str, link: str, settings_url: str,
                        app_name: str, lender_name: str, phone: str) -> Notice:
    """Sent instead of the reminder while a due date has been missed."""
    body = (
        f"{name} 様\n\n{_jdate(missed)}のご返済が確認できていません。\n\n"
        f"未払い額：{arrears:,}円\n\n"
        f"ご入金が確認できるまで、遅延損害金（年{late_rate}）がかかり、新たなお借入れはできません。\n"
        "すでにお支払いいただいた場合は、行き違いですのでご容赦ください。\n\n"
        f"ご返済はこちらから：\n{link}"
        + _footer(app_name, lender_name, phone, settings_url)
    )
    return Notice("reminder_overdue", f"【{app_name}】【重要】ご返済が確認できていません", body)
