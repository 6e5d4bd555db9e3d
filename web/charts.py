"""The simulator's server-drawn SVG chart and schedule rows, built as markup in one pass each (a keystroke
draws a new schedule: up to ``simulator_months_max`` rows and points); the figures come from the domain.

Every value written here is an integer, a date or a coordinate computed here: nothing typed by anyone."""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Callable, TypeVar

from markupsafe import Markup

from domain.simulator import Schedule

WIDTH = 320
HEIGHT = 140
PAD_LEFT = 8
PAD_RIGHT = 8
PAD_TOP = 12
PAD_BOTTOM = 24

LEFT, RIGHT = float(PAD_LEFT), float(WIDTH - PAD_RIGHT)
TOP, BOTTOM = float(PAD_TOP), float(HEIGHT - PAD_BOTTOM)

T = TypeVar("T")


def _by_identity(size: int) -> Callable[[Callable[[Schedule], T]], Callable[[Schedule], T]]:
    """Remember the result for the last ``size`` schedules by identity (a schedule is immutable; the full page
    draws a remembered outcome again): no hashing of a whole schedule on every new one."""

    def decorate(draw: Callable[[Schedule], T]) -> Callable[[Schedule], T]:
        items: OrderedDict[int, tuple[Schedule, T]] = OrderedDict()

        @functools.wraps(draw)
        def remembered(schedule: Schedule) -> T:
            found = items.get(id(schedule))
            if found is not None and found[0] is schedule:
                return found[1]
            result = items[id(schedule)] = (schedule, draw(schedule))
            if len(items) > size:
                items.popitem(last=False)
            return result[1]

        return remembered

    return decorate


@functools.lru_cache(maxsize=256)
def _xs(steps: int) -> tuple[str, ...]:
    """The x of each month (0 … ``steps``), formatted: the same for every schedule of that length."""
    return tuple(f"{LEFT + (RIGHT - LEFT) * i / steps:.1f}," for i in range(steps + 1))


@_by_identity(1024)
def balance_svg(schedule: Schedule) -> Markup:
    """The principal left after each payment, from the start (month 0) to zero, as an ``<svg>`` element."""
    rows = schedule.rows
    balances = [schedule.balance, *(row.balance for row in rows)]
    steps = max(1, len(balances) - 1)
    top_value = max(balances) or 1
    height = BOTTOM - TOP
    xs = _xs(steps)
    points = " ".join([x + f"{BOTTOM - height * value / top_value:.1f}" for x, value in zip(xs, balances)])
    last_x = xs[len(balances) - 1]
    area = f"{LEFT:.1f},{BOTTOM:.1f} {points} {last_x}{BOTTOM:.1f}"
    start, last = schedule.start, (rows[-1].on if rows else schedule.start)
    return Markup(
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title" data-testid="balance-chart">\n'
        f'      <title id="chart-title">ご利用残高の推移：{schedule.balance:,}円から{len(rows)}回で0円</title>\n'
        f'      <line class="axis" x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}"/>\n'
        f'      <polygon class="area" points="{area}"/>\n'
        f'      <polyline class="line" points="{points}" fill="none"/>\n'
        f'      <text class="label" x="{LEFT}" y="{TOP - 2}">{schedule.balance:,}円</text>\n'
        f'      <text class="label" x="{LEFT}" y="{HEIGHT - 6}">{start.year}年{start.month}月</text>\n'
        f'      <text class="label end" x="{RIGHT}" y="{HEIGHT - 6}" text-anchor="end">{last.year}年{last.month}月</text>\n'
        f'    </svg>'
    )


@_by_identity(1024)
def schedule_rows(schedule: Schedule) -> Markup:
    """The ``<tr>`` rows of the month-by-month table."""
    return Markup("".join([
        f"<tr><td>{number}</td><td>{on.year}/{on.month}/{on.day}</td><td>{payment:,}</td>"
        f"<td>{interest:,}</td><td>{principal:,}</td><td>{balance:,}</td></tr>"
        for number, on, payment, interest, principal, balance in schedule.rows
    ]))
