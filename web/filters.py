"""Jinja filters: how money, rates and dates read in Japanese. JST only here, at the edge."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.profile import format_postcode

JST = ZoneInfo("Asia/Tokyo")
WEEKDAYS = "月火水木金土日"


def yen(amount: int) -> str:
    """12345 → '12,345円'."""
    return f"{amount:,}円"


def rate(hundredths: int) -> str:
    """1780 → '17.80%'."""
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def jdate(value: date | datetime) -> str:
    """2026-11-22 → '2026年11月22日(日)'; datetimes are shown in JST."""
    if isinstance(value, datetime):
        value = value.astimezone(JST).date()
    return f"{value.year}年{value.month}月{value.day}日({WEEKDAYS[value.weekday()]})"


def jdatetime(value: datetime) -> str:
    """An aware datetime → '2026年11月22日(日) 09:30' in JST."""
    local = value.astimezone(JST)
    return f"{jdate(local)} {local:%H:%M}"


def jweekday(number: int) -> str:
    """0 → '月' (datetime.weekday numbering)."""
    return WEEKDAYS[number]


def jtime(value: datetime) -> str:
    """An aware datetime → '7:00' in JST."""
    local = value.astimezone(JST)
    return f"{local.hour}:{local.minute:02d}"


def duration(seconds: int) -> str:
    """Time left, rounded up to the minute: 12345 → '3時間26分', 90000 → '1日1時間0分', 20 → '1分'."""
    minutes = -(-max(0, seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    text = f"{hours}時間{minutes}分" if days or hours else f"{minutes}分"
    return f"{days}日{text}" if days else text


def jspan(start: datetime, end: datetime) -> str:
    """A window in JST: '2026年11月23日(月) 0:00〜7:00', or with both dates when it ends on another day."""
    if start.astimezone(JST).date() == end.astimezone(JST).date():
        return f"{jdate(start)} {jtime(start)}〜{jtime(end)}"
    return f"{jdate(start)} {jtime(start)}〜{jdate(end)} {jtime(end)}"


def due_day_label(value: str | int) -> str:
    """'5' → '5日', 'end' (or 31) → '末日'."""
    return "末日" if str(value) in ("end", "31") else f"{value}日"


FILTERS = {"yen": yen, "rate": rate, "jdate": jdate, "jdatetime": jdatetime, "jtime": jtime, "jweekday": jweekday, "jspan": jspan,
           "duration": duration, "due_day_label": due_day_label, "postcode": format_postcode}
