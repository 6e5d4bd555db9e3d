"""Two ``kaiin serve`` processes on one PostgreSQL database, confirms posted to both at once:
one confirm form still makes one transfer, and different transfers never together exceed the credit."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from db import mail
from db.tables import LedgerEntry, SimulatedBankPayment, Transfer
from tests.browser.conftest import running_server
from tests.auth_helpers import run
from tests.conftest import make_member
from tests.db.test_transfers import register

CLOCK = "2026-11-20T12:00:00+09:00"  # Friday noon


@pytest.fixture
def servers(database_url, settings, tmp_path):
    if not database_url.startswith("postgres"):
        pytest.skip("two processes share one database only on PostgreSQL")
    shared = {"DATABASE_URL": database_url, "KAIIN_DATA_DIR": str(tmp_path / "shared"), "KAIIN_CLOCK": CLOCK,
              "KAIIN_SECRET_KEY": "two-processes-" + "k" * 32}
    with running_server(tmp_path / "a", shared, demo=False) as first:
        with running_server(tmp_path / "b", {**shared, "KAIIN_PUBLIC_ORIGIN": first.url}, demo=False) as second:
            yield first, second


def signed_in_and_stepped_up(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as client:
        client.get("/login")
        token = client.cookies["csrftoken"]
        response = client.post("/login/card", data={"card_number": "1234567890", "pin": "1234", "_csrf_token": token})
        assert response.status_code == 200, response.text[-500:]
        client.post("/step-up/send", data={"next": "/home", "_csrf_token": token})
        code = re.search(r"確認コード：([0-9]+)", run(mail.newest(limit=1))[0].body).group(1)
        client.post("/step-up/verify", data={"code": code, "next": "/home", "_csrf_token": token})
        return client.cookies


def confirm_form(base: str, cookies: httpx.Cookies, amount: int) -> dict:
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        page = client.get("/transfers/confirm", params={"amount": str(amount)})
        assert page.status_code == 200, page.text[-500:]
        fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page.text))
        assert 'data-testid="confirm"' in page.text, "the session is stepped up"
        return {**fields, "_csrf_token": cookies["csrftoken"]}


def post_confirm(base: str, cookies: httpx.Cookies, form: dict) -> tuple[int, str]:
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
        response = client.post("/transfers/confirm", data=form)
        number = re.search(r'data-testid="transfer-no" data-value="([^"]+)"', response.text)
        return response.status_code, number.group(1) if number else ""


def test_two_processes_one_key_one_transfer_and_never_over_the_credit(settings, servers):
    first, second = servers
    member = make_member(settings, credit_limit=100_000)
    register(member)
    cookies = signed_in_and_stepped_up(first.url)
    bases = [first.url, second.url]

    # ten confirms of one form, spread over both processes
    form = confirm_form(first.url, cookies, 20_000)
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda i: post_confirm(bases[i % 2], cookies, form), range(10)))
    assert {status for status, _ in results} == {200}
    assert len({number for _, number in results}) == 1
    assert run(Transfer.count()) == 1 and run(SimulatedBankPayment.count()) == 1

    # ten different transfers of ¥30,000 against the ¥80,000 left: two fit
    forms = [confirm_form(bases[i % 2], cookies, 30_000) for i in range(10)]
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda i: post_confirm(bases[i % 2], cookies, forms[i]), range(10)))
    assert sorted(status for status, _ in results) == [200] * 2 + [422] * 8
    borrowed = run(LedgerEntry.select(LedgerEntry.principal).where(LedgerEntry.kind == "borrowing"))
    assert sum(row["principal"] for row in borrowed) == 80_000 <= 100_000
    assert run(Transfer.count().where(Transfer.status == "sent")) == 3
