"""口座振替 over HTTP: /repayments/debit behind step-up, instant and pending banks, bad input with Japanese
messages and nothing changed, only the member's own account, the maintenance gate, the settings row and
the due-day page refusing to leave the 5th."""

from __future__ import annotations

import re
from datetime import date

import pytest

from db import mail
from db.tables import Contract, DebitAccount, OutboxMail
from tests.auth_helpers import step_up
from tests.conftest import csrf_token, make_member, run, sign_in
from web.clock import Clock

CLOCK = "2026-10-08T12:00:00+09:00"  # Thu; Mon 10/12 is スポーツの日 → other banks in force from Wed 10/14
MONDAY_3AM = "2026-10-19T03:00:00+09:00"  # inside the weekly maintenance window


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


def debit_form(**changes) -> dict:
    return {"bank_code": "0009", "branch_code": "123", "account_type": "1", "account_number": "1234567",
            "holder_name": "ヤマダ タロウ", **changes}


def post(client, data: dict, **kwargs):
    return client.post("/repayments/debit", data={**data, "_csrf_token": csrf_token(client)}, **kwargs)


def value(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}" data-value="([^"]*)"', html)
    assert match, f"{testid} not on the page"
    return match.group(1)


def state(member_id: int) -> tuple:
    due_day = run(Contract.select(Contract.due_day).where(Contract.member == member_id).first().run())["due_day"]
    return run(DebitAccount.count().run()), due_day, run(OutboxMail.count().where(OutboxMail.kind.like("debit%")).run())


def test_the_page_needs_a_step_up(signed_in, member):
    page = signed_in.get("/repayments/debit", follow_redirects=False)
    assert page.status_code in (302, 303) and page.headers["location"].startswith("/step-up?next=")
    posted = post(signed_in, debit_form(), follow_redirects=False)
    assert posted.status_code in (302, 303) and "/step-up" in posted.headers["location"]
    assert state(member) == (0, "15", 0)


def test_an_instant_bank_is_registered_at_once(signed_in, member):
    step_up(signed_in)
    page = signed_in.get("/repayments/debit")
    assert page.status_code == 200 and 'data-testid="debit-none"' in page.text
    assert "三井住友銀行（0009） すぐに有効" in page.text and "三菱UFJ銀行（0005） 3営業日後・5日払い" in page.text
    assert page.headers["cache-control"].startswith("no-store")
    saved = post(signed_in, debit_form())
    assert saved.status_code == 200 and 'data-testid="debit-saved"' in saved.text
    assert value(saved.text, "debit-current") == "0009-123:active:2026-10-08"
    assert "有効" in saved.text and "****567" in saved.text and "1234567" not in saved.text
    assert state(member) == (1, "15", 1)
    assert [m.kind for m in run(mail.newest(to_addr="taro@example.jp"))][0] == "debit_registered"
    hub = signed_in.get("/settings")
    assert value(hub.text, "setting-debit") == "active:0009:2026-10-08" and "三井住友銀行 普通 ****567（有効）" in hub.text


def test_another_bank_is_pending_and_fixes_the_due_day(signed_in, member):
    step_up(signed_in)
    saved = post(signed_in, debit_form(bank_code="0005"), headers={"HX-Request": "true", "HX-Target": "main"})
    assert saved.status_code == 200
    assert value(saved.text, "debit-pending") == "0005-123:pending:2026-10-14"
    assert "手続き中" in saved.text and "2026年10月14日(水)から有効になります" in saved.text
    assert "2026年11月5日の返済期日から新しい返済日になります" in saved.text
    assert value(saved.text, "debit-due-day") == "5" and state(member) == (1, "5", 1)
    assert 'data-testid="debit-not-yet"' not in saved.text  # in force 10/14, before the 10/15 due date
    assert value(signed_in.get("/settings").text, "setting-debit") == "pending:0005:2026-10-14"
    # the due-day page says why it cannot move, and refuses to
    due_page = signed_in.get("/settings/due-day")
    assert 'data-testid="due-day-fixed"' in due_page.text and "三菱UFJ銀行" in due_page.text
    refused = signed_in.post("/settings/due-day", data={"due_day": "25", "_csrf_token": csrf_token(signed_in)})
    assert refused.status_code == 422 and "返済日は毎月5日から変更できません" in refused.text
    assert state(member) == (1, "5", 1)


BAD = [
    ({"bank_code": ""}, "金融機関コードを入力してください"),
    ({"bank_code": "9999"}, "この金融機関コードのお振込先は登録できません"),
    ({"branch_code": "12"}, "支店コードは3桁の数字"),
    ({"branch_code": ""}, "支店コードを入力してください"),
    ({"account_type": "9"}, "口座種別は「普通」か「当座」"),
    ({"account_number": "123456"}, "口座番号は7桁の数字"),
    ({"account_number": "١٢٣٤٥٦٧"}, "口座番号は7桁の数字"),
    ({"holder_name": "山田太郎"}, "カタカナ"),
    ({"holder_name": "ヤマダ\x00"}, "使えない文字"),
    ({"holder_name": "ア" * 5_000}, "30文字以内"),
]


def test_a_due_date_before_the_account_is_in_force_is_named(app, client, member):
    app.state.clock = Clock("2026-10-13T12:00:00+09:00")  # Tue: in force from Fri 10/16, after the 10/15 due date
    sign_in(client, member)
    step_up(client)
    saved = post(client, debit_form(bank_code="0134"))
    assert "2026年10月15日(木)の返済期日は引落しに間に合いません" in saved.text


def test_bad_input_gets_a_japanese_message_and_changes_nothing(signed_in, member):
    step_up(signed_in)
    for changes, words in BAD:
        response = post(signed_in, debit_form(**changes))
        assert response.status_code == 422, changes
        assert words in response.text and 'aria-invalid="true"' in response.text, changes
    missing = signed_in.post("/repayments/debit", data={"_csrf_token": csrf_token(signed_in)})
    assert missing.status_code == 422 and "金融機関コードを入力してください" in missing.text
    no_csrf = signed_in.post("/repayments/debit", data=debit_form())
    assert no_csrf.status_code == 403
    assert state(member) == (0, "15", 0)


def test_another_member_sees_only_their_own(settings, app, signed_in, member):
    step_up(signed_in)
    post(signed_in, debit_form(bank_code="0033", account_number="7654321"))
    other = make_member(settings, name="佐藤 花子", card_number="2345678901", web_id="hanako2024",
                        email="hanako@example.jp", balance=50_000, borrowed_on=date(2026, 9, 10),
                        opened_on=date(2026, 9, 10))
    from litestar.testing import TestClient

    with TestClient(app, base_url="http://testserver.local") as intruder:
        sign_in(intruder, other)
        token = csrf_token(intruder)
        assert intruder.post("/step-up/send", data={"next": "/home", "_csrf_token": token}).status_code == 200
        code = re.search(r"確認コード：([0-9]+)", run(mail.newest(limit=1, to_addr="hanako@example.jp"))[0].body).group(1)
        intruder.post("/step-up/verify", data={"code": code, "next": "/home", "_csrf_token": token})
        page = intruder.get("/repayments/debit")
        assert page.status_code == 200 and 'data-testid="debit-none"' in page.text
        assert "PayPay銀行（0033）<" not in page.text and "****321" not in page.text
        assert value(intruder.get("/settings").text, "setting-debit") == ""


def test_the_page_is_closed_in_a_maintenance_window(app, signed_in, member):
    step_up(signed_in)
    app.state.clock = Clock(MONDAY_3AM)
    assert signed_in.get("/repayments/debit").status_code == 503
    assert post(signed_in, debit_form()).status_code == 503
    assert state(member) == (0, "15", 0)
