"""The one place that reads the wall clock. Everything else takes ``now`` as a parameter."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_OFFSET = re.compile(r"([+-])(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class Clock:
    """Aware UTC time. ``spec`` (dev only, from ``KAIIN_CLOCK``) fixes it or shifts it.

    - ``2027-01-04T06:30:00+09:00`` — frozen at that instant (deterministic demos and browser tests);
    - ``+3h``, ``-90m``, ``+2d`` — real time shifted by that much (time still runs).
    """

    def __init__(self, spec: str = "") -> None:
        self.spec = spec.strip()
        self._fixed: datetime | None = None
        self._shift = timedelta()
        if not self.spec:
            return
        if match := _OFFSET.fullmatch(self.spec):
            sign, amount, unit = match.groups()
            self._shift = timedelta(**{_UNITS[unit]: int(amount)}) * (-1 if sign == "-" else 1)
            return
        try:
            fixed = datetime.fromisoformat(self.spec)
        except ValueError:
            raise ValueError(f"KAIIN_CLOCK を読めません: {self.spec!r}") from None
        if fixed.tzinfo is None:
            raise ValueError("KAIIN_CLOCK にはタイムゾーン (+09:00 など) が必要です")
        self._fixed = fixed.astimezone(timezone.utc)

    def now(self) -> datetime:
        if self._fixed is not None:
            return self._fixed
        return datetime.now(timezone.utc) + self._shift
