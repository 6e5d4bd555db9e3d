"""Jinja filters: how money, rates and dates read in Japanese. JST only here, at the edge."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

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


FILTERS = {"yen": yen, "rate": rate, "jdate": jdate, "jdatetime": jdatetime}
