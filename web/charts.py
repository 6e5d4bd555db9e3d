"""The simulator's result for a worked schedule (figures, server-drawn SVG chart, month-by-month table and
the note under it), built as markup in one pass: every keystroke with new inputs draws a new schedule of up
to ``simulator_months_max`` rows, and a Jinja template spends more on its own bookkeeping than on the
figures. A keystroke's piece (``result_piece``) leaves the table out, to be fetched when it is opened.
``simulator/_result.html`` keeps the explained errors and calls these for the rest.

Every value written here is an integer, a date or a coordinate computed here: nothing typed by anyone
(so nothing to escape). The figures come from the domain."""

from __future__ import annotations

import functools
from collections import OrderedDict
from datetime import date
from typing import Callable, TypeVar

from markupsafe import Markup, escape

from domain.interest import format_rate
from domain.policy import MONTH_END
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


_HEIGHT_TENTHS = round((BOTTOM - TOP) * 10)
#: The y of a value that is ``i`` tenths of the chart's height above nothing, formatted, for each ``i``.
_YS = tuple(f"{(BOTTOM * 10 - i) / 10:.1f}" for i in range(_HEIGHT_TENTHS + 1))

_SVG_HEAD = (f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title" data-testid="balance-chart">\n'
             f'      <title id="chart-title">ご利用残高の推移：')
_SVG_AXIS = (f'回で0円</title>\n      <line class="axis" x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}"/>\n'
             f'      <polygon class="area" points="{LEFT:.1f},{BOTTOM:.1f} ')
_SVG_LINE = f'{BOTTOM:.1f}"/>\n      <polyline class="line" points="'
_SVG_LABEL = f'" fill="none"/>\n      <text class="label" x="{LEFT}" y="{TOP - 2}">'
_SVG_START = f'円</text>\n      <text class="label" x="{LEFT}" y="{HEIGHT - 6}">'
_SVG_END = f'月</text>\n      <text class="label end" x="{RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'


def balance_svg(schedule: Schedule) -> Markup:
    """The principal left after each payment, from the start (month 0) to zero, as an ``<svg>`` element."""
    return Markup(_svg(schedule))


def _svg(schedule: Schedule) -> str:
    outline, balance = schedule.outline, schedule.balance
    months, later = outline.months, outline.balances
    twice_top = 2 * ((max(balance, *later) if later else balance) or 1)
    half, xs, ys, height = twice_top // 2, _xs(max(1, months)), _YS, 2 * _HEIGHT_TENTHS
    # y = BOTTOM - (BOTTOM - TOP) × value ÷ top, in tenths rounded half up, in integers (no float formatting)
    points = " ".join([xs[0] + ys[(height * balance + half) // twice_top],
                       *[x + ys[(height * value + half) // twice_top] for x, value in zip(xs[1:], later)]])
    start, last = schedule.start, (outline.last_date or schedule.start)
    amount = f"{balance:,}"
    return (f'{_SVG_HEAD}{amount}円から{months}{_SVG_AXIS}{points} {xs[months]}{_SVG_LINE}{points}{_SVG_LABEL}'
            f'{amount}{_SVG_START}{start.year}年{start.month}{_SVG_END}{last.year}年{last.month}月</text>\n    </svg>')


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


TABLE_HEAD = ('<table>\n      <thead><tr><th scope="col">回</th><th scope="col">ご返済日</th><th scope="col">ご返済額</th>'
              '<th scope="col">うち利息</th><th scope="col">うち元金</th><th scope="col">残高</th></tr></thead>\n')


def schedule_table(schedule: Schedule) -> Markup:
    """The month-by-month ``<table>``: inside the result on a page, or alone when a keystroke's collapsed
    table is opened (``simulator/_schedule.html``)."""
    return Markup(f'{TABLE_HEAD}      <tbody>\n      {schedule_rows(schedule)}\n      </tbody>\n    </table>')


SCHEDULE_PATHS = {False: "/simulator/schedule", True: "/simulator/mine/schedule"}


def schedule_url(outcome: Outcome, member: bool) -> str:
    """Where the table of ``outcome`` is fetched from: the same schedule asked as "paying ¥X a month" (in
    mode (b) the payment found; the same rows), with the inputs as the simulator reads them, so every way of
    typing them gets the same piece. The member's amount and rate are their own, so only the payment."""
    plan = outcome.schedule
    assert plan is not None
    if member:
        return f"{SCHEDULE_PATHS[True]}?mode={MODE_PAYMENT}&amp;payment={plan.payment}"
    return f"{_public_schedule_path(plan.balance, plan.rate, outcome.due_day)}&amp;payment={plan.payment}"


@functools.lru_cache(maxsize=256)
def _public_schedule_path(amount: int, rate: int, due_day: int) -> str:
    return (f"{SCHEDULE_PATHS[False]}?mode={MODE_PAYMENT}&amp;amount={amount}&amp;rate={format_rate(rate).removesuffix('%')}"
            f"&amp;due_day={'end' if due_day == MONTH_END else due_day}")


@functools.lru_cache(maxsize=1024)
def _day_figure(day: date) -> str:
    """The payoff date's figure: its ISO value and the date as shown (the same few due dates come again)."""
    return f'data-value="{day.isoformat()}">{jdate(day)}'


@functools.lru_cache(maxsize=256)
def _note(start: date, balance: int, due_day: int, owed: int | None) -> str:
    """The note under a result (``owed``: the member version's interest owed today; None for the public one):
    the same for every payment tried on one loan."""
    due_text = "毎月末日" if due_day == MONTH_END else f"毎月{due_day}日"
    if owed is not None:
        owed_text = f"（ほかに本日までのお利息{owed:,}円）" if owed else ""
        return (f"{jdate(start)}時点のご利用残高{balance:,}円{owed_text}から、追加のお借入れをせずに{due_text}"
                "（休業日は翌営業日）に遅れずにご返済した場合の試算です。本日までのお利息は初回のご返済に含まれます。")
    return (f"{jdate(start)}に{balance:,}円をお借入れし、{due_text}（休業日は翌営業日）に遅れずにご返済した場合の"
            "試算です。お利息は日割り（年365日、うるう年は366日）で計算しています。追加のお借入れがあると変わります。")


def result_section(outcome: Outcome, member: bool, *, lazy: bool = False, opened: bool = False) -> Markup:
    """The ``#sim-result`` section for a worked schedule (``member``: the version from today's position):
    figures, chart, the month-by-month table (collapsed) and the note under it.

    ``lazy`` (a keystroke's piece): the table is not sent; the collapsed ``<details>`` fetches it from
    ``schedule_url`` the first time it is opened (htmx, ``toggle once``), and holds a link to the page that
    shows it until then. Most keystrokes are never opened, and the rows are most of the markup.
    ``opened``: the table shown open (the page that link asks for)."""
    return Markup(_section(outcome, member, lazy, opened))


def _section(outcome: Outcome, member: bool, lazy: bool, opened: bool) -> str:
    plan = outcome.schedule
    assert plan is not None and plan.months
    months, total_interest, total_paid, last_payment, last_date, _ = plan.outline
    monthly = (f'    <dt>毎月のご返済額</dt>\n    <dd class="big" data-testid="monthly-payment" data-value="{plan.payment}">'
               f'{plan.payment:,}円</dd>\n') if outcome.mode == MODE_MONTHS else ""
    note = _note(plan.start, plan.balance, outcome.due_day, plan.owed_at_start if member else None)
    if lazy:
        url = schedule_url(outcome, member)
        details = (f'  <details class="schedule" hx-get="{url}" hx-trigger="toggle once" hx-target="find #sim-schedule"'
                   f' hx-swap="innerHTML">\n    <summary>毎月の返済予定（{months}回）</summary>\n'
                   f'    <div id="sim-schedule" class="table-scroll" aria-live="off">\n'
                   f'    <p><a href="{url}">毎月の返済予定を表示する</a></p>\n    </div>\n  </details>\n')
    else:
        details = (f'  <details class="schedule"{" open" if opened else ""}>\n    <summary>毎月の返済予定（{months}回）</summary>\n'
                   f'    <div class="table-scroll">\n    {schedule_table(plan)}\n    </div>\n  </details>\n')
    return (
        f'<section id="sim-result" class="panel sim-result" aria-labelledby="sim-result-title" aria-live="polite"\n'
        f'         data-testid="sim-result" data-state="ok">\n  <h2 id="sim-result-title">シミュレーション結果</h2>\n'
        f'  <dl class="figures sim-figures">\n{monthly}'
        f'    <dt>返済回数</dt>\n    <dd data-testid="months" data-value="{months}">{_months_text(months, outcome.mode)}</dd>\n'
        f'    <dt>お利息の合計</dt>\n    <dd data-testid="total-interest" data-value="{total_interest}">{total_interest:,}円</dd>\n'
        f'    <dt>お支払い総額</dt>\n    <dd data-testid="total-paid" data-value="{total_paid}">{total_paid:,}円</dd>\n'
        f'    <dt>最終回のご返済額</dt>\n    <dd data-testid="last-payment" data-value="{last_payment}">{last_payment:,}円</dd>\n'
        f'    <dt>完済予定日</dt>\n    <dd data-testid="last-date" {_day_figure(last_date)}</dd>\n'
        f'  </dl>\n'
        f'  <figure class="chart">\n    {_svg(plan)}\n'
        f'    <figcaption class="hint">ご利用残高（元金）の推移</figcaption>\n  </figure>\n'
        f'{details}'
        f'  <p class="hint">{note}</p>\n'
        f'</section>'
    )


def result_piece(outcome: Outcome, member: bool) -> bytes:
    """A keystroke's answer for a worked schedule, built here without a template (the template's own cost
    would be a large part of it) and encoded once, as it is remembered and sent again: the section with its
    table left to be fetched, and the field messages (all cleared). The markup ``simulator/_result.html``
    renders for it."""
    return f"{_section(outcome, member, True, False)}\n{field_messages_oob(outcome, member)}".encode()


PUBLIC_FIELDS = ("mode", "amount", "rate", "payment", "months", "due_day")
MEMBER_FIELDS = ("mode", "payment", "months")


def field_messages_oob(outcome: Outcome, member: bool) -> Markup:
    """Each field's message (empty when fine), swapped out of band into the form that a keystroke does not
    replace; the markup of ``simulator/_field_error.html``. Messages are escaped."""
    errors = outcome.errors
    if not errors:
        return _NO_MESSAGES[member]
    return Markup("".join([
        f'<p id="err-{name}" class="field-error" hx-swap-oob="true">{escape(errors[name]) if name in errors else ""}</p>'
        for name in (MEMBER_FIELDS if member else PUBLIC_FIELDS)
    ]))


_NO_MESSAGES = {member: Markup("".join([f'<p id="err-{name}" class="field-error" hx-swap-oob="true"></p>' for name in fields]))
                for member, fields in ((False, PUBLIC_FIELDS), (True, MEMBER_FIELDS))}


#: What the simulator's templates call (``web.app`` adds these to the Jinja globals).
TEMPLATE_GLOBALS = {"result_section": result_section, "schedule_table": schedule_table,
                    "field_messages_oob": field_messages_oob}
