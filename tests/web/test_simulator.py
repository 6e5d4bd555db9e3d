"""The public simulator over HTTP: full page vs the live result piece, bad input on every field, no JS."""

from __future__ import annotations

import re
from datetime import date

import pytest
from litestar.testing import TestClient

from db.holidays import business_calendar
from domain.simulator import simulate_months, simulate_payment
from tests.conftest import csrf_token
from web.app import create_app

TODAY = "2025-06-10T12:00:00+09:00"
LIVE = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Target": "section#sim-result"}
FORM = {"mode": "payment", "amount": "100000", "rate": "17.8", "payment": "4000", "months": "36", "due_day": "15"}


@pytest.fixture
def sim(settings):
    """A client whose clock stands on 2025-06-10 (JST), so schedules are known."""
    with TestClient(create_app(settings.replace(clock=TODAY)), base_url="http://testserver.local") as client:
        yield client


def post(client, form, headers=None):
    """The form as it is sent: a query for htmx keystrokes (``LIVE``), a POST from the button without JS."""
    if headers is LIVE:
        return client.get("/simulator", params=form, headers=LIVE)
    return client.post("/simulator", data={**form, "_csrf_token": csrf_token(client)}, headers=headers or {})


def figure(html: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}" data-value="(\d+)"', html)
    assert match, f"{testid} missing"
    return int(match.group(1))


SCHEDULE = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Target": "div#sim-schedule"}


def schedule_url(html: str) -> str:
    """Where a keystroke's collapsed schedule is fetched from when it is first opened (and its fallback link)."""
    details = re.search(r'<details class="schedule" hx-get="([^"]+)" hx-trigger="toggle once" '
                        r'hx-target="find #sim-schedule" hx-swap="innerHTML">', html)
    assert details, "the schedule loads when it is opened"
    url = details.group(1)
    assert f'<a href="{url}">' in html, "and links to the page that shows it"
    return url.replace("&amp;", "&")


def table_rows(html: str) -> list[tuple[int, str, int, int, int, int]]:
    """The month-by-month table's rows: number, date as shown, payment, interest, principal, balance."""
    return [(int(n), day, *(int(v.replace(",", "")) for v in values))
            for n, day, *values in re.findall(r"<tr><td>(\d+)</td><td>([\d/]+)</td><td>([\d,]+)</td>"
                                              r"<td>([\d,]+)</td><td>([\d,]+)</td><td>([\d,]+)</td></tr>", html)]


def as_shown(schedule) -> list[tuple[int, str, int, int, int, int]]:
    return [(row.number, f"{row.on.year}/{row.on.month}/{row.on.day}", row.payment, row.interest, row.principal,
             row.balance) for row in schedule.rows]


def engine_schedule(settings, amount, rate, payment, due_day):
    policy = settings.loan_policy()
    return simulate_payment(amount, rate, payment, date(2025, 6, 10), due_day, policy, business_calendar(policy),
                            settings.simulator_limits())


def test_public_page_without_sign_in_shows_a_worked_example(sim, settings):
    response = sim.get("/simulator")
    assert response.status_code == 200 and response.text.startswith("<!doctype html>")
    html = response.text
    assert "ご返済シミュレーション" in html and 'action="/simulator"' in html and 'name="_csrf_token"' in html
    expected = engine_schedule(settings, 100_000, 1780, 4_000, settings.simulator_due_day)
    assert figure(html, "months") == expected.months and figure(html, "total-interest") == expected.total_interest
    assert "<details" in html and "<details open" not in html  # the schedule is collapsed
    assert table_rows(html) == as_shown(expected)  # and in the page: it works without JavaScript
    assert "toggle once" not in html
    assert 'hx-trigger="input changed delay:300ms, submit"' in html and 'hx-sync="this:replace"' in html
    assert 'hx-get="/simulator"' in html and 'method="post"' in html
    assert "Server-Timing" in response.headers and response.headers["server-timing"].startswith("app;dur=")


def test_login_page_links_to_the_simulator(client):
    assert 'href="/simulator"' in client.get("/login").text


def test_keystroke_gets_only_the_result_piece(sim, settings):
    response = post(sim, {**FORM, "amount": "３０万", "payment": "11000"}, LIVE)
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html and "<form" not in html and html.lstrip().startswith('<section id="sim-result"')
    expected = engine_schedule(settings, 300_000, 1780, 11_000, 15)
    assert figure(html, "months") == expected.months
    assert figure(html, "total-interest") == expected.total_interest
    assert figure(html, "total-paid") == expected.total_paid == 300_000 + expected.total_interest
    assert figure(html, "last-payment") == expected.last_payment
    assert "<tr>" not in html and "<table" not in html  # the collapsed schedule is fetched when opened
    assert schedule_url(html) == ("/simulator/schedule?mode=payment&amount=300000&rate=17.8&due_day=15"
                                  "&payment=11000")  # the inputs as read: typed as ３０万, the same piece
    assert "<svg" in html and "<polyline" in html and " style=" not in html
    assert "HX-Target" in response.headers["vary"]
    assert 'id="err-payment" class="field-error" hx-swap-oob="true"></p>' in html  # clears old messages


def test_a_keystrokes_schedule_is_fetched_when_opened(sim, settings):
    piece = post(sim, {**FORM, "amount": "３０万", "payment": "11000"}, LIVE).text
    expected = engine_schedule(settings, 300_000, 1780, 11_000, 15)
    table = sim.get(schedule_url(piece), headers=SCHEDULE)
    assert table.status_code == 200 and "HX-Target" in table.headers["vary"]
    assert table.text.startswith("<table>") and "<section" not in table.text and "<html" not in table.text
    assert table_rows(table.text) == as_shown(expected) and len(expected.rows) == figure(piece, "months")
    assert table.text.count("<tr>") == expected.months + 1  # with its header row


def test_the_schedule_link_is_the_page_with_the_schedule_open(sim, settings):
    """The link inside a keystroke's collapsed schedule (shown until the table arrives): followed, or
    opened in a new tab, it is the whole page with the same result and its table open."""
    piece = post(sim, {**FORM, "payment": "7000", "due_day": "end"}, LIVE).text
    page = sim.get(schedule_url(piece))
    assert page.status_code == 200 and page.text.startswith("<!doctype html>")
    assert '<details class="schedule" open>' in page.text
    assert table_rows(page.text) == as_shown(engine_schedule(settings, 100_000, 1780, 7_000, 31))
    assert figure(page.text, "months") == figure(piece, "months")


def test_months_mode_links_the_schedule_of_the_payment_found(sim, settings):
    piece = post(sim, {**FORM, "mode": "months", "months": "12"}, LIVE).text
    assert schedule_url(piece).endswith("mode=payment&amount=100000&rate=17.8&due_day=15&payment=10000")
    policy = settings.loan_policy()
    expected = simulate_months(100_000, 1780, 12, date(2025, 6, 10), 15, policy, business_calendar(policy),
                               settings.simulator_limits())
    assert table_rows(sim.get(schedule_url(piece), headers=SCHEDULE).text) == as_shown(expected)


def test_a_schedule_that_cannot_be_worked_out_is_explained(sim):
    response = sim.get("/simulator/schedule", params={**FORM, "payment": "100"}, headers=SCHEDULE)
    assert response.status_code == 422 and "<table" not in response.text
    assert 'data-testid="error-payment"' in response.text and "払いきれず" in response.text


def test_the_keystroke_piece_is_what_the_template_renders(sim, settings):
    """A worked keystroke's piece is built by ``web.charts`` without the template; the template renders the
    same markup for it (the member's pieces, and any outcome rendered the long way)."""
    from domain.simulator import simulate_form
    from web import charts
    policy = settings.loan_policy()
    template = sim.app.template_engine.get_template("simulator/_result.html")
    for form in ({**FORM, "payment": "9000"}, {**FORM, "mode": "months", "months": "30", "due_day": "end"}):
        outcome = simulate_form(form, date(2025, 6, 10), 25, policy, business_calendar(policy),
                                settings.simulator_limits())
        built = charts.result_piece(outcome, member=False).decode()
        assert built == template.render(form=form, outcome=outcome, public_page=True, policy=policy, piece=True)
        assert built == post(sim, form, LIVE).text


def test_the_query_is_read_as_the_browser_encodes_it():
    """Plain ``name=value`` pairs are split as they are; anything escaped is decoded; the first of a repeated
    field counts; fields the form does not have are ignored."""
    from web.handlers.simulator import query_form

    class Sent:
        def __init__(self, query: bytes) -> None:
            self.scope = {"query_string": query}

    assert query_form(Sent(b"mode=payment&amount=100000&payment=4000&due_day=")) == {
        "mode": "payment", "amount": "100000", "payment": "4000", "due_day": ""}
    assert query_form(Sent(b"amount=%EF%BC%91%EF%BC%90%E4%B8%87&payment=1+000&rate=17.8")) == {
        "amount": "１０万", "payment": "1 000", "rate": "17.8"}
    assert query_form(Sent(b"payment=5000&payment=6000&_csrf_token=x&other=1&&months")) == {
        "payment": "5000", "months": ""}
    assert query_form(Sent(b"")) == {}


def test_months_mode_gives_the_monthly_payment(sim, settings):
    response = post(sim, {**FORM, "mode": "months", "months": "12"}, LIVE)
    policy = settings.loan_policy()
    expected = simulate_months(100_000, 1780, 12, date(2025, 6, 10), 15, policy, business_calendar(policy),
                               settings.simulator_limits())
    assert response.status_code == 200
    assert figure(response.text, "monthly-payment") == expected.payment == 10_000
    assert figure(response.text, "months") == expected.months == 11


def test_submit_without_javascript_gets_the_whole_page(sim):
    response = post(sim, {**FORM, "amount": "１００，０００", "payment": "10000"})
    assert response.status_code == 200 and response.text.startswith("<!doctype html>")
    assert figure(response.text, "months") == 11
    assert 'value="１００，０００"' in response.text  # what was typed stays in the field


@pytest.mark.parametrize("field, value, message", [
    ("amount", "", "お借入額を入力してください。"),
    ("amount", "5000", "お借入額は10,000円から5,000,000円の範囲"),
    ("amount", "６００万", "お借入額は10,000円から5,000,000円の範囲"),
    ("amount", "١٠٠٠٠٠", "半角または全角の数字"),
    ("amount", "\u22125000", "1円以上"),
    ("amount", "1e5", "半角または全角の数字"),
    ("amount", "12.5", "半角または全角の数字"),
    ("amount", "10\x00000", "使えない文字"),
    ("amount", "1" * 10_240, "32文字以内"),
    ("rate", "19", "利息制限法により年18.0%まで"),
    ("rate", "3", "年4.5%から年17.8%の範囲"),
    ("rate", "abc", "年利の数字"),
    ("rate", "\u200b17.8", "使えない文字"),
    ("payment", "3000", "約定返済額の4,000円以上"),
    ("payment", "1000", "お利息1,511円を払いきれず"),
    ("payment", "0", "1円以上"),
    ("payment", "", "毎月のご返済額を入力してください。"),
    ("due_day", "7", "5日・15日・25日・末日"),
    ("mode", "other", "計算方法を選んでください"),
])
def test_bad_input_on_every_field_is_explained(sim, field, value, message):
    form = {**FORM, "amount": "100000" if field != "payment" else FORM["amount"], field: value}
    live = post(sim, form, LIVE)
    assert live.status_code == 422 and message in live.text
    assert f'id="err-{field}" class="field-error" hx-swap-oob="true">' in live.text
    page = post(sim, form)
    assert page.status_code == 422 and page.text.startswith("<!doctype html>") and message in page.text
    if field not in ("mode", "due_day"):
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page.text)


def test_months_errors_in_months_mode(sim):
    too_long = post(sim, {**FORM, "mode": "months", "months": "40"}, LIVE)
    assert too_long.status_code == 422 and figure(too_long.text, "max-months") == 32
    assert "約定返済額どおりのご返済で32回で完済" in too_long.text
    over = post(sim, {**FORM, "mode": "months", "months": "121"}, LIVE)
    assert over.status_code == 422 and "120回まで" in over.text


def test_minimum_payment_is_shown_for_a_payment_below_the_interest(sim):
    response = post(sim, {**FORM, "amount": "300000", "payment": "500"}, LIVE)
    assert response.status_code == 422
    assert figure(response.text, "minimum-payment") == 11_000
    assert figure(response.text, "interest-per-month") == 4_535


def test_rate_cap_is_shown(sim):
    response = post(sim, {**FORM, "amount": "1000000", "rate": "16", "payment": "50000"}, LIVE)
    assert response.status_code == 422 and figure(response.text, "rate-cap") == 1500


def test_the_public_simulator_stays_up_during_maintenance(settings):
    monday_night = settings.replace(clock="2025-06-09T03:00:00+09:00")  # the weekly window (Mon 0:00–7:00)
    with TestClient(create_app(monday_night), base_url="http://testserver.local") as fresh:
        assert fresh.get("/login").status_code == 503
        page = fresh.get("/simulator")
        keystroke = fresh.get("/simulator", params=FORM, headers=LIVE)  # no session, no token needed
        table = fresh.get(schedule_url(keystroke.text), headers=SCHEDULE)
    assert page.status_code == 200 and 'data-state="ok"' in page.text
    assert keystroke.status_code == 200 and figure(keystroke.text, "months") > 0
    assert table.status_code == 200 and table.text.count("<tr>") == figure(keystroke.text, "months") + 1


def test_form_without_csrf_token_is_refused(sim):
    sim.get("/simulator")
    response = sim.post("/simulator", data=FORM)
    assert response.status_code == 403 and "<html" in response.text


def test_page_obeys_the_strict_csp(sim):
    html = sim.get("/simulator").text
    assert " style=" not in html and "hx-on" not in html and "js:" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline scripts
    assert not re.search(r"hx-trigger=\"[^\"]*\[", html)  # no trigger filters


def test_a_repeated_keystroke_is_the_same_piece_with_every_header(sim):
    first = post(sim, {**FORM, "payment": "12000"}, LIVE)
    again = post(sim, {**FORM, "payment": "１２，０００"}, LIVE)  # the same inputs, typed differently
    other = post(sim, {**FORM, "payment": "13000"}, LIVE)
    assert first.status_code == again.status_code == 200 and first.text == again.text != other.text
    for response in (first, again):
        assert "nonce-" in response.headers["content-security-policy"]
        assert "HX-Target" in response.headers["vary"] and response.headers["content-type"].startswith("text/html")
        assert response.headers["server-timing"].startswith("app;dur=")
    refused = post(sim, {**FORM, "payment": "100"}, LIVE)
    assert post(sim, {**FORM, "payment": "100"}, LIVE).text == refused.text and refused.status_code == 422
