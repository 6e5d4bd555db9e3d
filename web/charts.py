"""The simulator's server-drawn SVG chart (geometry only) and schedule rows; the figures come from the domain."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from markupsafe import Markup

from domain.simulator import Schedule

WIDTH = 320
HEIGHT = 140
PAD_LEFT = 8
PAD_RIGHT = 8
PAD_TOP = 12
PAD_BOTTOM = 24


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    points: str  #: the balance line, "x,y x,y …"
    area: str  #: the same line closed down to the axis, for the fill
    baseline: float  #: y of zero
    left: float
    right: float
    top: float


@functools.lru_cache(maxsize=1024)  # a schedule is immutable: remembered ones are drawn once
def balance_chart(schedule: Schedule) -> Chart:
    """The principal left after each payment, from the start (month 0) to zero."""
    balances = [schedule.balance] + [row.balance for row in schedule.rows]
    steps = max(1, len(balances) - 1)
    top_value = max(balances) or 1
    left, right = PAD_LEFT, WIDTH - PAD_RIGHT
    top, bottom = PAD_TOP, HEIGHT - PAD_BOTTOM
    coords = [
        (left + (right - left) * i / steps, bottom - (bottom - top) * value / top_value)
        for i, value in enumerate(balances)
    ]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = f"{left:.1f},{bottom:.1f} {points} {coords[-1][0]:.1f},{bottom:.1f}"
    return Chart(WIDTH, HEIGHT, points, area, float(bottom), float(left), float(right), float(top))


@functools.lru_cache(maxsize=1024)
def schedule_rows(schedule: Schedule) -> Markup:
    """The ``<tr>`` rows of the month-by-month table, built in one pass (a keystroke renders up to
    ``simulator_months_max`` of them; every cell is an integer or a date, nothing typed by anyone)."""
    return Markup("".join(
        f"<tr><td>{r.number}</td><td>{r.on.year}/{r.on.month}/{r.on.day}</td><td>{r.payment:,}</td>"
        f"<td>{r.interest:,}</td><td>{r.principal:,}</td><td>{r.balance:,}</td></tr>"
        for r in schedule.rows
    ))
