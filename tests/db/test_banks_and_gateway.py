"""The bank list (bundled defaults + operators' changes) and the bank simulator's idempotent book."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from db import banks
from db.bank_gateway import Order, SimulatedBank
from db.holidays import business_calendar
from db.tables import SimulatedBankPayment
from domain.policy import LoanPolicy
from domain.transfers import JST, TransferPolicy
from tests.auth_helpers import run
from web.cli import main

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=JST)  # Friday after 14:50


def order(number="261120000001", bank="0009", instant=True, account="1234567") -> Order:
    return Order(number, bank, "123", "1", account, "ヤマダ\u3000タロウ", 10_000, instant)


def simulator(**kwargs) -> SimulatedBank:
    return SimulatedBank(business_calendar(LoanPolicy()), TransferPolicy(), **kwargs)


def test_the_bundled_list_has_the_24_hour_banks(database_url):
    listed = {bank.code: bank for bank in run(banks.all_banks())}
    assert listed["0009"].name == "三井住友銀行" and listed["0009"].instant
    assert listed["0033"].name == "PayPay銀行" and listed["0033"].instant
    assert not listed["0134"].instant


def test_operators_add_change_and_withdraw_banks(database_url):
    run(banks.set_bank("0397", "SBJ銀行", True, True, NOW))
    run(banks.set_bank("0009", None, False, True, NOW))  # the 24-hour flag of a bundled bank, name kept
    assert run(banks.find("0397")).instant
    changed = run(banks.find("0009"))
    assert (changed.name, changed.instant) == ("三井住友銀行", False)
    run(banks.set_bank("0134", None, None, False, NOW))
    assert run(banks.find("0134")) is None
    assert "0134" not in {bank.code for bank in run(banks.all_banks())}
    with pytest.raises(banks.BankError):
        run(banks.set_bank("123", "x", True, True, NOW))
    with pytest.raises(banks.BankError):
        run(banks.set_bank("0398", None, True, True, NOW))  # a new bank needs a name


def test_the_bank_command(database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["bank", "set", "0397", "--name", "SBJ銀行", "--instant"]) == 0
    assert main(["bank", "remove", "0177"]) == 0
    assert main(["bank", "list"]) == 0
    out = capsys.readouterr().out
    assert "0397  SBJ銀行  24時間" in out and "0177  福岡銀行  営業時間 停止中" in out
    assert main(["bank", "set", "12ab", "--name", "x"]) == 2
    assert "金融機関コードは4桁の数字です" in capsys.readouterr().err


def test_the_simulator_pays_a_transfer_number_once(database_url):
    bank = simulator()
    first = run(bank.send(order(), NOW))
    again = run(bank.send(order(), NOW + timedelta(minutes=5)))
    assert first.accepted and again == first and first.settles_at == NOW
    assert run(SimulatedBankPayment.count()) == 1


def test_the_simulator_holds_other_banks_until_bank_hours(database_url):
    answer = run(simulator().send(order(bank="0134", instant=False), NOW))
    assert answer.accepted and answer.settles_at == datetime(2026, 11, 24, 9, 30, tzinfo=JST)
    row = run(SimulatedBankPayment.select(SimulatedBankPayment.outcome).first())
    assert row["outcome"] == "accepted"


def test_the_simulator_fails_the_accounts_it_is_told_to(database_url):
    bank = simulator(fail_accounts=("0009-123-7654321",))
    assert run(bank.send(order(), NOW)).accepted
    failed = run(bank.send(order(number="261120000002", account="7654321"), NOW))
    assert not failed.accepted and "口座番号・口座名義をご確認ください" in failed.reason
