"""ご返済 over HTTP: the form, the preview, the confirm step (idempotent), bad input with Japanese messages
and nothing changed, other members' ids, CSRF, the done page and 完済 on home."""

from __future__ import annotations

import re
from datetime import date

import pytest

from litestar.testing import TestClient

from db.tables import LedgerEntry, Member, Repayment
from tests.conftest import _test_login, csrf_token, make_member, run, sign_in
from web.app import create_app

# 2026-10-10 12:00 JST (a Saturday): ¥100,000 borrowed 2026-09-10 at 17.8%, due day 15 → ¥4,000 due 10/15
CLOCK = "2026-10-10T12:00:00+09:00"


@pytest.fixture
def settings(settings):
    return settings.replace(clock=CLOCK)


@pytest.fixture
def member(settings):
    return make_member(settings, balance=100_000, borrowed_on=date(2026, 9, 10), opened_on=date(2026, 9, 10),
                       due_day="15")


@pytest.fixture
def signed_in(client, member):
    sign_in(client, member)
    return client


def value(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}" data-value="([^"]*)"', html)
    assert match, f"{testid} not on the page"
    return match.group(1)


def confirm_form(html: str) -> dict[str, str]:
    """The confirm form's fields as the page gave them (the CSRF token included)."""
    form = html[html.index('id="confirm-form"'):]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form))


def ledger_count() -> int:
    return run(LedgerEntry.count().run())


def test_the_form_shows_what_is_owed(signed_in):
    page = signed_in.get("/repayments/new")
    assert page.status_code == 200 and "ご返済" in page.text
    assert value(page.text, "payoff") == "101463" and value(page.text, "due-now") == "4000"
    assert value(page.text, "preview-total") == "4000" and value(page.text, "preview-interest") == "1463"
    assert 'action="/repayments/confirm"' in page.text and page.headers["cache-control"].startswith("no-store")


def test_the_live_preview_is_a_fragment_with_the_savings(signed_in):
    part = signed_in.get("/repayments/preview", params={"choice": "any", "amount": "30000"},
                         headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text
    assert value(part.text, "preview-principal") == str(30_000 - 1_463)
    assert int(value(part.text, "interest-saved")) > 0 and int(value(part.text, "months-saved")) > 0
    bad = signed_in.get("/repayments/preview", params={"choice": "any", "amount": "199"},
                        headers={"HX-Request": "true"})
    assert "200円以上" in bad.text


def test_full_width_amounts_just_work(signed_in):
    """product.md §11: full-width digits, comma and yen sign are read as typed on a phone keyboard."""
    part = signed_in.get("/repayments/preview", params={"choice": "any", "amount": "￥１０，０００"},
                         headers={"HX-Request": "true"})
    assert value(part.text, "preview-total") == "10000"
    page = signed_in.get("/repayments/confirm", params={"choice": "any", "amount": "１０，０００円", "points": "０"})
    assert page.status_code == 200 and confirm_form(page.text)["total"] == "10000"
    done = signed_in.post("/repayments/confirm", data={**confirm_form(page.text), "_csrf_token": csrf_token(signed_in)})
    assert done.status_code == 200 and "ご返済を受け付けました" in done.text
    assert run(Repayment.select(Repayment.total).first().run())["total"] == 10_000


def test_confirm_then_pay_then_receipt(signed_in):
    page = signed_in.get("/repayments/confirm", params={"choice": "any", "amount": "10000"})
    assert page.status_code == 200 and value(page.text, "preview-total") == "10000"
    form = confirm_form(page.text)
    assert form["total"] == "10000" and len(form["key"]) >= 16
    before = ledger_count()
    assert ledger_count() == before  # the confirm page wrote nothing
    done = signed_in.post("/repayments/confirm", data={**form, "_csrf_token": csrf_token(signed_in)},
                          headers={"HX-Request": "true"})
    assert done.status_code == 200 and "ご返済を受け付けました" in done.text
    assert done.headers.get("HX-Trigger") == "money-moved"
    assert value(done.text, "done-balance-after") == str(100_000 - (10_000 - 1_463))
    receipt_link = re.search(r'href="(/history/\d+/receipt)"', done.text).group(1)
    again = signed_in.post("/repayments/confirm", data={**form, "_csrf_token": csrf_token(signed_in)})
    assert value(again.text, "repayment-no") == value(done.text, "repayment-no")  # a retry: the same result
    assert run(Repayment.count().run()) == 1
    receipt = signed_in.get(receipt_link)
    assert receipt.status_code == 200 and "上記金額を受領いたしました" in receipt.text
    assert value(receipt.text, "amount") == "10000" and value(receipt.text, "interest") == "1463"


@pytest.mark.parametrize(
    ("amount", "words"),
    [("0", "0円ではご返済できません"), ("199", "200円以上"), ("101464", "完済金額（101,463円）を超えています"),
     ("1000.5", "小数は使えません"), ("١٠٠٠", "数字（0〜9）で入力"), ("-500", "マイナスは使えません"),
     ("1e3", "「e」は使えません"), ("", "ご返済額を入力してください"), ("9" * 10_000, "桁数が多すぎます"),
     ("12\x0034", "使えない文字")],
)
def test_bad_amounts_get_a_japanese_message_and_change_nothing(signed_in, amount, words):
    before = ledger_count()
    page = signed_in.get("/repayments/confirm", params={"choice": "any", "amount": amount})
    assert page.status_code == 422 and words in page.text and 'aria-invalid="true"' in page.text
    posted = signed_in.post("/repayments/confirm", data={
        "key": "k" * 32, "choice": "any", "amount": amount, "points": "", "total": "4000",
        "_csrf_token": csrf_token(signed_in)})
    assert posted.status_code == 422 and words in posted.text
    assert ledger_count() == before and run(Repayment.count().run()) == 0


@pytest.mark.parametrize("data", [
    {"choice": "due", "total": "4000"},  # no key: a skipped step
    {"choice": "due", "total": "4000", "key": "short"},
    {"choice": "all", "total": "4000", "key": "k" * 32},
    {"choice": "due", "total": "3999", "key": "k" * 32},  # the amount changed after the preview
    {"choice": "due", "total": "abc", "key": "k" * 32},
])
def test_tampered_confirm_forms_are_refused(signed_in, data):
    posted = signed_in.post("/repayments/confirm", data={**data, "_csrf_token": csrf_token(signed_in)})
    assert posted.status_code == 422 and 'role="alert"' in posted.text
    assert run(Repayment.count().run()) == 0


def test_confirm_needs_the_csrf_token(signed_in):
    page = signed_in.get("/repayments/confirm", params={"choice": "due"})
    form = {name: v for name, v in confirm_form(page.text).items() if name != "_csrf_token"}
    posted = signed_in.post("/repayments/confirm", data=form)
    assert posted.status_code == 403 and run(Repayment.count().run()) == 0


def test_another_members_repayment_and_receipt_are_not_found(settings, client, member):
    sign_in(client, member)
    page = client.get("/repayments/confirm", params={"choice": "due"})
    done = client.post("/repayments/confirm", data={**confirm_form(page.text), "_csrf_token": csrf_token(client)})
    rid = value(done.text, "repayment-no")
    receipt = re.search(r'href="(/history/\d+/receipt)"', done.text).group(1)
    other = make_member(settings, card_number="9876543210", web_id="hanako2024", balance=50_000,
                        borrowed_on=date(2026, 9, 10))
    with TestClient(create_app(settings, extra_route_handlers=[_test_login]), base_url="http://testserver.local") as them:
        sign_in(them, other)
        assert them.get(f"/repayments/{rid}").status_code == 404
        assert them.get(receipt).status_code == 404
        for no_row in ("2147483648", "99999999999999"):  # beyond a 32-bit id: no row's, never a 500 (PostgreSQL)
            assert them.get(f"/repayments/{no_row}").status_code == 404, no_row


def test_full_payoff_says_paid_off_on_home_and_the_receipt_shows_zero(signed_in):
    page = signed_in.get("/repayments/confirm", params={"choice": "full"})
    assert "このご返済で完済となります" in page.text
    done = signed_in.post("/repayments/confirm", data={**confirm_form(page.text), "_csrf_token": csrf_token(signed_in)})
    assert "完済しました" in done.text
    receipt = signed_in.get(re.search(r'href="(/history/\d+/receipt)"', done.text).group(1))
    assert value(receipt.text, "balance-after") == "0"
    home = signed_in.get("/home")
    assert 'data-testid="paid-off"' in home.text and "完済しました" in home.text
    assert value(home.text, "balance") == "0" and value(home.text, "payoff") == "0"
    assert signed_in.get("/repayments/new").text.count("現在ご返済いただく金額はありません") == 1


def test_points_are_shown_used_and_on_the_receipt(signed_in, member):
    run(Member.update({Member.points: 700}).where(Member.id == member).run())
    form = signed_in.get("/repayments/new")
    assert value(form.text, "points") == "700" and 'name="points"' in form.text
    page = signed_in.get("/repayments/confirm", params={"choice": "due", "points": "500"})
    assert value(page.text, "preview-points") == "500" and value(page.text, "preview-money") == "3500"
    done = signed_in.post("/repayments/confirm", data={**confirm_form(page.text), "_csrf_token": csrf_token(signed_in)})
    assert value(done.text, "done-points") == "500" and value(done.text, "points-earned") == "7"
    receipt = signed_in.get(re.search(r'href="(/history/\d+/receipt)"', done.text).group(1))
    assert value(receipt.text, "amount") == "4000" and value(receipt.text, "points") == "500"
    assert value(signed_in.get("/home").text, "points") == str(700 - 500 + 7)
