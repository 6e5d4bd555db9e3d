"""お借入れ（振込）over HTTP: the pages, the live check, step-up, bad input, CSRF and other members' ids."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from db import mail
from db.tables import LedgerEntry, PayeeAccount, Transfer
from domain.transfers import JST
from tests.auth_helpers import run, step_up
from tests.conftest import csrf_token, make_member, sign_in

NOON = "2026-11-20T12:00:00+09:00"  # a Friday, bank hours


@pytest.fixture
def settings(settings):
    return settings.replace(clock=NOON)


def payee_form(**changes) -> dict:
    return {"bank_code": "0009", "branch_code": "123", "account_type": "1", "account_number": "1234567",
            "holder_name": "ヤマダ タロウ", **changes}


def value(html: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}" data-value="([^"]*)"', html).group(1)


def hidden(html: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))


@pytest.fixture
def member(settings, client) -> int:
    member_id = make_member(settings)
    sign_in(client, member_id)
    return member_id


@pytest.fixture
def borrower(client, member) -> int:
    step_up(client)
    response = client.post("/settings/payee", data={**payee_form(), "_csrf_token": csrf_token(client)})
    assert response.status_code == 200, response.text
    return member


def changes(member_id: int) -> tuple:
    return (run(LedgerEntry.count()), run(Transfer.count()), run(PayeeAccount.count().where(PayeeAccount.member == member_id)))


# --- payee account -------------------------------------------------------------------------------------------


def test_the_payee_page_needs_a_step_up(client, member):
    response = client.get("/settings/payee", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/step-up?next=")
    token = csrf_token(client)
    assert client.post("/settings/payee", data={**payee_form(), "_csrf_token": token}, follow_redirects=False).status_code in (302, 303)
    assert changes(member) == (0, 0, 0)


def test_registering_and_changing_the_payee_mails_the_member(client, member):
    step_up(client)
    page = client.get("/settings/payee")
    assert page.status_code == 200 and "三井住友銀行（0009）" in page.text and "PayPay銀行（0033）" in page.text
    token = csrf_token(client)
    saved = client.post("/settings/payee", data={**payee_form(holder_name="ﾔﾏﾀﾞ ﾀﾛｳ"), "_csrf_token": token})
    assert saved.status_code == 200 and 'data-testid="payee-saved"' in saved.text
    assert "ヤマダ\u3000タロウ" in saved.text and "****567" in saved.text and "1234567" not in saved.text
    changed = client.post("/settings/payee", data={**payee_form(bank_code="0033", account_number="7654321"),
                                                   "_csrf_token": token})
    assert changed.status_code == 200 and "PayPay銀行" in changed.text
    kinds = [m.kind for m in run(mail.newest(to_addr="taro@example.jp"))]
    assert kinds.count("payee_registered") == 1 and kinds.count("payee_changed") == 1
    assert run(PayeeAccount.count().where(PayeeAccount.active == True)) == 1  # noqa: E712


BAD_PAYEE_FIELDS = [
    ("bank_code", "9999", "この金融機関コードのお振込先は登録できません"),
    ("branch_code", "12", "支店コードは3桁の数字"),
    ("account_type", "9", "口座種別は「普通」か「当座」"),
    ("account_number", "123456", "口座番号は7桁の数字"),
    ("account_number", "١٢٣٤٥٦٧", "口座番号は7桁の数字"),
    ("holder_name", "山田太郎", "カタカナ"),
    ("holder_name", "ヤマダ\x00", "使えない文字"),
    ("holder_name", "ア" * 10_000, "30文字以内"),
]


def test_a_bad_payee_field_gets_a_message_and_changes_nothing(client, member):
    step_up(client)
    for field, bad, message in BAD_PAYEE_FIELDS:
        response = client.post("/settings/payee", data={**payee_form(**{field: bad}), "_csrf_token": csrf_token(client)})
        assert response.status_code == 422, field
        assert message in response.text and 'aria-invalid="true"' in response.text, field
    assert changes(member) == (0, 0, 0)


# --- the form, the live check, the confirm page -------------------------------------------------------------


def test_the_form_shows_the_available_credit_and_quick_picks(client, borrower):
    page = client.get("/transfers/new")
    assert page.status_code == 200 and page.headers["cache-control"].startswith("no-store") or "no-store" in page.headers["cache-control"]
    assert value(page.text, "available-credit") == "500000"
    assert re.findall(r'data-testid="pick" data-value="(\d+)"', page.text) == ["10000", "30000", "50000", "100000", "500000"]
    assert 'hx-get="/transfers/check"' in page.text and "hx-on" not in page.text


def test_after_a_payee_change_the_form_says_how_much_the_new_account_may_receive(client, borrower):
    token = csrf_token(client)
    changed = client.post("/settings/payee", data={**payee_form(bank_code="0033", account_number="7654321"),
                                                   "_csrf_token": token})
    assert changed.status_code == 200
    page = client.get("/transfers/new")
    assert value(page.text, "available-credit") == "50000"
    assert 'data-testid="payee-cap"' in page.text and "合計50,000円まで" in page.text
    assert re.findall(r'data-testid="pick" data-value="(\d+)"', page.text) == ["10000", "30000", "50000"]
    refused = client.get("/transfers/confirm?amount=100000")
    assert refused.status_code == 422 and "50,000円まで" in refused.text


def test_the_form_without_a_payee_asks_for_one(client, member):
    page = client.get("/transfers/new")
    assert "振込先口座が登録されていません" in page.text and 'href="/settings/payee"' in page.text
    assert 'id="amount-form"' not in page.text


BAD_AMOUNTS = [
    ("0", "1,000円から"),
    ("999", "1,000円から"),
    ("1500", "1,000円単位"),
    ("1,500", "1,000円単位"),
    ("-1000", "マイナスは使えません"),
    ("\u22121000", "マイナスは使えません"),
    ("１５００", "1,000円単位"),  # full-width is read (NFKC), then checked like any amount
    ("١٠٠٠٠", "数字（0〜9）で入力"),
    ("1e4", "数字だけで入力"),
    ("10000.5", "小数は使えません"),
    ("", "お借入れ金額を入力してください"),
    ("1" * 10_000, "桁数が多すぎます"),
    ("501000", "500,000円までの金額"),
]


def test_every_bad_amount_gets_a_clear_message_and_changes_nothing(client, borrower):
    before = changes(borrower)
    for amount, message in BAD_AMOUNTS:
        check = client.get("/transfers/check", params={"amount": amount}, headers={"HX-Request": "true"})
        assert check.status_code == 200 and message in check.text and 'data-ok="false"' in check.text, amount
        confirm = client.get("/transfers/confirm", params={"amount": amount})
        assert confirm.status_code == 422 and message in confirm.text, amount
        assert 'name="token"' not in confirm.text  # no confirm form for a bad amount
    assert changes(borrower) == before


def test_the_live_check_answers_a_good_amount_with_the_arrival(client, borrower):
    check = client.get("/transfers/check", params={"amount": "30000"}, headers={"HX-Request": "true"})
    assert 'data-ok="true"' in check.text and "30,000円をお借入れできます" in check.text and "すぐにお振込み" in check.text
    assert "<html" not in check.text and len(check.text) < 600
    wide = client.get("/transfers/check", params={"amount": "３０，０００円"}, headers={"HX-Request": "true"})
    assert 'data-ok="true"' in wide.text and "30,000円をお借入れできます" in wide.text  # full-width just works


def test_the_confirm_page_shows_amount_account_arrival_and_amount_due(client, borrower):
    page = client.get("/transfers/confirm", params={"amount": "100000"})
    assert page.status_code == 200
    assert value(page.text, "confirm-amount") == "100000"
    assert value(page.text, "amount-due") == "4000"  # ¥100,000 → ¥4,000 (product.md §6)
    assert value(page.text, "next-due-date") == "2027-01-05"  # borrowed on Nov 20, due day 5th → the month after next
    assert value(page.text, "arrival") == datetime.fromisoformat(NOON).astimezone(JST).isoformat() or "すぐに" in page.text
    assert "三井住友銀行" in page.text and "****567" in page.text
    assert set(hidden(page.text)) == {"_csrf_token", "amount", "payee_id", "key", "token"}
    assert changes(borrower) == (0, 0, 1)  # the confirm page changes nothing


def test_without_step_up_the_confirm_page_sends_the_member_to_step_up_first(client, member, settings):
    from db import payees

    run(payees.register(member, payees.PayeeForm(**payee_form()), now=datetime.fromisoformat(NOON),
                        policy=settings.transfer_policy(), app_name="x", phone="y"))
    page = client.get("/transfers/confirm", params={"amount": "10000"})
    assert 'data-testid="step-up"' in page.text and "/step-up?next=/transfers/confirm%3Famount%3D10000" in page.text
    assert 'name="token"' not in page.text


# --- borrowing -------------------------------------------------------------------------------------------------


def test_borrowing_gives_a_receipt_and_tells_the_page_that_money_moved(client, borrower):
    fields = hidden(client.get("/transfers/confirm", params={"amount": "30000"}).text)
    token = csrf_token(client)
    response = client.post("/transfers/confirm", data={**fields, "_csrf_token": token}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers.get("hx-trigger") == "money-moved"
    number = value(response.text, "transfer-no")
    assert response.headers.get("hx-push-url") == f"/transfers/{number}"
    assert value(response.text, "transfer-status") == "sent" and value(response.text, "receipt-amount") == "30000"
    # the same form again (double tap, retry, second tab): the same receipt, no second transfer
    again = client.post("/transfers/confirm", data={**fields, "_csrf_token": token})
    assert value(again.text, "transfer-no") == number
    assert run(Transfer.count()) == 1 and run(LedgerEntry.count()) == 1
    assert value(client.get(f"/transfers/{number}").text, "transfer-no") == number
    assert value(client.get("/transfers/new").text, "available-credit") == "470000"


def test_a_changed_amount_or_a_skipped_confirm_page_is_refused(client, borrower):
    fields = hidden(client.get("/transfers/confirm", params={"amount": "10000"}).text)
    token = csrf_token(client)
    for form in ({**fields, "amount": "400000"}, {"amount": "10000"}, {**fields, "token": "1.abc"}):
        response = client.post("/transfers/confirm", data={**form, "_csrf_token": token})
        assert response.status_code == 422 and "やり直してください" in response.text
    assert run(Transfer.count()) == 0


def test_the_confirm_step_needs_a_csrf_token(client, borrower):
    fields = hidden(client.get("/transfers/confirm", params={"amount": "10000"}).text)
    fields.pop("_csrf_token")
    assert client.post("/transfers/confirm", data=fields).status_code == 403
    assert client.post("/transfers/confirm", data={**fields, "_csrf_token": "x" * 40}).status_code == 403
    assert run(Transfer.count()) == 0


def test_another_members_transfer_and_account_are_out_of_reach(settings, client, app, borrower):
    from litestar.testing import TestClient

    fields = hidden(client.get("/transfers/confirm", params={"amount": "10000"}).text)
    number = value(client.post("/transfers/confirm", data={**fields, "_csrf_token": csrf_token(client)}).text,
                   "transfer-no")
    other = make_member(settings, card_number="9876543210", web_id="hanako2024", email="hanako@example.jp")
    with TestClient(app, base_url="http://testserver.local") as intruder:
        sign_in(intruder, other)
        assert intruder.get(f"/transfers/{number}").status_code == 404
        step_up(intruder)
        intruder.post("/settings/payee", data={**payee_form(account_number="7777777"), "_csrf_token": csrf_token(intruder)})
        mine = hidden(intruder.get("/transfers/confirm", params={"amount": "10000"}).text)
        # the first member's form (their account id, their seal) posted by the second member
        response = intruder.post("/transfers/confirm", data={**fields, "key": mine["key"], "_csrf_token": csrf_token(intruder)})
        assert response.status_code == 422
        response = intruder.post("/transfers/confirm", data={**mine, "payee_id": fields["payee_id"],
                                                              "_csrf_token": csrf_token(intruder)})
        assert response.status_code == 422
    assert run(Transfer.count()) == 1


def test_a_stopped_member_sees_why_and_cannot_borrow(client, borrower):
    from db.tables import Member

    run(Member.update({Member.status: "borrowing_stopped", Member.status_reason: "現在お借入れを停止しています。"})
        .where(Member.id == borrower))
    page = client.get("/transfers/new")
    assert "現在お借入れを停止しています。" in page.text and value(page.text, "available-credit") == "0"
    assert client.get("/transfers/confirm", params={"amount": "10000"}).status_code == 422
    assert run(Transfer.count()) == 0


def test_a_queued_transfer_is_reserved_on_home_and_sent_by_the_worker(app, client, member, settings):
    from db import transfers
    from web.clock import Clock
    from web.deps import transfer_context

    app.state.clock = Clock("2026-11-20T15:00:00+09:00")  # after 14:50: 千葉銀行 gets it on Tuesday 09:30
    sign_in(client, member)
    step_up(client)
    client.post("/settings/payee", data={**payee_form(bank_code="0134"), "_csrf_token": csrf_token(client)})
    page = client.get("/transfers/confirm", params={"amount": "100000"})
    assert "11月24日(火) 9:30ごろ" in page.text and value(page.text, "borrowed-on") == "2026-11-24"
    receipt = client.post("/transfers/confirm", data={**hidden(page.text), "_csrf_token": csrf_token(client)})
    assert value(receipt.text, "transfer-status") == "queued"
    home = client.get("/home").text
    assert value(home, "balance") == "0" and value(home, "available-credit") == "400000"
    sent = run(transfers.send_due(datetime(2026, 11, 24, 9, 30, tzinfo=JST), transfer_context(settings)))
    assert sent["sent"] == 1
    app.state.clock = Clock("2026-11-24T09:31:00+09:00")
    sign_in(client, member)
    home = client.get("/home").text
    assert value(home, "balance") == "100000" and value(home, "available-credit") == "400000"
