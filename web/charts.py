"""Small server-drawn SVG charts: geometry only (the figures come from the domain)."""

from __future__ import annotations

from dataclasses import dataclass

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
