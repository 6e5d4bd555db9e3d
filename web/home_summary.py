"""The home figures (``#home-summary``), built as markup in one pass. It is the piece htmx asks for after every
money movement, and a Jinja template spent more on its own bookkeeping (a context, an attribute look-up and an
escape per figure) than on the figures. ``home/_summary.html`` calls it, so the page and the piece are one.

Every figure carries ``data-testid`` and its raw value in ``data-value`` (architecture.md). Everything written
here is an integer, a date or one of our own labels, except the member's name and the status reason, which
are escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from db.loans import Account
from web.filters import jdate, rate

STATUS_LABELS = {"active": "ご利用中", "borrowing_stopped": "お借入れ停止中", "suspended": "ご利用停止中", "closed": "ご契約終了"}

NO_ACCOUNT = Markup(
    '<div id="home-summary" class="summary"><section class="panel"><h1 id="home-title">ホーム</h1>'
    "<p>ご契約の情報が見つかりません。お手数ですがお問い合わせください。</p></section></div>\n"
)


def _figure(label: str, testid: str, value: int) -> str:
    return f'    <dt>{label}</dt><dd data-testid="{testid}" data-value="{value}">{value:,}円</dd>\n'


def summary(account: Account | None, available: int) -> Markup:
    """The summary of ``account`` (None: the member has no contract) with ``available`` credit."""
    if account is None:
        return NO_ACCOUNT
    pos = account.position
    status = pos.status
    free_until = pos.contract.interest_free_until
    parts = [
        '<div id="home-summary" class="summary" hx-get="/home/summary" hx-trigger="money-moved from:body"'
        ' hx-swap="outerHTML">\n<section class="panel" aria-labelledby="home-title">\n'
        f'  <h1 id="home-title">{escape(account.member_name)} 様</h1>\n'
        f'  <p class="hint">{jdate(pos.as_of)} 現在</p>\n'
        f'  <p class="status status-{status}">ご利用状況：<strong data-testid="status" data-value="{status}">'
        f"{STATUS_LABELS[status]}</strong></p>\n"
    ]
    if pos.status_reason:
        parts.append(f'  <p class="notice" data-testid="status-reason">{escape(pos.status_reason)}</p>\n')
    if pos.payoff == 0 and pos.state.first_borrowed_on:
        parts.append('  <p class="ok paid-off" data-testid="paid-off">完済しました。ご利用ありがとうございました。</p>\n')
    parts.append(
        '  <p class="label">ご利用残高</p>\n'
        f'  <p class="big" data-testid="balance" data-value="{pos.balance}">{pos.balance:,}円</p>\n'
        '  <dl class="figures">\n'
        + _figure("ご利用可能額", "available-credit", available)
        + _figure("ご利用限度額", "limit", pos.limit)
        + f'    <dt>適用金利（実質年率）</dt><dd data-testid="rate" data-value="{pos.rate}">{rate(pos.rate)}</dd>\n'
        f'    <dt>Vポイント</dt><dd data-testid="points" data-value="{account.points}">{account.points:,}pt</dd>\n'
        "  </dl>\n"
    )
    if free_until and pos.as_of <= free_until:
        parts.append(f'  <p class="hint free" data-testid="interest-free-until" data-value="{free_until.isoformat()}">'
                     f"無利息期間：{jdate(free_until)}まで</p>\n")
    parts.append('</section>\n\n<section class="panel" aria-labelledby="due-title">\n  <h2 id="due-title">次回のご返済</h2>\n')
    if pos.next_due_date:
        due = pos.next_due_date
        parts.append(
            '  <dl class="figures">\n'
            f'    <dt>返済期日</dt><dd data-testid="next-due-date" data-value="{due.isoformat()}">{jdate(due)}</dd>\n'
            + _figure("ご返済額", "amount-due", pos.amount_due)
        )
        if pos.paid_toward_due:
            parts.append(_figure("お支払い済み", "paid-toward-due", pos.paid_toward_due))
        parts.append(_figure("返済期日までの利息", "interest-to-due-date", pos.interest_to_due_date))
        if pos.late_charge_to_due_date:
            parts.append(_figure("返済期日までの遅延損害金", "late-charge-to-due-date", pos.late_charge_to_due_date))
        parts.append("  </dl>\n")
    else:
        parts.append(
            '  <p data-testid="next-due-date" data-value="">現在、ご返済いただく金額はありません。</p>\n'
            '  <p class="hidden-figure" data-testid="amount-due" data-value="0" hidden>0円</p>\n'
            '  <p class="hidden-figure" data-testid="interest-to-due-date" data-value="0" hidden>0円</p>\n'
        )
    if pos.arrears:
        parts.append(f'  <p class="error" data-testid="arrears" data-value="{pos.arrears}">'
                     f"お支払いが遅れている金額：{pos.arrears:,}円（遅延損害金は別途）</p>\n")
    parts.append(
        '</section>\n\n<section class="panel" aria-labelledby="payoff-title">\n  <h2 id="payoff-title">本日完済する場合</h2>\n'
        '  <dl class="figures">\n'
        + _figure("完済金額", "payoff", pos.payoff)
        + _figure("うち本日までの利息", "accrued-interest", pos.accrued_interest)
    )
    if pos.late_charge:
        parts.append(_figure("うち遅延損害金", "late-charge", pos.late_charge))
    parts.append(
        "  </dl>\n"
        '  <p class="hint">利息は日割りで毎日増えます（1円未満切り捨て）。</p>\n'
        '</section>\n\n<nav class="actions" aria-label="お取引">\n'
    )
    if pos.can_borrow:
        parts.append('  <a class="button primary" href="/transfers/new">借入（振込）</a>\n')
    if pos.payoff:
        primary = "" if pos.can_borrow else " primary"
        parts.append(f'  <a class="button{primary}" href="/repayments/new">返済する</a>\n')
    parts.append('  <a class="button" href="/history">取引履歴を見る</a>\n')
    if pos.payoff:
        parts.append('  <a class="button" href="/simulator/mine" data-testid="simulator-link">返済シミュレーション</a>\n')
    parts.append("</nav>\n</div>\n")
    return Markup("".join(parts))
