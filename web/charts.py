"""The simulator's result for a worked schedule (figures, server-drawn SVG chart, month-by-month table and
the note under it), built as markup in one pass: every keystroke with new inputs draws a new schedule of up
to ``simulator_months_max`` rows, and a Jinja template spends more on its own bookkeeping than on the
figures. ``simulator/_result.html`` keeps the frame, the explained errors and the field messages.

Every value written here is an integer, a date or a coordinate computed here: nothing typed by anyone
(so nothing to escape). The figures come from the domain."""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Callable, TypeVar

from markupsafe import Markup, escape

from domain.simulator import MODE_MONTHS, MODE_PAYMENT, Outcome, Schedule
from web.filters import jdate

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


def _months_text(months: int, mode: str) -> str:
    if mode != MODE_PAYMENT or months < 12:
        return f"{months}回"
    years, rest = divmod(months, 12)
    return f"{months}回<small>（{years}年{f'{rest}か月' if rest else ''}）</small>"


def schedule_result(outcome: Outcome, member: bool) -> Markup:
    """What ``#sim-result`` shows for a worked schedule (``member``: the version from today's position)."""
    plan = outcome.schedule
    assert plan is not None and plan.rows
    rows = plan.rows
    months, last = len(rows), rows[-1]
    total_interest = sum(row.interest for row in rows)
    total_paid = sum(row.payment for row in rows)
    monthly = (f'    <dt>毎月のご返済額</dt>\n    <dd class="big" data-testid="monthly-payment" data-value="{plan.payment}">'
               f'{plan.payment:,}円</dd>\n') if outcome.mode == MODE_MONTHS else ""
    due_text = "毎月末日" if outcome.due_day == 31 else f"毎月{outcome.due_day}日"
    if member:
        owed = f"（ほかに本日までのお利息{plan.owed_at_start:,}円）" if plan.owed_at_start else ""
        note = (f"{jdate(plan.start)}時点のご利用残高{plan.balance:,}円{owed}から、追加のお借入れをせずに{due_text}"
                "（休業日は翌営業日）に遅れずにご返済した場合の試算です。本日までのお利息は初回のご返済に含まれます。")
    else:
        note = (f"{jdate(plan.start)}に{plan.balance:,}円をお借入れし、{due_text}（休業日は翌営業日）に遅れずにご返済した場合の"
                "試算です。お利息は日割り（年365日、うるう年は366日）で計算しています。追加のお借入れがあると変わります。")
    return Markup(
        f'  <dl class="figures sim-figures">\n{monthly}'
        f'    <dt>返済回数</dt>\n    <dd data-testid="months" data-value="{months}">{_months_text(months, outcome.mode)}</dd>\n'
        f'    <dt>お利息の合計</dt>\n    <dd data-testid="total-interest" data-value="{total_interest}">{total_interest:,}円</dd>\n'
        f'    <dt>お支払い総額</dt>\n    <dd data-testid="total-paid" data-value="{total_paid}">{total_paid:,}円</dd>\n'
        f'    <dt>最終回のご返済額</dt>\n    <dd data-testid="last-payment" data-value="{last.payment}">{last.payment:,}円</dd>\n'
        f'    <dt>完済予定日</dt>\n    <dd data-testid="last-date" data-value="{last.on.isoformat()}">{jdate(last.on)}</dd>\n'
        f'  </dl>\n'
        f'  <figure class="chart">\n    {balance_svg(plan)}\n'
        f'    <figcaption class="hint">ご利用残高（元金）の推移</figcaption>\n  </figure>\n'
        f'  <details class="schedule">\n    <summary>毎月の返済予定（{months}回）</summary>\n'
        f'    <div class="table-scroll">\n    <table>\n'
        f'      <thead><tr><th scope="col">回</th><th scope="col">ご返済日</th><th scope="col">ご返済額</th>'
        f'<th scope="col">うち利息</th><th scope="col">うち元金</th><th scope="col">残高</th></tr></thead>\n'
        f'      <tbody>\n      {schedule_rows(plan)}\n      </tbody>\n    </table>\n    </div>\n  </details>\n'
        f'  <p class="hint">{note}</p>\n'
    )


PUBLIC_FIELDS = ("mode", "amount", "rate", "payment", "months", "due_day")
MEMBER_FIELDS = ("mode", "payment", "months")


def field_messages_oob(outcome: Outcome, member: bool) -> Markup:
    """Each field's message (empty when fine), swapped out of band into the form that a keystroke does not
    replace; the markup of ``simulator/_field_error.html``. Messages are escaped."""
    errors = outcome.errors
    return Markup("".join([
        f'<p id="err-{name}" class="field-error" hx-swap-oob="true">{escape(errors[name]) if name in errors else ""}</p>'
        for name in (MEMBER_FIELDS if member else PUBLIC_FIELDS)
    ]))
