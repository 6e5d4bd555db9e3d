"""The home figures as markup (``web/home_summary.py``): the same elements, attributes and text the Jinja
template made (compared with the whitespace between tags collapsed), for positions built by the loan engine."""

from __future__ import annotations

import re
from datetime import date

import pytest

from db.holidays import business_calendar
from db.loans import Account
from domain.ledger import Entry, Kind
from domain.loan import Contract, Position, replay
from web.app import _templates
from web.home_summary import summary
from web.settings import Settings


def cases():
    settings = Settings(env="test")
    policy = settings.loan_policy()
    cal = business_calendar(policy)
    def account(name, contract, entries, as_of, points=0):
        state = replay(contract, entries, policy, cal)
        pos = Position.of(contract, state, as_of, policy, cal)
        return Account(member_id=1, member_name=name, member_no="M0001", points=points, contract_id=1,
                       contract_no="C0001", opened_on=date(2026, 1, 5), position=pos, last_entry_id=len(entries))
    active = Contract(limit=500_000, rate=1780, due_day=25, interest_free_until=date(2026, 12, 15))
    stopped = Contract(limit=500_000, rate=1800, due_day=5)
    closed = Contract(limit=300_000, rate=1500, due_day=31, status="closed", status_reason="ご契約は終了しました。")
    borrow = lambda d, amt: Entry(Kind.BORROWING, d, amt, principal=amt)
    return [
        ("new member in the interest-free days", account("山田 太郎", active, [borrow(date(2026, 11, 15), 50_000)], date(2026, 11, 20), 1234), 450_000),
        ("overdue, late charge running", account("佐藤 <花子> & \"二郎\"", stopped, [borrow(date(2026, 8, 1), 300_000)], date(2026, 11, 20)), 0),
        ("paid off", account("鈴木 一郎", Contract(limit=500_000, rate=1500, due_day=15), [borrow(date(2026, 9, 1), 10_000), Entry(Kind.REPAYMENT, date(2026, 9, 1), 10_000, principal=-10_000)], date(2026, 11, 20)), 500_000),
        ("closed, no borrowing yet", account("高橋 'Q'", closed, [], date(2026, 11, 20)), 0),
        ("no contract", None, 0),
    ]


#: what ``home/_summary.html`` rendered before the figures were built in Python, whitespace between tags collapsed
EXPECTED = {
    'new member in the interest-free days': (
        '<div id="home-summary" class="summary" hx-get="/home/summary" hx-trigger="money-moved from:body" hx-'
        'swap="outerHTML"><section class="panel" aria-labelledby="home-title"><h1 id="home-title">山田 太郎 様</h1'
        '><p class="hint">2026年11月20日(金) 現在</p><p class="status status-active">ご利用状況：<strong data-testid="sta'
        'tus" data-value="active">ご利用中</strong></p><p class="label">ご利用残高</p><p class="big" data-testid="bala'
        'nce" data-value="50000">50,000円</p><dl class="figures"><dt>ご利用可能額</dt><dd data-testid="available-cre'
        'dit" data-value="450000">450,000円</dd><dt>ご利用限度額</dt><dd data-testid="limit" data-value="500000">500'
        ',000円</dd><dt>適用金利（実質年率）</dt><dd data-testid="rate" data-value="1780">17.80%</dd><dt>Vポイント</dt><dd d'
        'ata-testid="points" data-value="1234">1,234pt</dd></dl><p class="hint free" data-testid="interest-fr'
        'ee-until" data-value="2026-12-15">無利息期間：2026年12月15日(火)まで</p></section><section class="panel" aria-la'
        'belledby="due-title"><h2 id="due-title">次回のご返済</h2><dl class="figures"><dt>返済期日</dt><dd data-testid='
        '"next-due-date" data-value="2026-12-25">2026年12月25日(金)</dd><dt>ご返済額</dt><dd data-testid="amount-due"'
        ' data-value="2000">2,000円</dd><dt>返済期日までの利息</dt><dd data-testid="interest-to-due-date" data-value="2'
        '43">243円</dd></dl></section><section class="panel" aria-labelledby="payoff-title"><h2 id="payoff-tit'
        'le">本日完済する場合</h2><dl class="figures"><dt>完済金額</dt><dd data-testid="payoff" data-value="50000">50,000'
        '円</dd><dt>うち本日までの利息</dt><dd data-testid="accrued-interest" data-value="0">0円</dd></dl><p class="hint'
        '">利息は日割りで毎日増えます（1円未満切り捨て）。</p></section><nav class="actions" aria-label="お取引"><a class="button prima'
        'ry" href="/transfers/new">借入（振込）</a><a class="button" href="/repayments/new">返済する</a><a class="butto'
        'n" href="/history">取引履歴を見る</a><a class="button" href="/simulator/mine" data-testid="simulator-link">'
        '返済シミュレーション</a></nav></div>\n'
    ),
    'overdue, late charge running': (
        '<div id="home-summary" class="summary" hx-get="/home/summary" hx-trigger="money-moved from:body" hx-'
        'swap="outerHTML"><section class="panel" aria-labelledby="home-title"><h1 id="home-title">佐藤 &lt;花子&g'
        't; &amp; &#34;二郎&#34; 様</h1><p class="hint">2026年11月20日(金) 現在</p><p class="status status-borrowing_s'
        'topped">ご利用状況：<strong data-testid="status" data-value="borrowing_stopped">お借入れ停止中</strong></p><p cla'
        'ss="notice" data-testid="status-reason">9月7日のご返済が確認できていません（未払い 33,000円）。ご返済いただくまで、新たなお借入れはできません。</p>'
        '<p class="label">ご利用残高</p><p class="big" data-testid="balance" data-value="300000">300,000円</p><dl c'
        'lass="figures"><dt>ご利用可能額</dt><dd data-testid="available-credit" data-value="0">0円</dd><dt>ご利用限度額</d'
        't><dd data-testid="limit" data-value="500000">500,000円</dd><dt>適用金利（実質年率）</dt><dd data-testid="rate"'
        ' data-value="1800">18.00%</dd><dt>Vポイント</dt><dd data-testid="points" data-value="0">0pt</dd></dl></s'
        'ection><section class="panel" aria-labelledby="due-title"><h2 id="due-title">次回のご返済</h2><dl class="f'
        'igures"><dt>返済期日</dt><dd data-testid="next-due-date" data-value="2026-12-07">2026年12月7日(月)</dd><dt>ご'
        '返済額</dt><dd data-testid="amount-due" data-value="11000">11,000円</dd><dt>返済期日までの利息</dt><dd data-testi'
        'd="interest-to-due-date" data-value="5473">5,473円</dd><dt>返済期日までの遅延損害金</dt><dd data-testid="late-cha'
        'rge-to-due-date" data-value="14958">14,958円</dd></dl><p class="error" data-testid="arrears" data-val'
        'ue="33000">お支払いが遅れている金額：33,000円（遅延損害金は別途）</p></section><section class="panel" aria-labelledby="payof'
        'f-title"><h2 id="payoff-title">本日完済する場合</h2><dl class="figures"><dt>完済金額</dt><dd data-testid="payoff'
        '" data-value="317637">317,637円</dd><dt>うち本日までの利息</dt><dd data-testid="accrued-interest" data-value="'
        '5473">5,473円</dd><dt>うち遅延損害金</dt><dd data-testid="late-charge" data-value="12164">12,164円</dd></dl><'
        'p class="hint">利息は日割りで毎日増えます（1円未満切り捨て）。</p></section><nav class="actions" aria-label="お取引"><a class='
        '"button primary" href="/repayments/new">返済する</a><a class="button" href="/history">取引履歴を見る</a><a clas'
        's="button" href="/simulator/mine" data-testid="simulator-link">返済シミュレーション</a></nav></div>\n'
    ),
    'paid off': (
        '<div id="home-summary" class="summary" hx-get="/home/summary" hx-trigger="money-moved from:body" hx-'
        'swap="outerHTML"><section class="panel" aria-labelledby="home-title"><h1 id="home-title">鈴木 一郎 様</h1'
        '><p class="hint">2026年11月20日(金) 現在</p><p class="status status-active">ご利用状況：<strong data-testid="sta'
        'tus" data-value="active">ご利用中</strong></p><p class="ok paid-off" data-testid="paid-off">完済しました。ご利用あり'
        'がとうございました。</p><p class="label">ご利用残高</p><p class="big" data-testid="balance" data-value="0">0円</p><d'
        'l class="figures"><dt>ご利用可能額</dt><dd data-testid="available-credit" data-value="500000">500,000円</dd'
        '><dt>ご利用限度額</dt><dd data-testid="limit" data-value="500000">500,000円</dd><dt>適用金利（実質年率）</dt><dd data'
        '-testid="rate" data-value="1500">15.00%</dd><dt>Vポイント</dt><dd data-testid="points" data-value="0">0p'
        't</dd></dl></section><section class="panel" aria-labelledby="due-title"><h2 id="due-title">次回のご返済</h'
        '2><p data-testid="next-due-date" data-value="">現在、ご返済いただく金額はありません。</p><p class="hidden-figure" data-'
        'testid="amount-due" data-value="0" hidden>0円</p><p class="hidden-figure" data-testid="interest-to-du'
        'e-date" data-value="0" hidden>0円</p></section><section class="panel" aria-labelledby="payoff-title">'
        '<h2 id="payoff-title">本日完済する場合</h2><dl class="figures"><dt>完済金額</dt><dd data-testid="payoff" data-va'
        'lue="0">0円</dd><dt>うち本日までの利息</dt><dd data-testid="accrued-interest" data-value="0">0円</dd></dl><p cl'
        'ass="hint">利息は日割りで毎日増えます（1円未満切り捨て）。</p></section><nav class="actions" aria-label="お取引"><a class="but'
        'ton primary" href="/transfers/new">借入（振込）</a><a class="button" href="/history">取引履歴を見る</a></nav></di'
        'v>\n'
    ),
    'closed, no borrowing yet': (
        '<div id="home-summary" class="summary" hx-get="/home/summary" hx-trigger="money-moved from:body" hx-'
        'swap="outerHTML"><section class="panel" aria-labelledby="home-title"><h1 id="home-title">高橋 &#39;Q&#'
        '39; 様</h1><p class="hint">2026年11月20日(金) 現在</p><p class="status status-closed">ご利用状況：<strong data-te'
        'stid="status" data-value="closed">ご契約終了</strong></p><p class="notice" data-testid="status-reason">ご契'
        '約は終了しました。</p><p class="label">ご利用残高</p><p class="big" data-testid="balance" data-value="0">0円</p><dl'
        ' class="figures"><dt>ご利用可能額</dt><dd data-testid="available-credit" data-value="0">0円</dd><dt>ご利用限度額<'
        '/dt><dd data-testid="limit" data-value="300000">300,000円</dd><dt>適用金利（実質年率）</dt><dd data-testid="rat'
        'e" data-value="1500">15.00%</dd><dt>Vポイント</dt><dd data-testid="points" data-value="0">0pt</dd></dl><'
        '/section><section class="panel" aria-labelledby="due-title"><h2 id="due-title">次回のご返済</h2><p data-te'
        'stid="next-due-date" data-value="">現在、ご返済いただく金額はありません。</p><p class="hidden-figure" data-testid="amou'
        'nt-due" data-value="0" hidden>0円</p><p class="hidden-figure" data-testid="interest-to-due-date" data'
        '-value="0" hidden>0円</p></section><section class="panel" aria-labelledby="payoff-title"><h2 id="payo'
        'ff-title">本日完済する場合</h2><dl class="figures"><dt>完済金額</dt><dd data-testid="payoff" data-value="0">0円</'
        'dd><dt>うち本日までの利息</dt><dd data-testid="accrued-interest" data-value="0">0円</dd></dl><p class="hint">利'
        '息は日割りで毎日増えます（1円未満切り捨て）。</p></section><nav class="actions" aria-label="お取引"><a class="button" href="/'
        'history">取引履歴を見る</a></nav></div>\n'
    ),
    'no contract': (
        '<div id="home-summary" class="summary"><section class="panel"><h1 id="home-title">ホーム</h1><p>ご契約の情報が'
        '見つかりません。お手数ですがお問い合わせください。</p></section></div>\n'
    ),
}


def collapsed(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


@pytest.mark.parametrize("name, account, available", cases(), ids=[case[0] for case in cases()])
def test_the_figures_are_the_markup_the_template_made(name, account, available):
    assert collapsed(summary(account, available)) == EXPECTED[name]


def test_the_page_and_the_piece_are_the_same_markup():
    name, account, available = cases()[1]
    template = _templates(Settings(env="test")).engine.get_template("home/_summary.html")
    assert template.render(account=account, available=available) == str(summary(account, available))


def test_the_name_and_the_reason_are_escaped():
    html = str(summary(cases()[1][1], 0))
    assert "佐藤 &lt;花子&gt; &amp; &#34;二郎&#34; 様" in html and "<花子>" not in html
